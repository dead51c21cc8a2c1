package federation

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"
)

// hitLog collects standing hits.
type hitLog struct {
	mu   sync.Mutex
	hits []StandingHit
	errs []string
}

func (h *hitLog) onHit(sh StandingHit) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hits = append(h.hits, sh)
}

func (h *hitLog) onError(partner string, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.errs = append(h.errs, partner+": "+err.Error())
}

// has reports whether partner reported ind (withdrawn as asked).
func (h *hitLog) has(partner string, ind indicator.Indicator, withdrawn bool) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, sh := range h.hits {
		if sh.Partner == partner && sh.Hit.Indicator == ind && sh.Withdrawn == withdrawn {
			return true
		}
	}
	return false
}

func (h *hitLog) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.hits)
}

// Three nodes. agency-0 keeps its indicators matched against agency-1 and
// agency-2: an indicator a partner adds becomes a hit at agency-0 and a
// hit notice at the partner, with no evaluation of agency-0's other
// indicators; an indicator agency-0 adds is evaluated alone; every hit is
// reported once.
func TestStanding(t *testing.T) {
	var mu sync.Mutex
	var notices []HitNotice
	tn := newTestNet(t, [][]match.Entry{nil, entries(emails(t, "b", 0, 100), "B"), entries(emails(t, "c", 0, 100), "C")},
		func(i int, cfg *Config) {
			cfg.RequestTimeout = 10 * time.Second
			cfg.OnHit = func(n HitNotice) {
				mu.Lock()
				defer mu.Unlock()
				notices = append(notices, n)
			}
		})
	tn.publishAll()
	a, b, c := tn.nodes[0], tn.nodes[1], tn.nodes[2]
	mine := append(emails(t, "b", 0, 2), emails(t, "new", 0, 50)...) // b0, b1 held by agency-1
	log := &hitLog{}
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel() }()
	st, err := a.Stand(ctx, mine, StandingOptions{OnHit: log.onHit, OnError: log.onError, Wait: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	b0 := emails(t, "b", 0, 1)[0]
	waitFor(t, func() bool { return log.has("agency-1", b0, false) })
	usedB := b.BudgetUsed("agency-0", b.Epoch())
	if usedB != 52 {
		t.Errorf("agency-1 evaluated %d of agency-0's indicators, want 52", usedB)
	}

	// agency-1 adds new0, which agency-0 holds: a hit at both, within a
	// long poll, and no evaluation.
	new0 := emails(t, "new", 0, 1)[0]
	if _, err := b.Add(context.Background(), entries([]indicator.Indicator{new0}, "added")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return log.has("agency-1", new0, false) })
	waitFor(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, n := range notices {
			if n.Partner == "agency-0" && len(n.Entries) == 1 && n.Entries[0].Label == "added 0" {
				return true
			}
		}
		return false
	})
	if u := b.BudgetUsed("agency-0", b.Epoch()); u != usedB {
		t.Errorf("agency-1's addition cost %d evaluations, want 0", u-usedB)
	}

	// agency-0 adds c7, which agency-2 holds: evaluated alone.
	usedC := c.BudgetUsed("agency-0", c.Epoch())
	c7 := emails(t, "c", 7, 1)[0]
	st.Add(c7, c7) // once
	waitFor(t, func() bool { return log.has("agency-2", c7, false) })
	if u := c.BudgetUsed("agency-0", c.Epoch()); u != usedC+1 {
		t.Errorf("agency-0's addition cost agency-2 %d evaluations, want 1", u-usedC)
	}

	// agency-2 adds new1, which agency-0 holds.
	new1 := emails(t, "new", 1, 1)[0]
	if _, err := c.Add(context.Background(), entries([]indicator.Indicator{new1}, "C")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return log.has("agency-2", new1, false) })
	n := log.count()
	cancel()
	st.Wait()
	if log.count() != n {
		t.Error("hits reported after the standing match stopped")
	}
	// Each hit once: b0, b1, new0 from agency-1; c7, new1 from agency-2.
	if n != 5 {
		t.Errorf("%d hits reported, want 5: %+v", n, log.hits)
	}
	if len(log.errs) != 0 {
		t.Errorf("errors: %v", log.errs)
	}
}

func TestStandingOptions(t *testing.T) {
	tn := newTestNet(t, [][]match.Entry{nil, nil}, nil)
	ctx := context.Background()
	if _, err := tn.nodes[0].Stand(ctx, nil, StandingOptions{}); err == nil {
		t.Error("no OnHit accepted")
	}
	if _, err := tn.nodes[0].Stand(ctx, nil, StandingOptions{OnHit: func(StandingHit) {}, Wait: 5 * time.Minute}); err == nil {
		t.Error("a wait of 5 minutes accepted")
	}
}

// A partner that publishes afresh under the same key (a lower version)
// is followed: its new entries are found, with no new evaluation.
func TestStandingRepublish(t *testing.T) {
	tn := newTestNet(t, [][]match.Entry{nil, entries(emails(t, "b", 0, 20), "B")}, func(i int, cfg *Config) {
		cfg.RequestTimeout = 10 * time.Second
	})
	tn.publishAll()
	a, b := tn.nodes[0], tn.nodes[1]
	mine := append(emails(t, "b", 0, 1), emails(t, "n", 0, 5)...)
	log := &hitLog{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := a.Stand(ctx, mine, StandingOptions{OnHit: log.onHit, OnError: log.onError, Wait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return log.has("agency-1", mine[0], false) })
	used := b.BudgetUsed("agency-0", b.Epoch())
	b.list = entries(emails(t, "n", 0, 2), "N") // 2 entries, both held by agency-0
	if err := b.Publish(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return log.has("agency-1", mine[1], false) && log.has("agency-1", mine[2], false) })
	if u := b.BudgetUsed("agency-0", b.Epoch()); u != used {
		t.Errorf("the republication cost %d evaluations", u-used)
	}
	cancel()
	st.Wait()
}
