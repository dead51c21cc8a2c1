package procstat

import (
	"runtime"
	"testing"
)

func TestKiB(t *testing.T) {
	if runtime.GOOS != "linux" {
		if KiB("VmRSS") != 0 {
			t.Fatal("a resident set without /proc")
		}
		return
	}
	rss, peak := KiB("VmRSS"), KiB("VmHWM")
	if rss == 0 || peak < rss {
		t.Fatalf("VmRSS %d KiB, VmHWM %d KiB", rss, peak)
	}
	if KiB("NoSuchField") != 0 || KiB("VmRSS:") != 0 {
		t.Fatal("a field that is not there")
	}
}
