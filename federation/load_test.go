//go:build linux

package federation

// The load harness measures, on loopback, what a hostile partner does to
// a node served by ListenAndServe: the node's memory while the partner,
// without budget, sends maximum-size bodies on many connections; an
// honest partner's latency for batches of 1,000 alone and during that
// flood; and the audit log and log lines a flood of free requests (empty
// confirmations, refused kinds and budgets, malformed and oversized
// bodies, and 500 idle connections, half of them never starting their
// TLS handshake) makes. The
// hostile partner runs in a child process (this test binary, with
// TestLoadFloodChild selected), so that the parent's memory is the
// node's (and the honest client's). The honest partner connects from
// 127.0.0.2, the hostile one from 127.0.0.3, so that the node's limits
// per address tell them apart as on a network. It is skipped unless
// FEDMATCH_LOAD is set:
//
//	FEDMATCH_LOAD=1 go test -run '^TestLoad$' -v -timeout 20m ./federation
//
// FEDMATCH_FLOOD_NICE (1 to 19) runs the hostile partner at that niceness.
// FEDMATCH_FLOOD_CPUS (a taskset list, such as 1) runs it on those
// processors only: on a network the hostile partner's own work is done on
// its machine, and run with the test itself on the others,
//
//	FEDMATCH_LOAD=1 FEDMATCH_FLOOD_CPUS=1 taskset -c 0 go test -run '^TestLoad$' -v ./federation
//
// the honest partner's latencies, alone and during the floods, measure
// what the floods cost the node, not what the flood client's own
// computation takes from the node on a shared machine.
// FEDMATCH_LOAD_ENTRIES (default 20000), FEDMATCH_LOAD_CONNS (300),
// FEDMATCH_LOAD_SECONDS (10), FEDMATCH_LOAD_SAMPLES (40) and
// FEDMATCH_LOAD_IDLE (500) change the watchlist size, the flood's
// connections, each flood's duration, the honest batches timed in each
// phase and the idle connections of the free flood. Every loop is bounded in count
// and time.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fedmatch/fedmatch/internal/procstat"
	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"
)

const (
	floodAddrEnv  = "FEDMATCH_FLOOD_ADDR"
	floodModeEnv  = "FEDMATCH_FLOOD_MODE"
	floodCertEnv  = "FEDMATCH_FLOOD_CERT"
	floodKeyEnv   = "FEDMATCH_FLOOD_KEY"
	floodBodyEnv  = "FEDMATCH_FLOOD_BODY" // hex of the evaluation header to send; free mode: the bodies, '/'-separated
	floodLocalEnv = "FEDMATCH_FLOOD_LOCAL"

	honestAddr  = "127.0.0.2"
	hostileAddr = "127.0.0.3"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v >= 0 {
		return v
	}
	return def
}

// countingHandler counts log records.
type countingHandler struct{ n atomic.Int64 }

func (h *countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *countingHandler) WithGroup(string) slog.Handler            { return h }
func (h *countingHandler) Handle(context.Context, slog.Record) error {
	h.n.Add(1)
	return nil
}

func TestLoad(t *testing.T) {
	if os.Getenv("FEDMATCH_LOAD") == "" {
		t.Skip("set FEDMATCH_LOAD=1 to run the load harness")
	}
	size, conns, secs := envInt("FEDMATCH_LOAD_ENTRIES", 20000), envInt("FEDMATCH_LOAD_CONNS", 300), envInt("FEDMATCH_LOAD_SECONDS", 10)
	logs := &countingHandler{}
	tn := newTestNet(t, [][]match.Entry{entries(emails(t, "x", 0, size), "L"), nil, nil}, func(i int, cfg *Config) {
		cfg.MaxBatch = 1 << 16
		if i == 0 {
			cfg.Logger = slog.New(logs)
			cfg.Partners[1].Budget = 0 // agency-2, the hostile partner, has no budget left
			cfg.Partners[1].Kinds = []string{"email"}
		}
	})
	start := time.Now()
	tn.publishAll()
	t.Logf("published %d entries in %v", size, time.Since(start).Round(time.Millisecond))
	node, honest, hostile := tn.nodes[0], tn.nodes[1], tn.nodes[2]
	addr := serve(t, node)
	url := "https://" + addr + PathPrefix + "evaluate"
	batch := evalBody(t, node.Filter(), 1000)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(honestAddr)}}
	hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{DialContext: d.DialContext, ForceAttemptHTTP2: true, TLSClientConfig: &tls.Config{
		MinVersion: tls.VersionTLS13, InsecureSkipVerify: true, Certificates: []tls.Certificate{*honest.certificate()}}}}
	// latencies times up to n batches, one after the other, the last
	// starting before until.
	latencies := func(n int, until time.Time) string {
		var ds []time.Duration
		for range n {
			if len(ds) > 0 && time.Now().After(until) {
				break
			}
			t0 := time.Now()
			resp, err := hc.Post(url, "application/octet-stream", bytes.NewReader(batch))
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("honest batch: %d", resp.StatusCode)
			}
			ds = append(ds, time.Since(t0))
		}
		slices.Sort(ds)
		return fmt.Sprintf("p50 %v p99 %v (n=%d)", ds[len(ds)/2].Round(time.Millisecond), ds[len(ds)*99/100].Round(time.Millisecond), n)
	}
	samples := max(1, envInt("FEDMATCH_LOAD_SAMPLES", 40))
	forever := time.Now().Add(time.Hour)
	latencies(3, forever) // connect, warm up
	t.Logf("node GOMAXPROCS %d; honest batch of 1000 alone: %s", runtime.GOMAXPROCS(0), latencies(samples, forever))

	// Maximum-size bodies, declaring 65536 elements, from a partner
	// without budget.
	hdr := evalBody(t, node.Filter(), 16)
	hdr = hdr[:len(hdr)-16*32]
	binary.BigEndian.PutUint32(hdr[len(hdr)-4:], 1<<16)
	mem := sampleMemory()
	baseRSS := procstat.KiB("VmRSS")
	cpu0 := cpuTime()
	child := flood(t, hostile, addr, "bodies", hex.EncodeToString(hdr), conns, secs)
	end := time.Now().Add(time.Duration(secs) * time.Second)
	time.Sleep(2 * time.Second) // the flood builds up
	during := latencies(samples, end.Add(-time.Second))
	out := child()
	peakHeap, peakRSS := mem()
	t.Logf("during the flood of %d connections with maximum-size bodies: honest %s; node process CPU %.1f s", conns, during, (cpuTime() - cpu0).Seconds())
	t.Logf("node process: heap in use peak %d MiB, RSS %d MiB before, peak %d MiB; flood: %s", peakHeap>>20, baseRSS>>10, peakRSS>>10, out)

	// Free requests: empty confirmations, evaluations beyond the budget,
	// of a refused kind and of too many elements, malformed bodies, as
	// fast as 16 clients can send them; and 500 idle connections.
	auditPath := node.cfg.StateDir + "/" + auditFile
	before, _ := os.Stat(auditPath)
	logsBefore := logs.n.Load()
	free := [][]byte{confirmBody(t, node.Filter(), 0), evalBody(t, node.Filter(), 1),
		evalBodyOf(t, node.Filter(), indicator.MustNew(indicator.Phone, "+41 44 668 18 00")), bytes.Clone(hdr), []byte("junk")}
	binary.BigEndian.PutUint32(free[3][len(free[3])-4:], 1<<17) // beyond MaxBatch
	var hexes []string
	for _, b := range free {
		hexes = append(hexes, hex.EncodeToString(b))
	}
	mem = sampleMemory()
	cpu0 = cpuTime()
	idle := func() string { return "none" }
	if n := envInt("FEDMATCH_LOAD_IDLE", 500); n > 0 {
		idle = flood(t, hostile, addr, "idle", "", n, secs)
	}
	child = flood(t, hostile, addr, "free", strings.Join(hexes, "/"), 16, secs)
	end = time.Now().Add(time.Duration(secs) * time.Second)
	time.Sleep(time.Second) // the flood builds up
	during = latencies(samples, end.Add(-time.Second))
	// A new connection of the honest partner, while the node refuses
	// the hostile partner's.
	t0 := time.Now()
	fresh := &http.Client{Timeout: time.Minute, Transport: &http.Transport{DialContext: d.DialContext, ForceAttemptHTTP2: true,
		TLSClientConfig: hc.Transport.(*http.Transport).TLSClientConfig}}
	if resp, err := fresh.Get("https://" + addr + PathPrefix + "health"); err != nil {
		t.Errorf("a new connection of the honest partner during the flood: %v", err)
	} else {
		resp.Body.Close()
		during += fmt.Sprintf("; a new connection's first request %v", time.Since(t0).Round(time.Millisecond))
	}
	fresh.CloseIdleConnections()
	out = child() + "; idle connections: " + idle()
	peakHeap, peakRSS = mem()
	during += fmt.Sprintf("; node process CPU %.1f s, heap in use peak %d MiB, RSS peak %d MiB", (cpuTime() - cpu0).Seconds(), peakHeap>>20, peakRSS>>10)
	mid, _ := os.Stat(auditPath)
	logsMid := logs.n.Load()
	node.Node.Close() // records the period's refusals
	after, _ := os.Stat(auditPath)
	t.Logf("during the flood of free requests: honest %s; flood: %s", during, out)
	t.Logf("audit log: +%d bytes during the %d s flood, +%d bytes at Close (the period's refusals); node log: +%d records during, +%d at Close",
		mid.Size()-before.Size(), secs, after.Size()-mid.Size(), logsMid-logsBefore, logs.n.Load()-logsMid)
}

// flood starts the hostile child and returns a function that waits for
// it and returns what it reports.
func flood(t *testing.T, p *testNode, addr, mode, body string, conns, secs int) func() string {
	cert := p.certificate()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLoadFloodChild$", "-test.count=1", "-test.v")
	if cpus := os.Getenv("FEDMATCH_FLOOD_CPUS"); cpus != "" {
		cmd = exec.Command("taskset", append([]string{"-c", cpus}, cmd.Args...)...)
	}
	cmd.Env = append(os.Environ(), floodAddrEnv+"="+addr, floodModeEnv+"="+mode,
		floodCertEnv+"="+hex.EncodeToString(cert.Certificate[0]),
		floodKeyEnv+"="+hex.EncodeToString(cert.PrivateKey.(ed25519.PrivateKey).Seed()), floodBodyEnv+"="+body,
		floodLocalEnv+"="+hostileAddr, "FEDMATCH_LOAD_CONNS="+strconv.Itoa(conns), "FEDMATCH_LOAD_SECONDS="+strconv.Itoa(secs))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var report string
	done := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if r, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "flood: "); ok {
				report = r
			}
		}
		close(done)
	}()
	return func() string {
		<-done
		cmd.Wait()
		cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		return fmt.Sprintf("%s, flood client CPU %.1f s", report, cpu.Seconds())
	}
}

// sampleMemory samples the heap in use and the RSS every 50 ms, until the
// returned function is called, which returns their peaks.
func sampleMemory() func() (heap uint64, rss uint64) {
	var stop atomic.Bool
	var peakHeap, peakRSS uint64
	done := make(chan struct{})
	go func() {
		defer close(done)
		var ms runtime.MemStats
		for !stop.Load() {
			runtime.ReadMemStats(&ms)
			peakHeap = max(peakHeap, ms.HeapInuse)
			peakRSS = max(peakRSS, procstat.KiB("VmRSS"))
			time.Sleep(50 * time.Millisecond)
		}
	}()
	return func() (uint64, uint64) {
		stop.Store(true)
		<-done
		return peakHeap, peakRSS
	}
}

// TestLoadFloodChild is the hostile partner of TestLoad, in a child
// process. Mode "bodies": conns clients each send evaluation requests
// whose header declares 65536 elements, with that many bytes of body,
// one after the other. Mode "free": conns clients over one HTTP/2
// connection send empty confirmations, evaluations beyond the budget and
// malformed bodies. Both stop after FEDMATCH_LOAD_SECONDS; the child
// prints "flood: " and the answers it had.
func TestLoadFloodChild(t *testing.T) {
	addr := os.Getenv(floodAddrEnv)
	if addr == "" {
		t.Skip("the child of TestLoad")
	}
	if n := envInt("FEDMATCH_FLOOD_NICE", 0); n > 0 {
		// The node and the flood share this machine's processors; a
		// niced flood measures what refusing costs the node rather
		// than what the flood's own work takes from it.
		if err := syscall.Setpriority(syscall.PRIO_PROCESS, 0, n); err != nil {
			t.Fatal(err)
		}
	}
	der, _ := hex.DecodeString(os.Getenv(floodCertEnv))
	seed, _ := hex.DecodeString(os.Getenv(floodKeyEnv))
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: ed25519.NewKeyFromSeed(seed)}
	conns, secs := envInt("FEDMATCH_LOAD_CONNS", 300), envInt("FEDMATCH_LOAD_SECONDS", 10)
	deadline := time.Now().Add(time.Duration(secs) * time.Second)
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS13, InsecureSkipVerify: true, Certificates: []tls.Certificate{cert}}
	dialer := &net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(os.Getenv(floodLocalEnv))}}
	var bodies [][]byte
	var shared *http.Client
	switch os.Getenv(floodModeEnv) {
	case "idle":
		fmt.Printf("flood: %s\n", idleConns(dialer, addr, tlsCfg, conns, deadline))
		return
	case "bodies":
		hdr, _ := hex.DecodeString(os.Getenv(floodBodyEnv))
		bodies = [][]byte{append(hdr, make([]byte, 32<<16)...)}
	default:
		for _, h := range strings.Split(os.Getenv(floodBodyEnv), "/") {
			b, _ := hex.DecodeString(h)
			bodies = append(bodies, b)
		}
		shared = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: dialer.DialContext, ForceAttemptHTTP2: true, TLSClientConfig: tlsCfg}}
	}
	var mu sync.Mutex
	answers := map[string]int{}
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := shared
			if c == nil {
				c = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: dialer.DialContext, TLSClientConfig: tlsCfg}}
			}
			for j := i; time.Now().Before(deadline); j++ {
				body := bodies[j%len(bodies)]
				path := "evaluate"
				if len(bodies) > 1 && j%len(bodies) == 0 {
					path = "confirm"
				}
				ctx, cancel := context.WithDeadline(context.Background(), deadline)
				req, _ := http.NewRequestWithContext(ctx, "POST", "https://"+addr+PathPrefix+path, bytes.NewReader(body))
				resp, err := c.Do(req)
				key := "error"
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					key = strconv.Itoa(resp.StatusCode)
				}
				cancel()
				mu.Lock()
				answers[key]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	fmt.Printf("flood: %v in %d s\n", answers, secs)
}

// idleConns holds conns connections to addr idle until deadline, the
// even ones after a TLS handshake as the partner, the odd ones before
// any; it opens a connection again 100 ms after the node closes one. It
// returns what happened to them.
func idleConns(d *net.Dialer, addr string, cfg *tls.Config, conns int, deadline time.Time) string {
	var opened, handshakes, refused, closed atomic.Int64
	var wg sync.WaitGroup
	for i := range conns {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				c, err := d.Dial("tcp", addr)
				if err != nil {
					time.Sleep(100 * time.Millisecond)
					continue
				}
				opened.Add(1)
				c.SetDeadline(deadline)
				if i%2 == 0 {
					tc := tls.Client(c, cfg)
					if err := tc.Handshake(); err != nil {
						refused.Add(1)
					} else {
						handshakes.Add(1)
					}
					c = tc
				}
				// Idle: a read that ends when the node closes the
				// connection, or at the deadline.
				var b [1]byte
				_, err = c.Read(b[:])
				c.Close()
				if time.Now().Before(deadline) {
					if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
						closed.Add(1)
					}
					time.Sleep(100 * time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	return fmt.Sprintf("%d connections opened, %d handshakes made, %d refused, %d closed by the node before the end",
		opened.Load(), handshakes.Load(), refused.Load(), closed.Load())
}
