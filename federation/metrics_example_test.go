package federation_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"iter"
	"log"
	"net"
	"os"

	"github.com/fedmatch/fedmatch/federation"
	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"
)

// A CERT serves its watchlist to an FIU, which matches three indicators
// against it; each node's metrics then say what was asked, spent and
// found, on both sides. A metrics system reads the same snapshot
// (examples/node serves it in the Prometheus text format).
func ExampleNode_Metrics() {
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
		{Indicator: indicator.MustNew(indicator.Email, "broker@example.net"), Label: "TLP:CLEAR negotiator"},
		{Indicator: indicator.MustNew(indicator.IPv4, "192.0.2.44"), Label: "TLP:AMBER C2 server"},
	}
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

	fiu, err := federation.New(&federation.Config{
		ID: "fiu", Identity: fiuKey, StateDir: fiuDir,
		Partners: []federation.Partner{partner("cert", "https://"+(<-addr).String(), certKey)},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer fiu.Close()
	fiu.Match(ctx, []indicator.Indicator{
		indicator.MustNew(indicator.Email, "broker@example.net"),
		indicator.MustNew(indicator.IPv4, "192.0.2.44"),
		indicator.MustNew(indicator.IPv4, "198.51.100.7"),
	})

	c := cert.Metrics()
	fmt.Printf("cert: epoch %d, version %d, %d entries\n", c.Epoch, c.Version, c.Entries)
	for _, p := range c.Partners {
		fmt.Printf("  %s asked %v, confirmed %d hits, %d of %d evaluations left\n",
			p.Partner, p.Evaluations, p.ConfirmedHits, p.BudgetLeft, p.Budget)
	}
	for _, p := range fiu.Metrics().Partners {
		fmt.Printf("fiu: holds %s's epoch %d version %d, asked %v, found %d hits\n",
			p.Partner, p.PartnerEpoch, p.PartnerVersion, p.Queried, p.Hits)
	}

	cancel()
	<-served
	// Output:
	// cert: epoch 1, version 2, 2 entries
	//   fiu asked map[email:1 ipv4:2], confirmed 2 hits, 997 of 1000 evaluations left
	// fiu: holds cert's epoch 1 version 2, asked map[email:1 ipv4:2], found 2 hits
}
