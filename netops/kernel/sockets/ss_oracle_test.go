package sockets

import (
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/internal/testenv"
)

// ssLine is one socket as `ss -tunaepH` prints it, reduced to what List
// reports.
type ssLine struct {
	Netid, State string
	RecvQ, SendQ uint32
	Local, Peer  string // "addr%iface:port" as printed
	Inode        uint32
	Users        string // the users:((...)) text, or ""
}

var (
	ssInode = regexp.MustCompile(`\bino:(\d+)`)
	ssUsers = regexp.MustCompile(`users:\((.*?\))\)`)
)

func parseSS(t *testing.T, out string) map[string]ssLine {
	t.Helper()
	lines := map[string]ssLine{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		f := strings.Fields(l)
		if len(f) < 6 {
			t.Fatalf("unexpected ss line %q", l)
		}
		rq, err1 := strconv.ParseUint(f[2], 10, 32)
		wq, err2 := strconv.ParseUint(f[3], 10, 32)
		if err1 != nil || err2 != nil {
			t.Fatalf("unexpected queues in ss line %q", l)
		}
		s := ssLine{Netid: f[0], State: f[1], RecvQ: uint32(rq), SendQ: uint32(wq), Local: f[4], Peer: f[5]}
		if m := ssInode.FindStringSubmatch(l); m != nil {
			n, _ := strconv.ParseUint(m[1], 10, 32)
			s.Inode = uint32(n)
		}
		if m := ssUsers.FindStringSubmatch(l); m != nil {
			s.Users = m[1]
		}
		lines[s.Netid+" "+s.Local+" "+s.Peer] = s
	}
	return lines
}

// ssFormat writes s the way ss -n prints it, so the two can be compared.
func ssFormat(s Socket, ifnames map[int32]string) ssLine {
	addr := func(ap netip.AddrPort, local bool) string {
		e := s.End(ap)
		if local && s.Interface != 0 {
			i := strings.LastIndexByte(e, ':')
			e = e[:i] + "%" + ifnames[s.Interface] + e[i:]
		}
		return e
	}
	var users []string
	for _, p := range s.Processes {
		users = append(users, fmt.Sprintf("(%q,pid=%d,fd=%d)", p.Name, p.PID, p.FD))
	}
	return ssLine{
		Netid: s.Proto, State: s.State, RecvQ: s.RecvQ, SendQ: s.SendQ,
		Local: addr(s.Local, true), Peer: addr(s.Remote, false), Inode: s.Inode,
		Users: strings.Join(users, ","),
	}
}

// TestListAgreesWithSs compares every socket List finds with what ss
// prints for the same namespace: the same set, states, queues, addresses,
// inodes and owning processes.
func TestListAgreesWithSs(t *testing.T) {
	testenv.RequireTool(t, "ss")
	ns := testenv.NewNS(t)
	s := openSockets(t, ns)

	// A closed connection leaves the closing side in TIME-WAIT, which has
	// no inode and no process.
	var ln net.Listener
	var c net.Conn
	ns.Do(func() {
		var err error
		if ln, err = net.Listen("tcp4", "127.0.0.2:0"); err != nil {
			t.Error(err)
			return
		}
		if c, err = net.Dial("tcp4", ln.Addr().String()); err != nil {
			t.Error(err)
		}
		// On :: Go listens dual-stack ("tcp", "udp": ss prints *) or
		// IPv6 only ("tcp6": ss prints [::]).
		for _, l := range []struct{ network, addr string }{{"tcp", ":0"}, {"tcp6", "[::]:0"}} {
			dual, err := net.Listen(l.network, l.addr)
			if err != nil {
				t.Error(err)
				return
			}
			t.Cleanup(func() { dual.Close() })
		}
		udp, err := net.ListenPacket("udp", ":0")
		if err != nil {
			t.Error(err)
			return
		}
		t.Cleanup(func() { udp.Close() })
	})
	if t.Failed() {
		t.FailNow()
	}
	srv, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	srv.Close()
	ln.Close()

	var links []struct {
		Ifindex int32
		Ifname  string
	}
	ns.IPJSON(&links, "link", "show")
	ifnames := map[int32]string{}
	for _, l := range links {
		ifnames[l.Ifindex] = l.Ifname
	}

	settled := func(socks []Socket) bool {
		tw := false
		for _, x := range socks {
			tw = tw || x.State == "TIME-WAIT"
		}
		server, ok := find(socks, "tcp", addrPort(s.server.LocalAddr()), addrPort(s.server.RemoteAddr()))
		return tw && ok && server.RecvQ == 5
	}
	socks := listUntil(t, ns.Handle(), settled)
	out, err := exec.Command("ip", "netns", "exec", ns.Name, "ss", "-tunaepH").Output()
	if err != nil {
		t.Fatalf("ss: %v", err)
	}
	oracle := parseSS(t, string(out))

	if len(socks) != len(oracle) {
		t.Errorf("List found %d sockets, ss %d\nss output:\n%s", len(socks), len(oracle), out)
	}
	for _, x := range socks {
		got := ssFormat(x, ifnames)
		key := got.Netid + " " + got.Local + " " + got.Peer
		want, ok := oracle[key]
		if !ok {
			t.Errorf("List has %s, ss does not\nss output:\n%s", key, out)
			continue
		}
		if got != want {
			t.Errorf("%s:\nList %+v\nss   %+v", key, got, want)
		}
	}
	t.Logf("ss output:\n%s", out)
}
