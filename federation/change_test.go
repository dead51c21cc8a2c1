package federation

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"
)

// failingWrites fails every write of a state file while fail is set.
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

// A partner's filter of an older version of the same epoch is refused
// (a rollback).
func TestFilterVersionRollback(t *testing.T) {
	tn := newTestNet(t, [][]match.Entry{entries(emails(t, "x", 0, 5), "L"), nil}, nil)
	tn.publishAll()
	ctx := context.Background()
	pub, querier := tn.nodes[0], tn.nodes[1]
	old := pub.current.signed
	if _, err := pub.Add(ctx, entries(emails(t, "y", 0, 1), "L")); err != nil {
		t.Fatal(err)
	}
	if r := querier.Match(ctx, emails(t, "y", 0, 1))[0]; r.Err != nil || len(r.Hits) != 1 {
		t.Fatalf("%d hits, %v", len(r.Hits), r.Err)
	}
	pub.mu.Lock()
	cur := *pub.current
	cur.signed = old // the node serves the older version again
	pub.current = &cur
	pub.mu.Unlock()
	if r := querier.Match(ctx, emails(t, "y", 0, 1))[0]; !errors.Is(r.Err, ErrFilterRollback) {
		t.Errorf("an older version of the epoch's filter: %v", r.Err)
	}
}
