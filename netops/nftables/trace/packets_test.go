package trace_test

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/nftables"
	"github.com/netpanel/netpanel/netops/nftables/nfttest"
	"github.com/netpanel/netpanel/netops/nftables/owned"
	"github.com/netpanel/netpanel/netops/nftables/trace"
	"golang.org/x/sys/unix"
)

// The scenario with real packets: host, wanpeer and vpnpeer joined
// by veth pairs; table wan-force with a default route via wan, the default
// route via the VPN link in main, the rule fwmark 0x20/0x20 priority 16286
// lookup wan-force, and a rule made through netpanel's owned table marking
// UDP to the VPN server's port with 0x20. UDP sent from host arrives on
// wanpeer when it goes to the VPN server's port and on vpnpeer otherwise,
// and the tracer predicts the same egress for each packet.
func TestRealPacketsLeaveWhereTheTraceSays(t *testing.T) {
	testenv.RequireTool(t, "nft")
	host, wanpeer, vpnpeer := testenv.NewNS(t), testenv.NewNS(t), testenv.NewNS(t)
	host.Batch([]string{
		"link add wan type veth peer name eth0 netns " + wanpeer.Name,
		"link add vpn0 type veth peer name eth0 netns " + vpnpeer.Name,
		"addr add 192.0.2.2/24 dev wan",
		"addr add 10.8.0.2/24 dev vpn0",
		"link set wan up", "link set vpn0 up",
		"route add default via 192.0.2.1 dev wan table 1",
		"route add default via 10.8.0.1 dev vpn0",
		"rule add fwmark 0x20/0x20 priority 16286 lookup 1",
	})
	wanpeer.Batch([]string{"addr add 192.0.2.1/24 dev eth0", "link set eth0 up"})
	vpnpeer.Batch([]string{"addr add 10.8.0.1/24 dev eth0", "link set eth0 up"})
	flows := []string{"203.0.113.5:1194", "203.0.113.5:53", "198.51.100.9:1194"}
	nfttest.CountFlows(t, wanpeer, flows...)
	nfttest.CountFlows(t, vpnpeer, flows...)

	r, err := owned.Parse(owned.Form{Hook: "output", Kind: "mark", Proto: "udp", Dst: "203.0.113.5", DPort: "1194", Mark: "0x20/0x20"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := owned.Add(host.Handle(), r); err != nil {
		t.Fatal(err)
	}
	rs, err := nftables.Dump(host.Handle())
	if err != nil {
		t.Fatal(err)
	}
	route, lk := router(t, host), links(t, host)

	const sends = 3
	cases := []struct {
		dst    string
		egress string
		peer   *testenv.NS
		other  *testenv.NS
	}{
		{"203.0.113.5:1194", "wan", wanpeer, vpnpeer},
		{"203.0.113.5:53", "vpn0", vpnpeer, wanpeer},
		{"198.51.100.9:1194", "vpn0", vpnpeer, wanpeer},
	}
	for _, f := range cases {
		dst := netip.MustParseAddrPort(f.dst)
		var local netip.AddrPort
		host.Do(func() {
			c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(dst))
			if err != nil {
				t.Errorf("dial %s: %v", dst, err)
				return
			}
			defer c.Close()
			local = c.LocalAddr().(*net.UDPAddr).AddrPort()
			for i := range sends {
				if _, err := c.Write([]byte(fmt.Sprintf("packet %d to %s", i, dst))); err != nil {
					t.Errorf("send to %s: %v", dst, err)
				}
			}
		})
		if t.Failed() {
			t.FailNow()
		}
		nfttest.WaitFor(t, 10*time.Second, "packets to "+f.dst+" on their peer", func() string {
			if n := nfttest.Counted(t, f.peer)[f.dst]; n != sends {
				return fmt.Sprintf("%s counted %d of %d packets to %s", f.peer.Name, n, sends, f.dst)
			}
			return ""
		})

		res, err := trace.Trace(rs, trace.Packet{Dst: dst.Addr(), Proto: unix.IPPROTO_UDP, SPort: local.Port(), DPort: dst.Port()}, route, lk)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Outcomes) != 1 {
			t.Fatalf("%s: %d outcomes, want 1: %+v", f.dst, len(res.Outcomes), res.Outcomes)
		}
		o := res.Outcomes[0]
		if o.Egress() != f.egress || !strings.HasPrefix(o.Fate, "sent through "+f.egress) {
			t.Errorf("%s: the trace says %q (egress %q); the packets arrived on %s's peer", f.dst, o.Fate, o.Egress(), f.egress)
		}
	}
	// Every packet went where the trace said, and none elsewhere.
	for _, f := range cases {
		if n := nfttest.Counted(t, f.other)[f.dst]; n != 0 {
			t.Errorf("%d packets to %s arrived on the wrong peer %s", n, f.dst, f.other.Name)
		}
	}
}
