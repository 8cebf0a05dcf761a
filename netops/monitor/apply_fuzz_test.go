package monitor

import (
	"testing"

	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/rtnl"
	"golang.org/x/sys/unix"
)

// FuzzApply feeds arbitrary message streams to the applier: the model must
// never panic whatever the kernel (or a bug) sends.
func FuzzApply(f *testing.F) {
	f.Add(uint16(unix.RTM_NEWROUTE), seedRoute)
	f.Add(uint16(unix.RTM_NEWRULE), seedRule)
	f.Add(uint16(unix.RTM_NEWADDR), seedAddr)
	f.Add(uint16(unix.RTM_NEWLINK), []byte{0, 0, 1, 0, 3, 0, 0, 0, 0x43, 0x10, 0, 0, 0, 0, 0, 0})
	f.Add(uint16(unix.RTM_NEWNEIGH), []byte{2, 0, 0, 0, 3, 0, 0, 0, 0x80, 0, 0, 1, 8, 0, 1, 0, 10, 1, 0, 9})
	f.Add(uint16(unix.RTM_NEWNEXTHOP), seedNexthopGroup)
	f.Add(uint16(unix.RTM_NEWNEXTHOP), seedNexthopGateway)
	f.Fuzz(func(t *testing.T, typ uint16, b []byte) {
		s := model.NewStore()
		s.Update(func(w *model.Applier) {
			apply(w, rtnl.Message{Type: typ, Body: b}, nil)
			apply(w, rtnl.Message{Type: typ + 1, Body: b}, nil) // the matching delete
		})
		// A dump stores routes its own way (model.RawRoute).
		d := model.NewDump()
		apply(&d.Applier, rtnl.Message{Type: typ, Body: b}, nil)
		apply(&d.Applier, rtnl.Message{Type: typ, Body: b}, nil)
		s.Replace(d, "fuzz")
	})
}

// Seeds: an IPv4 route with gateway and table, a rule with fwmark/mask,
// an address with label and cacheinfo, a nexthop group.
var (
	seedRoute = []byte{2, 24, 0, 0, 254, 4, 0, 1, 0, 0, 0, 0,
		8, 0, 15, 0, 100, 0, 0, 0, 8, 0, 1, 0, 10, 9, 0, 0, 8, 0, 5, 0, 10, 1, 0, 2, 8, 0, 4, 0, 3, 0, 0, 0, 8, 0, 6, 0, 5, 0, 0, 0}
	seedRule = []byte{2, 0, 0, 0, 100, 0, 0, 1, 0, 0, 0, 0,
		8, 0, 6, 0, 0x9e, 0x3f, 0, 0, 8, 0, 10, 0, 0x20, 0, 0, 0, 8, 0, 16, 0, 0x20, 0, 0, 0, 7, 0, 3, 0, 'v', '0', 0, 0}
	seedAddr = []byte{2, 24, 0x80, 0, 3, 0, 0, 0, 8, 0, 1, 0, 10, 1, 0, 1, 8, 0, 2, 0, 10, 1, 0, 1, 7, 0, 3, 0, 'v', '0', 0, 0,
		20, 0, 6, 0, 255, 255, 255, 255, 255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0}
	seedNexthopGroup = []byte{0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 1, 0, 10, 0, 0, 0,
		20, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 6, 0, 3, 0, 0, 0, 0, 0}
	seedNexthopGateway = []byte{2, 253, 0, 0, 0, 0, 0, 0, 8, 0, 1, 0, 1, 0, 0, 0, 8, 0, 5, 0, 3, 0, 0, 0, 8, 0, 6, 0, 10, 1, 0, 2}
)
