package federation_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"iter"
	"log"
	"net"
	"os"
	"slices"
	"strings"

	"github.com/fedmatch/fedmatch/federation"
	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"
)

// Two agencies: a CERT publishes its watchlist and serves it over mutual
// TLS; an FIU matches its own indicators against it, and learns which of
// them the CERT holds, with the labels the CERT releases to it. The CERT
// learns which of its entries the FIU confirmed.
func ExampleNew() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// Each agency has an identity key (from ed25519.GenerateKey; fixed
	// seeds here) and a state directory. Partners know each other by
	// their public keys, pinned.
	certKey := ed25519.NewKeyFromSeed([]byte("example identity of the CERT...."))
	fiuKey := ed25519.NewKeyFromSeed([]byte("example identity of the FIU....."))
	partner := func(id, url string, key ed25519.PrivateKey) federation.Partner {
		pub := key.Public().(ed25519.PublicKey)
		return federation.Partner{ID: id, URL: url, SPKI: federation.IdentitySPKI(pub), Identity: pub,
			Kinds: []string{"*"}, Budget: 1000, ReleaseLabels: []string{"TLP:CLEAR"}}
	}
	certDir, _ := os.MkdirTemp("", "fedmatch-cert-")
	defer os.RemoveAll(certDir)
	fiuDir, _ := os.MkdirTemp("", "fedmatch-fiu-")
	defer os.RemoveAll(fiuDir)

	// The CERT publishes its watchlist and serves it. (It never queries
	// the FIU, so the FIU's URL is not used.)
	watchlist := []match.Entry{
		{Indicator: indicator.MustNew(indicator.Email, "broker@example.net"), Label: "TLP:CLEAR ransomware negotiator", Ref: "case-17"},
		{Indicator: indicator.MustNew(indicator.IPv4, "192.0.2.44"), Label: "TLP:AMBER C2 server", Ref: "case-23"},
		{Indicator: indicator.MustNew(indicator.Domain, "update-checker.example.org"), Label: "TLP:CLEAR C2", Ref: "case-23"},
	}
	notices := make(chan federation.HitNotice, 2)
	cert, err := federation.New(&federation.Config{
		ID: "cert", Identity: certKey, StateDir: certDir,
		Partners: []federation.Partner{partner("fiu", "https://fiu.example", fiuKey)},
		Watchlist: func() iter.Seq2[match.Entry, error] {
			return func(yield func(match.Entry, error) bool) {
				for _, e := range watchlist {
					if !yield(e, nil) {
						return
					}
				}
			}
		},
		OnHit: func(n federation.HitNotice) { notices <- n },
	})
	if err != nil {
		log.Fatal(err)
	}
	defer cert.Close()
	if err := cert.Publish(ctx); err != nil {
		log.Fatal(err)
	}
	addr, served := make(chan net.Addr, 1), make(chan error, 1)
	go func() { served <- cert.ListenAndServe(ctx, "127.0.0.1:0", func(a net.Addr) { addr <- a }) }()
	certURL := "https://" + (<-addr).String()

	// The FIU matches its indicators against the CERT's filter. A label
	// the CERT does not release to the FIU comes back empty.
	fiu, err := federation.New(&federation.Config{
		ID: "fiu", Identity: fiuKey, StateDir: fiuDir,
		Partners: []federation.Partner{partner("cert", certURL, certKey)},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer fiu.Close()
	mine := []indicator.Indicator{
		indicator.MustNew(indicator.Email, "Broker@Example.NET"),
		indicator.MustNew(indicator.IPv4, "192.0.2.44"),
		indicator.MustNew(indicator.IPv4, "198.51.100.7"),
	}
	for _, r := range fiu.Match(ctx, mine) {
		if r.Err != nil {
			log.Fatal(r.Err)
		}
		fmt.Printf("%s holds %d of %d:\n", r.Partner, len(r.Hits), r.Queried)
		for _, h := range r.Hits {
			fmt.Printf("  %v %q\n", h.Indicator, h.Labels)
		}
	}

	// The CERT is told of each confirmation (one per indicator kind).
	var refs []string
	for range 2 {
		n := <-notices
		for _, e := range n.Entries {
			refs = append(refs, n.Partner+" confirmed "+e.Ref)
		}
	}
	slices.Sort(refs)
	fmt.Println(strings.Join(refs, "\n"))

	cancel()
	<-served
	// Output:
	// cert holds 2 of 3:
	//   email:broker@example.net ["TLP:CLEAR ransomware negotiator"]
	//   ipv4:192.0.2.44 []
	// fiu confirmed case-17
	// fiu confirmed case-23
}

// Cardinality-only matching: the CERT lets the FIU count
// (Partner.Cardinality), and the FIU learns how many of its indicators
// the CERT holds, not which. The CERT learns only that the FIU counted a
// batch of so many indicators of a kind (its audit log).
func ExampleMatcher_Count() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	certKey := ed25519.NewKeyFromSeed([]byte("example identity of the CERT...."))
	fiuKey := ed25519.NewKeyFromSeed([]byte("example identity of the FIU....."))
	partner := func(id, url string, key ed25519.PrivateKey) federation.Partner {
		pub := key.Public().(ed25519.PublicKey)
		return federation.Partner{ID: id, URL: url, SPKI: federation.IdentitySPKI(pub), Identity: pub,
			Kinds: []string{"*"}, Budget: 1000}
	}
	certDir, _ := os.MkdirTemp("", "fedmatch-cert-")
	defer os.RemoveAll(certDir)
	fiuDir, _ := os.MkdirTemp("", "fedmatch-fiu-")
	defer os.RemoveAll(fiuDir)

	watchlist := []match.Entry{
		{Indicator: indicator.MustNew(indicator.Email, "broker@example.net"), Ref: "case-17"},
		{Indicator: indicator.MustNew(indicator.Email, "courier@example.org"), Ref: "case-19"},
		{Indicator: indicator.MustNew(indicator.IPv4, "192.0.2.44"), Ref: "case-23"},
	}
	fiuAtCERT := partner("fiu", "https://fiu.example", fiuKey)
	fiuAtCERT.Cardinality = true // the FIU may count
	cert, err := federation.New(&federation.Config{
		ID: "cert", Identity: certKey, StateDir: certDir, Partners: []federation.Partner{fiuAtCERT},
		Watchlist: func() iter.Seq2[match.Entry, error] {
			return func(yield func(match.Entry, error) bool) {
				for _, e := range watchlist {
					if !yield(e, nil) {
						return
					}
				}
			}
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer cert.Close()
	if err := cert.Publish(ctx); err != nil { // with a count filter
		log.Fatal(err)
	}
	addr, served := make(chan net.Addr, 1), make(chan error, 1)
	go func() { served <- cert.ListenAndServe(ctx, "127.0.0.1:0", func(a net.Addr) { addr <- a }) }()

	fiu, err := federation.New(&federation.Config{
		ID: "fiu", Identity: fiuKey, StateDir: fiuDir,
		Partners: []federation.Partner{partner("cert", "https://"+(<-addr).String(), certKey)},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer fiu.Close()
	mine := []indicator.Indicator{
		indicator.MustNew(indicator.Email, "Broker@Example.NET"),
		indicator.MustNew(indicator.Email, "courier@example.org"),
		indicator.MustNew(indicator.Email, "nobody@example.com"),
		indicator.MustNew(indicator.IPv4, "198.51.100.7"),
	}
	res, err := fiu.Count(ctx, "cert", mine)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("cert holds %d of %d\n", res.Shared, res.Queried)
	cancel()
	<-served
	// Output:
	// cert holds 2 of 4
}
