package federation

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"

	"golang.org/x/crypto/cryptobyte"
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
	stand := func() (context.CancelFunc, *Standing) { return standWith(t, a, mine, log) }
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

// A partner that lost its state numbers its epochs from 1 again: its
// fresh filter, under a new key and valid only from after the last one
// accepted, is taken (across the querier's restart too), while a copy of
// an older filter restored from a backup is still a rollback. Regression:
// the fresh start was refused until its epochs passed the old ones.
func TestPartnerRenumbered(t *testing.T) {
	ctx := context.Background()
	tn := newTestNet(t, [][]match.Entry{nil, entries(emails(t, "b", 0, 5), "B")}, nil)
	tn.publishAll()
	a, b := tn.nodes[0], tn.nodes[1]
	b.Close()
	backup := t.TempDir() // agency-1 at epoch 1
	copyDir(t, b.cfg.StateDir, backup)
	tn.restart(1)
	b = tn.nodes[1]
	tn.clock.Advance(time.Hour)
	if err := b.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	if r := a.Match(ctx, emails(t, "b", 0, 1))[0]; r.Err != nil || r.Epoch != 2 || len(r.Hits) != 1 {
		t.Fatalf("epoch 2: %+v", r)
	}
	tn.restart(0)

	// Restored from the backup: epoch 1, valid from before epoch 2.
	b.Close()
	if err := os.RemoveAll(b.cfg.StateDir); err != nil {
		t.Fatal(err)
	}
	copyDir(t, backup, b.cfg.StateDir)
	tn.restart(1)
	if r := a.Match(ctx, emails(t, "b", 0, 1))[0]; !errors.Is(r.Err, ErrFilterRollback) {
		t.Fatalf("epoch 1 from a backup: %v, want ErrFilterRollback", r.Err)
	}

	// Started again without state: epoch 1, under a new key, valid from
	// now.
	b.Close()
	if err := os.RemoveAll(b.cfg.StateDir); err != nil {
		t.Fatal(err)
	}
	tn.clock.Advance(time.Minute)
	tn.restart(1)
	if err := b.Publish(ctx); err != nil || b.Epoch() != 1 {
		t.Fatalf("fresh start: epoch %d, %v", b.Epoch(), err)
	}
	if r := a.Match(ctx, emails(t, "b", 1, 1))[0]; r.Err != nil || r.Epoch != 1 || len(r.Hits) != 1 {
		t.Fatalf("after the partner's fresh start: %+v", r)
	}
	tn.restart(0)
	if r := a.Match(ctx, emails(t, "b", 2, 1))[0]; r.Err != nil || r.Epoch != 1 || len(r.Hits) != 1 {
		t.Fatalf("after the querier's restart: %+v", r)
	}
	// The old backup is older still.
	b.Close()
	if err := os.RemoveAll(b.cfg.StateDir); err != nil {
		t.Fatal(err)
	}
	copyDir(t, backup, b.cfg.StateDir)
	tn.restart(1)
	if r := a.Match(ctx, emails(t, "b", 0, 1))[0]; !errors.Is(r.Err, ErrFilterRollback) {
		t.Fatalf("epoch 1 of the backup after the fresh start: %v, want ErrFilterRollback", r.Err)
	}
}

// partners.state of an earlier release (type 7: no notBefore) still
// loads; without a notBefore, a lower epoch stays a rollback.
func TestPartnersStateEarlierRelease(t *testing.T) {
	var out cryptobyte.Builder
	out.AddUint16(1)
	out.AddUint8LengthPrefixed(func(c *cryptobyte.Builder) { c.AddBytes([]byte("agency-1")) })
	out.AddUint64(3)
	out.AddBytes(make([]byte, match.KeyIDSize))
	out.AddUint8LengthPrefixed(func(c *cryptobyte.Builder) { c.AddBytes([]byte("ab")) })
	out.AddUint64(7)
	dir := t.TempDir()
	st, err := openFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	if err := writeState(st, partnersFile, statePartners, out.BytesOrPanic()); err != nil {
		t.Fatal(err)
	}
	b, err := loadSeen(st)
	if err != nil {
		t.Fatal(err)
	}
	want := seen{epoch: 3, gen: "ab", version: 7}
	if got := b.seen["agency-1"]; got != want {
		t.Fatalf("loaded %+v, want %+v", got, want)
	}
	tn := newTestNet(t, [][]match.Entry{nil, entries(emails(t, "b", 0, 5), "B")}, nil)
	tn.publishAll()
	if want.rollback(tn.nodes[1].Filter(), "") == nil { // epoch 1, another key, valid from later
		t.Error("a lower epoch taken without a known notBefore")
	}
}

// A partner blocked for misbehaving in an epoch stays blocked for every
// filter of an epoch not above it, unless the filter is valid only from
// after the block ends: a fresh start does not lift a block early, nor
// keep it for ever.
func TestBlockedEpochRenumbered(t *testing.T) {
	tn := newTestNet(t, [][]match.Entry{nil, entries(emails(t, "b", 0, 5), "B")}, nil)
	tn.publishAll()
	f := tn.nodes[1].Filter() // epoch 1
	c := tn.nodes[0].client(partnerOf(tn.nodes[0].Node, "agency-1"))
	c.blocked = &block{epoch: 4, until: f.NotBefore(), err: errors.New("misbehaved")}
	if err := c.blockedEpoch(f); !errors.Is(err, ErrPartnerBlocked) {
		t.Errorf("epoch 1 valid from the block's end: %v, want ErrPartnerBlocked", err)
	}
	c.blocked.until = f.NotBefore().Add(-time.Second)
	if err := c.blockedEpoch(f); err != nil {
		t.Errorf("epoch 1 valid from after the block's end: %v", err)
	}
	c.blocked = &block{epoch: 0, until: f.NotAfter()}
	if err := c.blockedEpoch(f); err != nil {
		t.Errorf("a later epoch: %v", err)
	}
}

// A restart in the middle of a partner's rotation spread goes on
// spreading what is left over what is left of the window, and remembers
// which hits it reported: a hit that stays a hit under the new key is not
// reported again though it is evaluated only after the restart.
// Regression: after a restart the rest was evaluated at once, and the
// hits reported before were reported again.
func TestStandingRestartMidSpread(t *testing.T) {
	if raceEnabled {
		t.Skip("too slow under the race detector; runs in go test ./...")
	}
	const n = 4100
	mine := append(emails(t, "x", 0, n-2), emails(t, "b", 0, 2)...) // the hits are due last
	tn := newTestNet(t, [][]match.Entry{nil, entries(emails(t, "b", 0, 50), "B")}, func(i int, cfg *Config) {
		cfg.RequestTimeout = 10 * time.Second
		cfg.Grace = time.Hour
		for j := range cfg.Partners {
			cfg.Partners[j].Budget = n + 8
		}
	})
	tn.publishAll()
	a, b := tn.nodes[0], tn.nodes[1]
	log := &hitLog{}
	stand := func() (context.CancelFunc, *Standing) { return standWith(t, a, mine, log) }
	cancel, st := stand()
	defer func() { cancel() }()
	hit := mine[n-1]
	waitLong(t, func() bool { return log.has("agency-1", hit, false) })
	waitLong(t, func() bool { return b.BudgetUsed("agency-0", 1) == n })

	tn.clock.Advance(24 * time.Hour)
	if err := b.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The window is 30 minutes; after 10 a third is evaluated.
	waitLong(t, func() bool { return seenEpoch(a.Node, "agency-1") == 2 })
	tn.clock.Advance(10 * time.Minute)
	third := n / 3
	// Until the querier has kept, on disk, every output it paid for: one
	// in flight at the stop would be paid again (Standing's doc).
	waitLong(t, func() bool {
		u := b.BudgetUsed("agency-0", 2)
		return u >= third && keptOnDisk(t, a.Node, "agency-1") == u
	})
	cancel()
	st.Wait()
	done := b.BudgetUsed("agency-0", 2)
	if done < third || done > third+1 {
		t.Fatalf("%d evaluated before the restart, want %d", done, third)
	}

	if len(log.errs) != 0 {
		t.Fatalf("errors before the restart: %v", log.errs)
	}
	tn.restart(0)
	a = tn.nodes[0]
	cancel, st = stand()
	time.Sleep(1500 * time.Millisecond) // a step or two
	if u := b.BudgetUsed("agency-0", 2); u != done {
		t.Fatalf("the restart evaluated %d at once, want 0", u-done)
	}
	// Half of the 20 minutes left: half of the rest.
	tn.clock.Advance(10 * time.Minute)
	half := done + (n-done)/2
	waitLong(t, func() bool { return b.BudgetUsed("agency-0", 2) >= half })
	time.Sleep(1500 * time.Millisecond)
	if u := b.BudgetUsed("agency-0", 2); u < half || u > half+1 {
		t.Fatalf("half way through the rest of the spread %d evaluations, want %d", u, half)
	}
	tn.clock.Advance(11 * time.Minute)
	waitLong(t, func() bool { return b.BudgetUsed("agency-0", 2) == n })
	time.Sleep(1500 * time.Millisecond) // the last confirmation
	cancel()
	st.Wait()
	for _, ind := range mine[n-2:] {
		if c := log.hitsOf("agency-1", ind); c != 1 {
			t.Errorf("%v reported %d times, want once", ind, c)
		}
	}
	if len(log.errs) != 0 {
		t.Errorf("errors: %v", log.errs)
	}
}

// The standing state's encoding round-trips, and every cut of it is an
// error, not a panic.
func TestStandingStateEncoding(t *testing.T) {
	tn := newTestNet(t, [][]match.Entry{nil, entries(emails(t, "b", 0, 5), "B")}, nil)
	tn.publishAll()
	q, err := tn.nodes[0].client(partnerOf(tn.nodes[0].Node, "agency-1")).refresh(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ss := standingState{gen: "0a1b", spreadEnd: time.Unix(0, 1_790_000_000_123_456_789), w: match.NewWatch(q),
		reported: map[indicator.Indicator]uint64{emails(t, "b", 0, 1)[0]: 3, indicator.MustNew(indicator.IPv4, "192.0.2.1"): 4}}
	payload, err := encodeStanding(ss)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeStanding(payload, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.gen != ss.gen || !got.spreadEnd.Equal(ss.spreadEnd) || !maps.Equal(got.reported, ss.reported) || got.w.Filter().KeyID() != q.Filter().KeyID() {
		t.Fatalf("decoded %+v, want %+v", got, ss)
	}
	for cut := range len(payload) {
		if _, err := decodeStanding(payload[:cut], true, nil); err == nil {
			t.Fatalf("cut at %d of %d: no error", cut, len(payload))
		}
	}
	// A file of an earlier release: the line and the watch only.
	wb, err := ss.w.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	old, err := decodeStanding(append([]byte{4, '0', 'a', '1', 'b'}, wb...), false, nil)
	if err != nil || old.gen != ss.gen || old.reported != nil || !old.spreadEnd.IsZero() || old.w.Filter().KeyID() != q.Filter().KeyID() {
		t.Fatalf("a standing state of an earlier release: %+v, %v", old, err)
	}
	// A count beyond the bytes is refused before allocating.
	big := bytes.Clone(payload)
	binary.BigEndian.PutUint32(big[1+len(ss.gen)+8:], 1<<31)
	if _, err := decodeStanding(big, true, nil); !errors.Is(err, ErrCorruptState) {
		t.Errorf("count 2^31: %v, want ErrCorruptState", err)
	}
}

func FuzzStandingState(f *testing.F) {
	tn := newTestNet(f, [][]match.Entry{nil, entries(emails(f, "b", 0, 3), "B")}, nil)
	tn.publishAll()
	q, err := tn.nodes[0].client(partnerOf(tn.nodes[0].Node, "agency-1")).refresh(context.Background())
	if err != nil {
		f.Fatal(err)
	}
	payload, err := encodeStanding(standingState{gen: "ab", w: match.NewWatch(q),
		reported: map[indicator.Indicator]uint64{emails(f, "b", 0, 1)[0]: 1}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(payload)
	f.Fuzz(func(t *testing.T, data []byte) {
		ss, err := decodeStanding(data, true, nil)
		if err != nil {
			return
		}
		again, err := encodeStanding(ss)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := decodeStanding(again, true, nil); err != nil {
			t.Fatalf("re-encoded state does not decode: %v", err)
		}
	})
}

// keptOnDisk returns the number of outputs n's standing state for
// partner holds on disk, 0 if it has none.
func keptOnDisk(t *testing.T, n *Node, partner string) int {
	t.Helper()
	payload, err := readState(readFS(n.cfg.StateDir), standingPrefix+partner, stateStandingMarks)
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	ss, err := decodeStanding(payload, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ss.w.Len()
}

// standWith starts a standing match of inds at node n, reporting to log,
// with long polls of a second.
func standWith(t *testing.T, n *testNode, inds []indicator.Indicator, log *hitLog) (context.CancelFunc, *Standing) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st, err := n.Stand(ctx, inds, StandingOptions{OnHit: log.onHit, OnError: log.onError, Wait: time.Second})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	return cancel, st
}
