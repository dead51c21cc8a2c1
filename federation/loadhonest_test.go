//go:build linux

package federation

// The honest load harness measures, on loopback, the evaluations a node
// of 100,000 entries served by ListenAndServe answers per second, and
// their latency, for batches of 1,000 sent back to back by 1, 4 and 16
// partners at once, each with its own identity and connection. The
// partners run in a child process (this test binary, with
// TestLoadHonestChild selected), so that the CPU time of the parent is
// the node's and the child's is the clients'. It is skipped unless
// FEDMATCH_LOAD is set:
//
//	FEDMATCH_LOAD=1 go test -count=1 -run '^TestLoadHonest$' -v -timeout 20m ./federation
//
// FEDMATCH_LOAD_ENTRIES (default 100000), FEDMATCH_LOAD_SECONDS (20) and
// FEDMATCH_LOAD_PARTNERS (1,4,16) change the watchlist size, each level's
// duration and the levels. Every loop is bounded in count and time.

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	honestAddrEnv     = "FEDMATCH_HONEST_ADDR"
	honestBodyEnv     = "FEDMATCH_HONEST_BODY" // a file holding the evaluation request to send
	honestPartnersEnv = "FEDMATCH_HONEST_PARTNERS"
)

func TestLoadHonest(t *testing.T) {
	if os.Getenv("FEDMATCH_LOAD") == "" {
		t.Skip("set FEDMATCH_LOAD=1 to run the load harness")
	}
	size, secs := envInt("FEDMATCH_LOAD_ENTRIES", 100000), envInt("FEDMATCH_LOAD_SECONDS", 20)
	levels := []int{1, 4, 16}
	if v := os.Getenv("FEDMATCH_LOAD_PARTNERS"); v != "" {
		levels = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(f)
			if err != nil || n < 1 || n > 64 {
				t.Fatalf("FEDMATCH_LOAD_PARTNERS: %q", f)
			}
			levels = append(levels, n)
		}
	}
	var partners []string
	for i := range max(16, slices.Max(levels)) {
		partners = append(partners, loadPartnerName(i))
	}
	node, err := New(loadConfig(t.TempDir(), entries(emails(t, "x", 0, size), "L"), partners))
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	start := time.Now()
	if err := node.Publish(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Logf("published %d entries in %v", size, time.Since(start).Round(time.Millisecond))
	addr := serveNode(t, node)
	bodyFile := filepath.Join(t.TempDir(), "batch")
	if err := os.WriteFile(bodyFile, evalBody(t, node.Filter(), 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("GOMAXPROCS %d; batches of 1000 back to back for %d s per level", runtime.GOMAXPROCS(0), secs)
	t.Logf("%8s | %8s %12s | %8s %8s %8s | %-26s | %s", "partners", "batches", "evals/s", "p50", "p99", "max", "CPU node / clients (s)", "other answers")
	for _, c := range levels {
		mem := sampleMemory()
		cpu0 := cpuTime()
		rep, childCPU := honestChild(t, addr, bodyFile, c, secs)
		nodeCPU := cpuTime() - cpu0
		_, rss := mem()
		t.Logf("%8d | %8d %12.0f | %8v %8v %8v | %10.1f / %-4.1f of %4.1f | %s; node RSS peak %d MiB", c, rep.ok,
			float64(rep.ok)*1000/rep.wall.Seconds(), rep.p50, rep.p99, rep.max,
			nodeCPU.Seconds(), childCPU.Seconds(), rep.wall.Seconds()*float64(runtime.GOMAXPROCS(0)), rep.other, rss>>10)
	}
}

// serveNode runs n's ListenAndServe on loopback until the test ends, and
// returns its address.
func serveNode(t *testing.T, n *Node) string {
	t.Helper()
	tn := &testNode{Node: n}
	return serve(t, tn)
}

// honestReport is what TestLoadHonestChild reports.
type honestReport struct {
	ok            int
	wall          time.Duration
	p50, p99, max time.Duration
	other         string
}

// honestChild runs TestLoadHonestChild with c partners for secs seconds
// and returns its report and the CPU time it used.
func honestChild(t *testing.T, addr, bodyFile string, c, secs int) (honestReport, time.Duration) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestLoadHonestChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), honestAddrEnv+"="+addr, honestBodyEnv+"="+bodyFile,
		honestPartnersEnv+"="+strconv.Itoa(c), "FEDMATCH_LOAD_SECONDS="+strconv.Itoa(secs))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("honest partners: %v\n%s", err, out)
	}
	var rep honestReport
	found := false
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "honest: "); ok {
			var wall, p50, p99, mx int64
			n, _ := fmt.Sscanf(rest, "%d %d %d %d %d", &rep.ok, &wall, &p50, &p99, &mx)
			if n == 5 {
				found = true
				rep.wall, rep.p50, rep.p99, rep.max = time.Duration(wall), time.Duration(p50).Round(time.Millisecond),
					time.Duration(p99).Round(time.Millisecond), time.Duration(mx).Round(time.Millisecond)
				if i := strings.Index(rest, "other "); i >= 0 {
					rep.other = rest[i+len("other "):]
				}
			}
		}
	}
	if !found {
		t.Fatalf("honest partners: no report\n%s", out)
	}
	return rep, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

// TestLoadHonestChild is the honest partners of TestLoadHonest: each of
// FEDMATCH_HONEST_PARTNERS partners sends, on its own connection, one
// batch to warm up, then batches back to back for FEDMATCH_LOAD_SECONDS.
// It prints "honest: " with the batches answered 200, the wall time from
// the first to the last answer, the p50, p99 and maximum latency (in
// nanoseconds), and the count of other answers by status.
func TestLoadHonestChild(t *testing.T) {
	addr := os.Getenv(honestAddrEnv)
	if addr == "" {
		t.Skip("the child of TestLoadHonest")
	}
	body, err := os.ReadFile(os.Getenv(honestBodyEnv))
	if err != nil {
		t.Fatal(err)
	}
	c, secs := envInt(honestPartnersEnv, 1), envInt("FEDMATCH_LOAD_SECONDS", 20)
	clients := make([]*http.Client, c)
	for i := range c {
		clients[i] = loadClient(loadPartnerName(i), "")
		if status, _ := postBatch(clients[i], addr, body); status != 200 {
			t.Fatalf("%s: warm-up batch answered %d", loadPartnerName(i), status)
		}
	}
	var mu sync.Mutex
	var ds []time.Duration
	other := map[int]int{}
	start := time.Now()
	deadline := start.Add(time.Duration(secs) * time.Second)
	var last time.Time
	var wg sync.WaitGroup
	for _, hc := range clients {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				status, d := postBatch(hc, addr, body)
				mu.Lock()
				if status == 200 {
					ds = append(ds, d)
				} else {
					other[status]++
				}
				last = time.Now()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(ds)
	fmt.Printf("honest: %d %d %d %d %d other %v\n", len(ds), last.Sub(start), quantile(ds, 0.5), quantile(ds, 0.99), quantile(ds, 1), other)
}
