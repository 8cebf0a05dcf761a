package sockets

import (
	"net"
	"testing"

	"github.com/netpanel/netpanel/internal/testenv"
)

// BenchmarkList lists a namespace holding 301 sockets: a listener and 150
// accepted connections (both ends). Most of the time goes to the /proc
// scan, which grows with the processes and files on the machine.
func BenchmarkList(b *testing.B) {
	ns := testenv.NewNS(b)
	var ln net.Listener
	var conns []net.Conn
	ns.Do(func() {
		var err error
		if ln, err = net.Listen("tcp4", "127.0.0.1:0"); err != nil {
			b.Error(err)
			return
		}
		for range 150 {
			c, err := net.Dial("tcp4", ln.Addr().String())
			if err != nil {
				b.Error(err)
				return
			}
			conns = append(conns, c)
		}
	})
	if b.Failed() {
		b.FailNow()
	}
	for range conns {
		c, err := ln.Accept()
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, c)
	}
	b.Cleanup(func() {
		ln.Close()
		for _, c := range conns {
			c.Close()
		}
	})
	h := ns.Handle()
	b.ReportAllocs()
	for b.Loop() {
		socks, err := List(h)
		if err != nil {
			b.Fatal(err)
		}
		if len(socks) != 301 {
			b.Fatalf("%d sockets, want 301", len(socks))
		}
	}
}
