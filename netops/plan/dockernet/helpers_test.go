package dockernet

import (
	"net"
	"net/netip"

	"github.com/netpanel/netpanel/netops/model"
)

// state builds a store from terse descriptions: links by name (index in
// order from 1), addresses "dev prefix", routes.
type fixture struct {
	links  []string
	addrs  [][2]string
	routes []model.Route
}

func (f fixture) idx(name string) int32 {
	for i, l := range f.links {
		if l == name {
			return int32(i + 1)
		}
	}
	panic("no link " + name)
}

func (f fixture) store() *model.Store {
	var st model.State
	for i, l := range f.links {
		st.Links = append(st.Links, model.Link{Index: int32(i + 1), Name: l, Flags: net.FlagUp})
	}
	for _, a := range f.addrs {
		p := netip.MustParsePrefix(a[1])
		fam := uint8(2)
		if p.Addr().Is6() {
			fam = 10
		}
		st.Addrs = append(st.Addrs, model.Addr{LinkIndex: f.idx(a[0]), Family: fam, Prefix: p, ValidLft: model.Forever, PreferredLft: model.Forever})
	}
	st.Routes = f.routes
	return model.NewStoreFrom(st)
}

// route makes a unicast route: dst, gateway ("" for none), dev, table, protocol.
func (f fixture) route(dst, gw, dev string, table uint32, proto uint8) model.Route {
	p := netip.MustParsePrefix(dst)
	r := model.Route{Dst: p, Table: table, Protocol: proto, Type: 1, Family: 2, LinkIndex: f.idx(dev)}
	if p.Addr().Is6() {
		r.Family = 10
	}
	if gw != "" {
		r.Gateway = netip.MustParseAddr(gw)
	}
	return r
}

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }
