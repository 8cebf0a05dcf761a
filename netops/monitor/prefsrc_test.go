package monitor_test

import (
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/testenv"
)

// TestPrefSrcFlushesMirrorKernel deletes addresses that routes prefer as
// their source, directly and with their link: the kernel removes IPv4
// routes of the main table only (fib_sync_down_addr), keeps those of other
// tables, and takes the source off IPv6 routes through the address's own
// link (rt6_remove_prefsrc), the last two without a word. The model must
// end up as `ip -j` shows it, not only after a resync.
func TestPrefSrcFlushesMirrorKernel(t *testing.T) {
	ns := testenv.NewNS(t)
	ns.Batch([]string{
		"link add va type veth peer name vb",
		"link add vc type veth peer name vd",
		"link set va up", "link set vb up", "link set vc up", "link set vd up",
		"addr add 10.1.1.1/24 dev va",
		"addr add 2001:db8:1::1/64 dev va nodad",
		"addr add 10.2.2.1/24 dev vc",
		// Not the last IPv4 address of vc: deleting that one flushes all
		// of vc's IPv4 routes (fib_disable_ip), another story.
		"addr add 10.2.3.1/24 dev vc",
		"addr add 2001:db8:2::1/64 dev vc nodad",
		"addr add 2001:db8:3::1/64 dev vc nodad",
		"addr add 10.3.3.1/24 dev vd",
	})
	store, _ := startWatcher(t, ns, 0)
	ns.Batch([]string{
		// On other links, preferring va's addresses.
		"route add 172.16.0.0/24 dev vc src 10.1.1.1",
		"route add 172.16.1.0/24 via 10.2.2.2 src 10.1.1.1 table 100",
		"route add 172.16.2.0/24 dev vc src 10.1.1.1 table 101",
		"route add 172.16.3.0/24 dev vd src 10.1.1.1 table 253",
		"route add 2001:db8:5::/48 dev vc src 2001:db8:1::1",
		"route add 2001:db8:6::/48 dev vc src 2001:db8:1::1 table 100",
		// On vc, preferring vc's own address 2001:db8:2::1, and on vd.
		"route add 2001:db8:7::/48 dev vc src 2001:db8:2::1",
		"route add 2001:db8:8::/48 dev vc src 2001:db8:2::1 table 100",
		"route add 2001:db8:9::/48 via 2001:db8:2::2 dev vc src 2001:db8:2::1 metric 5",
		"route add 2001:db8:a::/48 dev vd src 2001:db8:2::1",
		"route add 2001:db8:b::/48 dev vc src 2001:db8:3::1",
		"route add 10.9.0.0/16 dev vd src 10.2.2.1 table 100",
	})
	waitFor(t, 5*time.Second, "after adds", func() string { return compareWithIP(t, ns, store) })
	ns.Batch([]string{"link del va"})
	waitFor(t, 5*time.Second, "after deleting va", func() string { return compareWithIP(t, ns, store) })
	ns.Batch([]string{"addr del 2001:db8:2::1/64 dev vc", "addr del 10.2.2.1/24 dev vc"})
	waitFor(t, 5*time.Second, "after deleting vc's addresses", func() string { return compareWithIP(t, ns, store) })
}
