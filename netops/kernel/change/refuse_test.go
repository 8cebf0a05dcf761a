package change_test

import (
	"errors"
	"testing"

	"github.com/netpanel/netpanel/netops/kernel/change"
	"golang.org/x/sys/unix"
)

// The kernel refuses these; Apply must say why in words an admin can act
// on, keep the errno reachable, and leave the namespace as it was.
func TestKernelRefusalsAreExplained(t *testing.T) {
	setup := append(routeSetup[:len(routeSetup):len(routeSetup)],
		"rule add fwmark 7 priority 5000 lookup 100",
		"neigh add 192.0.2.20 lladdr 02:00:00:00:00:20 dev wan nud permanent",
		"link add link v1 name mv9 type macvlan mode bridge",
	)
	e := newEnv(t, setup...)
	route := func(f change.RouteFields) change.Op { return mustOp(change.ParseRoute(f, tables)) }
	cases := []struct {
		name  string
		op    change.Op
		errno unix.Errno
		want  string
	}{
		{"a duplicate route", route(change.RouteFields{Action: "add", Dst: "10.20.0.0/16", Via: "192.0.2.1", Metric: "5"}), unix.EEXIST,
			"a route to 10.20.0.0/16 already exists in table main: replace it instead"},
		{"a duplicate route in a named table", route(change.RouteFields{Action: "add", Type: "blackhole", Dst: "198.51.100.0/24", Table: "wan-force"}), unix.EEXIST,
			"a route to 198.51.100.0/24 already exists in table wan-force: replace it instead"},
		{"an unreachable gateway", route(change.RouteFields{Action: "add", Dst: "10.60.0.0/16", Via: "198.51.100.1"}), unix.ENETUNREACH,
			"no link reaches 198.51.100.1: add an address in its subnet or mark the route onlink"},
		{"an unreachable IPv6 gateway", route(change.RouteFields{Action: "add", Dst: "2001:db8:60::/48", Via: "2001:db8:ffff::1"}), unix.EHOSTUNREACH,
			"no link reaches 2001:db8:ffff::1: add an address in its subnet or mark the route onlink"},
		{"deleting a missing route", route(change.RouteFields{Action: "del", Dst: "10.9.0.0/16"}), unix.ESRCH,
			"no such route: 10.9.0.0/16 in table main"},
		{"a source address the host does not have", route(change.RouteFields{Action: "add", Dst: "10.61.0.0/16", Dev: "wan", Src: "203.0.113.77"}), unix.EINVAL,
			"src 203.0.113.77 is not an address of any link here: add it to a link first, or leave src empty"},
		{"a route through a missing link", &change.RouteOp{Action: "add", Family: unix.AF_INET, Table: 254, Dst: mustPrefix("10.62.0.0/16"), Dev: "nosuch"}, unix.ENODEV,
			"no link named nosuch"},
		{"deleting a missing address", mustOp(change.ParseAddr(change.AddrFields{Action: "del", Dev: "wan", Prefix: "192.0.2.77/24"})), unix.EADDRNOTAVAIL,
			"no such address: wan has no address 192.0.2.77/24"},
		{"adding an address twice", mustOp(change.ParseAddr(change.AddrFields{Action: "add", Dev: "wan", Prefix: "192.0.2.2/24"})), unix.EEXIST,
			"192.0.2.2/24 is already assigned to wan"},
		{"deleting a missing rule", mustOp(change.ParseRule(change.RuleFields{Action: "del", Priority: "4242"}, tables)), unix.ENOENT,
			"no such rule: priority 4242"},
		{"adding a rule twice", mustOp(change.ParseRule(change.RuleFields{Action: "add", Fwmark: "7", Priority: "5000", Table: "wan-force"}, tables)), unix.EEXIST,
			"an identical rule already exists: fwmark 0x7 priority 5000 lookup wan-force"},
		{"deleting a missing neighbour", mustOp(change.ParseNeigh(change.NeighFields{Action: "del", Dev: "wan", IP: "192.0.2.99"})), unix.ENOENT,
			"no such neighbour entry: 192.0.2.99 on wan"},
		{"adding a neighbour twice", mustOp(change.ParseNeigh(change.NeighFields{Action: "add", Dev: "wan", IP: "192.0.2.20", LLAddr: "02:00:00:00:00:21"})), unix.EEXIST,
			"there is already an entry for 192.0.2.20 on wan: delete it first"},
		{"an mtu above the device maximum", &change.LinkMTU{Name: "wan", MTU: 70000}, unix.EINVAL,
			"wan does not accept MTU 70000: it is outside the device's range, or above the MTU of the link it sits on (macvlan, vxlan)"},
		{"a vxlan mtu above what its link carries", &change.LinkMTU{Name: "vx0", MTU: 1500}, unix.EINVAL,
			"vx0 does not accept MTU 1500: it is outside the device's range, or above the MTU of the link it sits on (macvlan, vxlan)"},
		{"a link name that is taken", mustOp(change.ParseLinkAdd(change.LinkAddFields{Kind: "bridge", Name: "wan"})), unix.EEXIST,
			"a link named wan already exists"},
		{"renaming onto a taken name", mustOp(change.ParseLinkRename("br0", "wan")), unix.EEXIST,
			"a link named wan already exists"},
		{"a master that is not a bridge", mustOp(change.ParseLinkMaster("v1", "wan")), unix.EOPNOTSUPP,
			"wan cannot take ports: only bridges can be masters here"},
		{"a port that already has another upper device", mustOp(change.ParseLinkMaster("v1", "br0")), unix.EBUSY,
			"v1 is already a port of a bridge, or another device (macvlan, vxlan) sits on it: release it first"},
		{"deleting loopback", mustOp(change.ParseLinkDel("lo")), unix.EOPNOTSUPP,
			"lo cannot be deleted: it is a physical or loopback device"},
		{"a link that does not exist", mustOp(change.ParseLinkUpDown("nosuch", "up")), unix.ENODEV,
			"no link named nosuch"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			refused(t, e, c.op, c.want)
			if err := c.op.Apply(e.h, e.store); !errors.Is(err, c.errno) {
				t.Errorf("errors.Is(err, %v) is false for %v", c.errno, err)
			}
		})
	}
}

// Check finds most of the same problems from the model, before the kernel
// is asked, and names the field.
func TestCheckReportsFields(t *testing.T) {
	setup := append(routeSetup[:len(routeSetup):len(routeSetup)], "rule add fwmark 7 priority 5000 lookup 100")
	e := newEnv(t, setup...)
	cases := []struct {
		name string
		op   change.Op
		want string
	}{
		{"duplicate route", mustOp(change.ParseRoute(change.RouteFields{Action: "add", Dst: "10.20.0.0/16", Dev: "wan", Metric: "5"}, tables)),
			"dst: a route to 10.20.0.0/16 already exists in table main: replace it instead"},
		{"missing route", mustOp(change.ParseRoute(change.RouteFields{Action: "del", Dst: "10.9.0.0/16", Table: "wan-force"}, tables)),
			"dst: no such route: 10.9.0.0/16 in table wan-force"},
		{"src not local and dev missing", mustOp(change.ParseRoute(change.RouteFields{Action: "add", Dst: "10.70.0.0/16", Dev: "eth9", Src: "192.0.2.200"}, tables)),
			"dev: no link named eth9; src: 192.0.2.200 is not an address of any link here: add it first or leave src empty"},
		{"missing address", mustOp(change.ParseAddr(change.AddrFields{Action: "del", Dev: "wan", Prefix: "192.0.2.77/24"})),
			"prefix: wan has no address 192.0.2.77/24"},
		{"address already there", mustOp(change.ParseAddr(change.AddrFields{Action: "add", Dev: "wan", Prefix: "192.0.2.2/24"})),
			"prefix: 192.0.2.2/24 is already assigned to wan"},
		{"duplicate rule", mustOp(change.ParseRule(change.RuleFields{Action: "add", Fwmark: "0x7", Priority: "5000", Table: "100"}, tables)),
			"priority: an identical rule already exists at priority 5000"},
		{"missing rule", mustOp(change.ParseRule(change.RuleFields{Action: "del", Fwmark: "0x9"}, tables)),
			"priority: no such rule: fwmark 0x9"},
		{"taken link names", mustOp(change.ParseLinkAdd(change.LinkAddFields{Kind: "veth", Name: "wan", Values: map[string]string{"peer": "v1"}})),
			"name: a link named wan already exists; peer: a link named v1 already exists"},
		{"master not a bridge", mustOp(change.ParseLinkMaster("v1", "wan")), "master: wan is a veth, not a bridge"},
		{"deleting loopback", mustOp(change.ParseLinkDel("lo")), "name: lo is a physical or loopback device and cannot be deleted"},
		{"renaming onto a taken name", mustOp(change.ParseLinkRename("v1", "v0")), "new_name: a link named v0 already exists"},
		{"missing neighbour", mustOp(change.ParseNeigh(change.NeighFields{Action: "del", Dev: "wan", IP: "192.0.2.99"})),
			"ip: no neighbour entry for 192.0.2.99 on wan"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.op.Check(e.store)
			var fe change.FieldErrors
			if !errors.As(err, &fe) {
				t.Fatalf("Check = %v, want FieldErrors", err)
			}
			if err.Error() != c.want {
				t.Errorf("got  %q\nwant %q", err, c.want)
			}
		})
	}
}
