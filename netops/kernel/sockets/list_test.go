package sockets

import (
	"context"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// nsSockets are sockets a test opened inside a namespace.
type nsSockets struct {
	listener, listener6, boundDev net.Listener
	client, server                net.Conn
	udp                           net.PacketConn
	udpConnected                  net.Conn
}

// openSockets opens, inside ns, a TCP listener and an accepted connection
// on 127.0.0.1, an IPv6 listener on ::1, a listener bound to lo, an
// unconnected and a connected UDP socket. The client writes 5 bytes that
// the server never reads.
func openSockets(t *testing.T, ns *testenv.NS) *nsSockets {
	t.Helper()
	s := &nsSockets{}
	ns.Do(func() {
		var err error
		check := func(what string, err error) bool {
			if err != nil {
				t.Errorf("%s: %v", what, err)
			}
			return err == nil
		}
		if s.listener, err = net.Listen("tcp4", "127.0.0.1:0"); !check("listen tcp4", err) {
			return
		}
		if s.client, err = net.Dial("tcp4", s.listener.Addr().String()); !check("dial", err) {
			return
		}
		if s.listener6, err = net.Listen("tcp6", "[::1]:0"); !check("listen tcp6", err) {
			return
		}
		lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
			var err error
			if cerr := c.Control(func(fd uintptr) { err = unix.BindToDevice(int(fd), "lo") }); cerr != nil {
				return cerr
			}
			return err
		}}
		if s.boundDev, err = lc.Listen(context.Background(), "tcp4", "127.0.0.1:0"); !check("listen bound to lo", err) {
			return
		}
		if s.udp, err = net.ListenPacket("udp4", "127.0.0.1:0"); !check("listen udp", err) {
			return
		}
		s.udpConnected, err = net.Dial("udp4", s.udp.LocalAddr().String())
		check("dial udp", err)
	})
	t.Cleanup(func() {
		for _, c := range []interface{ Close() error }{s.listener, s.listener6, s.boundDev, s.client, s.server, s.udp, s.udpConnected} {
			if c != nil {
				c.Close()
			}
		}
	})
	if t.Failed() {
		t.FailNow()
	}
	var err error
	if s.server, err = s.listener.Accept(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.client.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	return s
}

// fdOf returns the file descriptor number of a net socket.
func fdOf(t *testing.T, c any) int {
	t.Helper()
	sc, ok := c.(syscall.Conn)
	if !ok {
		t.Fatalf("%T has no file descriptor", c)
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var fd int
	raw.Control(func(f uintptr) { fd = int(f) })
	return fd
}

func addrPort(a net.Addr) netip.AddrPort {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.AddrPort()
	case *net.UDPAddr:
		return a.AddrPort()
	}
	return netip.AddrPort{}
}

func find(socks []Socket, proto string, local, remote netip.AddrPort) (Socket, bool) {
	for _, s := range socks {
		if s.Proto == proto && s.Local == local && s.Remote == remote {
			return s, true
		}
	}
	return Socket{}, false
}

// listUntil lists ns until ok holds, for state the kernel settles shortly
// after a call returns (queued bytes).
func listUntil(t *testing.T, h netns.NsHandle, ok func([]Socket) bool) []Socket {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		socks, err := List(h)
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		if ok(socks) || time.Now().After(deadline) {
			return socks
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func selfComm(t *testing.T) string {
	b, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestListShowsTheNamespacesSockets(t *testing.T) {
	ns := testenv.NewNS(t)
	s := openSockets(t, ns)
	serverEnd := func(socks []Socket) bool {
		got, ok := find(socks, "tcp", addrPort(s.server.LocalAddr()), addrPort(s.server.RemoteAddr()))
		return ok && got.RecvQ == 5
	}
	socks := listUntil(t, ns.Handle(), serverEnd)

	any4, any6 := netip.AddrPortFrom(netip.IPv4Unspecified(), 0), netip.AddrPortFrom(netip.IPv6Unspecified(), 0)
	me := func(c any) []Process { return []Process{{PID: os.Getpid(), Name: selfComm(t), FD: fdOf(t, c)}} }
	tests := []struct {
		name      string
		proto     string
		local     netip.AddrPort
		remote    netip.AddrPort
		family    uint8
		state     string
		recvQ     uint32
		iface     int32
		processes []Process
	}{
		{"a TCP listener on 127.0.0.1", "tcp", addrPort(s.listener.Addr()), any4, unix.AF_INET, "LISTEN", 0, 0, me(s.listener)},
		{"the client end of a connection", "tcp", addrPort(s.client.LocalAddr()), addrPort(s.client.RemoteAddr()), unix.AF_INET, "ESTAB", 0, 0, me(s.client)},
		{"the server end holding 5 unread bytes", "tcp", addrPort(s.server.LocalAddr()), addrPort(s.server.RemoteAddr()), unix.AF_INET, "ESTAB", 5, 0, me(s.server)},
		{"a TCP listener on ::1", "tcp", addrPort(s.listener6.Addr()), any6, unix.AF_INET6, "LISTEN", 0, 0, me(s.listener6)},
		{"a listener bound to lo", "tcp", addrPort(s.boundDev.Addr()), any4, unix.AF_INET, "LISTEN", 0, 1, me(s.boundDev)},
		{"an unconnected UDP socket", "udp", addrPort(s.udp.LocalAddr()), any4, unix.AF_INET, "UNCONN", 0, 0, me(s.udp)},
		{"a connected UDP socket", "udp", addrPort(s.udpConnected.LocalAddr()), addrPort(s.udpConnected.RemoteAddr()), unix.AF_INET, "ESTAB", 0, 0, me(s.udpConnected)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := find(socks, tt.proto, tt.local, tt.remote)
			if !ok {
				t.Fatalf("no %s socket %v -> %v in %+v", tt.proto, tt.local, tt.remote, socks)
			}
			if got.Family != tt.family || got.State != tt.state || got.RecvQ != tt.recvQ || got.Interface != tt.iface {
				t.Errorf("family %d state %s recv-q %d interface %d; want %d %s %d %d",
					got.Family, got.State, got.RecvQ, got.Interface, tt.family, tt.state, tt.recvQ, tt.iface)
			}
			if got.Inode == 0 || got.Cookie == 0 {
				t.Errorf("inode %d cookie %d, want both set", got.Inode, got.Cookie)
			}
			if !slices.Equal(got.Processes, tt.processes) {
				t.Errorf("processes %+v, want %+v", got.Processes, tt.processes)
			}
		})
	}
	if len(socks) != len(tests) {
		t.Errorf("List returned %d sockets, want exactly the %d this test opened: %+v", len(socks), len(tests), socks)
	}
	if !slices.IsSortedFunc(socks, compareSockets) {
		t.Error("List output is not sorted")
	}
}

func TestListOfAnotherNamespaceDoesNotSeeTheseSockets(t *testing.T) {
	a, b := testenv.NewNS(t), testenv.NewNS(t)
	openSockets(t, a)
	socks, err := List(b.Handle())
	if err != nil {
		t.Fatal(err)
	}
	if len(socks) != 0 {
		t.Errorf("a fresh namespace lists %+v, want nothing", socks)
	}
}

func TestListWithNoneUsesTheCallingThreadsNamespace(t *testing.T) {
	ns := testenv.NewNS(t)
	s := openSockets(t, ns)
	var (
		socks []Socket
		err   error
	)
	ns.Do(func() { socks, err = List(netns.None()) })
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := find(socks, "tcp", addrPort(s.listener.Addr()), netip.AddrPortFrom(netip.IPv4Unspecified(), 0)); !ok {
		t.Errorf("the namespace's listener is missing from %+v", socks)
	}
}

func TestListLeavesTheCallersNamespaceAlone(t *testing.T) {
	ns := testenv.NewNS(t)
	before, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer before.Close()
	for range 20 { // enough calls to reuse runtime threads
		if _, err := List(ns.Handle()); err != nil {
			t.Fatal(err)
		}
		now, err := netns.Get()
		if err != nil {
			t.Fatal(err)
		}
		same := now.Equal(before)
		now.Close()
		if !same {
			t.Fatal("List left this thread in another network namespace")
		}
	}
}

func TestListFailsOnAHandleThatIsNoNamespace(t *testing.T) {
	f, err := os.Open("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = List(netns.NsHandle(f.Fd()))
	if err == nil || !strings.Contains(err.Error(), "entering network namespace") {
		t.Errorf("List on a plain file: %v, want an error entering the namespace", err)
	}
}
