// Command federation runs three agency nodes on localhost, each with its
// own watchlist, identity key and certificate (generated at start), over
// mutual TLS. Each node publishes its signed filter; each matches its
// whole list against the other two; the program prints what each agency
// learned from each partner, and what each publisher's audit log says it
// was asked: counts and kinds, never a value.
//
//	go run ./examples/federation
package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"iter"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/fedmatch/fedmatch/federation"
	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"
)

// The agencies and their watchlists (documentation values: RFC 5737,
// RFC 3849, RFC 2606, example IBANs and phone numbers).
var agencies = []struct {
	id   string
	list []string // kind:value label
}{
	{"cert-a", []string{
		"email:broker@example.net|ransomware negotiator",
		"domain:update-checker.example.org|C2",
		"ipv4:192.0.2.44|C2 server",
		"url:http://login.example-bank.test/verify|phishing page",
		"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08|loader",
	}},
	{"fiu-b", []string{
		"email:broker@example.net|subject of STR 2026-117",
		"iban:DE89370400440532013000|mule account",
		"phone:+442079460018|courier",
		"btc:1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa|ransom wallet",
		"domain:shop.example.com|fraud shop",
	}},
	{"police-c", []string{
		"phone:+442079460018|suspect's number",
		"ipv4:192.0.2.44|seen in case 4711",
		"btc:1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa|payment trail",
		"document:DEU:C01X00T47|forged passport",
		"email:someone@example.org|witness",
	}},
}

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "federation:", err)
		os.Exit(1)
	}
}

type agency struct {
	id      string
	key     ed25519.PrivateKey
	entries []match.Entry
	addr    string
	node    *federation.Node
	dir     string
}

func run(w io.Writer) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, err := os.MkdirTemp("", "fedmatch-federation-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(base)

	as, err := newAgencies(base)
	if err != nil {
		return err
	}
	for _, a := range as {
		err := a.start(ctx, w, as)
		if a.node != nil {
			defer a.node.Close()
		}
		if err != nil {
			return err
		}
	}
	fmt.Fprintln(w)
	for _, a := range as {
		if err := a.matchPartners(ctx, w); err != nil {
			return err
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "What each publisher's audit log records of the others' queries:")
	for _, a := range as {
		if err := a.printAudit(w); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "\nNothing else crossed: no publisher saw a querier's other indicators (they were")
	fmt.Fprintln(w, "blinded), and no querier can test guesses against a filter without asking its publisher.")
	return nil
}

// newAgencies gives each agency an identity key, a listening address on
// localhost and its watchlist.
func newAgencies(base string) ([]*agency, error) {
	var as []*agency
	for _, a := range agencies {
		_, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		addr := ln.Addr().String()
		ln.Close() // the node listens on it in start
		ag := &agency{id: a.id, key: key, addr: addr, dir: filepath.Join(base, a.id)}
		for _, line := range a.list {
			ind, label, err := parseLine(line)
			if err != nil {
				return nil, err
			}
			ag.entries = append(ag.entries, match.Entry{Indicator: ind, Label: label})
		}
		as = append(as, ag)
	}
	return as, nil
}

// start runs a's node: every other agency is a partner, known by its
// pinned key, allowed every kind, a budget, and every label. The node
// publishes its filter and serves until ctx is cancelled.
func (a *agency) start(ctx context.Context, w io.Writer, all []*agency) error {
	var partners []federation.Partner
	for _, b := range all {
		if b == a {
			continue
		}
		pub := b.key.Public().(ed25519.PublicKey)
		partners = append(partners, federation.Partner{
			ID: b.id, URL: "https://" + b.addr, SPKI: federation.IdentitySPKI(pub), Identity: pub,
			Kinds: []string{"*"}, Budget: 1000, ReleaseLabels: []string{"*"},
		})
	}
	node, err := federation.New(&federation.Config{
		ID: a.id, Identity: a.key, StateDir: a.dir, Partners: partners,
		Watchlist: func() iter.Seq2[match.Entry, error] {
			return func(yield func(match.Entry, error) bool) {
				for _, e := range a.entries {
					if !yield(e, nil) {
						return
					}
				}
			}
		},
	})
	if err != nil {
		return err
	}
	a.node = node
	if err := node.Publish(ctx); err != nil {
		return err
	}
	ready := make(chan struct{})
	go node.ListenAndServe(ctx, a.addr, func(net.Addr) { close(ready) })
	<-ready
	f := node.Filter()
	fmt.Fprintf(w, "%-9s publishes %d entries (epoch %d, key %v), listens on %s\n", a.id, f.Len(), f.Epoch(), f.KeyID(), a.addr)
	return nil
}

// matchPartners matches a's whole list against every partner at once and
// prints what it learned from each.
func (a *agency) matchPartners(ctx context.Context, w io.Writer) error {
	var mine []indicator.Indicator
	for _, e := range a.entries {
		mine = append(mine, e.Indicator)
	}
	start := time.Now()
	results := a.node.Match(ctx, mine)
	fmt.Fprintf(w, "%s asks about its %d indicators (%v):\n", a.id, len(mine), time.Since(start).Round(time.Millisecond))
	for _, r := range results {
		if r.Err != nil {
			return fmt.Errorf("%s vs %s: %w", a.id, r.Partner, r.Err)
		}
		fmt.Fprintf(w, "  from %-9s %d shared:", r.Partner, len(r.Hits))
		if len(r.Hits) == 0 {
			fmt.Fprint(w, " none")
		}
		fmt.Fprintln(w)
		sort.Slice(r.Hits, func(i, j int) bool { return r.Hits[i].Indicator.String() < r.Hits[j].Indicator.String() })
		for _, h := range r.Hits {
			labels := make([]string, len(h.Labels))
			for i, l := range h.Labels {
				labels[i] = printable(l)
			}
			fmt.Fprintf(w, "    %-45s their label: %s\n", h.Indicator, strings.Join(labels, "; "))
		}
		for _, ind := range r.Withdrawn {
			fmt.Fprintf(w, "    %-45s withdrawn by them (listed, then removed)\n", ind)
		}
	}
	return nil
}

// printAudit reads a's audit log, verified, and prints what each partner
// asked: counts and kinds, never a value.
func (a *agency) printAudit(w io.Writer) error {
	recs, err := federation.ReadAudit(a.dir, a.id, a.key.Public().(ed25519.PublicKey))
	if err != nil {
		return err
	}
	type seen struct {
		kinds       []string
		evaluations uint64
		hits        uint64
	}
	byPartner := map[string]*seen{}
	var order []string
	for _, r := range recs {
		if r.Type != federation.AuditEvaluation && r.Type != federation.AuditConfirmation {
			continue
		}
		s := byPartner[r.Partner]
		if s == nil {
			s = &seen{}
			byPartner[r.Partner] = s
			order = append(order, r.Partner)
		}
		if r.Type == federation.AuditEvaluation {
			s.evaluations += r.Count
			s.kinds = append(s.kinds, fmt.Sprintf("%d %s", r.Count, strings.TrimPrefix(r.Detail, "kind ")))
		} else {
			s.hits += r.Hits
		}
	}
	fmt.Fprintf(w, "  %s (%d records, chain and signatures verified):\n", a.id, len(recs))
	for _, p := range order {
		s := byPartner[p]
		fmt.Fprintf(w, "    %-9s evaluated %d (%s), confirmed %d hit(s)\n", p, s.evaluations, strings.Join(s.kinds, ", "), s.hits)
	}
	return nil
}

func parseLine(line string) (indicator.Indicator, string, error) {
	spec, label, _ := strings.Cut(line, "|")
	kind, value, _ := strings.Cut(spec, ":")
	k, err := indicator.Lookup(kind)
	if err != nil {
		return indicator.Indicator{}, "", err
	}
	ind, err := indicator.New(k, value)
	return ind, label, err
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
