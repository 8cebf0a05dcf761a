// Package cputime reads the CPU time this process has used, for the
// benchmarks: on a box shared with other work, a benchmark's wall time
// counts its waits for a core too, its CPU time does not. It imports
// nothing of netpanel, so that every package's tests can use it (the
// model's own tests cannot import benchfix, which imports the model).
package cputime

import (
	"os"
	"strconv"
	"strings"
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

// Waited is how long this process's threads have waited for a core,
// runnable but not running (their run delay in /proc/self/task/*/schedstat),
// summed; ok is false when the kernel does not tell. On a shared box it
// shows how much other processes (and the process's own other threads)
// held the cores; summed over threads, it may exceed the wall time it
// delayed. A
// thread that has exited no longer counts: read it around work that the
// process's long-lived threads do (the Go runtime keeps its threads).
func Waited() (d time.Duration, ok bool) {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return 0, false
	}
	for _, t := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + t.Name() + "/schedstat")
		if err != nil {
			continue // the thread exited meanwhile
		}
		// "time on the CPU, time waiting for one, timeslices", in ns.
		f := strings.Fields(string(b))
		if len(f) < 2 {
			return 0, false
		}
		ns, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return 0, false
		}
		d, ok = d+time.Duration(ns), true
	}
	return d, ok
}
