package linkkind

import (
	"fmt"
	"net"

	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/rtnl"
	"golang.org/x/sys/unix"
)

// A veth pair: two links created (and deleted) together; each is the
// other's ParentIndex. The kernel sends no IFLA_INFO_DATA for it.
func init() {
	register(&Kind{
		Name:    Veth,
		Pair:    true,
		DevType: "",
		Create: &Create{
			Position: 2,
			Fields:   []Field{{Name: "peer", Label: "veth peer", Arg: "peer name", NewLink: true}},
			Parse: func(f Form) Spec {
				p := &VethPeer{}
				if f.Value("peer") == "" {
					f.Fail("peer", "a veth pair needs a name for its other end")
					return p
				}
				p.Name = f.IfName("peer")
				if p.Name == f.Value("name") {
					f.Fail("peer", "must differ from the link's own name")
				}
				return p
			},
		},
		Recreate: func(l model.Link, links Links) (*Recreation, error) {
			if l.LinkNetNsID != -1 {
				return nil, fmt.Errorf("the peer of %s lives in another namespace", l.Name)
			}
			peer, ok := links.ByIndex[l.ParentIndex]
			if !ok {
				return nil, fmt.Errorf("the peer of %s (index %d) is not in the model", l.Name, l.ParentIndex)
			}
			return &Recreation{
				Spec:      &VethPeer{Name: peer.Name, HWAddr: peer.HWAddr, Index: peer.Index},
				Peer:      &peer,
				SetHWAddr: true, // random otherwise
				MTU:       1500,
			}, nil
		},
		Netdev: vethNetdev,
	})
}

// VethPeer is the other end of a new veth pair.
type VethPeer struct {
	Name   string
	HWAddr net.HardwareAddr // nil: random
	// Index is the ifindex asked for (when recreating one); 0: any. The
	// kernel grants it only when the first end is given an index too.
	Index int32
}

// Peer implements Paired.
func (p *VethPeer) Peer() (string, int32) { return p.Name, p.Index }

// Unindexed implements Paired.
func (p *VethPeer) Unindexed() Spec {
	q := *p
	q.Index = 0
	return &q
}

// vethInfoPeer is VETH_INFO_PEER (include/uapi/linux/veth.h), which x/sys
// lacks: a nested ifinfomsg and the peer's attributes.
const vethInfoPeer = 1

// Args prints `peer name P [address MAC] [index N]`.
func (p *VethPeer) Args(string) []string {
	args := []string{"peer", "name", p.Name}
	if p.HWAddr != nil {
		args = append(args, "address", p.HWAddr.String())
	}
	if p.Index != 0 {
		args = append(args, "index", fmt.Sprint(p.Index))
	}
	return args
}

// Data writes VETH_INFO_PEER.
func (p *VethPeer) Data(w *rtnl.Writer, _ int32) {
	w.Nested(vethInfoPeer, false, func(w *rtnl.Writer) {
		hdr := make([]byte, unix.SizeofIfInfomsg)
		rtnl.PutU32(hdr[4:8], uint32(p.Index)) // ifi_index
		w.Raw(hdr)
		w.String(unix.IFLA_IFNAME, p.Name)
		if p.HWAddr != nil {
			w.Attr(unix.IFLA_ADDRESS, p.HWAddr)
		}
	})
}

// vethNetdev writes [Peer]: one .netdev per pair, so when both ends are
// written the lexically smaller name creates the pair. A container's end
// of a pair whose other end is elsewhere is made again by whoever made it.
func vethNetdev(l model.Link, links Links) (*Netdev, error) {
	if l.LinkNetNsID >= 0 {
		return nil, nil
	}
	peer, ok := links.ByIndex[l.ParentIndex]
	if !ok {
		return nil, fmt.Errorf("the peer of veth %s is unknown", l.Name)
	}
	if links.Selected[peer.Index] && peer.Name < l.Name {
		return nil, nil
	}
	return &Netdev{Section: "Peer", Keys: []Key{{"Name", peer.Name}}}, nil
}
