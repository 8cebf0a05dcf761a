package sockets

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// procRoot is where processes are looked up; tests point it elsewhere.
var procRoot = "/proc"

// dumps are the sock_diag requests List makes, in order.
var dumps = []struct {
	proto    string
	protocol uint8
	family   uint8
}{
	{"tcp", unix.IPPROTO_TCP, unix.AF_INET},
	{"tcp", unix.IPPROTO_TCP, unix.AF_INET6},
	{"udp", unix.IPPROTO_UDP, unix.AF_INET},
	{"udp", unix.IPPROTO_UDP, unix.AF_INET6},
}

// List returns every TCP and UDP socket, IPv4 and IPv6, of the network
// namespace ns, in every state `ss -tuna` shows, with the processes holding
// each. Pass netns.None() for the calling thread's own namespace (the
// host's, unless the caller locked its thread into another one).
//
// The order is stable: by Proto, then listening sockets (LISTEN, UNCONN)
// before the others in kernel state order, then IPv4 before IPv6, then
// Local, Remote and Inode. ss itself prints in kernel hash order.
//
// A dump the kernel marks as interrupted by concurrent changes is
// repeated, a few times at most.
func List(ns netns.NsHandle) ([]Socket, error) {
	fd, err := openDiag(ns)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	d := dumper{fd: fd, buf: make([]byte, 64<<10)}
	var out []Socket
	for _, q := range dumps {
		if out, err = d.dump(q.family, q.protocol, q.proto, out); err != nil {
			return nil, fmt.Errorf("listing %s sockets (%s): %w", q.proto, familyName(q.family), err)
		}
	}
	addProcesses(out)
	slices.SortFunc(out, compareSockets)
	return out, nil
}

func familyName(f uint8) string {
	if f == unix.AF_INET6 {
		return "IPv6"
	}
	return "IPv4"
}

func addProcesses(socks []Socket) {
	want := make(map[uint32][]Process, len(socks))
	for _, s := range socks {
		if s.Inode != 0 {
			want[s.Inode] = nil
		}
	}
	socketOwners(procRoot, want)
	for i := range socks {
		if s := &socks[i]; s.Inode != 0 {
			s.Processes = want[s.Inode]
		}
	}
}

func compareSockets(a, b Socket) int {
	return cmp.Or(
		cmp.Compare(a.Proto, b.Proto),
		cmp.Compare(stateRank(a.State), stateRank(b.State)),
		cmp.Compare(a.Family, b.Family),
		a.Local.Compare(b.Local),
		a.Remote.Compare(b.Remote),
		cmp.Compare(a.Inode, b.Inode),
		cmp.Compare(a.Cookie, b.Cookie),
	)
}
