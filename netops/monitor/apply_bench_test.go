package monitor

import (
	"slices"
	"testing"

	"github.com/netpanel/netpanel/internal/benchfix"
	"github.com/netpanel/netpanel/netops/codec"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/rtnl"
	"golang.org/x/sys/unix"
)

// kernelRouteBody encodes r as the kernel dumps it: rtm_table and
// RTA_TABLE both (252, RT_TABLE_COMPAT, in rtm_table above 255), and for
// IPv6 the RTA_CACHEINFO and RTA_PREF every IPv6 route carries.
func kernelRouteBody(r *model.Route) []byte {
	w := rtnl.NewWriter(codec.EncodeRoute(r))
	b := w.Bytes()
	if r.Table < 256 {
		w.U32(unix.RTA_TABLE, r.Table)
	} else {
		b[4] = unix.RT_TABLE_COMPAT
	}
	if r.Family == unix.AF_INET6 {
		w.Attr(unix.RTA_CACHEINFO, make([]byte, 32)) // struct rta_cacheinfo
		w.U8(unix.RTA_PREF, r.Pref)
	}
	return w.Bytes()
}

// dumpMessages returns n routes of the bench set as a split sync reads
// them: each table's routes in the kernel's order (the model's, but for
// the prefixes of one address: longest first), the
// routes of two lanes (the first and the second half of the tables'
// routes) alternating by datagrams of about 32 KiB.
func dumpMessages(n int) []rtnl.Message {
	store := model.NewStoreFrom(benchfix.State(n))
	var bodies [][]byte
	var leaf model.Route // the first route of the prefixes of one address
	at := 0
	store.EachRoute(func(r *model.Route) bool {
		if r.Table != leaf.Table || r.Dst.Addr() != leaf.Dst.Addr() {
			// The kernel dumps the routes of one address (a leaf of
			// its trie) longest prefix first.
			slices.Reverse(bodies[at:])
			leaf, at = *r, len(bodies)
		}
		bodies = append(bodies, kernelRouteBody(r))
		return true
	})
	slices.Reverse(bodies[at:])
	lanes := [2][][]byte{bodies[:len(bodies)/2], bodies[len(bodies)/2:]}
	var out []rtnl.Message
	for len(lanes[0])+len(lanes[1]) > 0 {
		for i := range lanes {
			size := 0
			for len(lanes[i]) > 0 && size < 32<<10 {
				b := lanes[i][0]
				lanes[i] = lanes[i][1:]
				size += unix.NLMSG_HDRLEN + len(b)
				out = append(out, rtnl.Message{Type: unix.RTM_NEWROUTE, Flags: unix.NLM_F_MULTI, Body: b})
			}
		}
	}
	return out
}

// BenchmarkApplyDump1M decodes and applies the bench set's million
// routes, encoded as the kernel dumps them, into a fresh dump: the CPU a
// sync spends on each route besides the kernel's walk, without a kernel.
func BenchmarkApplyDump1M(b *testing.B) {
	msgs := dumpMessages(1_000_000)
	b.ResetTimer()
	for b.Loop() {
		d := model.NewDump()
		for _, m := range msgs {
			apply(&d.Applier, m, nil)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(msgs)), "ns/route")
}
