package federation

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedmatch/fedmatch/match"
)

// pendingAdds returns the number of Adds waiting for a tick.
func pendingAdds(n *Node) int {
	n.changes.mu.Lock()
	defer n.changes.mu.Unlock()
	return len(n.changes.pending)
}

// addAsync runs Add in a goroutine; its outcome arrives on the channel.
func addAsync(ctx context.Context, n *Node, es []match.Entry) <-chan changeResult {
	ch := make(chan changeResult, 1)
	go func() {
		added, err := n.Add(ctx, es)
		ch <- changeResult{added, err}
	}()
	return ch
}

// tick advances the shared clock to the publisher's next tick and runs
// its maintenance, which publishes it.
func (tn *testNet) tick(pub *testNode) {
	tn.t.Helper()
	now := tn.clock.Now()
	tn.clock.Advance(nextTick(pub.sched.current.start, now, pub.cfg.ChangeInterval).Sub(now))
	if err := pub.Maintain(context.Background()); err != nil {
		tn.t.Fatal(err)
	}
}

func received(t *testing.T, ch <-chan changeResult) changeResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("Add did not return after its tick")
		return changeResult{}
	}
}

func batching(interval time.Duration, padding int) func(int, *Config) {
	return func(i int, cfg *Config) {
		if i == 0 {
			cfg.ChangeInterval, cfg.ChangePadding = interval, padding
		}
	}
}

// deltaSizes records the length of each signed delta a client gets.
type deltaSizes struct {
	http.RoundTripper
	mu    sync.Mutex
	sizes []int64
}

func (d *deltaSizes) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := d.RoundTripper.RoundTrip(r)
	if err == nil && resp.Header.Get("Content-Type") == MediaTypeDelta {
		d.mu.Lock()
		d.sizes = append(d.sizes, resp.ContentLength)
		d.mu.Unlock()
	}
	return resp, err
}

func (d *deltaSizes) take() []int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.sizes
	d.sizes = nil
	return s
}

// With ChangeInterval and ChangePadding, a partner following the filter
// sees the same at every tick, whether 0, 1 or 3 entries were added (by
// concurrent Adds, which share the tick's version): the version grows by
// exactly ChangePadding and the signed delta has the same length. The
// entries added are hits for the partner's Match and its standing match.
func TestChangePadding(t *testing.T) {
	const padding = 16
	tn := newTestNet(t, [][]match.Entry{entries(emails(t, "x", 0, 50), "L"), nil}, batching(time.Minute, padding))
	tn.publishAll()
	ctx := context.Background()
	pub, querier := tn.nodes[0], tn.nodes[1]
	c := querier.client(partnerOf(querier.Node, pub.cfg.ID))
	ds := &deltaSizes{RoundTripper: c.hc.Transport}
	c.hc.Transport = ds
	q, err := c.refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	version := q.Filter().Version()
	log := &hitLog{}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	mine := emails(t, "y", 0, 4)
	st, err := querier.Stand(sctx, mine, StandingOptions{OnHit: log.onHit, OnError: log.onError, Wait: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Wait()
	defer cancel()
	var sizes []int64 // of every delta fetched, by the Match and the standing match
	added := 0
	for _, k := range []int{0, 1, 3, 0} {
		var chs []<-chan changeResult
		for i := range k {
			chs = append(chs, addAsync(ctx, pub.Node, entries(emails(t, "y", added+i, 1), fmt.Sprint("tick case ", added+i))))
		}
		waitFor(t, func() bool { return pendingAdds(pub.Node) == k })
		tn.tick(pub)
		for _, ch := range chs {
			if r := received(t, ch); r.err != nil || r.added != k {
				t.Fatalf("Add at a tick of %d: %d, %v", k, r.added, r.err)
			}
		}
		added += k
		q, err := c.refresh(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := q.Filter().Version() - version; got != padding {
			t.Fatalf("a tick of %d entries: the partner's version grew by %d, want %d", k, got, padding)
		}
		version = q.Filter().Version()
		r := querier.Match(ctx, mine)[0]
		if r.Err != nil || len(r.Hits) != added {
			t.Fatalf("after %d added: %d hits, %v", added, len(r.Hits), r.Err)
		}
		got := ds.take()
		if len(got) == 0 {
			t.Fatalf("no delta fetched after a tick of %d entries", k)
		}
		sizes = append(sizes, got...)
	}
	for _, s := range sizes {
		if s != sizes[0] || s <= 0 {
			t.Fatalf("signed deltas of %v bytes at ticks of 0, 1, 3 and 0 entries", sizes)
		}
	}
	for _, ind := range mine {
		waitFor(t, func() bool { return log.has(pub.cfg.ID, ind, false) })
	}
	// Each tick's version is audited, counts only.
	var changes []AuditRecord
	for _, rec := range readAudit(t, pub) {
		if rec.Type == AuditChange {
			changes = append(changes, rec)
		}
	}
	if len(changes) != 4 || !strings.Contains(changes[2].Detail, "padded: 3 new indicators, 13 padding") || changes[2].Count != 3 {
		t.Errorf("change records %v", changes)
	}
	for _, rec := range changes {
		if strings.Contains(rec.Detail, "@") {
			t.Errorf("a value in the audit log: %q", rec.Detail)
		}
	}
}

// TestChangePaddingCost measures what padding costs a partner per tick:
// the signed delta it fetches, for the figure in Config.ChangePadding's
// documentation.
func TestChangePaddingCost(t *testing.T) {
	const padding = 16
	tn := newTestNet(t, [][]match.Entry{entries(emails(t, "x", 0, 10), "L"), nil}, batching(time.Minute, padding))
	tn.publishAll()
	ctx := context.Background()
	pub, querier := tn.nodes[0], tn.nodes[1]
	c := querier.client(partnerOf(querier.Node, pub.cfg.ID))
	ct := &countingTransport{RoundTripper: c.hc.Transport}
	c.hc.Transport = ct
	if _, err := c.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	before := ct.filterBytes.Load()
	tn.tick(pub)
	if _, err := c.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	got := ct.filterBytes.Load() - before
	// The envelope (5.2) around a delta of 57 + 16·padding bytes (2.8).
	want := int64(6+1+len(pub.cfg.ID)+8+16+4+64) + 57 + 16*padding
	if got != want {
		t.Errorf("a tick of padding %d cost %d bytes, want %d", padding, got, want)
	}
	t.Logf("a tick of padding %d: signed delta of %d bytes (node ID of %d bytes); filter of %d bytes with room for %d padding",
		padding, got, len(pub.cfg.ID), pub.Filter().Size(), pub.Node.cfg.epochPadding())
}

// Add waits for its tick, at the epoch's start + k·interval whenever it
// was called; an Add whose context ends before is withdrawn; an entry the
// publisher would refuse alone is refused at once; a removal is applied
// at once.
func TestChangeInterval(t *testing.T) {
	tn := newTestNet(t, [][]match.Entry{entries(emails(t, "x", 0, 10), "L"), nil}, batching(time.Minute, 0))
	tn.publishAll()
	ctx := context.Background()
	pub := tn.nodes[0]
	v0 := pub.Filter().Version()
	tn.clock.Advance(40 * time.Second)
	ch := addAsync(ctx, pub.Node, entries(emails(t, "y", 0, 2), "Y"))
	waitFor(t, func() bool { return pendingAdds(pub.Node) == 1 })
	tn.clock.Advance(15 * time.Second) // 55 s into the epoch: no tick yet
	if err := pub.Maintain(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-ch:
		t.Fatalf("Add returned before its tick: %v", r)
	case <-time.After(100 * time.Millisecond):
	}
	if pub.Filter().Version() != v0 {
		t.Fatal("a version published before the tick")
	}
	tn.clock.Advance(5 * time.Second) // the first tick, 60 s after the epoch's start
	if err := pub.Maintain(ctx); err != nil {
		t.Fatal(err)
	}
	if r := received(t, ch); r.err != nil || r.added != 2 || pub.Filter().Version() != v0+2 {
		t.Fatalf("at the tick: %v, version %d", r, pub.Filter().Version())
	}
	// Without padding, a tick with nothing queued publishes nothing.
	tn.tick(pub)
	if pub.Filter().Version() != v0+2 {
		t.Errorf("an empty tick published version %d", pub.Filter().Version())
	}
	// Cancelled before its tick: withdrawn, never published.
	cctx, cancel := context.WithCancel(ctx)
	ch = addAsync(cctx, pub.Node, entries(emails(t, "z", 0, 1), "Z"))
	waitFor(t, func() bool { return pendingAdds(pub.Node) == 1 })
	cancel()
	if r := received(t, ch); !errors.Is(r.err, context.Canceled) || pendingAdds(pub.Node) != 0 {
		t.Fatalf("a cancelled Add: %v, %d pending", r, pendingAdds(pub.Node))
	}
	// An entry the publisher would refuse is refused at once.
	if _, err := pub.Add(ctx, []match.Entry{{Indicator: emails(t, "z", 1, 1)[0], Label: "a\nb"}}); err == nil || pendingAdds(pub.Node) != 0 {
		t.Errorf("a bad label queued: %v", err)
	}
	if n, err := pub.Add(ctx, nil); n != 0 || err != nil {
		t.Errorf("Add(nil) = %d, %v", n, err)
	}
	// A removal does not wait.
	done := make(chan error, 1)
	go func() { done <- pub.Remove(ctx, 10) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Remove waited for a tick")
	}
	if r := tn.nodes[1].Match(ctx, emails(t, "y", 0, 2))[0]; r.Err != nil || len(r.Hits) != 1 || len(r.Withdrawn) != 1 {
		t.Errorf("after removing y0: %d hits, %d withdrawn, %v", len(r.Hits), len(r.Withdrawn), r.Err)
	}
	// An entry of an indicator held makes no version, and is written all
	// the same. Regression: a tick that made no version wrote nothing, and
	// a restart lost the entry.
	v := pub.Filter().Version()
	ch = addAsync(ctx, pub.Node, entries(emails(t, "x", 1, 1), "x1 again"))
	waitFor(t, func() bool { return pendingAdds(pub.Node) == 1 })
	tn.tick(pub)
	if r := received(t, ch); r.err != nil || r.added != 0 || pub.Filter().Version() != v {
		t.Fatalf("an indicator held: %v, version %d", r, pub.Filter().Version())
	}
	tn.restart(0)
	r := tn.nodes[1].Match(ctx, emails(t, "x", 1, 1))[0]
	if r.Err != nil || len(r.Hits) != 1 || hitSet(r.Hits)["email:x1@example.org"] != "L 1; x1 again 0" {
		t.Errorf("after a restart: hits %v, %v", hitSet(r.Hits), r.Err)
	}
}

// More new indicators than ChangePadding at a tick are published in
// versions of ChangePadding each, all at the tick; an Add the publisher
// refuses fails alone, the others of its tick are published.
func TestChangePaddingSplit(t *testing.T) {
	const padding = 4
	tn := newTestNet(t, [][]match.Entry{entries(emails(t, "x", 0, 10), "L"), nil}, batching(time.Minute, padding))
	tn.publishAll()
	ctx := context.Background()
	pub, querier := tn.nodes[0], tn.nodes[1]
	v0 := pub.Filter().Version()
	ch := addAsync(ctx, pub.Node, entries(emails(t, "y", 0, 10), "Y"))
	waitFor(t, func() bool { return pendingAdds(pub.Node) == 1 })
	tn.tick(pub)
	if r := received(t, ch); r.err != nil || r.added != 10 || pub.Filter().Version() != v0+12 {
		t.Fatalf("10 entries at a tick of padding 4: %v, version %d after %d", r, pub.Filter().Version(), v0)
	}
	var details []string
	for _, rec := range readAudit(t, pub) {
		if rec.Type == AuditChange {
			details = append(details, rec.Detail)
		}
	}
	if len(details) != 3 || !strings.Contains(details[2], "padded: 2 new indicators, 2 padding") || !strings.HasPrefix(details[0], fmt.Sprintf("version %d after %d", v0+4, v0)) {
		t.Errorf("audit of a split tick: %q", details)
	}
	// A partner holding the version before gets the three as one delta.
	if r := querier.Match(ctx, emails(t, "y", 0, 10))[0]; r.Err != nil || len(r.Hits) != 10 {
		t.Fatalf("%d hits, %v", len(r.Hits), r.Err)
	}
	// y0's entry removed: adding y0 again is refused (withdrawn in the
	// epoch), and fails only its own Add.
	if err := pub.Remove(ctx, 10); err != nil {
		t.Fatal(err)
	}
	v1 := pub.Filter().Version()
	bad := addAsync(ctx, pub.Node, entries(emails(t, "y", 0, 1), "again"))
	good := addAsync(ctx, pub.Node, entries(emails(t, "y", 10, 1), "Y"))
	waitFor(t, func() bool { return pendingAdds(pub.Node) == 2 })
	tn.tick(pub)
	if r := received(t, bad); !errors.Is(r.err, match.ErrWithdrawn) {
		t.Errorf("re-adding a withdrawn indicator: %v", r)
	}
	if r := received(t, good); r.err != nil || r.added != 1 || pub.Filter().Version() != v1+padding {
		t.Errorf("the other Add of the tick: %v, version %d after %d", r, pub.Filter().Version(), v1)
	}
}

// The filter keeps room for the padding of every tick of the epoch beyond
// the headroom; entries get no room the later ticks' padding needs; a
// restart mid-epoch publishes no tick twice.
func TestChangePaddingCapacity(t *testing.T) {
	const padding = 8
	tn := newTestNet(t, [][]match.Entry{entries(emails(t, "x", 0, 20), "L"), nil}, func(i int, cfg *Config) {
		cfg.ChangeInterval, cfg.ChangePadding, cfg.EpochLength = time.Hour, padding, 24*time.Hour
		cfg.Headroom = -1 // none: only the padding's room
	})
	tn.publishAll()
	ctx := context.Background()
	pub := tn.nodes[0]
	if got, want := pub.current.pub.Capacity(), 20+24*padding; got != want {
		t.Fatalf("capacity %d, want %d (20 indicators, 24 ticks of %d)", got, want, padding)
	}
	// Up to the padding of a tick: the tick's own room.
	ch := addAsync(ctx, pub.Node, entries(emails(t, "y", 0, padding), "Y"))
	waitFor(t, func() bool { return pendingAdds(pub.Node) == 1 })
	tn.tick(pub)
	if r := received(t, ch); r.err != nil || pub.Filter().Version() != 20+padding {
		t.Fatalf("%d entries at a tick: %v, version %d", padding, r, pub.Filter().Version())
	}
	// More would take the padding of later ticks: refused, and the tick
	// still publishes its padding.
	ch = addAsync(ctx, pub.Node, entries(emails(t, "z", 0, padding+1), "Z"))
	waitFor(t, func() bool { return pendingAdds(pub.Node) == 1 })
	tn.tick(pub)
	if r := received(t, ch); !errors.Is(r.err, match.ErrCapacity) || pub.Filter().Version() != 20+2*padding {
		t.Fatalf("%d entries at a tick: %v, version %d", padding+1, r, pub.Filter().Version())
	}
	// Every tick to the rotation fits.
	for range 21 {
		tn.tick(pub)
	}
	if v := pub.Filter().Version(); v != 20+23*padding || pub.Epoch() != 1 {
		t.Fatalf("after 23 ticks: version %d, epoch %d", v, pub.Epoch())
	}
	// A restart at a tick already published publishes nothing more.
	tn.restart(0)
	if err := pub.Maintain(ctx); err != nil || pub.Filter().Version() != 20+23*padding {
		t.Fatalf("after a restart: version %d, %v", pub.Filter().Version(), err)
	}
	// The rotation: a new filter with the same room, ticks from its start.
	tn.tick(pub)
	if pub.Epoch() != 2 || pub.Filter().Version() != 20 || pub.current.pub.Capacity() != 20+24*padding {
		t.Fatalf("after the rotation: epoch %d, version %d", pub.Epoch(), pub.Filter().Version())
	}
	tn.tick(pub)
	if pub.Filter().Version() != 20+padding {
		t.Errorf("the new epoch's first tick: version %d", pub.Filter().Version())
	}
}

// Close fails the Adds waiting for a tick, at once, and any later one.
func TestChangeClose(t *testing.T) {
	tn := newTestNet(t, [][]match.Entry{entries(emails(t, "x", 0, 10), "L")}, batching(time.Minute, 4))
	tn.publishAll()
	pub := tn.nodes[0]
	ch := addAsync(context.Background(), pub.Node, entries(emails(t, "y", 0, 1), "Y"))
	waitFor(t, func() bool { return pendingAdds(pub.Node) == 1 })
	pub.Node.Close()
	if r := received(t, ch); !errors.Is(r.err, errClosed) {
		t.Errorf("a waiting Add at Close: %v", r)
	}
	if _, err := pub.Add(context.Background(), entries(emails(t, "y", 1, 1), "Y")); !errors.Is(err, errClosed) {
		t.Errorf("an Add after Close: %v", err)
	}
}

// Node.Run publishes the ticks, on the real clock.
func TestChangeRun(t *testing.T) {
	tn := newTestNet(t, [][]match.Entry{entries(emails(t, "x", 0, 10), "L")}, func(i int, cfg *Config) {
		cfg.ChangeInterval, cfg.ChangePadding, cfg.EpochLength = time.Second, 4, time.Hour
		cfg.Now = nil // the real clock
	})
	pub := tn.nodes[0]
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- pub.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	waitFor(t, func() bool { return pub.Filter() != nil })
	start := time.Now()
	added, err := pub.Add(ctx, entries(emails(t, "y", 0, 1), "Y"))
	if err != nil || added != 1 || pub.Filter().Version()%4 != 10%4 {
		t.Fatalf("Add under Run: %d, %v, version %d", added, err, pub.Filter().Version())
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Add under Run took %v with ticks every second", d)
	}
}

// Configurations that cannot work are refused by New, with a reason.
func TestChangeConfigRefused(t *testing.T) {
	for _, c := range []struct {
		interval, epoch time.Duration
		padding         int
		fpr             float64
		want            string
	}{
		{0, 0, 16, 0, "ChangePadding needs ChangeInterval"},
		{-time.Second, 0, 0, 0, "negative"},
		{time.Minute, 0, -1, 0, "negative"},
		{time.Millisecond, 0, 0, 0, "below a second"},
		{13 * time.Hour, 0, 0, 0, "above half of EpochLength"},
		{time.Minute, 0, match.MaxDeltaLen + 1, 0, "largest delta"},
		{time.Second, 10000 * time.Hour, 200000, 0, "above 4294967295"},
		{time.Second, 1000 * time.Hour, 250, 0, "bits"},
	} {
		_, id, _ := ed25519.GenerateKey(rand.Reader)
		cfg := &Config{ID: "a", Identity: id, StateDir: t.TempDir(),
			ChangeInterval: c.interval, ChangePadding: c.padding, EpochLength: c.epoch, FalsePositiveRate: c.fpr}
		if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("interval %v, padding %d, epoch %v: %v, want %q", c.interval, c.padding, c.epoch, err, c.want)
		}
	}
}

// The tick arithmetic, without a clock.
func TestTicks(t *testing.T) {
	start := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		at   time.Duration
		tick uint64
		next time.Duration
	}{
		{-time.Second, 0, time.Minute},
		{0, 0, time.Minute},
		{59 * time.Second, 0, time.Minute},
		{time.Minute, 1, 2 * time.Minute},
		{150 * time.Second, 2, 3 * time.Minute},
	} {
		now := start.Add(c.at)
		if k := tickIndex(start, now, time.Minute); k != c.tick {
			t.Errorf("tick at %v: %d, want %d", c.at, k, c.tick)
		}
		if c.at >= 0 {
			if n := nextTick(start, now, time.Minute); !n.Equal(start.Add(c.next)) {
				t.Errorf("next tick at %v: %v, want +%v", c.at, n, c.next)
			}
		}
	}
	if !nextTick(start, start, 0).IsZero() || !nextTick(time.Time{}, start, time.Minute).IsZero() {
		t.Error("a tick without an interval or an epoch")
	}
	if ticksPerEpoch(24*time.Hour, time.Hour) != 24 || ticksPerEpoch(25*time.Minute, 10*time.Minute) != 3 {
		t.Error("ticks per epoch")
	}
	a, b := start, start.Add(time.Second)
	if !earliest(a, b).Equal(a) || !earliest(b, a).Equal(a) || !earliest(time.Time{}, b).Equal(b) || !earliest(a, time.Time{}).Equal(a) {
		t.Error("earliest")
	}
}
