// Package cputime reads the CPU time this process has used, for the
// benchmarks: on a box shared with other work, a benchmark's wall time
// counts its waits for a core too, its CPU time does not. It imports
// nothing of netpanel, so that every package's tests can use it (the
// model's own tests cannot import benchfix, which imports the model).
package cputime

import (
	"time"

	"golang.org/x/sys/unix"
)

// Process is the CPU time, user and system, this process has used (0
// when the kernel does not tell).
func Process() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
