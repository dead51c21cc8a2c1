//go:build linux

package federation

import (
	"bufio"
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedmatch/fedmatch/internal/procstat"
)

// genAuditLog writes to dir a valid audit log of n records (evaluations of
// one partner, 100,000 to an epoch), signed on every core, and its head.
func genAuditLog(t testing.TB, dir, nodeID string, key ed25519.PrivateKey, n int) {
	f, err := os.OpenFile(filepath.Join(dir, auditFile), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	c := start(nodeID)
	for from := 0; from < n; from += 8192 {
		var b []byte
		b, c = figuresRecords(key, c, from, min(8192, n-from))
		w.Write(b)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Sync()
	f.Close()
	s, err := openFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	if err := newAuditLog(s, nodeID, key, c).writeHead(c); err != nil {
		t.Fatal(err)
	}
}

// TestAuditFigures measures a node's start (openAudit on a state
// directory) and a full VerifyAudit as a function of the audit log's
// length. It is skipped unless FEDMATCH_AUDIT_FIGURES lists sizes, e.g.
//
//	FEDMATCH_AUDIT_FIGURES=10000,100000,1000000 go test -run '^TestAuditFigures$' -v -timeout 30m ./federation
//
// Each measurement runs in a child process (this test binary, with
// TestAuditFiguresChild selected), which reports its time, the CPU time
// it used, the bytes it allocated and its peak heap (sampled every
// millisecond); the child
// reports its peak RSS too.
func TestAuditFigures(t *testing.T) {
	list := os.Getenv("FEDMATCH_AUDIT_FIGURES")
	if list == "" {
		t.Skip("set FEDMATCH_AUDIT_FIGURES to a list of sizes")
	}
	key := figuresKey()
	t.Logf("%9s %10s | %-59s | %-59s", "records", "log MiB", "start (openAudit): time (CPU), alloc, peak heap, peak RSS", "VerifyAudit: time (CPU), alloc, peak heap, peak RSS")
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.Atoi(f)
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(t.TempDir(), "state")
		os.Mkdir(dir, 0o700)
		genStart := time.Now()
		genAuditLog(t, dir, "figures", key, n)
		st, err := os.Stat(filepath.Join(dir, auditFile))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("generated %d records in %v", n, time.Since(genStart).Round(time.Millisecond))
		row := fmt.Sprintf("%9d %10.1f", n, float64(st.Size())/(1<<20))
		for _, op := range []string{"open", "verify"} {
			cmd := exec.Command(os.Args[0], "-test.run=^TestAuditFiguresChild$", "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), "FEDMATCH_FIGURES_DIR="+dir, "FEDMATCH_FIGURES_OP="+op)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", op, err, out)
			}
			var us, alloc, peak, rss, cpu uint64
			for _, line := range strings.Split(string(out), "\n") {
				if strings.HasPrefix(line, "figures ") {
					fmt.Sscanf(line, "figures %d %d %d %d %d", &us, &alloc, &peak, &rss, &cpu)
				}
			}
			row += fmt.Sprintf(" | %10v (CPU %10v) %9.1f MiB %9.1f MiB %7.1f MiB", time.Duration(us)*time.Microsecond,
				time.Duration(cpu)*time.Microsecond, float64(alloc)/(1<<20), float64(peak)/(1<<20), float64(rss)/1024)
		}
		t.Log(row)
	}
}

// TestAuditFiguresChild is the child of TestAuditFigures.
func TestAuditFiguresChild(t *testing.T) {
	dir := os.Getenv("FEDMATCH_FIGURES_DIR")
	if dir == "" {
		t.Skip("only run as the child of TestAuditFigures")
	}
	key := figuresKey()
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	base := sample[0].Value.Uint64()
	var peak atomic.Uint64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > base && v-base > peak.Load() {
				peak.Store(v - base)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	cpu0 := cpuTime()
	start := time.Now()
	switch os.Getenv("FEDMATCH_FIGURES_OP") {
	case "open":
		s, err := openFS(dir)
		if err != nil {
			t.Fatal(err)
		}
		a, sum, err := openAudit(s, "figures", key)
		if err != nil {
			t.Fatal(err)
		}
		a.close()
		s.close()
		_ = sum
	case "verify":
		if _, err := VerifyAudit(dir, "figures", key.Public().(ed25519.PublicKey)); err != nil {
			t.Fatal(err)
		}
	}
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	close(stop)
	<-done
	runtime.ReadMemStats(&m1)
	fmt.Printf("figures %d %d %d %d %d\n", elapsed.Microseconds(), m1.TotalAlloc-m0.TotalAlloc, peak.Load(), procstat.KiB("VmHWM"), cpu.Microseconds())
}

func figuresKey() ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	copy(seed, "fedmatch audit figures")
	return ed25519.NewKeyFromSeed(seed)
}

// figuresRecords encodes records [from, from+n) of a log after the
// checkpoint c, signing them on every core; it returns their bytes and
// the checkpoint after them.
func figuresRecords(key ed25519.PrivateKey, c checkpoint, from, n int) ([]byte, checkpoint) {
	recs := make([]AuditRecord, n)
	payloads := make([][]byte, n)
	hashes := make([][32]byte, n)
	last := c.hash
	for i := range n {
		recs[i] = AuditRecord{Seq: uint64(from + i), Time: time.Unix(1_700_000_000+int64(from+i), 0), Type: AuditEvaluation,
			Partner: "agency-1", Epoch: 1 + uint64(from+i)/100_000, Count: 1000, Detail: "email"}
		payloads[i] = recs[i].payload()
		last = chain(last, payloads[i])
		hashes[i] = last
	}
	sigs := make([][]byte, n)
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				sigs[i] = ed25519.Sign(key, append([]byte(labelAuditRec), hashes[i][:]...))
			}
		})
	}
	wg.Wait()
	var b []byte
	for i := range n {
		start := len(b)
		b = binary.BigEndian.AppendUint32(b, uint32(len(payloads[i])))
		b = append(b, payloads[i]...)
		b = append(b, hashes[i][:]...)
		b = append(b, sigs[i]...)
		c.add(&recs[i], hashes[i], len(b)-start)
	}
	return b, c
}
