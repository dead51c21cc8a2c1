package federation

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fedmatch/fedmatch/match"
)

// TestRotation: a query blinded under epoch 1's key finishes after the
// publisher rotates, within the grace period; after it, the old key is
// gone from disk and a query under it fails cleanly with unknown_key,
// while Match fetches the new filter and succeeds. Budgets are per epoch.
func TestRotation(t *testing.T) {
	list := entries(emails(t, "x", 0, 20), "L")
	tn := newTestNet(t, [][]match.Entry{list, nil}, func(i int, cfg *Config) {
		cfg.EpochLength, cfg.Grace = 24*time.Hour, time.Hour
	})
	tn.publishAll()
	pub, querier := tn.nodes[0], tn.nodes[1]
	c := querier.client(partnerOf(querier.Node, "agency-0"))
	ctx := context.Background()

	// A query in flight: blinded under epoch 1.
	q1, err := c.refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if q1.Filter().Epoch() != 1 {
		t.Fatalf("epoch %d", q1.Filter().Epoch())
	}
	if err := pub.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	if pub.Epoch() != 2 {
		t.Fatalf("after Rotate: epoch %d", pub.Epoch())
	}
	tn.clock.Advance(30 * time.Minute) // within the grace period
	if err := pub.Maintain(ctx); err != nil {
		t.Fatal(err)
	}
	br, err := c.query(ctx, q1, emails(t, "x", 15, 10))
	if err != nil || len(br.hits) != 5 || br.epoch != 1 {
		t.Fatalf("in-flight query during grace: %d hits, epoch %d, %v", len(br.hits), br.epoch, err)
	}
	for _, f := range []string{keyFile(1), pubFile(1), keyFile(2), pubFile(2)} {
		if _, err := os.Stat(filepath.Join(pub.cfg.StateDir, f)); err != nil {
			t.Errorf("during grace, %s: %v", f, err)
		}
	}

	// After the grace period the old key is destroyed.
	tn.clock.Advance(31 * time.Minute)
	if err := pub.Maintain(ctx); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{keyFile(1), pubFile(1)} {
		if _, err := os.Stat(filepath.Join(pub.cfg.StateDir, f)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("after grace, %s still on disk (%v)", f, err)
		}
	}
	_, err = c.query(ctx, q1, emails(t, "x", 15, 10))
	var re *RemoteError
	if !errors.As(err, &re) || re.Code != CodeUnknownKey || re.Status != 410 {
		t.Fatalf("query under the destroyed key: %v", err)
	}
	// Match refetches and succeeds under epoch 2.
	r := querier.Match(ctx, emails(t, "x", 15, 10))[0]
	if r.Err != nil || len(r.Hits) != 5 || r.Epoch != 2 {
		t.Fatalf("Match after rotation: %+v", r)
	}
	// Budgets are charged to the epoch current when a request arrives: the
	// in-flight query under epoch 1's key and the new one both count in
	// epoch 2, so the grace period gives no second budget.
	if pub.BudgetUsed("agency-1", 1) != 0 || pub.BudgetUsed("agency-1", 2) != 20 {
		t.Errorf("budgets: epoch 1 %d (dropped), epoch 2 %d", pub.BudgetUsed("agency-1", 1), pub.BudgetUsed("agency-1", 2))
	}
	// Scheduled rotation: Maintain rotates once the epoch has lasted its
	// length, and a restart keeps the epoch and the old key's grace.
	tn.clock.Advance(24 * time.Hour)
	if err := pub.Maintain(ctx); err != nil {
		t.Fatal(err)
	}
	if pub.Epoch() != 3 {
		t.Fatalf("scheduled rotation: epoch %d", pub.Epoch())
	}
	tn.restart(0)
	if e, _ := tn.nodes[0].publisherFor(tn.nodes[0].previous.key.KeyID(), false); tn.nodes[0].Epoch() != 3 || e == nil {
		t.Fatalf("after restart: epoch %d, previous %v", tn.nodes[0].Epoch(), tn.nodes[0].previous)
	}
	// The grace period ends while the node is down: the key goes at start.
	tn.clock.Advance(2 * time.Hour)
	tn.restart(0)
	if tn.nodes[0].previous != nil {
		t.Fatal("expired epoch loaded")
	}
	if _, err := os.Stat(filepath.Join(pub.cfg.StateDir, keyFile(2))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("epoch 2 key still on disk after its grace ended during downtime")
	}
	recs, err := ReadAudit(pub.cfg.StateDir, pub.cfg.ID, pub.cfg.Identity.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	var kinds []AuditType
	for _, r := range recs {
		if r.Type == AuditRotation || r.Type == AuditDestruction {
			kinds = append(kinds, r.Type)
		}
	}
	want := []AuditType{AuditRotation, AuditRotation, AuditDestruction, AuditRotation, AuditDestruction}
	if fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Errorf("audit rotations/destructions: %v, want %v", kinds, want)
	}
}

// A watchlist that fails aborts the rotation: nothing changes, the
// previous filter keeps being served. Regression: a watchlist that could
// not be read was published as an empty or partial list.
func TestWatchlistError(t *testing.T) {
	fail := false
	list := entries(emails(t, "x", 0, 5), "L")
	tn := newTestNet(t, [][]match.Entry{list, nil}, func(i int, cfg *Config) {
		if i == 0 {
			cfg.Watchlist = func() iter.Seq2[match.Entry, error] {
				return func(yield func(match.Entry, error) bool) {
					for j, e := range list {
						if fail && j == 3 {
							yield(match.Entry{}, errors.New("watchlist unreadable"))
							return
						}
						if !yield(e, nil) {
							return
						}
					}
				}
			}
		}
	})
	tn.publishAll()
	pub := tn.nodes[0]
	fail = true
	if err := pub.Rotate(context.Background()); err == nil || !strings.Contains(err.Error(), "unreadable") {
		t.Fatalf("rotation over a failing watchlist: %v", err)
	}
	if err := pub.Publish(context.Background()); err == nil {
		t.Fatal("publication over a failing watchlist succeeded")
	}
	if pub.Epoch() != 1 || pub.Filter().Len() != 5 {
		t.Fatalf("after the failures: epoch %d, %d entries", pub.Epoch(), pub.Filter().Len())
	}
	if r := tn.nodes[1].Match(context.Background(), emails(t, "x", 0, 5))[0]; r.Err != nil || len(r.Hits) != 5 {
		t.Fatalf("the previous filter is not served: %+v", r)
	}
}
