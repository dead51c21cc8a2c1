package federation

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"
)

// hitsOf counts the hits partner reported about ind.
func (h *hitLog) hitsOf(partner string, ind indicator.Indicator) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, sh := range h.hits {
		if sh.Partner == partner && sh.Hit.Indicator == ind && !sh.Withdrawn {
			n++
		}
	}
	return n
}

// waitLong polls cond for up to a minute (the race detector slows the
// evaluations tenfold).
func waitLong(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// seenEpoch returns the epoch of the last filter n accepted from partner.
func seenEpoch(n *Node, partner string) uint64 {
	sn, _ := n.Matcher.seen.get(partner)
	return sn.epoch
}

// At a partner's rotation the standing match evaluates its indicators
// again under the new key, evenly over half the partner's remaining grace
// period, within the epoch's budget; an indicator the partner adds during
// the spread is found (at once if already evaluated, else when due); a hit
// that stays a hit is not reported again.
func TestStandingRotationSpread(t *testing.T) {
	if raceEnabled {
		// 8,200 evaluations take minutes under the race detector; the
		// standing match's goroutines are raced by TestStandingRestart.
		t.Skip("too slow under the race detector; runs in go test ./...")
	}
	const n = 4100
	mine := append(emails(t, "b", 0, 2), emails(t, "x", 0, n-2)...)
	tn := newTestNet(t, [][]match.Entry{nil, entries(emails(t, "b", 0, 50), "B")}, func(i int, cfg *Config) {
		cfg.RequestTimeout = 10 * time.Second
		cfg.Grace = time.Hour
		for j := range cfg.Partners {
			cfg.Partners[j].Budget = n + 8 // a second evaluation of the list would exceed it
		}
	})
	tn.publishAll()
	a, b := tn.nodes[0], tn.nodes[1]
	log := &hitLog{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := a.Stand(ctx, mine, StandingOptions{OnHit: log.onHit, OnError: log.onError, Wait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	waitLong(t, func() bool { return log.has("agency-1", mine[0], false) && log.has("agency-1", mine[1], false) })
	waitLong(t, func() bool { return b.BudgetUsed("agency-0", 1) == n })

	// A day later agency-1 rotates; the old filter has an hour left.
	tn.clock.Advance(24 * time.Hour)
	if err := b.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitLong(t, func() bool { return seenEpoch(a.Node, "agency-1") == 2 })
	time.Sleep(1500 * time.Millisecond) // a step or two of the standing match
	if u := b.BudgetUsed("agency-0", 2); u != 0 {
		t.Fatalf("%d evaluations at the rotation, want 0: the spread starts empty", u)
	}
	// Added during the spread: x5 is due in the first batch, x4090 in
	// the last.
	early, late := mine[2+5], mine[2+4090]
	if _, err := b.Add(context.Background(), entries([]indicator.Indicator{early, late}, "added")); err != nil {
		t.Fatal(err)
	}
	// A third of the window (30 minutes): a third of the list.
	tn.clock.Advance(10 * time.Minute)
	third := n / 3
	waitLong(t, func() bool { return b.BudgetUsed("agency-0", 2) >= third })
	time.Sleep(1500 * time.Millisecond)
	if u := b.BudgetUsed("agency-0", 2); u < third || u > third+1 {
		t.Fatalf("after a third of the spread %d evaluations, want %d", u, third)
	}
	waitLong(t, func() bool { return log.has("agency-1", early, false) })
	if log.has("agency-1", late, false) {
		t.Fatal("an indicator not yet due was reported")
	}
	// The rest of the window: all of it, once.
	tn.clock.Advance(25 * time.Minute)
	waitLong(t, func() bool { return log.has("agency-1", late, false) })
	if u := b.BudgetUsed("agency-0", 2); u != n {
		t.Fatalf("%d evaluations under the new key, want %d", u, n)
	}
	cancel()
	st.Wait()
	for _, ind := range []indicator.Indicator{mine[0], mine[1], early, late} {
		if c := log.hitsOf("agency-1", ind); c != 1 {
			t.Errorf("%v reported %d times, want once", ind, c)
		}
	}
	if len(log.errs) != 0 {
		t.Errorf("errors: %v", log.errs)
	}
}

// A Node's standing match survives a restart: the outputs it paid for
// are kept, hits already reported are not reported again, and an
// addition by the partner after the restart is found with no evaluation.
func TestStandingRestart(t *testing.T) {
	mine := append(emails(t, "b", 0, 1), emails(t, "x", 0, 300)...)
	tn := newTestNet(t, [][]match.Entry{nil, entries(emails(t, "b", 0, 20), "B")}, func(i int, cfg *Config) {
		cfg.RequestTimeout = 10 * time.Second
	})
	tn.publishAll()
	a, b := tn.nodes[0], tn.nodes[1]
	log := &hitLog{}
	stand := func() (context.CancelFunc, *Standing) {
		ctx, cancel := context.WithCancel(context.Background())
		st, err := a.Stand(ctx, mine, StandingOptions{OnHit: log.onHit, OnError: log.onError, Wait: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return cancel, st
	}
	cancel, st := stand()
	waitLong(t, func() bool { return log.has("agency-1", mine[0], false) })
	cancel()
	st.Wait()
	used := b.BudgetUsed("agency-0", 1)
	if used != len(mine) {
		t.Fatalf("evaluated %d, want %d", used, len(mine))
	}

	tn.restart(0)
	x7 := mine[1+7]
	if _, err := b.Add(context.Background(), entries([]indicator.Indicator{x7}, "added")); err != nil {
		t.Fatal(err)
	}
	cancel, st = stand()
	defer cancel()
	waitLong(t, func() bool { return log.has("agency-1", x7, false) })
	if u := b.BudgetUsed("agency-0", 1); u != used {
		t.Errorf("the restart cost %d evaluations, want 0", u-used)
	}
	cancel()
	st.Wait()
	if c := log.hitsOf("agency-1", mine[0]); c != 1 {
		t.Errorf("the hit before the restart reported %d times, want once", c)
	}
	if len(log.errs) != 0 {
		t.Errorf("errors: %v", log.errs)
	}
}

// The last filter accepted from each partner survives a restart: a
// partner whose state was rolled back (a backup restored) and serves an
// older version of the same line is refused after the querier restarts.
func TestRollbackRefusedAcrossRestart(t *testing.T) {
	tn := newTestNet(t, [][]match.Entry{nil, entries(emails(t, "b", 0, 20), "B")}, nil)
	tn.publishAll()
	a, b := tn.nodes[0], tn.nodes[1]
	// A copy of agency-1's state directory at version 20.
	b.Close()
	backup := t.TempDir()
	copyDir(t, b.cfg.StateDir, backup)
	tn.restart(1)
	b = tn.nodes[1]
	if _, err := b.Add(context.Background(), entries(emails(t, "c", 0, 3), "C")); err != nil {
		t.Fatal(err)
	}
	if r := a.Match(context.Background(), emails(t, "c", 0, 1)); r[0].Err != nil || len(r[0].Hits) != 1 {
		t.Fatalf("before: %+v", r[0])
	}
	tn.restart(0)
	// agency-1 is restored from the backup: version 20 of the same key
	// and line.
	b.Close()
	if err := os.RemoveAll(b.cfg.StateDir); err != nil {
		t.Fatal(err)
	}
	copyDir(t, backup, b.cfg.StateDir)
	tn.restart(1)
	r := a.Match(context.Background(), emails(t, "b", 0, 1))
	if !errors.Is(r[0].Err, ErrFilterRollback) {
		t.Fatalf("a rolled-back partner after a restart: %v, want ErrFilterRollback", r[0].Err)
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o700); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.Name() == lockFile {
			continue
		}
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(to, 0o700); err != nil {
		t.Fatal(err)
	}
}

// partners.state is checked at start like every state file.
func TestPartnersStateCorrupt(t *testing.T) {
	tn := newTestNet(t, [][]match.Entry{nil, entries(emails(t, "b", 0, 5), "B")}, nil)
	tn.publishAll()
	a := tn.nodes[0]
	if r := a.Match(context.Background(), emails(t, "b", 0, 1)); r[0].Err != nil {
		t.Fatal(r[0].Err)
	}
	a.Close()
	path := filepath.Join(a.cfg.StateDir, partnersFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sn, err := loadSeen(readFS(a.cfg.StateDir))
	if err != nil || sn.seen["agency-1"].epoch != 1 || sn.seen["agency-1"].version != 5 {
		t.Fatalf("partners.state: %+v, %v", sn, err)
	}
	for _, cut := range []int{1, 20, len(data) - 1} {
		if err := os.WriteFile(path, data[:len(data)-cut], 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := New(a.cfg); !errors.Is(err, ErrCorruptState) {
			t.Errorf("partners.state cut by %d: %v, want ErrCorruptState", cut, err)
		}
	}
}
