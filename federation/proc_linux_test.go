package federation

import (
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
