package change_test

import (
	"strings"
	"testing"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/kernel/change"
)

// The setup netpanel exists for: marked traffic leaves through its own
// table. wan's peer lives in a second namespace that plays the ISP.
func TestClassicFwmarkSetup(t *testing.T) {
	isp := testenv.NewNS(t)
	e := newEnv(t,
		"link add wan type veth peer name wan-gw netns "+isp.Name,
		"addr add 192.0.2.2/24 dev wan",
		"link set wan up",
	)
	isp.Batch([]string{"addr add 192.0.2.1/24 dev wan-gw", "addr add 192.0.2.3/24 dev wan-gw", "link set wan-gw up"})
	// wan's carrier comes up a moment after its peer's (linkwatch): the
	// state to come back to is the settled one, not NO-CARRIER.
	e.waitFor("wan's carrier settles", func() string { return unsettled(e.ns) })
	before := state(e.ns, allViews)

	ops := []struct {
		f    any
		want string // the command the panel shows
	}{
		{change.RuleFields{Action: "add", Fwmark: "32/32", Priority: "16286", Table: "1"}, "ip rule add fwmark 0x20/0x20 priority 16286 lookup isp1"},
		{change.RouteFields{Action: "add", Dst: "default", Via: "192.0.2.1", Table: "1"}, "ip route add default via 192.0.2.1 table isp1"},
		{change.RouteFields{Action: "add", Dst: "default", Via: "192.0.2.3", Dev: "wan", Metric: "100"}, "ip route add default via 192.0.2.3 dev wan metric 100"},
	}
	var undo [][]change.Op
	for _, o := range ops {
		var op change.Op
		switch f := o.f.(type) {
		case change.RuleFields:
			op = mustOp(change.ParseRule(f, tables))
		case change.RouteFields:
			op = mustOp(change.ParseRoute(f, tables))
		}
		if got := op.Command(e.names()); got != o.want {
			t.Errorf("Command = %q, want %q", got, o.want)
		}
		if err := op.Check(e.store); err != nil {
			t.Fatalf("Check(%s): %v", o.want, err)
		}
		inv, err := op.Inverse(e.store)
		if err != nil {
			t.Fatal(err)
		}
		undo = append(undo, inv)
		if err := op.Apply(e.h, e.store); err != nil {
			t.Fatalf("Apply(%s): %v", o.want, err)
		}
	}

	wantRules := "0:\tfrom all lookup local\n" +
		"16286:\tfrom all fwmark 0x20/0x20 lookup 1\n" +
		"32766:\tfrom all lookup main\n" +
		"32767:\tfrom all lookup default"
	got := strings.TrimSpace(e.ns.IP("rule", "list"))
	if got != wantRules {
		t.Errorf("ip rule list:\n%s\nwant:\n%s", got, wantRules)
	}
	// The model, printed the way ip prints, agrees.
	e.waitFor("model shows the rules", func() string {
		var lines []string
		n := e.store.Names(rttables.New())
		for _, r := range e.store.Rules(2) {
			lines = append(lines, iproute.RuleLine(&r, n))
		}
		return lineDiff(wantRules, strings.Join(lines, "\n"))
	})
	if got := strings.TrimSpace(e.ns.IP("route", "show", "table", "1")); got != "default via 192.0.2.1 dev wan" {
		t.Errorf("table 1: %q", got)
	}
	// The kernel really routes marked packets through table 1.
	for _, c := range []struct{ mark, via string }{{"0x20", "via 192.0.2.1 "}, {"0x0", "via 192.0.2.3 "}, {"0x1f", "via 192.0.2.3 "}} {
		if got := e.ns.IP("route", "get", "198.51.100.10", "mark", c.mark); !strings.Contains(got, c.via) {
			t.Errorf("route get with mark %s: %q, want %q", c.mark, got, c.via)
		}
	}

	// Undo in reverse order: back to the start.
	for i := len(undo) - 1; i >= 0; i-- {
		for _, op := range undo[i] {
			if err := op.Apply(e.h, e.store); err != nil {
				t.Fatalf("undo %s: %v", op.Command(e.names()), err)
			}
		}
	}
	if d := lineDiff(before, state(e.ns, allViews)); d != "" {
		t.Errorf("undo left differences:\n%s", d)
	}
}
