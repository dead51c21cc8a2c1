package match

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/fedmatch/fedmatch/match/indicator"
)

// BenchmarkAdd adds entries to a published list of n entries: per
// entry, the time (ns/entry), its ratio to circl's FullEvaluate of the
// same entries (x-circl: an Add evaluates only the new entries; the
// rest is copying the filter to a new version and merging the index,
// O(n) memory moves), and the bytes of the delta a querier downloads for
// them with a 64-byte Ed25519 signature (delta-B/entry). Apply is the
// querier's side: one delta of that size applied to its copy of the
// filter (ns/op).
//
// Run: go test -run '^$' -bench Add ./match
func BenchmarkAdd(b *testing.B) {
	const n = 100000
	key := testKey(b, SuiteRistretto255, 1)
	srv := newCirclServer(b, key, ModePOPRF)
	p, err := Publish(key, slices.Values(benchEntries(n)), &PublishOptions{Capacity: n + 400000})
	if err != nil {
		b.Fatal(err)
	}
	info := kindInfo(indicator.Email.Name())
	next := n
	fresh := func(k int) []Entry {
		es := make([]Entry, k)
		for i := range es {
			es[i] = Entry{Indicator: indicator.MustNew(indicator.Email, fmt.Sprintf("user%d@example.org", next))}
			next++
		}
		return es
	}
	for _, k := range []int{10, 1000} {
		b.Run(fmt.Sprintf("n=%d/add=%d", n, k), func(b *testing.B) {
			var ours, raw time.Duration
			var deltaBytes int
			for b.Loop() {
				b.StopTimer()
				es := fresh(k)
				from := p.Filter().Version()
				b.StartTimer()
				start := time.Now()
				if _, err := p.Add(es); err != nil {
					b.Fatal(err)
				}
				ours += time.Since(start)
				b.StopTimer()
				raw += circlFullEvaluate(b, srv, inputsOf(es), info)
				d, err := p.Delta(from)
				if err != nil {
					b.Fatal(err)
				}
				deltaBytes += d.Size() + 64
				b.StartTimer()
			}
			report(b, ours, raw, k)
			b.ReportMetric(float64(deltaBytes)/float64(b.N*k), "delta-B/entry")
		})
	}
	for _, k := range []int{10, 1000} {
		b.Run(fmt.Sprintf("Apply/n=%d/add=%d", n, k), func(b *testing.B) {
			from := p.Filter()
			if _, err := p.Add(fresh(k)); err != nil {
				b.Fatal(err)
			}
			d, err := p.Delta(from.Version())
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := from.Apply(d, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
