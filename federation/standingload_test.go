package federation

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"
)

// TestStandingLatency measures how long an indicator added at one node
// takes to be reported at both: agency-0 publishes FEDMATCH_LOAD_ENTRIES
// entries (default 100,000) and agency-1 keeps as many indicators matched
// against it, a disjoint set; agency-0 then adds, one after the other,
// FEDMATCH_LOAD_ADDS (100) indicators that agency-1 holds, each once both
// sides have reported the previous one. Over loopback mTLS, long polls of
// 30 s. Skipped unless FEDMATCH_LOAD is set:
//
//	FEDMATCH_LOAD=1 go test -run '^TestStandingLatency$' -v -timeout 60m ./federation
func TestStandingLatency(t *testing.T) {
	if os.Getenv("FEDMATCH_LOAD") == "" {
		t.Skip("set FEDMATCH_LOAD=1 to measure standing-match latency")
	}
	size, adds := envInt("FEDMATCH_LOAD_ENTRIES", 100000), envInt("FEDMATCH_LOAD_ADDS", 100)
	var mu sync.Mutex
	noticed := map[string]time.Time{}
	tn := newTestNet(t, [][]match.Entry{entries(emails(t, "x", 0, size), "L"), nil}, func(i int, cfg *Config) {
		cfg.MaxBatch = 1 << 16
		cfg.Partners[0].Budget = 1 << 30
		cfg.OnHit = func(n HitNotice) {
			mu.Lock()
			defer mu.Unlock()
			for _, e := range n.Entries {
				noticed[e.Label] = time.Now()
			}
		}
	})
	start := time.Now()
	tn.publishAll()
	t.Logf("published %d entries in %v", size, time.Since(start).Round(time.Millisecond))
	pub, querier := tn.nodes[0], tn.nodes[1]
	mine := emails(t, "y", 0, size) // none listed yet
	reported := map[indicator.Indicator]time.Time{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start = time.Now()
	st, err := querier.Stand(ctx, mine, StandingOptions{Wait: 30 * time.Second, OnHit: func(sh StandingHit) {
		mu.Lock()
		defer mu.Unlock()
		reported[sh.Hit.Indicator] = time.Now()
	}, OnError: func(p string, err error) { t.Logf("%s: %v", p, err) }})
	if err != nil {
		t.Fatal(err)
	}
	waitUntil := func(what string, d time.Duration, cond func() bool) {
		deadline := time.Now().Add(d)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %v", what, d)
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitUntil("the first evaluation", 30*time.Minute, func() bool {
		return pub.BudgetUsed("agency-1", pub.Epoch()) == size
	})
	// agency-1 finalizes its last batch, then its long poll waits.
	waitUntil("the first long poll", 10*time.Minute, func() bool {
		pub.waitMu.Lock()
		defer pub.waitMu.Unlock()
		return pub.waiting["agency-1"] == 1
	})
	t.Logf("agency-1's %d indicators evaluated and kept in %v", size, time.Since(start).Round(time.Millisecond))
	used := pub.BudgetUsed("agency-1", pub.Epoch())
	var both, atQuerier []time.Duration
	for i := range adds {
		ind := mine[i*(size/adds)]
		label := fmt.Sprint("added ", i)
		t0 := time.Now()
		if _, err := pub.Add(ctx, []match.Entry{{Indicator: ind, Label: label}}); err != nil {
			t.Fatal(err)
		}
		waitUntil(label, time.Minute, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return !reported[ind].IsZero() && !noticed[label].IsZero()
		})
		mu.Lock()
		atQuerier = append(atQuerier, reported[ind].Sub(t0))
		last := reported[ind]
		if noticed[label].After(last) {
			last = noticed[label]
		}
		both = append(both, last.Sub(t0))
		mu.Unlock()
	}
	slices.Sort(both)
	slices.Sort(atQuerier)
	q := func(ds []time.Duration, p int) time.Duration { return ds[(len(ds)-1)*p/100].Round(time.Millisecond) }
	t.Logf("%d additions to a %d-entry list watched by %d indicators: reported at both sides p50 %v p99 %v max %v (at the querier p50 %v); evaluations for them: %d",
		adds, size, size, q(both, 50), q(both, 99), both[len(both)-1].Round(time.Millisecond), q(atQuerier, 50), pub.BudgetUsed("agency-1", pub.Epoch())-used)
	cancel()
	st.Wait()
}
