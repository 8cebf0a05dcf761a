package networkd

import (
	"bytes"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"testing"

	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// streamState is a varied state for comparing NewStream with Generate:
// a bridge with a port, a veth pair, two plain links, routes in main and
// in two more tables, IPv6, device-less routes, routes Generate leaves out
// (kernel, nexthop object, unknown type), metrics, and rules to tables;
// with multipath, one route has two paths (the store then cannot read one
// link's routes alone).
func streamState(multipath bool) model.State {
	ln := func(idx int32, name, kind string) model.Link {
		return model.Link{Index: idx, Name: name, Kind: kind, RawFlags: unix.IFF_UP | unix.IFF_RUNNING | unix.IFF_LOWER_UP,
			MTU: 1500, OperState: "UP", LinkType: "ether", LinkNetNsID: -1, HWAddr: []byte{2, 0, 0, 0, 0, byte(idx)}}
	}
	lo := ln(1, "lo", "")
	lo.LinkType = "loopback"
	port := ln(3, "eth0", "")
	port.MasterIndex = 2
	va, vb := ln(6, "va", "veth"), ln(7, "vb", "veth")
	va.ParentIndex, vb.ParentIndex = 7, 6
	st := model.State{Links: []model.Link{lo, ln(2, "br0", "bridge"), port, ln(4, "eth1", ""), ln(5, "eth2", ""), va, vb}}
	addr := func(idx int32, p string) model.Addr {
		pf := netip.MustParsePrefix(p)
		fam := uint8(unix.AF_INET)
		if pf.Addr().Is6() {
			fam = unix.AF_INET6
		}
		return model.Addr{LinkIndex: idx, Family: fam, Prefix: pf, Flags: unix.IFA_F_PERMANENT, ValidLft: ^uint32(0), PreferredLft: ^uint32(0)}
	}
	st.Addrs = []model.Addr{addr(2, "10.0.0.1/24"), addr(4, "192.0.2.10/24"), addr(5, "198.51.100.1/24"), addr(6, "172.16.0.1/30"), addr(4, "2001:db8::1/64")}
	links := []int32{2, 4, 5, 6, 7}
	for i := range 3000 {
		r := model.Route{Family: unix.AF_INET, Table: []uint32{254, 100, 200}[i%3], Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC,
			Dst: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(1 + i>>8), byte(i), 0}), 24), LinkIndex: links[i%len(links)], Priority: uint32(i % 4)}
		switch i % 11 {
		case 0:
			r.Type, r.LinkIndex = unix.RTN_BLACKHOLE, 0
		case 1:
			r.Type, r.LinkIndex = unix.RTN_UNREACHABLE, 0
		case 2:
			r.Protocol = unix.RTPROT_KERNEL // left out, no notice
		case 3:
			r.Extra = &model.RouteExtra{NhID: 7} // left out with a notice
		case 4:
			r.Extra = &model.RouteExtra{MTU: 1400}
		case 5:
			r.Family, r.Dst = unix.AF_INET6, netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 1, byte(i >> 8), byte(i)}), 64)
		case 6:
			r.Gateway = netip.MustParseAddr("192.0.2.1")
			r.LinkIndex = 4
		}
		st.Routes = append(st.Routes, r)
	}
	st.Routes = append(st.Routes, model.Route{Family: unix.AF_INET, Table: 254, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_BOOT,
		Dst: netip.MustParsePrefix("0.0.0.0/0"), Gateway: netip.MustParseAddr("192.0.2.1"), LinkIndex: 4})
	if multipath {
		st.Routes = append(st.Routes, model.Route{Family: unix.AF_INET, Table: 100, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC,
			Dst: netip.MustParsePrefix("203.0.113.0/24"), Extra: &model.RouteExtra{Multipath: []model.Nexthop{
				{Gateway: netip.MustParseAddr("192.0.2.1"), LinkIndex: 4, Weight: 1}, {Gateway: netip.MustParseAddr("198.51.100.2"), LinkIndex: 5, Weight: 2}}}})
	}
	rule := func(fam uint8, prio, table uint32) model.Rule {
		return model.Rule{Family: fam, Priority: prio, Action: unix.FR_ACT_TO_TBL, Table: table, SuppressPrefixLen: -1}
	}
	st.Rules = []model.Rule{rule(unix.AF_INET, 0, 255), rule(unix.AF_INET, 32766, 254), rule(unix.AF_INET, 32767, 253),
		rule(unix.AF_INET6, 0, 255), rule(unix.AF_INET6, 32766, 254), rule(unix.AF_INET, 100, 100), rule(unix.AF_INET, 200, 200)}
	st.Rules[5].Mark, st.Rules[5].Mask, st.Rules[5].HasMark, st.Rules[5].HasMask = 0x20, 0xffffffff, true, true
	return st
}

// TestStreamWritesWhatGenerateWrites compares NewStream's files, one at a
// time, byte for byte with Generate's, and its notices and placements:
// from the store's runs of one link, from walks that fill groups of files
// (a multipath route in the store, or a source without runs), with groups
// of one file and of several.
func TestStreamWritesWhatGenerateWrites(t *testing.T) {
	links := []string{"br0", "eth0", "eth1", "eth2", "va", "vb"}
	tables := tableMap{100: "wanforce"}
	plain := streamState(false)
	withMP := streamState(true)
	for _, c := range []struct {
		name  string
		src   Source
		group int
	}{
		{"store: each link's routes from its runs", model.NewStoreFrom(plain), streamGroup},
		{"store with a multipath route: one walk for every file", model.NewStoreFrom(withMP), streamGroup},
		{"store with a multipath route: one walk per file", model.NewStoreFrom(withMP), 1},
		{"source without runs: walks of groups", &fakeSource{links: plain.Links, addrs: plain.Addrs, routes: plain.Routes, rules: plain.Rules}, 700},
	} {
		t.Run(c.name, func(t *testing.T) {
			old := streamGroup
			streamGroup = c.group
			t.Cleanup(func() { streamGroup = old })
			want, err := Generate(c.src, links, tables, target252)
			if err != nil {
				t.Fatal(err)
			}
			s, err := NewStream(c.src, links, tables, target252)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Paths(); !slices.Equal(got, want.Files.Paths()) {
				t.Fatalf("Paths = %v\nwant %v", got, want.Files.Paths())
			}
			routes := 0
			for _, p := range s.Paths() {
				got, err := s.File(p)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want.Files[p]) {
					t.Errorf("%s differs from Generate's:\n%s\nwant\n%s", p, got, want.Files[p])
				}
				if n := s.Routes(p); n != bytes.Count(got, []byte("[Route]")) {
					t.Errorf("%s: Routes = %d, the file holds %d", p, n, bytes.Count(got, []byte("[Route]")))
				}
				routes += s.Routes(p)
			}
			if routes < 1000 {
				t.Errorf("the files hold %d routes: the state did not reach them", routes)
			}
			if !reflect.DeepEqual(s.Notices, want.Notices) {
				t.Errorf("Notices = %d %v\nwant %d %v", len(s.Notices), s.Notices, len(want.Notices), want.Notices)
			}
			if len(s.Notices) == 0 {
				t.Error("no notices: the state's left-out routes did not reach them")
			}
			if !reflect.DeepEqual(s.Placements, want.Placements) || len(s.Placements) == 0 {
				t.Errorf("Placements = %v\nwant %v", s.Placements, want.Placements)
			}
			if s.Target != want.Target {
				t.Errorf("Target = %v, want %v", s.Target, want.Target)
			}
		})
	}
}

// TestStreamFailsBeforeAnyFileAsGenerateDoes: what Generate refuses,
// NewStream refuses, before a file is asked for.
func TestStreamFailsBeforeAnyFileAsGenerateDoes(t *testing.T) {
	st := streamState(false)
	st.Routes = append(st.Routes, model.Route{Family: unix.AF_INET, Table: 254, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC,
		Dst: netip.MustParsePrefix("203.0.113.0/24"), Extra: &model.RouteExtra{Multipath: []model.Nexthop{
			{Gateway: netip.MustParseAddr("192.0.2.1"), LinkIndex: 4}, {Gateway: netip.MustParseAddr("192.0.2.2"), LinkIndex: 99}}}})
	store := model.NewStoreFrom(st)
	_, gerr := Generate(store, []string{"eth1"}, nil, target252)
	_, serr := NewStream(store, []string{"eth1"}, nil, target252)
	if gerr == nil || serr == nil || gerr.Error() != serr.Error() {
		t.Errorf("NewStream error %v, Generate's %v: want the same error", serr, gerr)
	}
	if _, err := NewStream(store, []string{"nosuch"}, nil, target252); err == nil {
		t.Error("NewStream of a link that does not exist: no error")
	}
	s, err := NewStream(model.NewStoreFrom(streamState(false)), []string{"eth1"}, nil, target252)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.File("10-eth2.network"); err == nil {
		t.Error(fmt.Sprintf("File of a path not in Paths (%v): no error", s.Paths()))
	}
}
