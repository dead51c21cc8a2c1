package federation

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"
)

// failingWrites fails every write of a state file, and every append to
// one, while fail is set.
type failingWrites struct {
	store
	fail atomic.Bool
}

func (f *failingWrites) write(name string, data []byte) error {
	if f.fail.Load() {
		return errors.New("injected write failure")
	}
	return f.store.write(name, data)
}

func (f *failingWrites) appendFile(name string, data []byte) error {
	if f.fail.Load() {
		return errors.New("injected append failure")
	}
	return f.store.appendFile(name, data)
}

// An entry added to a running node is a hit for a partner's next Match,
// with no publication; a removed one is answered "withdrawn"; both
// survive a restart and are audited; a failed write changes nothing that
// is served.
func TestNodeAddRemove(t *testing.T) {
	list := entries(emails(t, "x", 0, 10), "L")
	tn := newTestNet(t, [][]match.Entry{list, nil}, nil)
	tn.publishAll()
	ctx := context.Background()
	pub, querier := tn.nodes[0], tn.nodes[1]
	mine := append(emails(t, "x", 8, 2), emails(t, "y", 0, 3)...) // x8, x9 listed; y0..y2 not yet
	if r := querier.Match(ctx, mine)[0]; r.Err != nil || len(r.Hits) != 2 {
		t.Fatalf("before: %d hits, %v", len(r.Hits), r.Err)
	}
	v0 := pub.Filter().Version()
	added, err := pub.Add(ctx, entries(emails(t, "y", 0, 2), "new case"))
	if err != nil || added != 2 || pub.Filter().Version() != v0+2 {
		t.Fatalf("Add: %d, %v, version %d", added, err, pub.Filter().Version())
	}
	r := querier.Match(ctx, mine)[0]
	if r.Err != nil || len(r.Hits) != 4 || hitSet(r.Hits)["email:y0@example.org"] != "new case 0" {
		t.Fatalf("after Add: hits %v, %v", hitSet(r.Hits), r.Err)
	}
	var changes []AuditRecord
	for _, rec := range readAudit(t, pub) {
		if rec.Type == AuditChange {
			changes = append(changes, rec)
		}
	}
	if len(changes) != 1 || changes[0].Count != 2 || !strings.Contains(changes[0].Detail, "version 12 after 10") || strings.Contains(changes[0].Detail, "y0") {
		t.Errorf("change records %v", changes)
	}

	// Remove y0 (entry 10): withdrawn, no longer a hit.
	if err := pub.Remove(ctx, 10); err != nil {
		t.Fatal(err)
	}
	r = querier.Match(ctx, mine)[0]
	if r.Err != nil || len(r.Hits) != 3 || len(r.Withdrawn) != 1 || r.Withdrawn[0] != mine[2] {
		t.Fatalf("after Remove: %d hits, withdrawn %v, %v", len(r.Hits), r.Withdrawn, r.Err)
	}
	if err := pub.Remove(ctx, 99); err == nil {
		t.Error("removing an entry beyond the list accepted")
	}

	// A failed write: the node serves what is on disk.
	fw := &failingWrites{store: pub.Node.store}
	pub.Node.store = fw
	fw.fail.Store(true)
	if _, err := pub.Add(ctx, entries(emails(t, "y", 2, 1), "lost")); err == nil {
		t.Fatal("Add with a failing disk succeeded")
	}
	fw.fail.Store(false)
	if v := pub.Filter().Version(); v != v0+2 {
		t.Errorf("after a failed Add the node serves version %d, want %d", v, v0+2)
	}
	if r := querier.Match(ctx, mine)[0]; r.Err != nil || len(r.Hits) != 3 {
		t.Errorf("after a failed Add: %d hits, %v", len(r.Hits), r.Err)
	}

	// A restart keeps the version and the removal.
	tn.restart(0)
	if v := pub.Filter().Version(); v != v0+2 {
		t.Errorf("after restart, version %d", v)
	}
	if r := querier.Match(ctx, mine)[0]; r.Err != nil || len(r.Hits) != 3 || len(r.Withdrawn) != 1 {
		t.Errorf("after restart: %d hits, %d withdrawn, %v", len(r.Hits), len(r.Withdrawn), r.Err)
	}
}

// Without headroom the filter has no room; before the first publication
// there is nothing to add to.
func TestNodeAddLimits(t *testing.T) {
	tn := newTestNet(t, [][]match.Entry{entries(emails(t, "x", 0, 5), "L"), nil}, func(i int, cfg *Config) { cfg.Headroom = -1 })
	ctx := context.Background()
	if _, err := tn.nodes[0].Add(ctx, entries(emails(t, "y", 0, 1), "L")); err == nil || !strings.Contains(err.Error(), "Publish first") {
		t.Errorf("Add before publication: %v", err)
	}
	tn.publishAll()
	if _, err := tn.nodes[0].Add(ctx, entries(emails(t, "y", 0, 1), "L")); !errors.Is(err, match.ErrCapacity) {
		t.Errorf("Add without headroom: %v", err)
	}
	if _, err := tn.nodes[0].Add(ctx, []match.Entry{{Indicator: indicator.MustNew(indicator.Email, "z@example.org"), Label: "a\nb"}}); err == nil {
		t.Error("an entry with a bad label added")
	}
}

// A partner's whole filter of an older version of the same epoch is
// refused (a rollback): versions only add indicators.
func TestFilterVersionRollback(t *testing.T) {
	tn := newTestNet(t, [][]match.Entry{entries(emails(t, "x", 0, 5), "L"), nil}, nil)
	tn.publishAll()
	ctx := context.Background()
	pub, querier := tn.nodes[0], tn.nodes[1]
	old := pub.current.signed
	if _, err := pub.Add(ctx, entries(emails(t, "y", 0, 1), "L")); err != nil {
		t.Fatal(err)
	}
	var served atomic.Pointer[signedFilter]
	served.Store(pub.current.signed)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(headerGeneration, "0a0b") // one line of versions
		served.Load().serve(w, r)
	}))
	srv.TLS = pub.ServerTLSConfig()
	srv.StartTLS()
	t.Cleanup(srv.Close)
	p := *partnerOf(querier.Node, pub.cfg.ID)
	p.URL = srv.URL
	c := &partnerClient{m: querier.Matcher, p: &p, hc: querier.client(partnerOf(querier.Node, pub.cfg.ID)).hc}
	q, err := c.refresh(ctx)
	if err != nil || q.Filter().Version() != 6 {
		t.Fatalf("version %v, %v", q, err)
	}
	served.Store(old) // the version before the addition, whole
	if _, err := c.refresh(ctx); !errors.Is(err, ErrFilterRollback) {
		t.Errorf("an older version of the epoch's filter: %v", err)
	}
}

// countingTransport counts the bytes of the filter answers a client gets.
type countingTransport struct {
	http.RoundTripper
	filterBytes atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.RoundTripper.RoundTrip(r)
	if err == nil && strings.HasSuffix(r.URL.Path, "/filter") && resp.ContentLength > 0 {
		c.filterBytes.Add(resp.ContentLength)
	}
	return resp, err
}

// After an addition a partner downloads a signed delta, bytes in
// proportion to the change, not the filter; a long poll answers when the
// version changes; a partner has at most maxWaiting long polls waiting.
func TestDeltaOverTheWire(t *testing.T) {
	list := entries(emails(t, "x", 0, 20000), "L")
	tn := newTestNet(t, [][]match.Entry{list, nil}, nil)
	tn.publishAll()
	ctx := context.Background()
	pub, querier := tn.nodes[0], tn.nodes[1]
	c := querier.client(partnerOf(querier.Node, pub.cfg.ID))
	ct := &countingTransport{RoundTripper: c.hc.Transport}
	c.hc.Transport = ct
	mine := append(emails(t, "x", 0, 2), emails(t, "y", 0, 10)...)
	if r := querier.Match(ctx, mine)[0]; r.Err != nil || len(r.Hits) != 2 {
		t.Fatalf("before: %d hits, %v", len(r.Hits), r.Err)
	}
	full := ct.filterBytes.Load()
	if _, err := pub.Add(ctx, entries(emails(t, "y", 0, 10), "new")); err != nil {
		t.Fatal(err)
	}
	r := querier.Match(ctx, mine)[0]
	delta := ct.filterBytes.Load() - full
	if r.Err != nil || len(r.Hits) != 12 {
		t.Fatalf("after the addition: %d hits, %v", len(r.Hits), r.Err)
	}
	// 10 tags of 16 bytes, the delta's 57 bytes, the envelope and a
	// 64-byte signature; the filter is about 140 KB.
	if delta > 2048 || full < 100000 {
		t.Errorf("the change of 10 entries cost %d bytes; the filter %d", delta, full)
	}
	t.Logf("filter %d bytes, delta of 10 additions %d bytes", full, delta)

	// A long poll answers when a version is added, well before its wait.
	type result struct {
		version uint64
		err     error
	}
	done := make(chan result, 1)
	go func() {
		_, v, err := querier.WaitForFilter(ctx, pub.cfg.ID, 30*time.Second)
		done <- result{v, err}
	}()
	time.Sleep(100 * time.Millisecond)
	if _, err := pub.Add(ctx, entries(emails(t, "z", 0, 1), "z")); err != nil {
		t.Fatal(err)
	}
	select {
	case res := <-done:
		if res.err != nil || res.version != pub.Filter().Version() {
			t.Fatalf("long poll: version %d, %v (node at %d)", res.version, res.err, pub.Filter().Version())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a long poll did not answer an addition")
	}
	// With nothing new it answers 304 after its wait, the version held.
	if _, v, err := querier.WaitForFilter(ctx, pub.cfg.ID, time.Second); err != nil || v != pub.Filter().Version() {
		t.Errorf("an idle long poll: %d, %v", v, err)
	}
	if _, _, err := querier.WaitForFilter(ctx, pub.cfg.ID, 2*time.Minute); err == nil {
		t.Error("a wait of 2 minutes accepted")
	}
	if _, _, err := querier.WaitForFilter(ctx, "nobody", time.Second); err == nil {
		t.Error("an unknown partner accepted")
	}
}

// A partner may hold at most maxWaiting long polls; beyond, 503 busy.
func TestLongPollLimit(t *testing.T) {
	tn := newTestNet(t, [][]match.Entry{entries(emails(t, "x", 0, 5), "L"), nil}, nil)
	tn.publishAll()
	pub, querier := tn.nodes[0], tn.nodes[1]
	f := pub.Filter()
	kid := f.KeyID()
	url := fmt.Sprintf("%s%sfilter?key=%x&from=%d&gen=%s&wait=3", tn.nodes[0].server.URL, PathPrefix, kid[:], f.Version(), pub.current.gen)
	hc := rawClient(querier.certificate())
	codes := make(chan int, maxWaiting+1)
	for range maxWaiting + 1 {
		go func() {
			resp, err := hc.Get(url)
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	var got []int
	for range maxWaiting + 1 {
		got = append(got, <-codes)
	}
	slices.Sort(got)
	want := append(slices.Repeat([]int{http.StatusNotModified}, maxWaiting), http.StatusServiceUnavailable)
	if !slices.Equal(got, want) {
		t.Errorf("answers %v, want %v", got, want)
	}
	if n := pub.waiting["agency-1"]; n != 0 {
		t.Errorf("%d long polls still counted", n)
	}
	for _, bad := range []string{"key=zz&from=1", fmt.Sprintf("key=%x&from=x", kid[:]), fmt.Sprintf("key=%x&from=1&wait=61", kid[:]),
		fmt.Sprintf("key=%x&from=1&gen=xyz", kid[:])} {
		resp, err := hc.Get(tn.nodes[0].server.URL + PathPrefix + "filter?" + bad)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d", bad, resp.StatusCode)
		}
	}
}

// Closing a node answers its long polls at once.
func TestLongPollClose(t *testing.T) {
	tn := newTestNet(t, [][]match.Entry{entries(emails(t, "x", 0, 5), "L"), nil}, nil)
	tn.publishAll()
	pub, querier := tn.nodes[0], tn.nodes[1]
	if _, err := querier.client(partnerOf(querier.Node, pub.cfg.ID)).refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		_, _, err := querier.WaitForFilter(context.Background(), pub.cfg.ID, 50*time.Second)
		done <- err
	}()
	waitFor(t, func() bool {
		pub.waitMu.Lock()
		defer pub.waitMu.Unlock()
		return pub.waiting["agency-1"] == 1
	})
	pub.Node.Close()
	select {
	case <-done:
		if d := time.Since(start); d > 30*time.Second {
			t.Errorf("the long poll answered after %v", d)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("a long poll outlived the node's Close")
	}
}

// A publication under the same key starts another line of versions,
// whose n may be lower or equal: partners take it whole, neither as a
// rollback nor as "not modified". Regression: the version alone named a
// filter, so a republished list of the same size was never fetched again
// (its new entries missed) and a smaller one was refused as a rollback.
func TestRepublishWithinEpoch(t *testing.T) {
	list := entries(emails(t, "x", 0, 10), "L")
	tn := newTestNet(t, [][]match.Entry{list, nil}, nil)
	tn.publishAll()
	ctx := context.Background()
	pub, querier := tn.nodes[0], tn.nodes[1]
	if _, err := pub.Add(ctx, entries(emails(t, "y", 0, 1), "added")); err != nil {
		t.Fatal(err)
	}
	mine := append(emails(t, "x", 0, 1), append(emails(t, "y", 0, 1), emails(t, "z", 0, 1)...)...)
	if r := querier.Match(ctx, mine)[0]; r.Err != nil || len(r.Hits) != 2 {
		t.Fatalf("before: %d hits, %v", len(r.Hits), r.Err)
	}
	epoch, v := pub.Epoch(), pub.Filter().Version()
	// Same size as before the addition... then one more and one less.
	for _, next := range [][]match.Entry{
		append(entries(emails(t, "x", 1, 9), "L"), entries(emails(t, "z", 0, 1), "Z")...), // 10 entries: x0 gone, z0 new
		entries(emails(t, "x", 5, 5), "L"),                                                // 5 entries: a lower version
	} {
		pub.list = next
		if err := pub.Publish(ctx); err != nil {
			t.Fatal(err)
		}
		if pub.Epoch() != epoch {
			t.Fatalf("Publish moved to epoch %d", pub.Epoch())
		}
		want := map[string]bool{}
		for _, e := range next {
			for _, ind := range mine {
				if e.Indicator == ind {
					want[ind.String()] = true
				}
			}
		}
		r := querier.Match(ctx, mine)[0]
		got := hitSet(r.Hits)
		if r.Err != nil || len(got) != len(want) {
			t.Fatalf("republished %d entries (version %d after %d): hits %v, want %v, %v", len(next), pub.Filter().Version(), v, got, want, r.Err)
		}
		for k := range want {
			if _, ok := got[k]; !ok {
				t.Errorf("hit %s missed", k)
			}
		}
	}
}

// RemoveEntries removes entries by what they hold: a partner's next Match
// loses the hit, or is answered "withdrawn" once no entry holds the
// indicator; the node evaluates the removed indicators itself, without
// the partner's budget; the change is audited by counts, without values,
// survives a restart, and is refused whole when an entry is not listed.
// It is applied at once with ChangeInterval.
func TestNodeRemoveEntries(t *testing.T) {
	list := entries(emails(t, "x", 0, 10), "L")
	list = append(list, match.Entry{Indicator: list[3].Indicator, Label: "second case", Ref: "ref-s"}) // entry 10
	tn := newTestNet(t, [][]match.Entry{list, nil}, func(i int, cfg *Config) {
		cfg.ChangeInterval = time.Hour // a removal does not wait for the tick
	})
	tn.publishAll()
	ctx := context.Background()
	pub, querier := tn.nodes[0], tn.nodes[1]
	mine := emails(t, "x", 0, 5)
	if r := querier.Match(ctx, mine)[0]; r.Err != nil || len(r.Hits) != 5 {
		t.Fatalf("before: %d hits, %v", len(r.Hits), r.Err)
	}
	v0, partner := pub.Filter().Version(), querier.cfg.ID
	used := pub.BudgetUsed(partner, pub.Epoch())
	evals := pub.Metrics().Partners[0].Evaluations["email"]
	if used == 0 || evals == 0 {
		t.Fatalf("the Match was not counted: budget used %d, evaluations %d", used, evals)
	}

	// x1 goes; x3 loses one of its two entries.
	removed, err := pub.RemoveEntries(ctx, []match.Entry{list[1], list[3]})
	if err != nil || removed != 2 {
		t.Fatalf("RemoveEntries: %d, %v", removed, err)
	}
	if v := pub.Filter().Version(); v != v0 {
		t.Errorf("a removal made version %d from %d", v, v0)
	}
	if u, e := pub.BudgetUsed(partner, pub.Epoch()), pub.Metrics().Partners[0].Evaluations["email"]; u != used || e != evals {
		t.Errorf("the removal was counted to the partner: budget used %d -> %d, evaluations %d -> %d", used, u, evals, e)
	}
	check := func(when string) {
		t.Helper()
		r := querier.Match(ctx, mine)[0]
		hits := hitSet(r.Hits)
		if r.Err != nil || len(r.Hits) != 4 || len(r.Withdrawn) != 1 || r.Withdrawn[0] != mine[1] {
			t.Fatalf("%s: hits %v, withdrawn %v, %v", when, hits, r.Withdrawn, r.Err)
		}
		if got := hits[mine[3].String()]; got != "second case" {
			t.Errorf("%s: x3 released %q, want only the entry left", when, got)
		}
	}
	check("after RemoveEntries")
	var changes []AuditRecord
	for _, rec := range readAudit(t, pub) {
		if rec.Type == AuditChange {
			changes = append(changes, rec)
		}
	}
	if len(changes) != 1 || changes[0].Count != 0 || changes[0].Epoch != pub.Epoch() || !strings.Contains(changes[0].Detail, "2 entries removed") {
		t.Errorf("change records %+v", changes)
	}
	for _, rec := range changes {
		if strings.Contains(rec.Detail, "x1") || strings.Contains(rec.Detail, "L 1") || strings.Contains(rec.Detail, "ref-") {
			t.Errorf("the audit record shows an entry: %q", rec.Detail)
		}
	}

	// Refused whole: x1 is removed already.
	_, err = pub.RemoveEntries(ctx, []match.Entry{list[4], list[1]})
	if !errors.Is(err, match.ErrNotListed) || !strings.Contains(err.Error(), "entry 1 ") || strings.Contains(err.Error(), "x1") {
		t.Errorf("removing a removed entry: %v", err)
	}
	tn.restart(0)
	check("after the refusal and a restart")
	if n := len(readAudit(t, pub)); n == 0 {
		t.Fatal("no audit records")
	}
}

// RemoveEntries holds the node's operation lock from the lookup to the
// removal: run beside rotations, each removal lands in one epoch whole,
// and the epoch served after it lacks the entry (run with -race).
func TestNodeRemoveEntriesRotation(t *testing.T) {
	list := entries(emails(t, "x", 0, 20), "L")
	tn := newTestNet(t, [][]match.Entry{list, nil}, nil)
	tn.publishAll()
	ctx := context.Background()
	pub := tn.nodes[0]
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 3 {
			if err := pub.Rotate(ctx); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	removedIn := map[uint64]int{} // removals known to have landed in an epoch; -1: unknown
	for i := range 10 {
		e := pub.Epoch()
		if _, err := pub.RemoveEntries(ctx, list[i:i+1]); err != nil {
			t.Fatalf("entry %d: %v", i, err) // listed in every epoch until removed from it
		}
		m := pub.Metrics()
		if m.Epoch != e { // a rotation came before or after it
			removedIn[m.Epoch] = -1
			continue
		}
		if removedIn[e] >= 0 {
			removedIn[e]++
			if m.Entries != len(list)-removedIn[e] {
				t.Fatalf("epoch %d holds %d entries after %d removals", e, m.Entries, removedIn[e])
			}
		}
	}
	<-done
}
