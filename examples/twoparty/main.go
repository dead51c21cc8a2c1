// Command twoparty runs fedmatch's two-party matching in one process: one
// agency publishes a filter of its watchlist, the other queries it, and
// both end up with exactly the indicators they share.
//
// With no flags it runs a demonstration on two small built-in watchlists
// and prints what each agency learned. With -a and -b it matches two
// watchlist files (STIX 2.1, MISP event or feed directory, CSV, or one
// indicator per line, detected from the content) and writes the shared
// indicators:
//
//	twoparty -a publisher.json -b querier.csv [-out hits.txt]
//	twoparty -kind domain -a publisher.txt -b querier.txt [-fpr 1e-9]
//
// With -kind person, the files hold person records (CSV with a header
// naming name or given and surname, dob, sex, nationality, document,
// document_country, ref and label columns; MISP person objects; or
// FollowTheMoney Person entities as JSON lines), and each line written is
// a hit: the querier's ref, TAB, a label the publisher released, TAB, the
// key kinds that matched (package match/person):
//
//	twoparty -kind person -a A.csv -b B.csv -out hits.tsv
//
// With -count-only, the two agencies run cardinality-only matching
// instead (match.Querier.BlindCount): A publishes a count filter, B
// learns how many of its distinct indicators of each kind are on A's
// list and not which (unless the count is all of the kind's batch, or the
// batch is of one), and A learns only the kinds and numbers of B's
// indicators. The program prints the count on the first line, and the
// number queried and the expected false positives on the second; it never
// prints a shared indicator, so -out does not apply:
//
//	twoparty -count-only -kind domain -a publisher.txt -b querier.txt
//
// With -kind person, -count-only counts records, by one designated key
// each: B's records with a full date of birth are counted by their first
// person-v1-name-dob key (their first name form and the date), against
// every key of A's records. A record makes several keys of several kinds,
// and counting them all would count one shared person several times (see
// package match/person on what a count of person records is). B's records
// without a full date of birth are not counted.
//
//	twoparty -count-only -kind person -a A.csv -b B.csv
//
// Every message crosses between the two agencies as the bytes of its
// binary encoding, as it would over a network.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/feed"
	"github.com/fedmatch/fedmatch/match/indicator"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("twoparty", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg fileConfig
	kind := fs.String("kind", "", "indicator `kind` of line lists and of CSV files without a kind column ("+kindNames()+"), or person for files of person records")
	format := fs.String("format", "", "`format` of both files: stix, misp, csv or lines (default: detected from the content)")
	fs.StringVar(&cfg.pathA, "a", "", "publishing agency's watchlist `file` (a MISP feed: its directory)")
	fs.StringVar(&cfg.pathB, "b", "", "querying agency's watchlist `file` (a MISP feed: its directory)")
	fs.StringVar(&cfg.region, "region", "", "ISO 3166-1 alpha-2 `country` of phone numbers written in national format")
	fs.Float64Var(&cfg.fpr, "fpr", match.DefaultFalsePositiveRate, "filter false-positive `rate`; the querier accepts up to 4 times it (at least 1e-6)")
	out := fs.String("out", "", "write the shared indicators to `file` instead of standard output")
	countOnly := fs.Bool("count-only", false, "print only how many of B's indicators are on A's list (cardinality-only matching), never which")
	fs.IntVar(&cfg.maxRejects, "max-rejects", 20, "list at most `n` rejected records per file (0: all)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: twoparty                        (built-in demonstration)\n")
		fmt.Fprintf(stderr, "       twoparty -a FILE -b FILE [-kind K] [-format F] [-region CC] [-fpr F] [-out FILE]\n")
		fmt.Fprintf(stderr, "       twoparty -count-only -a FILE -b FILE [-kind K] [-format F] [-region CC] [-fpr F]\n")
		fmt.Fprintf(stderr, "       twoparty -kind person -a FILE -b FILE [-fpr F] [-out FILE | -count-only]\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "twoparty: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	if fs.NFlag() == 0 {
		if err := demo(stdout); err != nil {
			fmt.Fprintln(stderr, "twoparty:", err)
			return 1
		}
		return 0
	}
	if cfg.pathA == "" || cfg.pathB == "" {
		fmt.Fprintln(stderr, "twoparty: -a and -b go together")
		fs.Usage()
		return 2
	}
	var err error
	persons := *kind == "person"
	if *kind != "" && !persons {
		if cfg.kind, err = indicator.Lookup(*kind); err != nil {
			fmt.Fprintf(stderr, "twoparty: %v (known kinds: %s)\n", err, kindNames())
			return 2
		}
	}
	if persons && (*format != "" || cfg.region != "") {
		fmt.Fprintln(stderr, "twoparty: -format and -region do not apply to -kind person (the format is detected)")
		return 2
	}
	if *countOnly && *out != "" {
		fmt.Fprintln(stderr, "twoparty: -count-only prints only the count, to standard output: -out does not apply")
		fs.Usage()
		return 2
	}
	if cfg.format, err = feed.ParseFormat(*format); err != nil {
		fmt.Fprintln(stderr, "twoparty:", err)
		return 2
	}
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintln(stderr, "twoparty:", err)
			return 1
		}
		defer f.Close()
		w = f
	}
	matchFn := matchFiles
	switch {
	case persons && *countOnly:
		matchFn = countPersons
	case persons:
		matchFn = matchPersons
	case *countOnly:
		matchFn = countFiles
	}
	if err := matchFn(&cfg, w, stderr); err != nil {
		fmt.Fprintln(stderr, "twoparty:", err)
		return 1
	}
	if f, ok := w.(*os.File); ok && f != os.Stdout {
		if err := f.Close(); err != nil {
			fmt.Fprintln(stderr, "twoparty:", err)
			return 1
		}
	}
	return 0
}

func kindNames() string {
	var names []string
	for _, k := range indicator.Kinds() {
		names = append(names, k.Name())
	}
	return strings.Join(names, ", ")
}

// traffic counts the bytes that cross between the agencies.
type traffic struct{ toPublisher, toQuerier int }

// exchange runs one query of indicators (all of one kind) against pub,
// passing every message through its encoding, and returns the querier's
// hits, the publisher's confirmed entries and the number of candidates.
func exchange(pub *match.Publisher, q *match.Querier, inds []indicator.Indicator, t *traffic) ([]match.Hit, []match.ConfirmedEntry, int, error) {
	query, req, err := q.Blind(inds)
	if err != nil {
		return nil, nil, 0, err
	}
	var req2 match.EvalRequest
	if err := send(req, &req2, &t.toPublisher); err != nil {
		return nil, nil, 0, err
	}
	resp, err := pub.Evaluate(&req2)
	if err != nil {
		return nil, nil, 0, err
	}
	var resp2 match.EvalResponse
	if err := send(resp, &resp2, &t.toQuerier); err != nil {
		return nil, nil, 0, err
	}
	creq, err := query.Finalize(&resp2)
	if err != nil {
		return nil, nil, 0, err
	}
	var creq2 match.ConfirmRequest
	if err := send(creq, &creq2, &t.toPublisher); err != nil {
		return nil, nil, 0, err
	}
	cresp, confirmed, err := pub.Confirm(&creq2)
	if err != nil {
		return nil, nil, 0, err
	}
	var cresp2 match.ConfirmResponse
	if err := send(cresp, &cresp2, &t.toQuerier); err != nil {
		return nil, nil, 0, err
	}
	hits, err := query.Hits(&cresp2)
	return hits, confirmed, query.Candidates(), err
}

type message interface{ MarshalBinary() ([]byte, error) }

// send encodes m, counts its bytes and decodes it into dst, as the wire
// between two agencies would.
func send(m message, dst interface{ UnmarshalBinary([]byte) error }, counter *int) error {
	b, err := m.MarshalBinary()
	if err != nil {
		return err
	}
	*counter += len(b)
	return dst.UnmarshalBinary(b)
}

// receiveFilter passes the publisher's filter to the querier, which
// accepts an estimated false-positive rate up to maxFPR.
func receiveFilter(pub *match.Publisher, maxFPR float64, t *traffic) (*match.Querier, error) {
	var f match.Filter
	if err := send(pub.Filter(), &f, &t.toQuerier); err != nil {
		return nil, err
	}
	return match.NewQuerier(&f, &match.QuerierOptions{PublicKey: pub.PublicKey(), MaxFalsePositiveRate: maxFPR})
}

// querierBound is the false-positive rate the querier accepts for a filter
// built at rate fpr: the estimate from the bits set varies around the
// target, most for small lists.
func querierBound(fpr float64) float64 {
	return min(0.5, max(4*fpr, match.DefaultMaxFalsePositiveRate))
}
