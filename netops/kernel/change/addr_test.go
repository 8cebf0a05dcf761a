package change_test

import (
	"testing"

	"github.com/netpanel/netpanel/netops/kernel/change"
)

type addrInfo struct {
	Family    string `json:"family"`
	Local     string `json:"local"`
	PrefixLen int    `json:"prefixlen"`
	Broadcast string `json:"broadcast"`
	Scope     string `json:"scope"`
	Label     string `json:"label"`
	Secondary bool   `json:"secondary"`
	ValidLife uint32 `json:"valid_life_time"`
}

func addrsOf(t *testing.T, e *env, dev string) []addrInfo {
	t.Helper()
	for _, l := range ipJSON[[]struct {
		Ifname   string     `json:"ifname"`
		AddrInfo []addrInfo `json:"addr_info"`
	}](e, "addr", "show") {
		if l.Ifname == dev {
			return l.AddrInfo
		}
	}
	t.Fatalf("no link %s", dev)
	return nil
}

func findAddr(t *testing.T, e *env, dev, local string) (addrInfo, bool) {
	t.Helper()
	for _, a := range addrsOf(t, e, dev) {
		if a.Local == local {
			return a, true
		}
	}
	return addrInfo{}, false
}

func TestAddrOps(t *testing.T) {
	setup := append(base[:len(base):len(base)],
		"addr add 198.51.100.7/24 brd 198.51.100.255 dev v0 scope link",
		"addr add 2001:db8:5::7/64 dev v0 noprefixroute",
	)
	cases := []struct {
		name   string
		f      change.AddrFields
		verify func(t *testing.T, e *env)
	}{
		{"a secondary address with a label round-trips", change.AddrFields{Action: "add", Dev: "wan", Prefix: "192.0.2.5/24", Label: "wan:1"},
			func(t *testing.T, e *env) {
				a, ok := findAddr(t, e, "wan", "192.0.2.5")
				if !ok || a.Label != "wan:1" || !a.Secondary || a.PrefixLen != 24 || a.Broadcast != "" {
					t.Errorf("got %+v", a)
				}
			}},
		{"an address with broadcast and scope round-trips", change.AddrFields{Action: "add", Dev: "wan", Prefix: "198.51.100.2/24", Broadcast: "198.51.100.255", Scope: "link"},
			func(t *testing.T, e *env) {
				if a, _ := findAddr(t, e, "wan", "198.51.100.2"); a.Broadcast != "198.51.100.255" || a.Scope != "link" {
					t.Errorf("got %+v", a)
				}
			}},
		{"an IPv6 address with lifetimes round-trips", change.AddrFields{Action: "add", Dev: "wan", Prefix: "2001:db8:1::5/64", ValidLft: "3600", PreferredLft: "1800"},
			func(t *testing.T, e *env) {
				if a, _ := findAddr(t, e, "wan", "2001:db8:1::5"); a.ValidLife == 0 || a.ValidLife > 3600 {
					t.Errorf("got %+v", a)
				}
			}},
		{"a bare address becomes a host prefix", change.AddrFields{Action: "add", Dev: "v1", Prefix: "10.9.9.9"},
			func(t *testing.T, e *env) {
				if a, _ := findAddr(t, e, "v1", "10.9.9.9"); a.PrefixLen != 32 {
					t.Errorf("got %+v", a)
				}
			}},
		{"deleting a labelled address brings it back with its label", change.AddrFields{Action: "del", Dev: "v0", Prefix: "203.0.113.9/24"},
			func(t *testing.T, e *env) {
				if _, ok := findAddr(t, e, "v0", "203.0.113.9"); ok {
					t.Error("still there")
				}
			}},
		{"deleting an address with broadcast and link scope brings both back", change.AddrFields{Action: "del", Dev: "v0", Prefix: "198.51.100.7/24"},
			func(t *testing.T, e *env) {
				if _, ok := findAddr(t, e, "v0", "198.51.100.7"); ok {
					t.Error("still there")
				}
			}},
		{"deleting an IPv6 address brings back its noprefixroute flag", change.AddrFields{Action: "del", Dev: "v0", Prefix: "2001:db8:5::7/64"},
			func(t *testing.T, e *env) {
				if _, ok := findAddr(t, e, "v0", "2001:db8:5::7"); ok {
					t.Error("still there")
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			op := mustOp(change.ParseAddr(c.f))
			exercise(t, setup, op, allViews, func(e *env) { c.verify(t, e) })
		})
	}
}
