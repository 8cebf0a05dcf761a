package nftables_test

import (
	"testing"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/nftables"
	"github.com/netpanel/netpanel/netops/nftables/nfttest"
)

// A ruleset whose values change without notifications (counters and
// quotas in rules, named counters and quotas, sets the packet path fills
// or whose elements carry counters) says so; one of marks, matches and
// verdicts only does not. Each ruleset is loaded with nft in a namespace
// and dumped.
func TestChangesUnseen(t *testing.T) {
	testenv.RequireTool(t, "nft")
	for _, c := range []struct {
		name, ruleset string
		unseen        bool
	}{
		{"no table at all", "", false},
		{"marks, matches and verdicts only", `table inet t {
	set lan {
		type ipv4_addr
		flags interval
		elements = { 10.0.0.0/8 }
	}
	chain out {
		type route hook output priority 0
		ip daddr @lan meta mark set 0x20 accept
	}
}
`, false},
		{"a rule counter", `table inet t {
	chain out {
		type filter hook output priority 0
		meta mark 0x20 counter
	}
}
`, true},
		{"a rule quota", `table inet t {
	chain out {
		type filter hook output priority 0
		quota over 10 mbytes drop
	}
}
`, true},
		{"a named counter", `table inet t {
	counter hits {
	}
}
`, true},
		{"a named quota", `table inet t {
	quota cap {
		over 1 mbytes
	}
}
`, true},
		{"a set the packet path fills", `table inet t {
	set seen {
		type ipv4_addr
		flags dynamic,timeout
		timeout 1m
	}
	chain out {
		type filter hook output priority 0
		update @seen { ip daddr }
	}
}
`, true},
		{"a set whose elements count", `table inet t {
	set hits {
		type ipv4_addr
		counter
		elements = { 192.0.2.1 }
	}
}
`, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			ns := testenv.NewNS(t)
			if c.ruleset != "" {
				nfttest.Load(t, ns, c.ruleset)
			}
			rs, err := nftables.Dump(ns.Handle())
			if err != nil {
				t.Fatal(err)
			}
			if got := rs.ChangesUnseen(); got != c.unseen {
				t.Errorf("ChangesUnseen = %v, want %v", got, c.unseen)
			}
		})
	}
}
