package sockets

import (
	"fmt"
	"net/netip"
	"reflect"
	"testing"

	"golang.org/x/sys/unix"
)

// FuzzParseDump feeds arbitrary datagrams to the netlink reply parser: it
// must not panic, and every socket it returns must encode back to a
// message that parses to the same socket.
func FuzzParseDump(f *testing.F) {
	s := Socket{Proto: "tcp", Family: unix.AF_INET6, State: "ESTAB",
		Local: netip.MustParseAddrPort("[2001:db8::1]:443"), Remote: netip.MustParseAddrPort("[2001:db8::2]:5000"), Inode: 9}
	f.Add(nlmsg(unix.SOCK_DIAG_BY_FAMILY, unix.NLM_F_MULTI, 1, encodeDiagMsg(s, tcpEstablished)))
	f.Add(nlmsg(unix.NLMSG_DONE, unix.NLM_F_MULTI, 1, errnoPayload(0)))
	f.Add(nlmsg(unix.NLMSG_ERROR, 0, 1, errnoPayload(-1)))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 20, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, buf []byte) {
		_, _, _ = parseDump(buf, 1, "tcp", func(got Socket) {
			if got.Family != unix.AF_INET && got.Family != unix.AF_INET6 {
				t.Fatalf("socket of family %d", got.Family)
			}
			code := uint8(0)
			for i, n := range stateNames {
				if n == got.State {
					code = uint8(i)
				}
			}
			again, err := parseDiagMsg(encodeDiagMsg(got, code), "tcp")
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Fatalf("socket %+v does not round-trip: %+v, %v", got, again, err)
			}
		})
	})
}

// FuzzParseSocketLink checks the /proc fd link parser never panics and
// reads back what a socket link says.
func FuzzParseSocketLink(f *testing.F) {
	for _, s := range []string{"socket:[12345]", "socket:[]", "pipe:[1]", "socket:[4294967296]", "socket:[+1]", "anon_inode:[eventfd]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ino, ok := parseSocketLink(s)
		if !ok {
			return
		}
		if back, ok2 := parseSocketLink(fmt.Sprintf("socket:[%d]", ino)); !ok2 || back != ino {
			t.Fatalf("%q read as %d, which does not round-trip", s, ino)
		}
	})
}
