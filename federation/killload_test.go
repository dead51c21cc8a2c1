//go:build linux

package federation

// The kill harness runs a node served by ListenAndServe in a child process
// (this test binary, with TestKillLoadChild selected) while partners send
// it batches of evaluations, kills it with SIGKILL at a random moment, and
// restarts it on the same state directory, again and again. After each
// kill, before the restart, it opens the state in the parent: it must
// load, its audit log must verify and hold an evaluation record for every
// batch a partner was answered, and each partner's budget used must count
// every evaluation the partner was answered (and no more than it sent).
// Three kills run in every test run; FEDMATCH_LOAD set runs
// FEDMATCH_KILLS (default 25):
//
//	FEDMATCH_LOAD=1 go test -count=1 -run '^TestKillUnderLoad$' -v -timeout 20m ./federation

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedmatch/fedmatch/match"
)

const (
	killDirEnv  = "FEDMATCH_KILL_DIR"
	killSize    = 5000 // the node's watchlist
	killBatch   = 100  // the partners' batches
	killPartner = 4
)

func killList(t testing.TB) []match.Entry { return entries(emails(t, "k", 0, killSize), "L") }

func killPartners() []string {
	var ps []string
	for i := range killPartner {
		ps = append(ps, loadPartnerName(i))
	}
	return ps
}

// TestKillLoadChild is the node of TestKillUnderLoad: it publishes if it
// has no epoch yet, serves on loopback, and prints "serving <address>
// <evaluation request, hex>" once it accepts connections.
func TestKillLoadChild(t *testing.T) {
	dir := os.Getenv(killDirEnv)
	if dir == "" {
		t.Skip("the child of TestKillUnderLoad")
	}
	node, err := New(loadConfig(dir, killList(t), killPartners()))
	if err != nil {
		fmt.Println("fail", err)
		os.Exit(3)
	}
	if node.Epoch() == 0 {
		if err := node.Publish(context.Background()); err != nil {
			fmt.Println("fail", err)
			os.Exit(3)
		}
	}
	body := hex.EncodeToString(evalBody(t, node.Filter(), killBatch))
	err = node.ListenAndServe(context.Background(), "127.0.0.1:0", func(a net.Addr) {
		fmt.Printf("serving %s %s\n", a, body)
	})
	fmt.Println("fail", err)
	os.Exit(3)
}

func TestKillUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a child process")
	}
	kills := 3
	if os.Getenv("FEDMATCH_LOAD") != "" {
		kills = envInt("FEDMATCH_KILLS", 25)
	}
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := loadConfig(dir, killList(t), killPartners())
	pub := cfg.Identity.Public().(ed25519.PublicKey)
	rng := rand.New(rand.NewPCG(8, 9))
	// What the partners were answered (acked) and sent, in evaluations,
	// over every run: the epoch stays the same (a day).
	acked := make([]atomic.Int64, killPartner)
	sent := make([]atomic.Int64, killPartner)
	var ackedBatches atomic.Int64
	var epoch uint64
	var starts []time.Duration
	for run := range kills {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKillLoadChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), killDirEnv+"="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		stop := time.AfterFunc(2*time.Minute, func() { cmd.Process.Kill() }) // bounds a child that hangs
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, 1<<20)
		var addr string
		var body []byte
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) == 3 && f[0] == "serving" {
				addr = f[1]
				body, _ = hex.DecodeString(f[2])
				break
			}
			if len(f) > 0 && f[0] == "fail" {
				t.Fatalf("run %d: the node did not start: %s", run, sc.Text())
			}
		}
		if addr == "" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("run %d: the node did not start: %v", run, cmd.ProcessState)
		}
		go func() { // the rest of its output, unread otherwise
			for sc.Scan() {
			}
		}()
		starts = append(starts, time.Since(t0))
		var wg sync.WaitGroup
		done := make(chan struct{})
		for i := range killPartner {
			wg.Go(func() {
				c := loadClient(loadPartnerName(i), "")
				defer c.CloseIdleConnections()
				for j := 0; j < 100000; j++ {
					select {
					case <-done:
						return
					default:
					}
					sent[i].Add(killBatch)
					if status, _ := postBatch(c, addr, body); status == 200 {
						acked[i].Add(killBatch)
						ackedBatches.Add(1)
					} else if status == 0 {
						return // the node is gone
					}
				}
			})
		}
		// Under load for a random while, from 200 ms to 1.5 s.
		time.Sleep(200*time.Millisecond + time.Duration(rng.IntN(1300))*time.Millisecond)
		cmd.Process.Kill()
		cmd.Wait()
		stop.Stop()
		close(done)
		wg.Wait()

		n, err := New(loadConfig(dir, killList(t), killPartners()))
		if err != nil {
			t.Fatalf("run %d: the state does not load after the kill: %v", run, err)
		}
		if epoch == 0 {
			epoch = n.Epoch()
		} else if n.Epoch() != epoch {
			t.Fatalf("run %d: epoch %d, was %d", run, n.Epoch(), epoch)
		}
		for i := range killPartner {
			used, a, s := int64(n.BudgetUsed(loadPartnerName(i), epoch)), acked[i].Load(), sent[i].Load()
			if used < a || used > s {
				t.Errorf("run %d: %s was answered %d evaluations and sent %d; the node counts %d", run, loadPartnerName(i), a, s, used)
			}
		}
		n.Close()
		recs, err := ReadAudit(dir, cfg.ID, pub)
		if err != nil {
			t.Fatalf("run %d: the audit log does not verify: %v", run, err)
		}
		var evals int64
		for _, r := range recs {
			if r.Type == AuditEvaluation {
				evals++
			}
		}
		if evals < ackedBatches.Load() {
			t.Fatalf("run %d: %d batches answered, %d evaluation records", run, ackedBatches.Load(), evals)
		}
		if t.Failed() {
			return
		}
	}
	var total int64
	for i := range acked {
		total += acked[i].Load()
	}
	t.Logf("%d kills under load of %d partners: %d evaluations answered in all, every one counted after restart; start to serving: %v",
		kills, killPartner, total, starts)
}
