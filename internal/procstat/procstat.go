// Package procstat reads figures of the running process from
// /proc/self/status, for the tests and harnesses that measure memory.
package procstat

import (
	"os"
	"strconv"
	"strings"
)

// KiB returns a field of /proc/self/status in KiB, such as "VmRSS" (the
// resident set) or "VmHWM" (its peak), or 0 if it is missing (as on
// systems without /proc).
func KiB(field string) uint64 {
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
