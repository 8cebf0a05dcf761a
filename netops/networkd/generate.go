package networkd

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/netpanel/netpanel/netops"
	"github.com/netpanel/netpanel/netops/iproute"
)

// Source is the live state Generate reads; *netops.Store satisfies it.
type Source interface {
	Links() []netops.Link
	Addrs() []netops.Addr
	Rules(family uint8) []netops.Rule
	EachRoute(fn func(*netops.Route) bool)
}

// TableNames names routing tables; *rttables.Tables satisfies it. Name
// returns the ID in decimal for a table without a name.
type TableNames interface {
	Name(id uint32) string
}

// Files maps a path relative to the networkd configuration directory
// (/etc/systemd/network) to its content: "10-br0.netdev",
// "10-br0.network", and TablesConf ("networkd.conf.d/netpanel-tables.conf"),
// which belongs in /etc/systemd/networkd.conf.d.
type Files map[string][]byte

// Paths returns the file paths in sorted order.
func (f Files) Paths() []string {
	out := make([]string, 0, len(f))
	for p := range f {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// TablesConf is the Files key of the table-name declarations; ConfDir is
// its directory, a sibling of the network directory.
const (
	ConfDir     = "networkd.conf.d"
	TablesConf  = ConfDir + "/netpanel-tables.conf"
	filePrefix  = "10-"
	mainTable   = 254
	localTable  = 255
	defaultTabl = 253
)

// Kernel constants Generate needs.
const (
	afInet  = 2
	afInet6 = 10

	ifaFNodad         = 0x02
	ifaFTemporary     = 0x01
	ifaFPermanent     = 0x80
	ifaFNoprefixroute = 0x200
	forever           = 0xFFFFFFFF

	rtnhFOnlink = 4

	rtprotRedirect = 1
	rtprotKernel   = 2
	rtprotBoot     = 3
	rtprotStatic   = 4
	rtprotRA       = 9

	frActToTbl       = 1
	frActGoto        = 2
	frActNop         = 3
	frActBlackhole   = 6
	frActUnreachable = 7
	frActProhibit    = 8
)

var routeTypes = map[uint8]string{
	1: "unicast", 2: "local", 3: "broadcast", 4: "anycast", 5: "multicast",
	6: "blackhole", 7: "unreachable", 8: "prohibit", 9: "throw", 10: "nat", 11: "xresolve",
}

var protocolNames = map[uint8]string{
	rtprotKernel: "kernel", rtprotBoot: "boot", rtprotStatic: "static", rtprotRA: "ra", 16: "dhcp",
}

// ErrNotRecreatable reports a link Generate cannot describe in a .netdev.
var ErrNotRecreatable = errors.New("link cannot be recreated by systemd-networkd")

// ErrLowerNotSelected reports a vxlan or macvlan whose lower link is not
// among the links to generate. networkd creates such a link only through
// the lower link's .network (VXLAN=, MACVLAN=), so its .netdev alone would
// silently do nothing at boot.
var ErrLowerNotSelected = errors.New("the lower link must be saved too")

// Generate describes the current state of the named links as networkd
// files: a .netdev for each virtual link networkd can create (bridge,
// dummy, veth, vxlan, macvlan), a .network for each link with its bridge
// membership, stacked links, static addresses and the routes through it
// in every table but the kernel's own. Device-less routes (blackhole,
// unreachable, prohibit, throw) and all policy rules but the defaults go
// into the first link's .network. Named tables other than the built-in
// ones are declared in networkd.conf.d/netpanel-tables.conf. The output
// depends only on the state, the names and their order.
//
// A vxlan with an underlying device and a macvlan are named in their
// lower link's .network, which networkd requires to create them; the
// lower link must then be selected too, else Generate fails with
// ErrLowerNotSelected rather than take over a .network the caller did not
// ask for. A vxlan without a device is written with Independent=yes.
func Generate(st Source, links []string, tables TableNames) (Files, error) {
	if len(links) == 0 {
		return nil, errors.New("no links to generate files for")
	}
	g := &gen{tables: tables, used: map[uint32]string{}}
	all := st.Links()
	byIndex := make(map[int32]netops.Link, len(all))
	byName := make(map[string]netops.Link, len(all))
	for _, l := range all {
		byIndex[l.Index] = l
		byName[l.Name] = l
	}
	var sel []netops.Link
	selected := map[int32]bool{}
	for _, name := range links {
		l, ok := byName[name]
		if !ok {
			return nil, fmt.Errorf("link %q does not exist", name)
		}
		if selected[l.Index] {
			continue
		}
		selected[l.Index] = true
		sel = append(sel, l)
	}

	files := Files{}
	nets := map[int32]*NetworkFile{}
	for _, l := range sel {
		nf := &NetworkFile{Match: Match{Name: []string{l.Name}}}
		nets[l.Index] = nf
	}
	for _, l := range sel {
		nd, err := netdevFor(l, byIndex, selected)
		if err != nil {
			return nil, err
		}
		if nd != nil {
			files[filePrefix+l.Name+".netdev"] = nd.Marshal()
		}
		if err := stack(l, byIndex, nets); err != nil {
			return nil, err
		}
		nf := nets[l.Index]
		nf.Network.ConfigureWithoutCarrier = new(true)
		if m, ok := byIndex[l.MasterIndex]; ok && l.MasterIndex != 0 {
			if m.Kind != "bridge" {
				return nil, fmt.Errorf("%w: %s is enslaved to %s %q", ErrNotRecreatable, l.Name, m.Kind, m.Name)
			}
			nf.Network.Bridge = m.Name
		}
	}
	first := nets[sel[0].Index]

	linkLocal := map[int32]bool{}
	for _, a := range st.Addrs() {
		nf := nets[a.LinkIndex]
		if nf == nil {
			continue
		}
		if a.Family == afInet6 && a.Prefix.Addr().IsLinkLocalUnicast() {
			linkLocal[a.LinkIndex] = true
			continue
		}
		if ad, ok := addressFor(a, byIndex[a.LinkIndex].Name); ok {
			nf.Addresses = append(nf.Addresses, ad)
		}
	}
	for idx, nf := range nets {
		if !linkLocal[idx] {
			nf.Network.LinkLocalAddressing = "no"
		}
	}

	var routeErr error
	st.EachRoute(func(r *netops.Route) bool {
		if !wantedRoute(r) {
			return true
		}
		var nf *NetworkFile
		switch {
		case deviceless(r.Type):
			nf = first
		case len(r.Multipath()) > 0:
			nf = nets[r.Multipath()[0].LinkIndex]
		default:
			nf = nets[r.LinkIndex]
		}
		if nf == nil {
			return true
		}
		rt, err := g.route(r, byIndex)
		if err != nil {
			routeErr = err
			return false
		}
		nf.Routes = append(nf.Routes, rt)
		return true
	})
	if routeErr != nil {
		return nil, routeErr
	}

	for _, fam := range []uint8{afInet, afInet6} {
		for _, r := range st.Rules(fam) {
			if defaultRule(r) {
				continue
			}
			first.RoutingPolicyRules = append(first.RoutingPolicyRules, g.rule(r))
		}
	}

	for _, l := range sel {
		nf := nets[l.Index]
		sortAddresses(nf.Addresses)
		sortRoutes(nf.Routes)
		slices.Sort(nf.Network.VXLAN)
		slices.Sort(nf.Network.MACVLAN)
		files[filePrefix+l.Name+".network"] = nf.Marshal()
	}
	if conf := g.tablesConf(); conf != nil {
		files[TablesConf] = conf
	}
	return files, nil
}

type gen struct {
	tables TableNames
	used   map[uint32]string // named non-builtin tables referenced
}

// table returns the Table= value for id: empty for main, the name when the
// table has one, else the number.
func (g *gen) table(id uint32) string {
	switch id {
	case mainTable:
		return ""
	case localTable:
		return "local"
	case defaultTabl:
		return "default"
	}
	num := strconv.FormatUint(uint64(id), 10)
	if g.tables == nil {
		return num
	}
	name := g.tables.Name(id)
	if name == "" || name == num || !validTableName(name) {
		return num
	}
	g.used[id] = name
	return name
}

// validTableName keeps names networkd would refuse or misread as numbers
// out of RouteTable=.
func validTableName(n string) bool {
	if n == "main" || n == "local" || n == "default" {
		return false
	}
	if _, err := strconv.ParseUint(n, 0, 32); err == nil {
		return false
	}
	return !strings.ContainsAny(n, ": \t\n\"'\\")
}

func (g *gen) tablesConf() []byte {
	if len(g.used) == 0 {
		return nil
	}
	ids := make([]uint32, 0, len(g.used))
	for id := range g.used {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var b strings.Builder
	b.WriteString(Header + "\n\n[Network]\nRouteTable=")
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s:%d", g.used[id], id)
	}
	b.WriteByte('\n')
	return []byte(b.String())
}

func netdevFor(l netops.Link, byIndex map[int32]netops.Link, selected map[int32]bool) (*NetDevFile, error) {
	nd := &NetDevFile{NetDev: NetDev{Name: l.Name, Kind: l.Kind}}
	switch l.Kind {
	case "bridge":
		nd.Bridge = &Bridge{}
	case "dummy":
	case "veth":
		if l.LinkNetNsID >= 0 {
			// A container's eth0: whoever made the pair makes it again at
			// boot; networkd only configures this end.
			return nil, nil
		}
		peer, ok := byIndex[l.ParentIndex]
		if !ok {
			return nil, fmt.Errorf("%w: the peer of veth %s is unknown", ErrNotRecreatable, l.Name)
		}
		// One .netdev per pair: when both ends are generated, the
		// lexically smaller name creates the pair.
		if selected[peer.Index] && peer.Name < l.Name {
			return nil, nil
		}
		nd.Peer = &Peer{Name: peer.Name}
	case "vxlan":
		x := l.VXLAN
		if x == nil || x.VNI == 0 {
			return nil, fmt.Errorf("%w: the VNI of vxlan %s is unknown", ErrNotRecreatable, l.Name)
		}
		v := &VXLAN{VNI: x.VNI, Local: x.Local}
		if x.Remote.IsMulticast() {
			v.Group = x.Remote
		} else {
			v.Remote = x.Remote
		}
		// Always explicit: the kernel's default (8472 on Linux) is not
		// networkd's (4789).
		v.DestinationPort = x.Port
		if !x.Learning {
			v.MacLearning = new(false)
		}
		if x.DevIndex == 0 {
			v.Independent = new(true)
		}
		if x.TTL != 0 {
			v.Extra = append(v.Extra, Option{"TTL", strconv.Itoa(int(x.TTL))})
		}
		nd.VXLAN = v
	case "macvlan":
		if l.MACVLAN == nil {
			return nil, fmt.Errorf("%w: the mode of macvlan %s is unknown", ErrNotRecreatable, l.Name)
		}
		switch mode := l.MACVLAN.Mode; mode {
		case "private", "vepa", "bridge", "passthru":
			nd.MACVLAN = &MACVLAN{Mode: mode}
		default:
			// Source mode filters on a MAC list the model does not hold.
			return nil, fmt.Errorf("%w: macvlan %s is in mode %q", ErrNotRecreatable, l.Name, mode)
		}
	default:
		return nil, nil // physical or unmanaged kind: .network only
	}
	return nd, nil
}

// stack names a vxlan or macvlan in its lower link's .network, the only
// way networkd creates them.
func stack(l netops.Link, byIndex map[int32]netops.Link, nets map[int32]*NetworkFile) error {
	var lowerIdx int32
	switch {
	case l.Kind == "vxlan" && l.VXLAN != nil && l.VXLAN.DevIndex != 0:
		lowerIdx = l.VXLAN.DevIndex
	case l.Kind == "macvlan":
		if l.LinkNetNsID >= 0 {
			return fmt.Errorf("%w: the parent of macvlan %s is in another namespace", ErrNotRecreatable, l.Name)
		}
		lowerIdx = l.ParentIndex
	default:
		return nil
	}
	lower, ok := byIndex[lowerIdx]
	if !ok {
		return fmt.Errorf("%w: the lower link of %s %s is unknown", ErrNotRecreatable, l.Kind, l.Name)
	}
	nf := nets[lowerIdx]
	if nf == nil {
		return fmt.Errorf("%w: %s %s is created through %s's .network; select %s as well",
			ErrLowerNotSelected, l.Kind, l.Name, lower.Name, lower.Name)
	}
	if l.Kind == "vxlan" {
		nf.Network.VXLAN = append(nf.Network.VXLAN, l.Name)
	} else {
		nf.Network.MACVLAN = append(nf.Network.MACVLAN, l.Name)
	}
	return nil
}

func addressFor(a netops.Addr, linkName string) (Address, bool) {
	if a.Flags&ifaFTemporary != 0 {
		return Address{}, false
	}
	// Dynamic addresses (SLAAC, DHCP) have a finite valid lifetime and
	// lack IFA_F_PERMANENT; they come back by themselves.
	if a.ValidLft != forever || (a.Family == afInet6 && a.Flags&ifaFPermanent == 0) {
		return Address{}, false
	}
	ad := Address{Address: a.Prefix}
	if a.Peer.IsValid() && a.Peer != a.Prefix.Addr() {
		ad.Peer = netip.PrefixFrom(a.Peer, a.Prefix.Bits())
	}
	if a.Family == afInet && a.Label != "" && a.Label != linkName {
		ad.Label = a.Label
	}
	switch a.Scope {
	case 0:
	case 253:
		ad.Scope = "link"
	case 254:
		ad.Scope = "host"
	default:
		ad.Scope = strconv.Itoa(int(a.Scope))
	}
	if a.PreferredLft == 0 {
		ad.PreferredLifetime = "0"
	}
	if a.Family == afInet6 && a.Flags&ifaFNodad != 0 {
		ad.Extra = append(ad.Extra, Option{"DuplicateAddressDetection", "none"})
	}
	if a.Flags&ifaFNoprefixroute != 0 {
		ad.Extra = append(ad.Extra, Option{"AddPrefixRoute", "no"})
	}
	return ad, true
}

func deviceless(typ uint8) bool { return typ >= 6 && typ <= 9 }

// wantedRoute leaves out what the kernel or a router made: the local
// table, local and broadcast entries, kernel, redirect and RA routes and
// routes that expire.
func wantedRoute(r *netops.Route) bool {
	if r.Table == localTable || r.Type == 2 || r.Type == 3 || r.Type == 5 {
		return false
	}
	switch r.Protocol {
	case rtprotKernel, rtprotRedirect, rtprotRA:
		return false
	}
	return r.Extra == nil || r.Extra.Expires == 0
}

func (g *gen) route(r *netops.Route, byIndex map[int32]netops.Link) (Route, error) {
	rt := Route{Destination: r.Dst, Table: g.table(r.Table)}
	if !rt.Destination.IsValid() {
		if r.Family == afInet6 {
			rt.Destination = netip.MustParsePrefix("::/0")
		} else {
			rt.Destination = netip.MustParsePrefix("0.0.0.0/0")
		}
	}
	rt.Gateway = r.Gateway
	if r.Flags&rtnhFOnlink != 0 && r.Gateway.IsValid() {
		rt.GatewayOnLink = new(true)
	}
	if r.Priority != 0 {
		rt.Metric = new(r.Priority)
	}
	if r.Scope != 0 { // global is networkd's default
		rt.Scope = iproute.Scope(r.Scope)
	}
	if r.Type != 1 {
		name, ok := routeTypes[r.Type]
		if !ok {
			return Route{}, fmt.Errorf("route %s has type %d, which networkd does not know", rt.Destination, r.Type)
		}
		rt.Type = name
	}
	rt.PreferredSource = r.PrefSrc
	switch r.Protocol {
	case rtprotBoot, rtprotStatic, 0:
	default:
		if n, ok := protocolNames[r.Protocol]; ok {
			rt.Protocol = n
		} else {
			rt.Protocol = strconv.Itoa(int(r.Protocol))
		}
	}
	if r.Tos != 0 {
		rt.Extra = append(rt.Extra, Option{"TypeOfService", strconv.Itoa(int(r.Tos))})
	}
	if x := r.Extra; x != nil {
		if x.Src.IsValid() {
			rt.Extra = append(rt.Extra, Option{"Source", x.Src.String()})
		}
		if x.MTU != 0 {
			rt.Extra = append(rt.Extra, Option{"MTUBytes", strconv.FormatUint(uint64(x.MTU), 10)})
		}
		for _, nh := range x.Multipath {
			l, ok := byIndex[nh.LinkIndex]
			if !ok {
				return Route{}, fmt.Errorf("route %s has a nexthop through unknown link %d", rt.Destination, nh.LinkIndex)
			}
			v := l.Name
			if nh.Gateway.IsValid() {
				v = nh.Gateway.String() + "@" + l.Name
			}
			if nh.Weight > 0 {
				v += " " + strconv.Itoa(int(nh.Weight))
			}
			rt.Extra = append(rt.Extra, Option{"MultiPathRoute", v})
		}
	}
	return rt, nil
}

// defaultRule reports the rules the kernel creates in every namespace.
func defaultRule(r netops.Rule) bool {
	plain := !r.Src.IsValid() && !r.Dst.IsValid() && !r.HasMark && r.IifName == "" && r.OifName == "" &&
		!r.Invert && r.Tos == 0 && !r.HasUID && !r.L3mdev && r.Action == frActToTbl
	if !plain {
		return false
	}
	switch r.Priority {
	case 0:
		return r.Table == localTable
	case 32766:
		return r.Table == mainTable
	case 32767:
		return r.Table == defaultTabl && r.Family == afInet
	}
	return false
}

func (g *gen) rule(r netops.Rule) RoutingPolicyRule {
	pr := RoutingPolicyRule{
		From:              r.Src,
		To:                r.Dst,
		Priority:          new(r.Priority),
		IncomingInterface: r.IifName,
		OutgoingInterface: r.OifName,
	}
	if r.HasMark {
		fm := &FirewallMark{Mark: r.Mark}
		if r.HasMask && r.Mask != 0xFFFFFFFF {
			fm.Mask = r.Mask
		}
		pr.FirewallMark = fm
	}
	if r.Action == frActToTbl && r.Table != 0 {
		pr.Table = g.table(r.Table)
		if pr.Table == "" {
			pr.Table = "main"
		}
	}
	if r.Invert {
		pr.Invert = new(true)
	}
	if r.Family == afInet6 {
		pr.Family = "ipv6"
	}
	if r.Tos != 0 {
		pr.Extra = append(pr.Extra, Option{"TypeOfService", strconv.Itoa(int(r.Tos))})
	}
	switch r.Action {
	case frActGoto:
		pr.Extra = append(pr.Extra, Option{"GoTo", strconv.FormatUint(uint64(r.Goto), 10)})
	case frActNop:
		pr.Extra = append(pr.Extra, Option{"Type", "nop"})
	case frActBlackhole:
		pr.Extra = append(pr.Extra, Option{"Type", "blackhole"})
	case frActUnreachable:
		pr.Extra = append(pr.Extra, Option{"Type", "unreachable"})
	case frActProhibit:
		pr.Extra = append(pr.Extra, Option{"Type", "prohibit"})
	}
	if r.SuppressPrefixLen >= 0 && r.SuppressPrefixLen < 128 {
		pr.Extra = append(pr.Extra, Option{"SuppressPrefixLength", strconv.Itoa(int(r.SuppressPrefixLen))})
	}
	if r.HasUID {
		pr.Extra = append(pr.Extra, Option{"User", fmt.Sprintf("%d-%d", r.UIDStart, r.UIDEnd)})
	}
	return pr
}

func sortAddresses(as []Address) {
	slices.SortStableFunc(as, func(a, b Address) int {
		if c := cmp.Compare(btoi(a.Address.Addr().Is6()), btoi(b.Address.Addr().Is6())); c != 0 {
			return c
		}
		if c := a.Address.Addr().Compare(b.Address.Addr()); c != 0 {
			return c
		}
		return cmp.Compare(a.Address.Bits(), b.Address.Bits())
	})
}

// sortRoutes orders by what the store's order may not fix across runs:
// table, family, destination, metric, then the rendered text.
func sortRoutes(rs []Route) {
	slices.SortStableFunc(rs, func(a, b Route) int {
		if c := cmp.Compare(a.Table, b.Table); c != 0 {
			return c
		}
		if c := cmp.Compare(btoi(a.Destination.Addr().Is6()), btoi(b.Destination.Addr().Is6())); c != 0 {
			return c
		}
		if c := a.Destination.Addr().Compare(b.Destination.Addr()); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Destination.Bits(), b.Destination.Bits()); c != 0 {
			return c
		}
		return strings.Compare(routeText(a), routeText(b))
	})
}

func routeText(r Route) string {
	return string((&NetworkFile{Routes: []Route{r}}).MarshalWithHeader("#"))
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
