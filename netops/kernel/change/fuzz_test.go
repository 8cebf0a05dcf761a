package change_test

import (
	"reflect"
	"testing"

	"github.com/netpanel/netpanel/netops/kernel/change"
)

// roundTrip checks that an accepted op prints a command that parses back
// into the same op and the same command.
func roundTrip(t *testing.T, op change.Op) {
	t.Helper()
	cmd := op.Command(names{})
	back, err := change.ParseCommand(cmd, tables)
	if err != nil {
		t.Fatalf("%q does not parse back: %v", cmd, err)
	}
	if !reflect.DeepEqual(op, back) {
		t.Fatalf("%q parses back differently:\n got  %#v\n want %#v", cmd, back, op)
	}
	if again := back.Command(names{}); again != cmd {
		t.Fatalf("%q prints back as %q", cmd, again)
	}
	_ = op.OldCommand(names{})
	_ = op.Touches()
}

// fieldErrorsOnly fails when a parser returns an error that is not a
// FieldErrors with at least one message.
func fieldErrorsOnly(t *testing.T, err error) {
	t.Helper()
	fe, ok := err.(change.FieldErrors)
	if !ok || len(fe) == 0 || fe.Error() == "" {
		t.Fatalf("error %T %v is not a FieldErrors", err, err)
	}
}

func FuzzParseRoute(f *testing.F) {
	f.Add("add", "", "wan-force", "default", "192.0.2.1", "wan", "10", "static", "", "", "", true, "", "", "", "", "", "", false, "")
	f.Add("add", "", "", "10.6.0.0/16", "", "", "", "", "", "", "", false, "10.1.0.2", "v0", "2", "", "", "", false, "")
	f.Add("del", "inet6", "main", "2001:db8::/32", "", "", "0x10", "", "link", "2001:db8::1", "unicast", false, "", "", "", "", "", "", false, "")
	f.Add("replace", "", "7", "any", "", "", "", "", "", "", "blackhole", false, "", "", "", "", "", "", false, "")
	f.Add("add", "", "", "10.6.0.0/16", "192.0.2.1", "", "", "", "", "", "", false, "", "", "", "AF11", "1400", "1360", true, "")
	f.Add("add", "", "", "2001:db8:5::/48", "2001:db8::1", "", "", "", "", "", "", false, "", "", "", "", "", "", false, "2001:db8:1::/64")
	f.Add("del", "", "", "10.6.0.0/16", "", "", "", "", "", "", "", false, "", "", "", "", "", "", false, "10.0.0.0/8")
	f.Fuzz(func(t *testing.T, action, fam, table, dst, via, dev, metric, proto, scope, src, typ string, onlink bool, nhVia, nhDev, nhWeight string,
		tos, mtu, advmss string, lock bool, from string) {
		rf := change.RouteFields{Action: action, Family: fam, Table: table, Dst: dst, Via: via, Dev: dev, Metric: metric,
			Protocol: proto, Scope: scope, Src: src, Type: typ, Onlink: onlink, Tos: tos, MTULock: lock, From: from}
		if mtu != "" || advmss != "" {
			rf.Metrics = map[string]string{"mtu": mtu, "advmss": advmss}
		}
		if nhVia != "" || nhDev != "" || nhWeight != "" {
			rf.Nexthops = []change.NexthopFields{{Via: nhVia, Dev: nhDev, Weight: nhWeight}, {Via: nhVia, Dev: nhDev}}
		}
		op, err := change.ParseRoute(rf, tables)
		if err != nil {
			fieldErrorsOnly(t, err)
			return
		}
		roundTrip(t, op)
	})
}

func FuzzParseRule(f *testing.F) {
	f.Add("add", "", "16286", "", "", "", "", "0x20/0x20", "wan-force", "", "", false, "", "", "", "", "", "", false)
	f.Add("del", "inet6", "", "2001:db8::/32", "all", "v0", "wan", "0/0xff", "", "prohibit", "static", true, "", "", "", "", "", "", false)
	f.Add("add", "", "100", "", "", "", "", "", "1000", "", "", false, "tcp", "1000-2000", "443", "0-999", "0", "", false)
	f.Add("add", "", "100", "", "", "", "", "", "", "", "", false, "", "", "", "", "", "200", false)
	f.Add("add", "", "100", "", "", "", "", "", "", "", "", false, "", "", "", "", "", "", true)
	f.Fuzz(func(t *testing.T, action, fam, prio, from, to, iif, oif, fwmark, table, typ, proto string, not bool,
		ipproto, sport, dport, uids, suppress, gotoPrio string, l3mdev bool) {
		op, err := change.ParseRule(change.RuleFields{Action: action, Family: fam, Priority: prio, From: from, To: to, Iif: iif,
			Oif: oif, Fwmark: fwmark, Table: table, Type: typ, Protocol: proto, Not: not, IPProto: ipproto, SPort: sport,
			DPort: dport, UIDRange: uids, SuppressPrefixLength: suppress, Goto: gotoPrio, L3mdev: l3mdev}, tables)
		if err != nil {
			fieldErrorsOnly(t, err)
			return
		}
		roundTrip(t, op)
	})
}

func FuzzParseAddr(f *testing.F) {
	f.Add("add", "wan", "192.0.2.5/24", "", "192.0.2.255", "wan:1", "link", "forever", "forever")
	f.Add("del", "wan", "2001:db8::5/64", "2001:db8::6/64", "", "", "", "600", "300")
	f.Fuzz(func(t *testing.T, action, dev, prefix, peer, brd, label, scope, valid, preferred string) {
		op, err := change.ParseAddr(change.AddrFields{Action: action, Dev: dev, Prefix: prefix, Peer: peer, Broadcast: brd,
			Label: label, Scope: scope, ValidLft: valid, PreferredLft: preferred})
		if err != nil {
			fieldErrorsOnly(t, err)
			return
		}
		roundTrip(t, op)
	})
}

func FuzzParseNeigh(f *testing.F) {
	f.Add("add", "wan", "192.0.2.9", "02:00:00:00:00:09")
	f.Add("del", "wan", "2001:db8::9", "")
	f.Fuzz(func(t *testing.T, action, dev, ip, lladdr string) {
		op, err := change.ParseNeigh(change.NeighFields{Action: action, Dev: dev, IP: ip, LLAddr: lladdr})
		if err != nil {
			fieldErrorsOnly(t, err)
			return
		}
		roundTrip(t, op)
	})
}

func FuzzParseLinkAdd(f *testing.F) {
	f.Add("vxlan", "vx0", "", "42", "192.0.2.2", "", "192.0.2.1", "4789", "wan", "")
	f.Add("macvlan", "mv0", "", "", "", "", "", "", "wan", "bridge")
	f.Add("veth", "a0", "a1", "", "", "", "", "", "", "")
	f.Fuzz(func(t *testing.T, kind, name, peer, vni, local, group, remote, dstport, dev, mode string) {
		op, err := change.ParseLinkAdd(change.LinkAddFields{Kind: kind, Name: name, Dev: dev, Values: map[string]string{"peer": peer, "vni": vni, "local": local, "group": group, "remote": remote, "dstport": dstport, "mode": mode}})
		if err != nil {
			fieldErrorsOnly(t, err)
			return
		}
		roundTrip(t, op)
	})
}

func FuzzParseLinkSet(f *testing.F) {
	for _, w := range []string{"updown", "mtu", "rename", "alias", "master", "del"} {
		f.Add(w, "wan", "1400")
	}
	f.Add("alias", "wan", "it's #1")
	f.Fuzz(func(t *testing.T, which, name, value string) {
		var op change.Op
		var err error
		switch which {
		case "updown":
			op, err = change.ParseLinkUpDown(name, value)
		case "mtu":
			op, err = change.ParseLinkMTU(name, value)
		case "rename":
			op, err = change.ParseLinkRename(name, value)
		case "alias":
			op, err = change.ParseLinkAlias(name, value)
		case "master":
			op, err = change.ParseLinkMaster(name, value)
		case "del":
			op, err = change.ParseLinkDel(name)
		default:
			return
		}
		if err != nil {
			fieldErrorsOnly(t, err)
			return
		}
		roundTrip(t, op)
	})
}

// Whatever is pasted, ParseCommand does not panic, and what it accepts
// prints as a command that reads back the same.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{
		"ip route add default via 192.0.2.1 dev wan table wan-force metric 10 proto static onlink",
		"ip route add 10.6.0.0/16 nexthop via 10.1.0.2 dev v0 weight 2 nexthop via 10.1.0.3 dev v0 weight 1",
		"ip -6 rule add from 2001:db8::/32 priority 100 unreachable",
		"ip rule add fwmark 0x20/0x20 priority 16286 lookup wan-force",
		"ip addr add 192.0.2.5/24 dev wan label wan:1",
		"ip neigh add 192.0.2.9 lladdr 02:00:00:00:00:09 dev wan nud permanent",
		"ip link set dev wan alias 'it'\\''s \"#1\"'",
		"ip link add link wan name mv0 type macvlan mode bridge",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		op, err := change.ParseCommand(line, tables)
		if err != nil {
			return
		}
		roundTrip(t, op)
	})
}
