package model

import (
	"sync"

	"golang.org/x/sys/unix"
)

// KernelTime is the kernel's clock for address lifetimes and route
// expiries, in hundredths of a second since boot: the time base of
// IFA_CACHEINFO's timestamps (jiffies since boot). The kernel counts a
// lifetime down in whole seconds from such a timestamp, so an answer
// computed later must use the same clock: CLOCK_MONOTONIC runs about a
// tenth of a second apart from it, enough to be a second off near every
// tick of the count. It wraps after 497 days; compare with differences.
func KernelTime() uint32 {
	if base, ok := jiffiesBase(); ok {
		var tms unix.Tms
		if t, err := unix.Times(&tms); err == nil {
			return uint32(int64(t) - base)
		}
	}
	return monotonicCS()
}

func monotonicCS() uint32 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0
	}
	return uint32(ts.Sec*100 + ts.Nsec/10_000_000)
}

// jiffiesBase finds what to subtract from times(2) (jiffies_64 in
// hundredths, which start at INITIAL_JIFFIES = 2^32 - 300*HZ) to get
// hundredths since boot as IFA_CACHEINFO gives them. HZ is not known to
// user space; of the values kernels are built with, only the right one
// lands near CLOCK_MONOTONIC (the others are months away). ok is false
// when none does (a 32-bit times(2) that wrapped): callers then use
// CLOCK_MONOTONIC.
var jiffiesBase = sync.OnceValues(func() (int64, bool) {
	var tms unix.Tms
	t, err := unix.Times(&tms)
	if err != nil {
		return 0, false
	}
	mono := int64(monotonicCS())
	for _, hz := range []int64{100, 250, 300, 1000, 1024, 1200, 24, 32, 48, 64, 128, 200, 256, 500, 512} {
		base := (int64(1)<<32)*100/hz - 300*100
		if d := int64(t) - base - mono; d > -60_000 && d < 60_000 {
			return base, true
		}
	}
	return 0, false
})
