// Command twoparty runs fedmatch's two-party matching in one process: one
// agency publishes a filter of its watchlist, the other queries it, and
// both end up with exactly the indicators they share.
//
// With no flags it runs a demonstration on two small built-in watchlists
// and prints what each agency learned. With -kind, -a and -b it matches
// two files of indicators (one per line) and writes the shared ones:
//
//	twoparty -kind domain -a publisher.txt -b querier.txt [-fpr 1e-9] [-out hits.txt]
//
// Every message crosses between the two agencies as the bytes of its
// binary encoding, as it would over a network.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/fedmatch/fedmatch/match"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("twoparty", flag.ContinueOnError)
	fs.SetOutput(stderr)
	kind := fs.String("kind", "", "indicator `kind` of both files: "+kindNames())
	fileA := fs.String("a", "", "publishing agency's watchlist `file`, one indicator per line")
	fileB := fs.String("b", "", "querying agency's watchlist `file`, one indicator per line")
	fpr := fs.Float64("fpr", match.DefaultFalsePositiveRate, "filter false-positive `rate`; the querier accepts up to 4 times it (at least 1e-6)")
	out := fs.String("out", "", "write the shared indicators to `file` instead of standard output")
	maxRejects := fs.Int("max-rejects", 20, "list at most `n` rejected lines per file (0: all)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: twoparty                       (built-in demonstration)\n")
		fmt.Fprintf(stderr, "       twoparty -kind K -a FILE -b FILE [-fpr F] [-out FILE]\n\n")
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
	if *kind == "" && *fileA == "" && *fileB == "" {
		if err := demo(stdout); err != nil {
			fmt.Fprintln(stderr, "twoparty:", err)
			return 1
		}
		return 0
	}
	if *kind == "" || *fileA == "" || *fileB == "" {
		fmt.Fprintln(stderr, "twoparty: -kind, -a and -b go together")
		fs.Usage()
		return 2
	}
	k, err := match.KindByName(*kind)
	if err != nil {
		fmt.Fprintf(stderr, "twoparty: %v (known kinds: %s)\n", err, kindNames())
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
	if err := matchFiles(k, *fileA, *fileB, *fpr, *maxRejects, w, stderr); err != nil {
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
	for _, k := range match.Kinds() {
		names = append(names, k.Name())
	}
	return strings.Join(names, ", ")
}

// traffic counts the bytes that cross between the agencies.
type traffic struct{ toPublisher, toQuerier int }

// exchange runs one query of indicators (all of one kind) against pub,
// passing every message through its encoding, and returns the querier's
// hits, the publisher's confirmed entries and the number of candidates.
func exchange(pub *match.Publisher, q *match.Querier, inds []match.Indicator, t *traffic) ([]match.Hit, []match.ConfirmedEntry, int, error) {
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

// A rejected line of an input file.
type rejected struct {
	line   int
	reason string
}

// listFile reads one indicator per line. Blank lines and lines starting
// with '#' are comments; every other line is either an indicator or
// rejected with its reason.
type listFile struct {
	name            string
	lines, comments int
	rejects         []rejected
	valid           int
	err             error
	kind            *match.Kind
	path            string
}

func (lf *listFile) each(yield func(line int, ind match.Indicator) bool) {
	f, err := os.Open(lf.path)
	if err != nil {
		lf.err = err
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), match.MaxValueLen+1024)
	for sc.Scan() {
		lf.lines++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			lf.comments++
			continue
		}
		ind, err := match.NewIndicator(lf.kind, s)
		if err != nil {
			var ie *match.IndicatorError
			reason := err.Error()
			if errors.As(err, &ie) {
				reason = ie.Reason
			}
			lf.rejects = append(lf.rejects, rejected{lf.lines, reason})
			continue
		}
		lf.valid++
		if !yield(lf.lines, ind) {
			return
		}
	}
	if err := sc.Err(); err != nil {
		lf.err = fmt.Errorf("%s: line %d: %w", lf.path, lf.lines+1, err)
	}
}

func (lf *listFile) summary(w io.Writer, maxRejects int) {
	fmt.Fprintf(w, "%s: %d lines: %d indicators, %d rejected, %d blank or comment\n",
		lf.name, lf.lines, lf.valid, len(lf.rejects), lf.comments)
	for i, r := range lf.rejects {
		if maxRejects > 0 && i == maxRejects {
			fmt.Fprintf(w, "  ... and %d more rejected lines (-max-rejects 0 lists all)\n", len(lf.rejects)-i)
			break
		}
		fmt.Fprintf(w, "  %s:%d: rejected: %s\n", lf.path, r.line, r.reason)
	}
}

// queryBatch is how many indicators the querier sends per request.
const queryBatch = 1 << 16

func matchFiles(k *match.Kind, pathA, pathB string, fpr float64, maxRejects int, out, log io.Writer) error {
	start := time.Now()
	a := &listFile{name: "publisher (-a)", kind: k, path: pathA}
	b := &listFile{name: "querier (-b)", kind: k, path: pathB}

	key, err := match.GenerateKey(match.SuiteRistretto255)
	if err != nil {
		return err
	}
	entries := func(yield func(match.Entry) bool) {
		a.each(func(_ int, ind match.Indicator) bool { return yield(match.Entry{Indicator: ind}) })
	}
	pub, err := match.Publish(key, entries, &match.PublishOptions{FalsePositiveRate: fpr})
	if err == nil && a.err != nil {
		err = a.err
	}
	if err != nil {
		return err
	}
	published := time.Since(start)

	var t traffic
	q, err := receiveFilter(pub, querierBound(fpr), &t)
	if err != nil {
		return err
	}
	var mine []match.Indicator
	b.each(func(_ int, ind match.Indicator) bool { mine = append(mine, ind); return true })
	if b.err != nil {
		return b.err
	}
	var shared []string
	candidates, distinct := 0, 0
	for batch := range slices.Chunk(mine, queryBatch) {
		hits, _, c, err := exchange(pub, q, batch, &t)
		if err != nil {
			return err
		}
		candidates += c
		for _, h := range hits {
			shared = append(shared, h.Indicator.Value())
		}
	}
	slices.Sort(shared)
	shared = slices.Compact(shared)
	for _, s := range shared {
		distinct++
		if _, err := fmt.Fprintln(out, s); err != nil {
			return err
		}
	}
	f := pub.Filter()
	a.summary(log, maxRejects)
	b.summary(log, maxRejects)
	fmt.Fprintf(log, "filter: %d distinct entries, %d bits, %d hashes, %d bytes, estimated false-positive rate %.2g\n",
		f.Len(), f.Bits(), f.Hashes(), f.Size(), f.EstimatedFalsePositiveRate())
	fmt.Fprintf(log, "shared: %d indicators (%d filter candidates, %d false positives removed by confirmation)\n",
		distinct, candidates, candidates-distinct)
	fmt.Fprintf(log, "bytes: querier -> publisher %d, publisher -> querier %d (filter included)\n", t.toPublisher, t.toQuerier)
	fmt.Fprintf(log, "time: %v (publish %v)\n", time.Since(start).Round(time.Millisecond), published.Round(time.Millisecond))
	return nil
}
