//go:build linux

package federation

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"
)

// offsetClock is real time shifted by an offset the test sets: the spread
// of a rotation runs over wall-clock minutes, and the test can still
// bring the end of an epoch to now.
type offsetClock struct{ off atomic.Int64 }

func (c *offsetClock) Now() time.Time { return time.Now().Add(time.Duration(c.off.Load())) }

// A rotationInjection is an indicator agency-1 holds that agency-0 adds
// during the spread, at a fraction of the spread's window, and that is
// at a fraction of agency-1's list: due early, midway or late.
type rotationInjection struct {
	at, pos   float64
	i         int
	label     string
	added     time.Time // when agency-0's Add was called
	addTook   time.Duration
	evaluated time.Time // when agency-1's evaluations under the new key passed it
}

// TestRotationLoad measures a partner's rotation under a standing match:
// agency-0 publishes FEDMATCH_LOAD_ENTRIES entries (default 100,000) and
// agency-1 keeps as many indicators matched against it, 100 of them on
// agency-0's list, with a budget of the list and 16 more per epoch (a
// second evaluation of any batch would be refused). Once agency-1 has
// evaluated everything, the clock (real time plus an offset) is brought
// to the end of agency-0's epoch and agency-0 rotates, with a grace
// period of FEDMATCH_LOAD_GRACE (default 2m): agency-1 evaluates its list
// again, spread over half of what remains of the old filter's validity,
// while agency-0 adds, at five moments, ten indicators agency-1 holds
// that it evaluates early, midway or late in the spread. It reports the
// rotation's publication, the spread's duration, the process's CPU per
// second and the evaluations per second over the spread, and when each
// added hit was reported; it fails if the spread does not end within the
// grace period, if the budget is exceeded, or if a hit is missed. Over
// loopback mTLS, long polls of 30 s. Skipped unless FEDMATCH_LOAD is set:
//
//	FEDMATCH_LOAD=1 FEDMATCH_LOAD_GRACE=6m go test -run '^TestRotationLoad$' -v -timeout 120m ./federation
func TestRotationLoad(t *testing.T) {
	if os.Getenv("FEDMATCH_LOAD") == "" {
		t.Skip("set FEDMATCH_LOAD=1 to measure a rotation under a standing match")
	}
	const overlap, margin, wait = 100, 16, 30 * time.Second
	size := envInt("FEDMATCH_LOAD_ENTRIES", 100000)
	if size < 10*overlap {
		t.Fatalf("FEDMATCH_LOAD_ENTRIES %d below %d", size, 10*overlap)
	}
	grace := 2 * time.Minute
	if v := os.Getenv("FEDMATCH_LOAD_GRACE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("FEDMATCH_LOAD_GRACE %q: not a positive duration", v)
		}
		grace = d
	}

	// agency-1's indicators; agency-0 lists overlap of them, evenly
	// spaced, among entries of its own.
	mine := emails(t, "y", 0, size)
	step := size / overlap
	listed := map[int]bool{}
	var held []indicator.Indicator
	for k := range overlap {
		i := k*step + step/2
		listed[i] = true
		held = append(held, mine[i])
	}
	list := append(entries(emails(t, "x", 0, size-overlap), "L"), entries(held, "held")...)
	var injs []*rotationInjection
	for k, p := range [][2]float64{{0, .02}, {0, .5}, {0, .97}, {.25, .05}, {.25, .6}, {.5, .3}, {.5, .9}, {.75, .1}, {.75, .999}, {.9, .85}} {
		i := int(p[1] * float64(size))
		for listed[i] {
			i++
		}
		listed[i] = true
		injs = append(injs, &rotationInjection{at: p[0], pos: p[1], i: i, label: fmt.Sprint("added ", k)})
	}

	var mu sync.Mutex
	reported := map[indicator.Indicator][]time.Time{} // agency-1's OnHit
	noticed := map[uint64]map[string]time.Time{}      // agency-0's OnHit, by epoch and label
	var errs []string
	clk := &offsetClock{}
	tn := newTestNet(t, [][]match.Entry{list, nil}, func(i int, cfg *Config) {
		cfg.Now = clk.Now
		cfg.Grace = grace
		cfg.MaxBatch = 1 << 16
		cfg.Partners[0].Budget = size + margin
		if i == 0 {
			cfg.OnHit = func(n HitNotice) {
				mu.Lock()
				defer mu.Unlock()
				if noticed[n.Epoch] == nil {
					noticed[n.Epoch] = map[string]time.Time{}
				}
				for _, e := range n.Entries {
					if _, ok := noticed[n.Epoch][e.Label]; !ok {
						noticed[n.Epoch][e.Label] = time.Now()
					}
				}
			}
		}
	})
	start := time.Now()
	tn.publishAll()
	t.Logf("published %d entries in %v", size, time.Since(start).Round(time.Millisecond))
	pub, querier := tn.nodes[0], tn.nodes[1]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start = time.Now()
	st, err := querier.Stand(ctx, mine, StandingOptions{Wait: wait,
		OnHit: func(sh StandingHit) {
			mu.Lock()
			defer mu.Unlock()
			if !sh.Withdrawn {
				reported[sh.Hit.Indicator] = append(reported[sh.Hit.Indicator], time.Now())
			}
		},
		OnError: func(p string, err error) {
			mu.Lock()
			defer mu.Unlock()
			errs = append(errs, fmt.Sprintf("%v %s: %v", time.Now().Format(time.TimeOnly), p, err))
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		st.Wait()
	}()
	waitUntil := func(what string, d time.Duration, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(d)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %v", what, d)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitUntil("the first evaluation", 60*time.Minute, func() bool { return pub.BudgetUsed("agency-1", 1) == size })
	waitUntil("the first long poll", 10*time.Minute, func() bool {
		pub.waitMu.Lock()
		defer pub.waitMu.Unlock()
		return pub.waiting["agency-1"] == 1
	})
	t.Logf("first evaluation: agency-1's %d indicators evaluated, kept and confirmed in %v", size, time.Since(start).Round(time.Millisecond))
	mu.Lock()
	firstHits := 0
	for _, ind := range held {
		if len(reported[ind]) > 0 {
			firstHits++
		}
	}
	mu.Unlock()
	if firstHits != overlap {
		t.Errorf("first evaluation: %d of the %d listed indicators reported", firstHits, overlap)
	}

	// The end of agency-0's epoch: the old filter has the grace period
	// left when agency-0 rotates.
	oldNotAfter := pub.Filter().NotAfter()
	clk.off.Store(int64(time.Until(oldNotAfter.Add(-grace))))
	rotStart, cpu0 := time.Now(), cpuTime()
	if err := pub.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	rotEnd, rotCPU := time.Now(), cpuTime()-cpu0
	rotTook := rotEnd.Sub(rotStart)
	newEpoch := pub.Epoch()
	t.Logf("rotation: agency-0 published its %d entries under a new key (epoch %d) in %v, CPU %v (%.0f%% of a core); old filter valid %v more",
		size, newEpoch, rotTook.Round(time.Millisecond), rotCPU.Round(time.Millisecond),
		100*rotCPU.Seconds()/rotTook.Seconds(), oldNotAfter.Sub(clk.Now()).Round(time.Second))

	// Fine sampler: when agency-1 took the new filter, when its
	// evaluations passed each injected indicator, when they were done.
	var seenAt, doneAt atomic.Pointer[time.Time]
	var doneClock atomic.Pointer[time.Time]
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for ctx.Err() == nil {
			now := time.Now()
			u := pub.BudgetUsed("agency-1", newEpoch)
			if seenAt.Load() == nil && seenEpoch(querier.Node, "agency-0") == newEpoch {
				seenAt.Store(&now)
			}
			mu.Lock()
			for _, in := range injs {
				if in.evaluated.IsZero() && u > in.i {
					in.evaluated = now
				}
			}
			mu.Unlock()
			if u >= size {
				c := clk.Now()
				doneClock.Store(&c)
				doneAt.Store(&now)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()

	// Per-second samples: CPU of the process (both nodes) and
	// evaluations charged to agency-1 in the new epoch.
	type sample struct {
		end   time.Time
		cpu   float64 // % of one core
		evals int
	}
	var samples []sample
	statsDone := make(chan struct{})
	go func() {
		defer close(statsDone)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		last, lastCPU, lastUsed := time.Now(), cpuTime(), pub.BudgetUsed("agency-1", newEpoch)
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			now, c, u := time.Now(), cpuTime(), pub.BudgetUsed("agency-1", newEpoch)
			s := sample{now, 100 * (c - lastCPU).Seconds() / now.Sub(last).Seconds(), u - lastUsed}
			last, lastCPU, lastUsed = now, c, u
			mu.Lock()
			samples = append(samples, s)
			mu.Unlock()
			if doneAt.Load() != nil {
				return
			}
		}
	}()

	waitUntil("agency-1 taking the new filter", 2*wait, func() bool { return seenAt.Load() != nil })
	seen := *seenAt.Load()
	window := oldNotAfter.Sub(clk.Now()) / 2 // as agency-1 computes it, give or take the sampling
	t.Logf("agency-1 took the new filter %v after the rotation ended; expected spread window %v", seen.Sub(rotEnd).Round(time.Millisecond), window.Round(time.Second))

	// The additions, at five moments of the window.
	for _, at := range []float64{0, .25, .5, .75, .9} {
		time.Sleep(time.Until(seen.Add(time.Duration(at * float64(window)))))
		var es []match.Entry
		var group []*rotationInjection
		for _, in := range injs {
			if in.at == at {
				es = append(es, match.Entry{Indicator: mine[in.i], Label: in.label, Ref: in.label})
				group = append(group, in)
			}
		}
		t0 := time.Now()
		if _, err := pub.Add(ctx, es); err != nil {
			t.Fatal(err)
		}
		took := time.Since(t0)
		mu.Lock()
		for _, in := range group {
			in.added, in.addTook = t0, took
		}
		mu.Unlock()
	}

	waitUntil("the spread", grace+5*time.Minute, func() bool { return doneAt.Load() != nil })
	<-sampled
	<-statsDone
	done := *doneAt.Load()
	// Each added hit by the end of the spread and the next long poll.
	bound := wait + 30*time.Second
	for time.Now().Before(done.Add(bound)) {
		mu.Lock()
		all := true
		for _, in := range injs {
			all = all && len(reported[mine[in.i]]) > 0 && !noticed[newEpoch][in.label].IsZero()
		}
		for k := range held {
			all = all && !noticed[newEpoch][fmt.Sprint("held ", k)].IsZero()
		}
		mu.Unlock()
		if all {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // anything evaluated twice would show now
	cancel()
	st.Wait()

	mu.Lock()
	defer mu.Unlock()
	spreadTook := done.Sub(seen)
	t.Logf("spread: %d evaluations from %v after the rotation began to %v (%v after agency-1 took the new filter); grace %v; expected window %v",
		size, seen.Sub(rotStart).Round(time.Millisecond), done.Sub(rotStart).Round(time.Second), spreadTook.Round(time.Second), grace, window.Round(time.Second))
	if d := done.Sub(rotStart); d > grace {
		t.Errorf("the spread ended %v after the rotation began, above the grace period %v", d.Round(time.Second), grace)
	}
	if dc := *doneClock.Load(); dc.After(oldNotAfter) {
		t.Errorf("the spread ended %v after the old filter's validity", dc.Sub(oldNotAfter).Round(time.Second))
	} else {
		t.Logf("the spread ended %v before the old filter's validity did", oldNotAfter.Sub(dc).Round(time.Second))
	}
	var cpus []float64
	peakEvals, spreadCPU := 0, 0.0
	for _, s := range samples {
		if s.end.Before(seen.Add(time.Second)) || s.end.After(done.Add(time.Second)) {
			continue
		}
		cpus = append(cpus, s.cpu)
		spreadCPU += s.cpu
		peakEvals = max(peakEvals, s.evals)
	}
	if len(cpus) > 0 {
		mean := spreadCPU / float64(len(cpus))
		slices.Sort(cpus)
		t.Logf("CPU of the process (both nodes) per second over the spread, %% of one core, %d cores: peak %.0f%%, p90 %.0f%%, median %.0f%%, mean %.0f%% (%d samples); evaluations per second: peak %d, mean %.0f",
			runtime.NumCPU(), cpus[len(cpus)-1], cpus[len(cpus)*9/10], cpus[len(cpus)/2], mean, len(cpus), peakEvals, float64(size)/spreadTook.Seconds())
	}
	var line []string
	for k := 1; k <= 10; k++ {
		at := seen.Add(spreadTook * time.Duration(k) / 10)
		u := 0
		for _, s := range samples {
			if !s.end.After(at) {
				u += s.evals
			}
		}
		line = append(line, fmt.Sprintf("%d%%:%d", 10*k, u))
	}
	t.Logf("evaluations done at tenths of the spread: %s", strings.Join(line, " "))

	used := pub.BudgetUsed("agency-1", newEpoch)
	t.Logf("evaluations under the new key: %d, budget %d (epoch %d: %d)", used, size+margin, newEpoch-1, pub.BudgetUsed("agency-1", newEpoch-1))
	if used != size {
		t.Errorf("%d evaluations in epoch %d, want %d: none twice", used, newEpoch, size)
	}
	for _, e := range errs {
		t.Logf("OnError: %s", e)
		if strings.Contains(e, CodeBudgetExhausted) || strings.Contains(e, "budget") {
			t.Errorf("budget exceeded: %s", e)
		}
	}
	found := 0
	for _, in := range injs {
		ind := mine[in.i]
		rs := reported[ind]
		due := in.added
		if in.evaluated.After(due) {
			due = in.evaluated
		}
		if len(rs) == 0 {
			t.Errorf("%s (position %d, %.1f%% of the list; added %v into the spread): not reported by %v after the spread ended",
				in.label, in.i, 100*in.pos, in.added.Sub(seen).Round(time.Second), bound)
			continue
		}
		found++
		status := ""
		if rs[0].After(done.Add(bound)) {
			status = " LATE"
			t.Errorf("%s reported %v after the spread ended, above %v", in.label, rs[0].Sub(done).Round(time.Millisecond), bound)
		}
		if len(rs) > 1 {
			t.Errorf("%s reported %d times", in.label, len(rs))
		}
		t.Logf("%s: position %d (%.1f%%), added %v into the spread (Add took %v), evaluated at %v, reported at %v: %v after the addition, %v after it was both added and evaluated; publisher notified: %v%s",
			in.label, in.i, 100*in.pos, in.added.Sub(seen).Round(time.Second), in.addTook.Round(time.Millisecond),
			in.evaluated.Sub(seen).Round(time.Second), rs[0].Sub(seen).Round(time.Millisecond),
			rs[0].Sub(in.added).Round(time.Millisecond), rs[0].Sub(due).Round(time.Millisecond), !noticed[newEpoch][in.label].IsZero(), status)
		if noticed[newEpoch][in.label].IsZero() {
			t.Errorf("%s: agency-0 not notified under epoch %d", in.label, newEpoch)
		}
	}
	again, reconfirmed := 0, 0
	for k, ind := range held {
		if len(reported[ind]) != 1 {
			again++
		}
		if !noticed[newEpoch][fmt.Sprint("held ", k)].IsZero() {
			reconfirmed++
		}
	}
	t.Logf("added hits: %d injected, %d reported; the %d hits listed before the rotation: %d confirmed again under epoch %d, %d reported again (want 0)",
		len(injs), found, overlap, reconfirmed, newEpoch, again)
	if reconfirmed != overlap || again != 0 {
		t.Errorf("hits listed before the rotation: %d of %d confirmed under the new key, %d reported again", reconfirmed, overlap, again)
	}
}
