package federation

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"
)

// The crash test runs a node in a child process (this test binary, with
// TestCrashChild selected) that publishes and rotates in a loop, printing
// "ack <epoch>" after each call returns; the parent kills it at a random
// moment with SIGKILL, many times over the same state directory, and
// after each kill loads the state: it must always load, hold at least the
// last acknowledged epoch, and its audit log must verify and record every
// rotation.

const (
	crashDirEnv   = "FEDMATCH_CRASH_DIR"
	crashPointEnv = "FEDMATCH_CRASH_POINT"
	crashListSize = 1500
)

// crashPoints are where the child exits (as if killed) in the runs that
// aim, one after the other, at each step of a rotation, a destruction, a
// budget reservation, an audit append and a change's journal append. Each
// names a store operation, "before" or "after" it or "during" it (an
// append cut in the middle, leaving a torn record), and the files it
// concerns.
var crashPoints = []string{
	"after write epoch-*.key",    // a new key, no publisher yet
	"after write epoch-*.pub",    // a new publisher, not committed
	"after write node.state",     // a rotation committed, not audited
	"after write budgets",        // a reservation on disk, not acknowledged
	"after destroy epoch-*.key",  // an old key gone, its publisher not yet
	"after append",               // a group of records in the log, the head not rewritten
	"during append",              // a torn group of records
	"after truncate #1",          // at start, a torn record cut (tornLog makes one first)
	"before write audit.head",    // as after append, by another route
	"after journal epoch-*.chg",  // a change journaled, not audited (or audited, not marked so)
	"during journal epoch-*.chg", // a torn journal record
}

// crashingStore is the child's store: it exits the process, as a kill
// would, the third time it reaches its crash point (or the time a final
// "#n" says).
type crashingStore struct {
	store
	when, op, pattern string // the fields of a crash point
	mu                sync.Mutex
	reached, nth      int
}

func newCrashingStore(s store, point string) *crashingStore {
	c := &crashingStore{store: s, nth: 3}
	f := strings.Fields(point)
	if n := len(f) - 1; strings.HasPrefix(f[n], "#") {
		c.nth, _ = strconv.Atoi(f[n][1:])
		f = f[:n]
	}
	f = append(f, "")
	c.when, c.op, c.pattern = f[0], f[1], f[2]
	return c
}

// hit reports whether the operation is the crash point, reached for the
// time it names.
func (c *crashingStore) hit(when, op, name string) bool {
	if when != c.when || op != c.op {
		return false
	}
	if ok, _ := path.Match(c.pattern, name); c.pattern != "" && !ok {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reached++
	return c.reached == c.nth
}

// at exits at the crash point.
func (c *crashingStore) at(when, op, name string) {
	if c.hit(when, op, name) {
		os.Exit(7)
	}
}

func (c *crashingStore) write(name string, data []byte) error {
	c.at("before", "write", name)
	if err := c.store.write(name, data); err != nil {
		return err
	}
	c.at("after", "write", name)
	return nil
}

func (c *crashingStore) destroy(name string) error {
	c.at("before", "destroy", name)
	if err := c.store.destroy(name); err != nil {
		return err
	}
	c.at("after", "destroy", name)
	return nil
}

func (c *crashingStore) appendLog(data []byte) error {
	if c.hit("during", "append", "") {
		// A torn record: the group's first half and a byte, as half of
		// a group of records of one size may end at a record's end.
		c.store.appendLog(data[:len(data)/2+1])
		os.Exit(7)
	}
	if err := c.store.appendLog(data); err != nil {
		return err
	}
	c.at("after", "append", "")
	return nil
}

func (c *crashingStore) appendFile(name string, data []byte) error {
	if c.hit("during", "journal", name) {
		c.store.appendFile(name, data[:len(data)/2+1]) // a torn record
		os.Exit(7)
	}
	c.at("before", "journal", name)
	if err := c.store.appendFile(name, data); err != nil {
		return err
	}
	c.at("after", "journal", name)
	return nil
}

func (c *crashingStore) truncateLog(size int64) error {
	c.at("before", "truncate", "")
	if err := c.store.truncateLog(size); err != nil {
		return err
	}
	c.at("after", "truncate", "")
	return nil
}

// crashConfig is the crashing node's configuration, with a watchlist of
// size entries.
func crashConfig(dir string, size int) *Config {
	seed := make([]byte, ed25519.SeedSize)
	copy(seed, "fedmatch crash test identity")
	list := make([]match.Entry, size)
	for i := range list {
		list[i] = match.Entry{Indicator: indicator.MustNew(indicator.Email, fmt.Sprintf("c%d@example.org", i)), Label: "L", Ref: strconv.Itoa(i)}
	}
	peer := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	return &Config{
		ID:        "crash",
		Identity:  ed25519.NewKeyFromSeed(seed),
		StateDir:  dir,
		Watchlist: func() iter.Seq2[match.Entry, error] { return seq2(list) },
		Partners: []Partner{{ID: "peer", URL: "https://peer.example", SPKI: IdentitySPKI(peer.Public().(ed25519.PublicKey)),
			Identity: peer.Public().(ed25519.PublicKey), Kinds: []string{"*"}, Budget: 1 << 30}},
		Grace: time.Hour,
	}
}

// TestCrashChild is the child's loop; it does nothing in a normal run.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("only run as the child of TestCrashSafety")
	}
	cfg, err := crashConfig(dir, crashListSize).check(true)
	if err != nil {
		t.Fatal(err)
	}
	var s store
	if s, err = openFS(dir); err == nil {
		if point := os.Getenv(crashPointEnv); point != "" {
			s = newCrashingStore(s, point)
		}
	}
	var n *Node
	if err == nil {
		n, err = newNode(cfg, s)
	}
	if err != nil {
		fmt.Println("fail", err)
		os.Exit(3)
	}
	ctx := context.Background()
	for i := 0; ; i++ {
		var err error
		if i%3 == 0 {
			err = n.Publish(ctx)
		} else {
			err = n.Rotate(ctx)
		}
		if err != nil {
			fmt.Println("fail", err)
			os.Exit(3)
		}
		// A change of the list, journaled and audited; removing entry 0
		// again changes nothing but the journal and the log.
		if err := n.Remove(ctx, 0); err != nil {
			fmt.Println("fail", err)
			os.Exit(3)
		}
		// Budget reservations, as a partner's requests make them, and
		// audit records appended concurrently, as the requests of
		// several partners do: committed in groups.
		if _, _, err := n.budgets.reserve("peer", n.Epoch(), 7, 1<<30); err != nil {
			fmt.Println("fail", err)
			os.Exit(3)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Go(func() {
				errs <- n.audit.append(AuditRecord{Time: cfg.Now(), Type: AuditRefusal, Partner: "peer", Epoch: n.Epoch(), Detail: "crash test"})
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				fmt.Println("fail", err)
				os.Exit(3)
			}
		}
		n.audit.mu.Lock()
		records := n.audit.head.seq
		n.audit.mu.Unlock()
		fmt.Printf("ack %d %d %d\n", n.Epoch(), n.BudgetUsed("peer", n.Epoch()), records)
	}
}

func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a child process many times")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	const runs = 40
	var lastEpoch uint64
	var recoveries map[string]int
	for run := range runs + len(crashPoints) {
		if run >= runs && crashPoints[run-runs] == "after truncate #1" {
			tornLog(t, dir)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
		if run >= runs {
			cmd.Env = append(cmd.Env, crashPointEnv+"="+crashPoints[run-runs])
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		acks := make(chan string, 1000)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				acks <- sc.Text()
			}
			close(acks)
		}()
		// Let it run a random while: between a few milliseconds (often in
		// the first publish or in New) and half a second.
		if run < runs {
			time.Sleep(time.Duration(rng.IntN(500)) * time.Millisecond)
			cmd.Process.Kill()
		} else {
			// A child that never reaches its crash point is stopped.
			defer time.AfterFunc(3*time.Minute, func() { cmd.Process.Kill() }).Stop()
		}
		cmd.Wait()
		if run >= runs && cmd.ProcessState.ExitCode() != 7 {
			t.Fatalf("run %d: the child did not stop at %q: %v", run, crashPoints[run-runs], cmd.ProcessState)
		}
		var ackEpoch, ackUsed, ackRecords uint64
		for line := range acks {
			if strings.HasPrefix(line, "fail") {
				t.Fatalf("run %d: the child failed: %s", run, line)
			}
			if f := strings.Fields(line); len(f) == 4 && f[0] == "ack" {
				ackEpoch, _ = strconv.ParseUint(f[1], 10, 64)
				ackUsed, _ = strconv.ParseUint(f[2], 10, 64)
				ackRecords, _ = strconv.ParseUint(f[3], 10, 64)
			}
		}
		cfg, err := crashConfig(dir, crashListSize).check(true)
		if err != nil {
			t.Fatal(err)
		}
		s, err := openFS(dir)
		if err != nil {
			t.Fatal(err)
		}
		var ep uint64
		ep, recoveries = checkRestart(t, fmt.Sprintf("run %d", run), cfg, s, ackEpoch, ackUsed, true)
		// Every record acknowledged is in the log.
		if rep, err := VerifyAudit(dir, cfg.ID, cfg.Identity.Public().(ed25519.PublicKey)); err != nil || rep.Records < ackRecords {
			t.Fatalf("run %d: %d audit records acknowledged, the log holds %+v (%v)", run, ackRecords, rep, err)
		}
		if ep < lastEpoch {
			t.Fatalf("run %d: epoch went back from %d to %d", run, lastEpoch, ep)
		}
		lastEpoch = ep
	}
	if lastEpoch < 5 {
		t.Errorf("the child made little progress: epoch %d after %d runs", lastEpoch, runs)
	}
	t.Logf("%d crashes (%d at random, %d at each crash point), final epoch %d; recoveries in the audit log: %v", runs+len(crashPoints), runs, len(crashPoints), lastEpoch, recoveries)
}

// tornLog leaves at the end of the audit log in dir the first half of a
// record, as a crash during an append does.
func tornLog(t *testing.T, dir string) {
	data, err := os.ReadFile(filepath.Join(dir, auditFile))
	if err != nil {
		t.Fatal(err)
	}
	recs := auditRecords(data)
	last := recs[len(recs)-1]
	f, err := os.OpenFile(filepath.Join(dir, auditFile), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(last[:len(last)/2]); err != nil {
		t.Fatal(err)
	}
}

// checkRestart opens a node on s, as it restarts after a crash or a
// failure, and checks that the state loads, holds at least the epoch and
// budget acknowledged, has an audit log that verifies and records every
// epoch's rotation (unless everyRotation is false), and keeps no file of
// an epoch it does not serve. It returns the epoch loaded, and the
// recoveries the audit log records.
func checkRestart(t *testing.T, what string, cfg *Config, s store, ackEpoch, ackUsed uint64, everyRotation bool) (uint64, map[string]int) {
	t.Helper()
	n, err := newNode(cfg, s)
	if err != nil {
		t.Fatalf("%s: the state does not load: %v", what, err)
	}
	defer n.Close()
	ep := n.Epoch()
	if used := uint64(n.BudgetUsed("peer", ep)); ackEpoch > 0 && (ep < ackEpoch || ep == ackEpoch && used < ackUsed) {
		t.Fatalf("%s: acknowledged epoch %d (budget %d), loaded epoch %d (budget %d)", what, ackEpoch, ackUsed, ep, used)
	}
	size := 0
	for range cfg.Watchlist() {
		size++
	}
	if ep > 0 && n.Filter().Len() != size {
		t.Fatalf("%s: filter of %d entries, want %d", what, n.Filter().Len(), size)
	}
	rotated := map[uint64]bool{}
	recoveries := map[string]int{}
	if _, err := scanAudit(s, cfg.ID, cfg.Identity.Public().(ed25519.PublicKey), func(r AuditRecord) {
		if r.Type == AuditRotation {
			rotated[r.Epoch] = true
		}
		for _, what := range []string{"incomplete last audit record", "removed epoch-", "recorded at start after a crash"} {
			if strings.Contains(r.Detail, what) {
				recoveries[what]++
			}
		}
	}); err != nil {
		t.Fatalf("%s: audit: %v", what, err)
	}
	for e := uint64(1); e <= ep && everyRotation; e++ {
		if !rotated[e] {
			t.Fatalf("%s: epoch %d has no rotation record", what, e)
		}
	}
	// Only the live epochs' files remain.
	names, err := s.list()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		var num uint64
		if strings.HasPrefix(name, "epoch-") {
			fmt.Sscanf(name, "epoch-%d.", &num)
			if !n.sched.live(num) {
				t.Fatalf("%s: %s left at epoch %d", what, name, ep)
			}
		}
	}
	return ep, recoveries
}

// TestCrashAtEveryStep runs a node's life on an in-memory store (start,
// first publication, budget reservations, rotations, a grace period's
// end, the destruction of old keys) and stops it at each store operation
// in turn: a crash there, or a failure of that operation alone, after
// which the node carries on. Each time, the state must load as by
// checkRestart, and load again once the grace period of its previous
// epoch has ended while it was stopped. Regression: a crash between a
// fresh node's first audit record and its first audit.head left a
// directory New refused for ever ("audit.head is missing").
func TestCrashAtEveryStep(t *testing.T) {
	for _, fault := range []error{errCrash, errors.New("no space left on device")} {
		for k := 1; ; k++ {
			clk := newClock()
			c := crashConfig("", 20)
			c.Now = clk.Now
			cfg, err := c.check(false)
			if err != nil {
				t.Fatal(err)
			}
			m := newMemStore()
			ops, at := 0, ""
			m.fault = func(op, name string) error {
				if ops++; ops == k {
					at = op + " " + name
					return fault
				}
				return nil
			}
			ackEpoch, ackUsed := aNodesLife(cfg, clk, m)
			if ops < k {
				t.Logf("%v at each of %d store operations", fault, k-1)
				break // the life was over before operation k
			}
			what := fmt.Sprintf("%v at operation %d (%s)", fault, k, at)
			// A rotation whose audit record failed to append (the record's
			// write, or its head's, which takes the record back out), after
			// which the node carried on and rotated again, stays
			// unrecorded: the caller of Rotate got the error.
			everyRotation := fault == errCrash || at != "append " && at != "write audit.head"
			s := m.reopen()
			checkRestart(t, what, cfg, s, ackEpoch, ackUsed, everyRotation)
			clk.Advance(2 * time.Hour)
			checkRestart(t, what+", restarted after the grace period", cfg, s, ackEpoch, ackUsed, everyRotation)
		}
	}
}

// aNodesLife is what TestCrashAtEveryStep does with a node on s. It
// returns the last epoch and budget acknowledged: those of the last call
// that returned nil.
func aNodesLife(cfg *Config, clk *clock, s store) (ackEpoch, ackUsed uint64) {
	n, err := newNode(cfg, s)
	if err != nil {
		return 0, 0
	}
	defer n.Close()
	ctx := context.Background()
	publish := func() error { return n.Publish(ctx) }
	rotate := func() error { return n.Rotate(ctx) }
	reserve := func() error {
		_, _, err := n.budgets.reserve("peer", n.Epoch(), 7, 1<<30)
		return err
	}
	endGrace := func() error {
		clk.Advance(2 * time.Hour)
		return n.Maintain(ctx)
	}
	for _, step := range []func() error{publish, reserve, rotate, reserve, publish, endGrace, rotate, reserve, rotate, reserve} {
		if step() == nil {
			ackEpoch, ackUsed = n.Epoch(), uint64(n.BudgetUsed("peer", n.Epoch()))
		}
	}
	return ackEpoch, ackUsed
}
