package match

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/fedmatch/fedmatch/internal/procstat"
	"github.com/fedmatch/fedmatch/match/indicator"
)

// TestPublishMemory measures what publishing costs in memory: the peak
// resident set of this process while it publishes FEDMATCH_PUBLISH_MEM
// entries (SHA-256 indicators, each with a 12-byte label, made one at a
// time as a feed reader would), above the resident set before, against
// the filter's size. It fails when the peak is above the filter's size
// plus 40 MiB, issue 12's bound. Run it alone, so that nothing else in
// the process holds memory:
//
//	FEDMATCH_PUBLISH_MEM=1000000 go test -run '^TestPublishMemory$' -v ./match
func TestPublishMemory(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("FEDMATCH_PUBLISH_MEM"))
	if n <= 0 {
		t.Skip("a measurement: set FEDMATCH_PUBLISH_MEM to the number of entries")
	}
	hint, _ := strconv.Atoi(os.Getenv("FEDMATCH_PUBLISH_HINT"))
	labels := os.Getenv("FEDMATCH_PUBLISH_LABELS") != ""
	key := testKey(t, SuiteRistretto255, 1)
	runtime.GC()
	before := procstat.KiB("VmRSS")
	entries := func(yield func(Entry) bool) {
		var b [8]byte
		for i := range n {
			binary.BigEndian.PutUint64(b[:], uint64(i))
			h := sha256.Sum256(b[:])
			ind, err := indicator.New(indicator.SHA256, hex.EncodeToString(h[:]))
			if err != nil {
				panic(err)
			}
			e := Entry{Indicator: ind}
			if labels {
				e.Label = fmt.Sprintf("case %07d", i%10_000_000)
			}
			if !yield(e) {
				return
			}
		}
	}
	start := time.Now()
	p, err := Publish(key, entries, &PublishOptions{SizeHint: hint})
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	peak := procstat.KiB("VmHWM")
	filter := p.Filter().Size()
	above := int64(peak) - int64(before)
	t.Logf("%d entries in %v on %d cores: peak resident set %.1f MiB, %.1f MiB above the %.1f MiB before; filter %.2f MiB; above the filter: %.1f MiB",
		n, elapsed.Round(time.Millisecond), runtime.GOMAXPROCS(0), float64(peak)/1024, float64(above)/1024,
		float64(before)/1024, float64(filter)/(1<<20), float64(above)/1024-float64(filter)/(1<<20))
	if limit := int64(filter)/1024 + 40<<10; above > limit {
		t.Errorf("peak %d KiB above the start, more than the filter plus 40 MiB (%d KiB)", above, limit)
	}
	runtime.KeepAlive(p)
}
