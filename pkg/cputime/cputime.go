// Package cputime reads the CPU time this process has spent: what the
// speed figures (replay's summary, the benchmarks) divide by, since on a
// shared machine wall-clock time varies with the other load more than
// CPU time does.
package cputime

import (
	"syscall"
	"time"
)

// Process is the CPU time, user and system, of every thread of this
// process so far (the collector's and cgo's included); 0 if the kernel
// does not say.
func Process() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
