package persist_test

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/files/networkd"
	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/plan/persist"
	"golang.org/x/sys/unix"
)

// variedState is hostState with thousands of routes over its links in
// main, wanforce (100) and table 200, IPv6 ones, device-less ones, ones
// the files leave out with a notice, and a rule per table.
func variedState(multipath bool) model.State {
	st := hostState()
	st.Links = append(st.Links, link(6, "eth2", ""))
	st.Addrs = append(st.Addrs, permanent(6, "198.51.100.1/24"), permanent(4, "2001:db8::10/64"))
	through := []int32{2, 4, 6}
	for i := range 4000 {
		r := model.Route{Family: unix.AF_INET, Table: []uint32{254, 100, 200}[i%3], Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC,
			Dst: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(10 + i>>8), byte(i), 0}), 24), LinkIndex: through[i%len(through)], Priority: uint32(i % 5)}
		switch i % 13 {
		case 0:
			r.Type, r.LinkIndex = unix.RTN_BLACKHOLE, 0
		case 1:
			r.Extra = &model.RouteExtra{NhID: 3} // left out, with a notice
		case 2:
			r.Family, r.Dst = unix.AF_INET6, netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 2, byte(i >> 8), byte(i)}), 64)
			r.LinkIndex = 4
		case 3:
			r.Gateway, r.LinkIndex = netip.MustParseAddr("192.0.2.1"), 4
		}
		st.Routes = append(st.Routes, r)
	}
	if multipath {
		st.Routes = append(st.Routes, model.Route{Family: unix.AF_INET, Table: 200, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC,
			Dst: netip.MustParsePrefix("203.0.113.0/24"), Extra: &model.RouteExtra{Multipath: []model.Nexthop{
				{Gateway: netip.MustParseAddr("192.0.2.1"), LinkIndex: 4, Weight: 1}, {Gateway: netip.MustParseAddr("198.51.100.2"), LinkIndex: 6, Weight: 1}}}})
	}
	st.Rules = append(st.Rules, model.Rule{Family: unix.AF_INET, Priority: 200, Action: unix.FR_ACT_TO_TBL, Table: 200, SuppressPrefixLen: -1,
		Src: netip.MustParsePrefix("198.51.100.0/24")})
	return st
}

// TestExportStreamsWhatTheArchiveInMemoryHeld: the streamed archive is,
// byte for byte, the one the export wrote before it streamed (every file
// generated at once with networkd.Generate, the archive made in memory),
// for a varied state with netpanel's other files on disk, Docker's
// daemon.json, a hand-written file, a file of another kind and a table
// name; with and without a multipath route (the store then cannot read
// one link's routes alone, and the export walks them).
func TestExportStreamsWhatTheArchiveInMemoryHeld(t *testing.T) {
	for _, multipath := range []bool{false, true} {
		t.Run(fmt.Sprintf("multipath=%v", multipath), func(t *testing.T) {
			e := newEnvFrom(t, variedState(multipath))
			if err := os.MkdirAll(e.opts.DockerDir, 0o755); err != nil {
				t.Fatal(err)
			}
			e.write(t, e.opts.DockerDir, "daemon.json", "{\"bip\": \"172.17.0.1/16\"}\n")
			e.write(t, e.opts.NetworkDir, "05-docker-unmanaged.network", networkd.Header+"\n[Match]\nName=veth*\n\n[Link]\nUnmanaged=yes\n")
			e.write(t, e.opts.NetworkDir, "50-hand.network", "[Match]\nName=eth9\n")
			e.write(t, e.opts.NetworkDir, "10-stale.network", networkd.Header+"\n[Match]\nName=gone\n")
			opts := e.opts
			opts.Target = networkd.Target{Version: 252, How: "test"}
			opts.Kinds = []persist.Kind{{Root: "nftables", Dir: filepath.Join(e.root, "nft"), Name: "netpanel.nft",
				Generate: func() ([]byte, error) { return []byte("table inet netpanel {}\n"), nil }, Install: []string{"install nftables/netpanel.nft"}}}
			names := rttables.New(rttables.Entry{ID: 100, Name: "wanforce"}, rttables.Entry{ID: 200, Name: "transit"})
			m := persist.New(opts, model.NewStoreFrom(variedState(multipath)), func() *rttables.Tables { return names })

			want, err := m.ExportAtOnce()
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := m.Export(&got); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Error("the streamed archive differs from the one made in memory")
				wantFiles := map[string][]byte{}
				for _, h := range testenv.ReadTarGz(t, want) {
					wantFiles[h.Name] = h.Data
				}
				for _, h := range testenv.ReadTarGz(t, got.Bytes()) {
					if w, ok := wantFiles[h.Name]; !ok || !bytes.Equal(w, h.Data) {
						t.Errorf("%s differs:\n%s\nwant\n%s", h.Name, h.Data, w)
					}
					delete(wantFiles, h.Name)
				}
				for n := range wantFiles {
					t.Errorf("%s missing from the stream", n)
				}
			}
			// The comparison reaches what it claims to.
			files := map[string][]byte{}
			for _, h := range testenv.ReadTarGz(t, got.Bytes()) {
				files[h.Name] = h.Data
			}
			for _, name := range []string{"network/10-eth2.network", "network/05-docker-unmanaged.network", "docker/daemon.json", "nftables/netpanel.nft", "networkd.conf.d/netpanel-tables.conf"} {
				if files["netpanel-config/"+name] == nil {
					t.Errorf("%s is not in the archive", name)
				}
			}
			routes := 0
			for _, data := range files {
				routes += bytes.Count(data, []byte("[Route]"))
			}
			if routes < 3000 || !bytes.Contains(files["netpanel-config/README"], []byte("nexthop object 3")) {
				t.Errorf("%d routes in the archive, README:\n%s", routes, files["netpanel-config/README"])
			}
		})
	}
}
