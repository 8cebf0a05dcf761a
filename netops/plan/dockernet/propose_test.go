package dockernet

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/netops/files/networkd"
	"github.com/netpanel/netpanel/netops/model"
)

func TestPropose(t *testing.T) {
	f := lan()
	f.routes = append(f.routes, f.route("172.16.0.0/16", "192.0.2.1", "wan", 7, 4))
	for _, tc := range []struct {
		name          string
		ranges, cands []string
		subnet, pool  string
		err           string
	}{
		{"the search skips routes of every table, addresses and docker0", nil, nil, "172.18.0.0/24", "172.19.0.0/16", ""},
		{"preferred ranges are honoured", nil, []string{"10.44.0.0/16"}, "10.44.0.0/24", "172.18.0.0/16", ""},
		{"LAN/VPN ranges are skipped", []string{"172.18.0.0/15"}, nil, "172.20.0.0/24", "172.21.0.0/16", ""},
		{"exhausted space gives a clear error", []string{"172.16.0.0/12", "10.0.0.0/8", "192.168.0.0/16"}, nil, "", "", "no free /24 for the bridge in 172.16.0.0/12, 10.0.0.0/8, 192.168.0.0/16"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := Inputs{State: f.store()}
			for _, r := range tc.ranges {
				in.Ranges = append(in.Ranges, pfx(r))
			}
			var cands []netip.Prefix
			for _, c := range tc.cands {
				cands = append(cands, pfx(c))
			}
			p, err := Propose(in, Options{Candidates: cands})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Subnet.String() != tc.subnet || p.Address.String() != hostAddr(p.Subnet, 1).String() || len(p.Pools) != 1 || p.Pools[0].Base.String() != tc.pool || p.Pools[0].Size != 24 {
				t.Fatalf("plan %+v", p)
			}
			if p.Uplink == nil || p.Uplink.Name != "wan" || p.Uplink.DHCP || p.Uplink.Gateway.String() != "192.0.2.1" {
				t.Fatalf("uplink %+v", p.Uplink)
			}
		})
	}
	if _, err := Propose(Inputs{State: f.store()}, Options{Bridge: "br-x"}); err == nil {
		t.Error("a br-* bridge name was accepted")
	}
}

func TestGenerate(t *testing.T) {
	p := Plan{Bridge: "docker-br0", Subnet: pfx("172.18.0.0/24"), Address: pfx("172.18.0.1/24"),
		Pools: []Pool{{pfx("172.19.0.0/16"), 24}}, Uplink: &Uplink{Name: "wan", DHCP: true}}
	s, err := Generate(p, []byte(`{"bip":"172.17.0.1/16"}`), DefaultDirs)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"10-docker-br0.netdev":        "[NetDev]\nName=docker-br0\nKind=bridge\n\n[Bridge]\n",
		"10-docker-br0.network":       "[Match]\nName=docker-br0\n\n[Link]\nRequiredForOnline=no\n\n[Network]\nAddress=172.18.0.1/24\nConfigureWithoutCarrier=yes\nLinkLocalAddressing=no\n",
		"10-wan.network":              "[Match]\nName=wan\n\n[Network]\nDHCP=yes\n",
		"20-docker-unmanaged.network": "[Match]\nName=br-* veth*\n\n[Link]\nUnmanaged=yes\n",
	}
	for name, body := range want {
		got := string(s.Files[name])
		if !strings.HasPrefix(got, "# Written by netpanel") || !strings.Contains(got, body) || strings.Contains(got, "Gateway=") {
			t.Errorf("%s:\n%s\nwant it to contain\n%s", name, got, body)
		}
	}
	if d := string(s.Files[DaemonFile]); strings.Contains(d, "bip") || !strings.Contains(d, `"bridge": "docker-br0"`) {
		t.Errorf("daemon.json:\n%s", d)
	}
	cmds := strings.Join(s.Commands, "\n")
	if !strings.HasPrefix(cmds, "systemctl stop docker\nif ip link show docker0 >/dev/null 2>&1; then ip link del docker0; fi\ninstall -D -m 0644 10-docker-br0.netdev /etc/systemd/network/10-docker-br0.netdev\n") ||
		!strings.HasSuffix(cmds, "install -D -m 0644 docker/daemon.json /etc/docker/daemon.json\nnetworkctl reload\nsystemctl start docker") {
		t.Errorf("commands:\n%s", cmds)
	}
	if got := strings.Join(s.IPCommands, "; "); got != "ip link add docker-br0 type bridge; ip addr add 172.18.0.1/24 dev docker-br0; ip link set docker-br0 up" {
		t.Errorf("ip commands: %s", got)
	}

	// The order of work installs into the directories this host uses.
	s, err = Generate(p, nil, Dirs{Network: "/srv/netpanel/network", Daemon: "/srv/docker etc/daemon.json"})
	if err != nil {
		t.Fatal(err)
	}
	cmds = strings.Join(s.Commands, "\n")
	for _, want := range []string{"install -D -m 0644 10-docker-br0.netdev /srv/netpanel/network/10-docker-br0.netdev",
		"install -D -m 0644 docker/daemon.json '/srv/docker etc/daemon.json'"} {
		if !strings.Contains(cmds, want) {
			t.Errorf("commands lack %q:\n%s", want, cmds)
		}
	}
	if strings.Contains(cmds, "/etc/") {
		t.Errorf("commands name the default directories:\n%s", cmds)
	}
}

func TestChecklistAndCleanup(t *testing.T) {
	p := Plan{Bridge: "docker-br0", Subnet: pfx("172.18.0.0/24"), Address: pfx("172.18.0.1/24"),
		Pools: []Pool{{pfx("172.19.0.0/16"), 24}}, Uplink: &Uplink{Name: "wan"}}
	f := fixture{links: []string{"lo", "wan", "docker-br0"}}
	f.addrs = [][2]string{{"wan", "192.0.2.10/24"}, {"docker-br0", "172.18.0.1/24"}, {"docker-br0", "172.17.0.1/16"}, {"docker-br0", "fe80::1/64"}}
	f.routes = []model.Route{f.route("0.0.0.0/0", "192.0.2.1", "wan", 254, 4), f.route("172.18.0.0/24", "", "docker-br0", 254, 2)}
	cfg, _ := ParseDaemonConfig([]byte(`{"bridge":"docker-br0","default-address-pools":[{"base":"172.19.0.0/16","size":24}]}`))
	nets := []Network{{Name: "bridge", Driver: "bridge", Bridge: "docker-br0", IPAM: []IPAMConfig{{Subnet: pfx("172.18.0.0/24")}}}}
	in := Inputs{State: f.store(), Daemon: cfg, Networks: nets, NetworksRead: true}
	frozen := in
	frozen.State = Freeze(in.State)
	for _, in := range []Inputs{in, frozen} {
		for _, c := range Checklist(in, p) {
			if !c.OK || c.Command == "" {
				t.Errorf("not OK: %+v", c)
			}
		}
		stale := StaleAddrs(in.State, p)
		if len(stale) != 1 || stale[0].Command != "ip addr del 172.17.0.1/16 dev docker-br0" {
			t.Errorf("stale %+v", stale)
		}
	}

	// A Gateway= on the bridge, an old daemon.json and Docker stopped.
	f.routes = append(f.routes, f.route("0.0.0.0/0", "172.18.0.254", "docker-br0", 100, 4))
	old, _ := ParseDaemonConfig([]byte(`{"bip":"172.17.0.1/16"}`))
	got := Checklist(Inputs{State: f.store(), Daemon: old}, p)
	wantOK := []bool{true, true, false, true, false, false, false}
	for i, c := range got {
		if c.OK != wantOK[i] {
			t.Errorf("item %d: OK=%v: %s", i, c.OK, c.Text)
		}
	}
	if got[2].Text != "The default route via 172.18.0.254 dev docker-br0 in table 100 sends traffic for every address without a more specific route, such as 1.1.1.1, into Docker's bridge docker-br0 instead of your uplink." {
		t.Errorf("default route item: %s", got[2].Text)
	}
}

// The bridge's and the uplink's .network name their link alone as
// networkd reads Name=: a backslash in the bridge's name is no escape of
// the next character, an all-digit uplink name is not dropped (networkd
// drops a word that looks like an ifindex), and a name networkd cannot
// match at all ("%") is refused.
func TestGenerateMatchesItsLinksAlone(t *testing.T) {
	p := Plan{Bridge: `dk\0`, Subnet: pfx("172.18.0.0/24"), Address: pfx("172.18.0.1/24"),
		Pools: []Pool{{pfx("172.19.0.0/16"), 24}}, Uplink: &Uplink{Name: "123", DHCP: true}}
	s, err := Generate(p, nil, DefaultDirs)
	if err != nil {
		t.Fatal(err)
	}
	c := &networkd.Config{}
	for _, name := range []string{`10-dk\0.network`, "10-123.network"} {
		nf, _, err := networkd.ParseNetwork(name, s.Files[name])
		if err != nil {
			t.Fatal(err)
		}
		c.Networks = append(c.Networks, &networkd.Loaded{Name: name, Network: nf})
	}
	for link, want := range map[string]string{`dk\0`: `10-dk\0.network`, "dk0": "", "123": "10-123.network", "1234": ""} {
		got := ""
		if ld, _ := c.NetworkFor(model.Link{Name: link}); ld != nil {
			got = ld.Name
		}
		if got != want {
			t.Errorf("link %q: %q applies, want %q\n%s\n%s", link, got, want, s.Files[`10-dk\0.network`], s.Files["10-123.network"])
		}
	}
	p.Uplink.Name = "up%1"
	if _, err := Generate(p, nil, DefaultDirs); !errors.Is(err, networkd.ErrNotRecreatable) || !strings.Contains(err.Error(), `"up%1"`) {
		t.Errorf("uplink up%%1: %v", err)
	}
}
