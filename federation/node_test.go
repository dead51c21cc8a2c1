package federation

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"
)

// TestThreeNodes: three agencies, each with a list that overlaps the
// others' in known places, each publishes and matches its own list
// against the other two. Each learns exactly the shared indicators per
// partner, with the labels that partner's policy releases; the publishers
// are notified of exactly those hits.
func TestThreeNodes(t *testing.T) {
	all := emails(t, "u", 0, 300)
	// agency-0: 0..119, agency-1: 100..219, agency-2: 200..299 and 0..9
	lists := [][]match.Entry{
		entries(all[0:120], "A"),
		entries(all[100:220], "B"),
		entries(slices.Concat(all[200:300], all[0:10]), "C"),
	}
	var mu sync.Mutex
	notices := map[string][]string{} // publisher -> partner:entry ref
	tn := newTestNet(t, lists, func(i int, cfg *Config) {
		cfg.OnHit = func(h HitNotice) {
			mu.Lock()
			defer mu.Unlock()
			for _, e := range h.Entries {
				notices[cfg.ID] = append(notices[cfg.ID], h.Partner+":"+e.Ref)
			}
		}
		if i == 1 {
			// agency-1 releases labels to agency-0 only when their
			// tokens start with "B 1" or "B 15" (entries 1 and 15: whole
			// tokens, so not 10..19 or 100..119).
			for j := range cfg.Partners {
				if cfg.Partners[j].ID == "agency-0" {
					cfg.Partners[j].ReleaseLabels = []string{"B 1", "B 15"}
				}
			}
		}
	})
	tn.publishAll()

	want := func(mine, theirs []match.Entry, release func(string) bool) map[string]string {
		in := map[string]string{}
		for _, e := range theirs {
			in[e.Indicator.String()] = e.Label
		}
		out := map[string]string{}
		for _, e := range mine {
			if l, ok := in[e.Indicator.String()]; ok {
				if !release(l) {
					l = ""
				}
				out[e.Indicator.String()] = l
			}
		}
		return out
	}
	all1 := func(string) bool { return true }
	for i, node := range tn.nodes {
		var mine []indicator.Indicator
		for _, e := range lists[i] {
			mine = append(mine, e.Indicator)
		}
		results := node.Match(context.Background(), mine)
		if len(results) != 2 {
			t.Fatalf("agency-%d: %d results", i, len(results))
		}
		for _, r := range results {
			if r.Err != nil {
				t.Fatalf("agency-%d vs %s: %v", i, r.Partner, r.Err)
			}
			var j int
			fmt.Sscanf(r.Partner, "agency-%d", &j)
			release := all1
			if i == 0 && j == 1 {
				release = func(l string) bool { return l == "B 1" || l == "B 15" }
			}
			exp := want(lists[i], lists[j], release)
			if got := hitSet(r.Hits); fmt.Sprint(got) != fmt.Sprint(exp) {
				t.Errorf("agency-%d vs %s: %d hits, want %d\n got %v\nwant %v", i, r.Partner, len(got), len(exp), got, exp)
			}
			if r.Queried != len(mine) || r.Epoch != 1 {
				t.Errorf("agency-%d vs %s: queried %d, epoch %d", i, r.Partner, r.Queried, r.Epoch)
			}
		}
	}
	// 0∩1 = 20, 0∩2 = 10, 1∩2 = 20: each publisher is notified of each
	// partner's hits on its entries.
	waitFor(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(notices["agency-0"]) == 30 && len(notices["agency-1"]) == 40 && len(notices["agency-2"]) == 30
	})
	// The audit logs verify and record the exchanges, and never a value.
	for i, node := range tn.nodes {
		recs, err := ReadAudit(node.cfg.StateDir, node.cfg.ID, node.cfg.Identity.Public().(ed25519.PublicKey))
		if err != nil {
			t.Fatalf("agency-%d audit: %v", i, err)
		}
		var evals, confirms int
		for _, r := range recs {
			switch r.Type {
			case AuditEvaluation:
				evals++
			case AuditConfirmation:
				confirms++
			}
			if strings.Contains(r.String(), "@example.org") {
				t.Fatalf("audit record holds an indicator: %v", r)
			}
		}
		if evals != 2 || confirms != 2 {
			t.Errorf("agency-%d audit: %d evaluations, %d confirmations", i, evals, confirms)
		}
	}
}

// Deleting a state file is not a fresh start. Regression: without
// node.state, audit log or budgets, New started afresh (removing keys as
// leftovers, or refunding budgets).
func TestDeletedState(t *testing.T) {
	for _, c := range []struct {
		remove []string
		want   string
	}{
		{[]string{nodeStateFile}, "node.state is missing"},
		{[]string{auditFile, auditHeadFile}, "audit log is missing or empty"},
		{[]string{budgetsFile}, "budgets is missing"},
	} {
		tn := newTestNet(t, [][]match.Entry{entries(emails(t, "x", 0, 5), "L"), nil}, nil)
		tn.publishAll()
		if r := tn.nodes[1].Match(context.Background(), emails(t, "x", 0, 2))[0]; r.Err != nil {
			t.Fatal(r.Err)
		}
		node := tn.nodes[0]
		node.Close()
		for _, f := range c.remove {
			if err := os.Remove(filepath.Join(node.cfg.StateDir, f)); err != nil {
				t.Fatal(err)
			}
		}
		_, err := New(node.cfg)
		if !errors.Is(err, ErrCorruptState) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("removed %v: %v", c.remove, err)
		}
		// And the keys are still there: nothing was destroyed.
		if _, err := os.Stat(filepath.Join(node.cfg.StateDir, keyFile(1))); err != nil && c.remove[0] == nodeStateFile {
			t.Errorf("removed %v: the key went too: %v", c.remove, err)
		}
	}
}

// An epoch of another mode or suite than the configuration is retired at
// start: audited, its key destroyed, nothing served until the next
// publication, whose epoch number continues so that partners accept it.
// Regression: a node switched from VOPRF with Kinds ["*"] to POPRF with a
// kind policy kept serving the VOPRF epoch, in which the declared kind
// binds nothing; once RestorePublisher checked the mode, it could not
// start at all.
func TestConfigChangeRetiresEpochs(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name          string
		before, after func(*Config)
		why           string
	}{
		{"mode", func(c *Config) { c.Mode = match.ModeVOPRF }, func(c *Config) {
			c.Mode = match.ModePOPRF
			c.Partners[0].Kinds = []string{"email"}
		}, "one key never serves two modes"},
		{"suite", func(*Config) {}, func(c *Config) { c.Suite = match.SuiteP256 }, "Config.Suite is P256-SHA256"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tn := newTestNet(t, [][]match.Entry{entries(emails(t, "x", 0, 5), "L"), nil}, func(i int, cfg *Config) {
				if i == 0 {
					c.before(cfg)
				}
			})
			tn.publishAll()
			pub, partner := tn.nodes[0], tn.nodes[1]
			if err := pub.Rotate(ctx); err != nil { // epoch 2, epoch 1 in its grace period
				t.Fatal(err)
			}
			if r := partner.Match(ctx, emails(t, "x", 0, 2))[0]; r.Err != nil || len(r.Hits) != 2 || r.Epoch != 2 {
				t.Fatalf("before the change: %+v", r)
			}
			c.after(pub.cfg)
			tn.restart(0)
			if pub.Epoch() != 0 || pub.Filter() != nil {
				t.Fatalf("after the change the node serves epoch %d", pub.Epoch())
			}
			var re *RemoteError
			if r := partner.Match(ctx, emails(t, "x", 0, 2))[0]; !errors.As(r.Err, &re) || re.Code != CodeNotPublished {
				t.Fatalf("a partner's match before the next publication: %v", r.Err)
			}
			files, _ := os.ReadDir(pub.cfg.StateDir)
			for _, f := range files {
				if strings.HasPrefix(f.Name(), "epoch-") {
					t.Errorf("%s kept after its epoch was retired", f.Name())
				}
			}
			recs, err := ReadAudit(pub.cfg.StateDir, pub.cfg.ID, pub.cfg.Identity.Public().(ed25519.PublicKey))
			if err != nil {
				t.Fatal(err)
			}
			retired := map[uint64]bool{}
			for _, r := range recs {
				if r.Type == AuditDestruction && strings.Contains(r.Detail, "retired at start") && strings.Contains(r.Detail, c.why) {
					retired[r.Epoch] = true
				}
			}
			if !retired[1] || !retired[2] {
				t.Errorf("audited retirements: %v", retired)
			}
			if err := pub.Publish(ctx); err != nil || pub.Epoch() != 3 {
				t.Fatalf("publication after the change: epoch %d, %v", pub.Epoch(), err)
			}
			if f := pub.Filter(); f.Mode() != pub.cfg.Mode || f.Suite() != pub.cfg.Suite {
				t.Fatalf("epoch 3 is %v %v", f.Suite(), f.Mode())
			}
			if r := partner.Match(ctx, emails(t, "x", 0, 2))[0]; r.Err != nil || len(r.Hits) != 2 || r.Epoch != 3 {
				t.Fatalf("after the next publication: %+v", r)
			}
			tn.restart(0)
			if pub.Epoch() != 3 {
				t.Fatalf("restarted at epoch %d", pub.Epoch())
			}
		})
	}
}

// A crash or a failed write at any store operation of a start that
// retires epochs leaves a state that starts, retires them, and numbers
// the next epoch after them.
func TestConfigChangeRetiresEpochsCrash(t *testing.T) {
	ctx := context.Background()
	base := newMemStore()
	cfg := crashConfig("", 20)
	cfg.Mode = match.ModeVOPRF
	old, err := cfg.check(false)
	if err != nil {
		t.Fatal(err)
	}
	n, err := newNode(old, base)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Publish(ctx); err != nil {
		t.Fatal(err)
	}
	if err := n.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	n.Close()
	cfg.Mode = match.ModePOPRF
	changed, err := cfg.check(false)
	if err != nil {
		t.Fatal(err)
	}
	for _, fault := range []error{errCrash, errors.New("no space left on device")} {
		for k := 1; ; k++ {
			m := base.reopen()
			ops := 0
			m.fault = func(string, string) error {
				if ops++; ops == k {
					return fault
				}
				return nil
			}
			if n, err := newNode(changed, m); err == nil {
				n.Close()
			}
			if ops < k {
				if k < 10 {
					t.Fatalf("%v: a retiring start made only %d store operations", fault, k-1)
				}
				t.Logf("%v at each of %d store operations", fault, k-1)
				break // the start was over before operation k
			}
			n, err := newNode(changed, m.reopen())
			if err != nil {
				t.Fatalf("%v at operation %d: the next start fails: %v", fault, k, err)
			}
			names, _ := n.store.list()
			for _, name := range names {
				if strings.HasPrefix(name, "epoch-") {
					t.Fatalf("%v at operation %d: %s kept", fault, k, name)
				}
			}
			if err := n.Publish(ctx); err != nil || n.Epoch() != 3 {
				t.Fatalf("%v at operation %d: published epoch %d, %v", fault, k, n.Epoch(), err)
			}
			n.Close()
		}
	}
}

// An epoch whose publisher state holds a label that match.CheckLabel
// refuses (a version that did not check labels published it) is retired
// at start, as an epoch of another mode is: the node starts, records why,
// and publishes afresh. Regression: restoring it was "corrupt state", and
// the node did not start.
func TestUncheckedLabelsRetireEpoch(t *testing.T) {
	ctx := context.Background()
	tn := newTestNet(t, [][]match.Entry{entries(emails(t, "x", 0, 5), "L"), nil}, nil)
	tn.publishAll()
	pub, partner := tn.nodes[0], tn.nodes[1]
	retiredAtStart(t, tn, 0, "control characters", func(state []byte) (stateType, []byte) {
		i := bytes.Index(state, []byte("L 3"))
		if i < 0 {
			t.Fatal("no label in the state")
		}
		state[i+1] = '\n' // "L\n3", as an older version could have published
		return statePublisherJournal, state
	})
	if err := pub.Publish(ctx); err != nil {
		t.Fatal(err)
	}
	if r := partner.Match(ctx, emails(t, "x", 3, 1))[0]; r.Err != nil || len(r.Hits) != 1 || r.Hits[0].Labels[0] != "L 3" || r.Epoch != 2 {
		t.Fatalf("after the new publication: %+v", r)
	}
}

// An epoch whose publisher state is of the release before filter seeds
// (type 3, without its line of versions) is retired at start: its deltas
// carried confirm tags, which a partner may still hold and which would
// confirm under its key. Regression: it was restored and served on.
func TestPreSeedEpochRetired(t *testing.T) {
	ctx := context.Background()
	tn := newTestNet(t, [][]match.Entry{entries(emails(t, "x", 0, 5), "L"), nil}, nil)
	tn.publishAll()
	pub, partner := tn.nodes[0], tn.nodes[1]
	old := pub.Filter().KeyID()
	retiredAtStart(t, tn, 0, "filter seeds", func(state []byte) (stateType, []byte) {
		// Without its line and journal position: the file of the release
		// before filter seeds.
		return statePublisher, state[1+state[0]+8:]
	})
	if err := pub.Publish(ctx); err != nil {
		t.Fatal(err)
	}
	if pub.Filter().KeyID() == old {
		t.Error("the retired key serves again")
	}
	if r := partner.Match(ctx, emails(t, "x", 3, 1))[0]; r.Err != nil || len(r.Hits) != 1 || r.Epoch != 2 {
		t.Fatalf("after the new publication: %+v", r)
	}
}

// retiredAtStart closes node i, rewrites its epoch 1 publisher state with
// edit, restarts it and checks that the epoch was retired at start, not
// served, with an audit record that says why.
func retiredAtStart(t *testing.T, tn *testNet, i int, why string, edit func(state []byte) (stateType, []byte)) {
	t.Helper()
	pub := tn.nodes[i]
	pub.Node.Close()
	s, err := openFS(pub.cfg.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	state, err := readState(s, pubFile(1), statePublisherJournal)
	if err != nil {
		t.Fatal(err)
	}
	typ, state := edit(state)
	if err := writeState(s, pubFile(1), typ, state); err != nil {
		t.Fatal(err)
	}
	s.close()
	tn.restart(i)
	if pub.Epoch() != 0 || pub.Filter() != nil {
		t.Fatalf("the node serves epoch %d", pub.Epoch())
	}
	recs, err := ReadAudit(pub.cfg.StateDir, pub.cfg.ID, pub.cfg.Identity.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(recs, func(r AuditRecord) bool {
		return r.Type == AuditDestruction && r.Epoch == 1 && strings.Contains(r.Detail, "retired at start") && strings.Contains(r.Detail, why)
	}) {
		t.Errorf("no record of epoch 1's retirement (%s) in %+v", why, recs)
	}
}
