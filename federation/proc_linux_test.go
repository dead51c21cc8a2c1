package federation

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The figures harnesses (TestAuditFigures, TestLoad) measure the process
// they run in with these.

// cpuTime returns the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procStatusKiB returns a field of /proc/self/status in KiB, such as
// "VmRSS" (the resident set) or "VmHWM" (its peak), or 0 if it is missing.
// (The parent's rusage would not do for a child's peak: it counts the
// parent's memory at the fork.)
func procStatusKiB(field string) uint64 {
	data, _ := os.ReadFile("/proc/self/status")
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			if f := strings.Fields(rest); len(f) > 0 {
				kb, _ := strconv.ParseUint(f[0], 10, 64)
				return kb
			}
		}
	}
	return 0
}
