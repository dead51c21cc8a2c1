package federation

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"fmt"
	"iter"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
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
)

// crashPoints are where the child exits (as if killed) in the runs that
// aim, one after the other, at every step of a rotation and of an audit
// append.
var crashPoints = []string{
	"rotate: key written", "rotate: publisher written", "rotate: committed", "rotate: audited",
	"audit: torn record", "audit: before head",
}

func crashConfig(dir string) *Config {
	seed := make([]byte, ed25519.SeedSize)
	copy(seed, "fedmatch crash test identity")
	list := make([]match.Entry, 1500)
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
	cfg := crashConfig(dir)
	if point := os.Getenv(crashPointEnv); point != "" {
		// Exit at the point, on the third time it is reached.
		reached := 0
		cfg.crashPoint = func(p string) {
			if p == point {
				if reached++; reached == 3 {
					os.Exit(7)
				}
			}
		}
	}
	n, err := New(cfg)
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
		// Budget reservations, as a partner's requests make them.
		if _, _, err := n.budgets.reserve("peer", n.Epoch(), 7, 1<<30); err != nil {
			fmt.Println("fail", err)
			os.Exit(3)
		}
		fmt.Printf("ack %d %d\n", n.Epoch(), n.BudgetUsed("peer", n.Epoch()))
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
	recoveries := map[string]int{}
	for run := range runs + len(crashPoints) {
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
		}
		cmd.Wait()
		var ackEpoch, ackUsed uint64
		for line := range acks {
			if strings.HasPrefix(line, "fail") {
				t.Fatalf("run %d: the child failed: %s", run, line)
			}
			if f := strings.Fields(line); len(f) == 3 && f[0] == "ack" {
				ackEpoch, _ = strconv.ParseUint(f[1], 10, 64)
				ackUsed, _ = strconv.ParseUint(f[2], 10, 64)
			}
		}
		// The state loads, holds what was acknowledged, and its audit log
		// verifies and records every epoch's rotation.
		cfg := crashConfig(dir)
		n, err := New(cfg)
		if err != nil {
			t.Fatalf("run %d: state does not load after a crash: %v", run, err)
		}
		ep := n.Epoch()
		if ackEpoch > 0 && (ep < ackEpoch || ep == ackEpoch && uint64(n.BudgetUsed("peer", ep)) < ackUsed) {
			t.Fatalf("run %d: acknowledged epoch %d (budget %d), loaded epoch %d (budget %d)", run, ackEpoch, ackUsed, ep, n.BudgetUsed("peer", ep))
		}
		if ep < lastEpoch {
			t.Fatalf("run %d: epoch went back from %d to %d", run, lastEpoch, ep)
		}
		lastEpoch = ep
		if ep > 0 && n.Filter().Len() != 1500 {
			t.Fatalf("run %d: filter of %d entries", run, n.Filter().Len())
		}
		n.Close()
		recs, err := ReadAudit(dir, cfg.ID, cfg.Identity.Public().(ed25519.PublicKey))
		if err != nil {
			t.Fatalf("run %d: audit: %v", run, err)
		}
		rotated := map[uint64]bool{}
		recoveries = map[string]int{}
		for _, r := range recs {
			if r.Type == AuditRotation {
				rotated[r.Epoch] = true
			}
			for _, what := range []string{"incomplete last audit record", "removed epoch-", "recorded at start after a crash"} {
				if strings.Contains(r.Detail, what) {
					recoveries[what]++
				}
			}
		}
		for e := uint64(1); e <= ep; e++ {
			if !rotated[e] {
				t.Fatalf("run %d: epoch %d has no rotation record", run, e)
			}
		}
		// Only the live epochs' files remain.
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			name := e.Name()
			if strings.HasPrefix(name, "epoch-") {
				num, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(name, "epoch-"), ".key"), ".pub"), 10, 64)
				if num != ep && num != ep-1 {
					t.Fatalf("run %d: %s left on disk at epoch %d", run, name, ep)
				}
			}
		}
	}
	if lastEpoch < 5 {
		t.Errorf("the child made little progress: epoch %d after %d runs", lastEpoch, runs)
	}
	t.Logf("%d crashes (%d at random, %d at each crash point), final epoch %d; recoveries in the audit log: %v", runs+len(crashPoints), runs, len(crashPoints), lastEpoch, recoveries)
}
