package match

import (
	"fmt"
	"math"
	"sync"
	"testing"
)

func TestRoundTripSmall(t *testing.T) {
	for _, s := range []Suite{SuiteRistretto255, SuiteP256} {
		for _, m := range []Mode{ModePOPRF, ModeVOPRF, ModeOPRF} {
			t.Run(fmt.Sprintf("%v/%v", s, m), func(t *testing.T) {
				key := testKey(t, s, 1)
				pubList := synthetic(t, 0, 50)
				p := mustPublish(t, key, entriesOf(pubList, func(i int) string { return fmt.Sprint("label", i) }), &PublishOptions{Mode: m})
				query := synthetic(t, 40, 40) // 10 shared: 40..49; three chunks
				hits, confirmed, _ := roundTrip(t, p, &QuerierOptions{InsecureAllowOPRF: true, ChunkSize: MinChunkSize}, query)
				if len(hits) != 10 || len(confirmed) != 10 {
					t.Fatalf("got %d hits, %d confirmed; want 10", len(hits), len(confirmed))
				}
				for i, h := range hits {
					want := query[i]
					if h.Indicator != want || oneLabel(h) != fmt.Sprint("label", 40+i) {
						t.Errorf("hit %d = %v %q, want %v label%d", i, h.Indicator, oneLabel(h), want, 40+i)
					}
				}
			})
		}
	}
}

// TestRoundTripLarge publishes 10,000 entries and queries 10,000
// indicators of which 2,000 are shared, with a filter tuned to a 1%
// false-positive rate so that false positives are frequent enough to
// measure. It checks that no shared indicator is missed, that the number
// of false positives fits the filter's false-positive rate, and that after
// confirmation both sides hold exactly the intersection.
func TestRoundTripLarge(t *testing.T) {
	const nPub, nQuery, shared, fpr = 10_000, 10_000, 2_000, 0.01
	key := testKey(t, SuiteRistretto255, 2)
	pubList := synthetic(t, 0, nPub)
	query := synthetic(t, nPub-shared, nQuery)
	p := mustPublish(t, key, entriesOf(pubList, func(i int) string { return fmt.Sprint("L", i) }),
		&PublishOptions{FalsePositiveRate: fpr})
	if got := p.Filter().Len(); got != nPub {
		t.Fatalf("filter holds %d entries, want %d", got, nPub)
	}
	hits, confirmed, candidates := roundTrip(t, p, &QuerierOptions{MaxFalsePositiveRate: 2 * fpr}, query)

	// Every shared indicator is a candidate (no false negatives) and the
	// rest are false positives of the filter: a binomial count over the
	// non-shared indicators, checked at 5 sigma around the rate the
	// filter's actual m and k give.
	f := p.Filter()
	rate := math.Pow(-math.Expm1(-float64(f.Hashes())*float64(f.Len())/float64(f.Bits())), float64(f.Hashes()))
	if rate < fpr/2 || rate > fpr*1.5 {
		t.Fatalf("filter m=%d k=%d has false-positive rate %.4f, configured %.4f", f.Bits(), f.Hashes(), rate, fpr)
	}
	falsePos := candidates - shared
	mean := rate * (nQuery - shared)
	sigma := math.Sqrt(mean * (1 - rate))
	if math.Abs(float64(falsePos)-mean) > 5*sigma {
		t.Errorf("%d false positives among %d non-shared indicators, expected %.1f ± %.1f", falsePos, nQuery-shared, mean, 5*sigma)
	}
	t.Logf("candidates %d = %d shared + %d false positives (expected %.1f)", candidates, shared, falsePos, mean)

	// After confirmation: exactly the intersection, with labels.
	if len(hits) != shared || len(confirmed) != shared {
		t.Fatalf("querier has %d hits, publisher %d confirmed; want %d", len(hits), len(confirmed), shared)
	}
	for i, h := range hits {
		if h.Indicator != query[i] {
			t.Fatalf("hit %d is %v, want %v", i, h.Indicator, query[i])
		}
		if want := fmt.Sprint("L", nPub-shared+i); oneLabel(h) != want {
			t.Fatalf("hit %d label %q, want %q", i, oneLabel(h), want)
		}
	}
	seen := map[int]bool{}
	for _, c := range confirmed {
		if c.Entry < nPub-shared || c.Entry >= nPub || seen[c.Entry] {
			t.Fatalf("publisher confirmed entry %d, not a shared one or twice", c.Entry)
		}
		seen[c.Entry] = true
	}
}

// TestConcurrentUse shares one Publisher and one Querier between
// goroutines, with several chunks per request. Regression test: circl's
// P-256 elements reduce their coordinates in place when encoded, so a
// public key shared between chunk goroutines was a data race (caught by
// go test -race).
func TestConcurrentUse(t *testing.T) {
	for _, s := range []Suite{SuiteP256, SuiteRistretto255} {
		for _, m := range []Mode{ModeVOPRF, ModePOPRF} {
			t.Run(s.String()+"/"+m.String(), func(t *testing.T) {
				p := mustPublish(t, testKey(t, s, 9), entriesOf(synthetic(t, 0, 40), nil), &PublishOptions{Mode: m, Workers: 4})
				q, err := NewQuerier(p.Filter(), &QuerierOptions{ChunkSize: MinChunkSize, Workers: 4})
				if err != nil {
					t.Fatal(err)
				}
				var wg sync.WaitGroup
				for g := range 4 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						qu, req, err := q.Blind(synthetic(t, 30+g, 40)) // 10-g shared; three chunks
						if err != nil {
							t.Error(err)
							return
						}
						resp, err := p.Evaluate(req)
						if err != nil {
							t.Error(err)
							return
						}
						creq, err := qu.Finalize(resp)
						if err != nil {
							t.Error(err)
							return
						}
						cresp, _, err := p.Confirm(creq)
						if err != nil {
							t.Error(err)
							return
						}
						hits, err := qu.Hits(cresp)
						if err != nil || len(hits) != 10-g {
							t.Errorf("goroutine %d: %d hits, %v; want %d", g, len(hits), err, 10-g)
						}
					}()
				}
				wg.Wait()
			})
		}
	}
}
