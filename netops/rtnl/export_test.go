package rtnl

// ReadAhead is how many datagrams DumpLocked holds at most.
const ReadAhead = readAhead

// SetReadAheadWait calls f with the datagrams DumpLocked holds each time
// it stops reading ahead to wait for the lock, until restore.
func SetReadAheadWait(f func(held int)) (restore func()) {
	was := readAheadWait
	readAheadWait = f
	return func() { readAheadWait = was }
}

// Helping reports whether a goroutine helps (Help) the lanes.
func (l *Lanes) Helping() bool { return l.helping.Load() }

// Helped is the datagrams Help decoded; read after Help returned.
func (l *Lanes) Helped() int { return l.helped }
