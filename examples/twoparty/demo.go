package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"
)

// The demonstration's agencies and their watchlists. The values are
// documentation addresses and names (RFC 5737, RFC 3849, RFC 2606),
// written the way each agency happens to write them.
var (
	agencyA = []demoEntry{ // a national CERT; publishes
		{"email", "Courier@Example.org", "phishing kit operator, case CERT-2291"},
		{"email", "broker@example.net", "ransomware negotiator, case CERT-2304"},
		{"domain", "login-example-bank.com.", "credential phishing, case CERT-2310"},
		{"domain", "bücher-download.example", "malware distribution, case CERT-2317"},
		{"domain", "update-checker.example.org", "C2 domain, case CERT-2320"},
		{"ipv4", "192.0.2.44", "C2 server, case CERT-2320"},
		{"ipv4", "198.51.100.7", "scanner, case CERT-2325"},
		{"ipv6", "2001:DB8:0:0:0:0:0:1f", "C2 server, case CERT-2320"},
		{"sha256", "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08", "loader, case CERT-2320"},
		{"ipv4", "192.0.2.44", "botnet C2, case CERT-2331"}, // a second case on the same address
	}
	agencyB = []demoEntry{ // a financial-intelligence unit; queries
		{"email", "broker@EXAMPLE.NET", ""},
		{"email", "treasurer@example.com", ""},
		{"domain", "XN--BCHER-DOWNLOAD-GSB.example.", ""},
		{"domain", "WWW.legit-shop.example", ""},
		{"ipv4", "::ffff:192.0.2.44", ""},
		{"ipv4", "203.0.113.9", ""},
		{"ipv6", "2001:db8::1f", ""},
		{"sha256", "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae", ""},
	}
)

type demoEntry struct{ kind, value, label string }

func (e demoEntry) indicator() indicator.Indicator {
	k, err := indicator.Lookup(e.kind)
	if err != nil {
		panic(err)
	}
	return indicator.MustNew(k, e.value)
}

func demo(w io.Writer) error {
	fmt.Fprintln(w, "fedmatch two-party demonstration")
	fmt.Fprintln(w, "Agency A (a CERT) publishes a filter of its watchlist; agency B (an FIU) queries it.")
	fmt.Fprintln(w)

	key, err := match.GenerateKey(match.SuiteRistretto255)
	if err != nil {
		return err
	}
	var entries []match.Entry
	for _, e := range agencyA {
		entries = append(entries, match.Entry{Indicator: e.indicator(), Label: e.label})
	}
	pub, err := match.Publish(key, slices.Values(entries), nil)
	if err != nil {
		return err
	}
	f := pub.Filter()
	fmt.Fprintf(w, "A publishes %d entries (%d distinct indicators): %v, %v, key %v\n",
		pub.Entries(), f.Len(), f.Suite(), f.Mode(), f.KeyID())
	fmt.Fprintf(w, "  filter of %d bits, %d hashes, %d bytes; estimated false-positive rate %.1g\n",
		f.Bits(), f.Hashes(), f.Size(), f.EstimatedFalsePositiveRate())

	var t traffic
	q, err := receiveFilter(pub, match.DefaultMaxFalsePositiveRate, &t)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "B receives the filter, checks its density and pins A's key.\n\n")

	// B queries kind by kind: each batch declares its kind, which A's
	// policy can authorise.
	byKind := map[string][]indicator.Indicator{}
	var kinds []string
	for _, e := range agencyB {
		if byKind[e.kind] == nil {
			kinds = append(kinds, e.kind)
		}
		byKind[e.kind] = append(byKind[e.kind], e.indicator())
	}
	var learnedB []match.Hit
	var learnedA []match.ConfirmedEntry
	asked := []string{}
	for _, kind := range kinds {
		hits, confirmed, cands, err := exchange(pub, q, byKind[kind], &t)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  %-7s B sends %d blinded; A evaluates; %d pass the filter; A confirms %d\n",
			kind+":", len(byKind[kind]), cands, len(hits))
		learnedB = append(learnedB, hits...)
		learnedA = append(learnedA, confirmed...)
		asked = append(asked, fmt.Sprintf("%d %s", len(byKind[kind]), kind))
	}

	fmt.Fprintln(w)
	fmt.Fprintf(w, "What B learned (%d of its %d indicators are on A's list):\n", len(learnedB), len(agencyB))
	for _, h := range learnedB {
		printHit(w, h)
	}
	fmt.Fprintln(w, "What A learned:")
	fmt.Fprintf(w, "  B asked about %s\n", strings.Join(asked, ", "))
	for _, c := range learnedA {
		fmt.Fprintf(w, "  B also holds A's entry %d: %v\n", c.Entry, entries[c.Entry].Indicator)
	}
	fmt.Fprintln(w, "Nothing else crossed: A never saw B's other indicators (they were blinded),")
	fmt.Fprintln(w, "and B cannot test guesses against A's filter without asking A for each one.")
	fmt.Fprintf(w, "Bytes: B -> A %d, A -> B %d (filter included).\n", t.toPublisher, t.toQuerier)
	fmt.Fprintln(w)
	return demoPersons(w)
}

// printHit prints what B learned of one hit: A's labels (several of A's
// entries may hold the indicator, and B gets each one's label) and how B
// had written the indicator, if not canonically.
func printHit(w io.Writer, h match.Hit) {
	head := "A's label: "
	if len(h.Labels) > 1 {
		head = "A's labels: "
	}
	col := h.Indicator.String()
	for i, l := range h.Labels {
		if i > 0 {
			col, head = "", strings.Repeat(" ", len(head))
		}
		fmt.Fprintf(w, "  %-40s %s%s\n", col, head, printable(l))
	}
	for _, e := range agencyB {
		if e.indicator() == h.Indicator && e.value != h.Indicator.Value() {
			fmt.Fprintf(w, "  %-40s (B wrote %q)\n", "", e.value)
		}
	}
}

// printable returns s unchanged if every character is printable, and
// otherwise quoted as a Go string ("\n", "\t", "\u2028" escaped), so that
// a partner's label cannot add lines or columns to the output. (A label
// that match.CheckLabel refuses never gets this far; this is the last
// line of defence, and what a program that prints labels should do.)
func printable(s string) string {
	for _, r := range s {
		if !unicode.IsPrint(r) || r == utf8.RuneError {
			return strconv.Quote(s)
		}
	}
	return s
}
