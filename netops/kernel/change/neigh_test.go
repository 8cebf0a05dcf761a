package change_test

import (
	"testing"

	"github.com/netpanel/netpanel/netops/kernel/change"
)

type neighJSON struct {
	Dst    string   `json:"dst"`
	Dev    string   `json:"dev"`
	LLAddr string   `json:"lladdr"`
	State  []string `json:"state"`
}

func findNeigh(e *env, dev, ip string) (neighJSON, bool) {
	for _, n := range ipJSON[[]neighJSON](e, "neigh", "show") {
		if n.Dev == dev && n.Dst == ip {
			return n, true
		}
	}
	return neighJSON{}, false
}

func TestNeighOps(t *testing.T) {
	setup := append(base[:len(base):len(base)],
		"neigh add 192.0.2.20 lladdr 02:00:00:00:00:20 dev wan nud permanent",
		"neigh add 2001:db8::20 lladdr 02:00:00:00:00:21 dev wan nud permanent",
	)
	cases := []struct {
		name string
		f    change.NeighFields
		want neighJSON // zero: the entry must be gone
	}{
		{"a permanent IPv4 entry round-trips", change.NeighFields{Action: "add", Dev: "wan", IP: "192.0.2.9", LLAddr: "02:00:00:00:00:09"},
			neighJSON{Dst: "192.0.2.9", Dev: "wan", LLAddr: "02:00:00:00:00:09", State: []string{"PERMANENT"}}},
		{"a permanent IPv6 entry round-trips", change.NeighFields{Action: "add", Dev: "wan", IP: "2001:db8::9", LLAddr: "02-00-00-00-00-0A"},
			neighJSON{Dst: "2001:db8::9", Dev: "wan", LLAddr: "02:00:00:00:00:0a", State: []string{"PERMANENT"}}},
		{"deleting an IPv4 entry brings it back", change.NeighFields{Action: "del", Dev: "wan", IP: "192.0.2.20"}, neighJSON{}},
		{"deleting an IPv6 entry brings it back", change.NeighFields{Action: "del", Dev: "wan", IP: "2001:db8::20"}, neighJSON{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			op := mustOp(change.ParseNeigh(c.f))
			exercise(t, setup, op, allViews, func(e *env) {
				got, ok := findNeigh(e, c.f.Dev, c.f.IP)
				if c.want.Dst == "" {
					if ok {
						t.Errorf("entry still there: %+v", got)
					}
					return
				}
				if !ok || got.LLAddr != c.want.LLAddr || len(got.State) != 1 || got.State[0] != "PERMANENT" {
					t.Errorf("got %+v, want %+v", got, c.want)
				}
			})
		})
	}
}
