package federation

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/cloudflare/circl/oprf"

	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"
)

// BenchmarkMatch is the end-to-end query: a node matches 10,000
// indicators (1,000 shared) against a partner's filter of 100,000 entries
// over loopback mutual TLS, in POPRF (verifiable) mode: fetch and verify
// the signed filter, blind, evaluate under policy, budget and audit,
// verify, finalize, confirm. It reports the wall time per indicator and
// the ratio (x-circl) to the circl compute floor of the same work, measured
// in the same run on the same cores: the querier's Blind and Finalize and
// the publisher's Evaluate of 10,000 elements. With
// FEDMATCH_BENCH_1M=1 it also runs against a filter of 1,000,000 entries.
func BenchmarkMatch(b *testing.B) {
	sizes := []int{100_000}
	if os.Getenv("FEDMATCH_BENCH_1M") != "" {
		sizes = append(sizes, 1_000_000)
	}
	const queried, shared = 10_000, 1_000
	for _, size := range sizes {
		list := make([]match.Entry, size)
		for i := range list {
			list[i] = match.Entry{Indicator: indicator.MustNew(indicator.Email, fmt.Sprintf("p%d@example.org", i))}
		}
		tn := newTestNet(b, [][]match.Entry{list, nil}, nil)
		tn.publishAll()
		inds := make([]indicator.Indicator, queried)
		for i := range inds {
			if i < shared {
				inds[i] = list[i*(size/shared)].Indicator
			} else {
				inds[i] = indicator.MustNew(indicator.Email, fmt.Sprintf("q%d@example.org", i))
			}
		}
		querier := tn.nodes[1].Node
		for _, cores := range []int{1, 2} {
			b.Run(fmt.Sprintf("filter=%d/indicators=%d/cores=%d", size, queried, cores), func(b *testing.B) {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(cores))
				// Queriers size their worker pools from GOMAXPROCS when they
				// are made: start from a fresh one.
				querier.clientsMu.Lock()
				clear(querier.clients)
				querier.clientsMu.Unlock()
				var wall, floor time.Duration
				for b.Loop() {
					start := time.Now()
					r := querier.Match(context.Background(), inds)[0]
					wall += time.Since(start)
					if r.Err != nil || len(r.Hits) != shared {
						b.Fatalf("%d hits, %v", len(r.Hits), r.Err)
					}
					b.StopTimer()
					floor += circlFloor(b, inds)
					b.StartTimer()
				}
				b.ReportMetric(float64(wall.Nanoseconds())/float64(b.N*queried), "ns/indicator")
				b.ReportMetric(wall.Seconds()/float64(b.N), "s/query")
				b.ReportMetric(float64(wall)/float64(floor), "x-circl")
			})
		}
	}
}

// circlFloor times circl's own POPRF operations for a batch: the client's
// Blind and Finalize and the server's Evaluate, one after the other.
func circlFloor(b *testing.B, inds []indicator.Indicator) time.Duration {
	sk, err := oprf.GenerateKey(oprf.SuiteRistretto255, rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	pk := sk.Public()
	srv := oprf.NewPartialObliviousServer(oprf.SuiteRistretto255, sk)
	cli := oprf.NewPartialObliviousClient(oprf.SuiteRistretto255, pk)
	inputs := make([][]byte, len(inds))
	for i, ind := range inds {
		inputs[i] = []byte("fedmatch-v1/email\x00" + ind.Value())
	}
	info := []byte("fedmatch-v1/email")
	start := time.Now()
	// In chunks of 65535, the most one RFC 9497 batch proof covers.
	for lo := 0; lo < len(inputs); lo += 65535 {
		chunk := inputs[lo:min(lo+65535, len(inputs))]
		fd, req, err := cli.Blind(chunk)
		if err != nil {
			b.Fatal(err)
		}
		ev, err := srv.Evaluate(req, info)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := cli.Finalize(fd, ev, info); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start)
}
