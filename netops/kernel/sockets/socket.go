package sockets

import (
	"net/netip"
	"strconv"

	"golang.org/x/sys/unix"
)

// Socket is one TCP or UDP socket.
type Socket struct {
	Proto  string // "tcp" or "udp"
	Family uint8  // unix.AF_INET or unix.AF_INET6
	// State is the name ss prints: LISTEN, ESTAB, SYN-SENT, SYN-RECV,
	// FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT, CLOSE-WAIT, LAST-ACK, CLOSING,
	// UNCONN (an unconnected UDP socket) or UNKNOWN.
	State string
	// Local and Remote are the socket's ends. An unbound or unconnected end
	// is the unspecified address of Family with port 0 (ss prints "*").
	// IPv4-mapped IPv6 addresses stay mapped, as ss prints them.
	Local, Remote netip.AddrPort
	// RecvQ and SendQ are ss's Recv-Q and Send-Q. For a listener they are
	// the accept queue length and its limit (the backlog).
	RecvQ, SendQ uint32
	UID          uint32
	Inode        uint32 // 0 for TIME-WAIT and SYN-RECV entries, which have no file
	Interface    int32  // index of the device the socket is bound to, or 0
	Cookie       uint64 // the kernel's socket cookie: unique while the socket lives
	// V6Only is set for an IPv6 listener or unconnected socket that takes
	// IPv6 only (IPV6_V6ONLY); without it, one bound to :: takes IPv4 too.
	// The kernel says so only of those states (INET_DIAG_SKV6ONLY).
	V6Only bool
	// Processes hold the socket open, sorted by PID then FD; more than one
	// after fork. Empty when no process has it (TIME-WAIT, or the owner is
	// hidden from this process's /proc).
	Processes []Process
}

// Process is a holder of a socket, what `ss -p` prints as
// users:(("name",pid=N,fd=M)).
type Process struct {
	PID  int
	Name string // the command name from /proc/PID/comm, at most 15 bytes
	FD   int
}

// Listening reports whether ss -l would show the socket: a TCP listener or
// an unconnected UDP socket.
func (s Socket) Listening() bool { return s.State == "LISTEN" || s.State == "UNCONN" }

// Kernel TCP states (include/net/tcp_states.h), which UDP reuses.
const (
	tcpEstablished = 1
	tcpClose       = 7
	tcpListen      = 10
	tcpNewSynRecv  = 12
)

// stateNames are ss's names for kernel states (ss.c sstate_name).
var stateNames = [...]string{
	0:              "UNKNOWN",
	tcpEstablished: "ESTAB",
	2:              "SYN-SENT",
	3:              "SYN-RECV",
	4:              "FIN-WAIT-1",
	5:              "FIN-WAIT-2",
	6:              "TIME-WAIT",
	tcpClose:       "UNCONN",
	8:              "CLOSE-WAIT",
	9:              "LAST-ACK",
	tcpListen:      "LISTEN",
	11:             "CLOSING",
}

func stateName(code uint8) string {
	if int(code) < len(stateNames) {
		return stateNames[code]
	}
	return "UNKNOWN"
}

// stateRank orders states in List's output: what ss -l shows first, then
// the others in kernel order.
func stateRank(name string) int {
	switch name {
	case "LISTEN":
		return 0
	case "UNCONN":
		return 1
	}
	for i, n := range stateNames {
		if n == name {
			return 2 + i
		}
	}
	return 2 + len(stateNames)
}

// End prints one of s's ends (Local or Remote) as ss -n does: "[v6]:port",
// "*" for port 0, and "*" for the address :: of an IPv6 socket that takes
// IPv4 too, which is how ss tells a dual-stack listener from an IPv6-only
// one ("[::]").
func (s Socket) End(ap netip.AddrPort) string {
	a := ap.Addr().String()
	switch {
	case ap.Addr().Is6() && ap.Addr().IsUnspecified() && s.Family == unix.AF_INET6 && !s.V6Only:
		a = "*"
	case ap.Addr().Is6():
		a = "[" + a + "]"
	}
	port := "*"
	if ap.Port() != 0 {
		port = strconv.Itoa(int(ap.Port()))
	}
	return a + ":" + port
}
