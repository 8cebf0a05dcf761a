package networkd

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// Effect is one change of live state: what networkd is expected to do
// when it loads new files, or what it was seen to do.
type Effect struct {
	Action string // "add", "remove", "create" (a link) or "set" (a link's MTU or master)
	Kind   string // "address", "route", "rule" or "link"
	Link   string // "" for rules and device-less routes
	Text   string // ip-style: "10.56.0.1/24 dev v0"
	// Prefix is an address's prefix or a route's destination
	// ("0.0.0.0/0" for a default route); "" otherwise.
	Prefix string
	key    string
	rule   *ruleKey // a rule without Priority= matches any priority
}

// String is the effect as the page shows it: "add route 198.51.100.0/24
// via 10.56.0.254 dev v0".
func (e Effect) String() string { return e.Action + " " + e.Kind + " " + e.Text }

// Prediction is what networkd is expected to do with new files.
type Prediction struct {
	// Links are the links concerned: those whose .network changes, and
	// those a .netdev makes or describes, by name.
	Links []string
	// Reconfigured are the live links networkd configures again (their
	// .network changed) or stops managing (none applies any more).
	Reconfigured []string
	Effects      []Effect
	// Notes say what networkd will not do that one might expect (an
	// existing link keeps its old .netdev settings) and what netpanel
	// cannot predict.
	Notes []string
	// Rules: the prediction covers policy rules, which networkd adds and
	// removes for every link it configures.
	Rules bool
}

// DaemonConf is what networkd.conf and its drop-ins say that a prediction
// needs: the table names networkd knows (RouteTable=, read at its start)
// and whether it removes routes and rules it did not configure.
type DaemonConf struct {
	Tables             map[string]uint32
	KeepForeignRoutes  bool // ManageForeignRoutes=no
	KeepForeignRules   bool // ManageForeignRoutingPolicyRules=no
	RouteTableWarnings []string
}

// ParseDaemonConf reads networkd.conf texts in the order networkd applies
// them (the main file, then the drop-ins by name): later assignments win.
func ParseDaemonConf(files []NamedData) DaemonConf {
	dc := DaemonConf{Tables: map[string]uint32{}}
	for _, f := range files {
		secs, _, _ := lex(f.Name, f.Data)
		for _, s := range secs {
			if s.name != "Network" {
				continue
			}
			for _, e := range s.entries {
				switch e.key {
				case "RouteTable":
					if e.value == "" {
						dc.Tables = map[string]uint32{}
					}
					for _, w := range strings.Fields(e.value) {
						name, num, _ := strings.Cut(w, ":")
						id, err := strconv.ParseUint(num, 10, 32)
						if err != nil || name == "" {
							dc.RouteTableWarnings = append(dc.RouteTableWarnings, fmt.Sprintf("%s:%d: RouteTable=%s is not NAME:NUMBER", f.Name, e.line, w))
							continue
						}
						dc.Tables[name] = uint32(id)
					}
				case "ManageForeignRoutes":
					b, err := parseBool(e.value)
					dc.KeepForeignRoutes = err == nil && !b
				case "ManageForeignRoutingPolicyRules":
					b, err := parseBool(e.value)
					dc.KeepForeignRules = err == nil && !b
				}
			}
		}
	}
	return dc
}

// NamedData is a file's name and content.
type NamedData struct {
	Name string
	Data []byte
}

// Predict says what networkd does when it loads pending over c (a reload,
// checked against networkd 252): pending maps main file names ("10-br0.network",
// "10-br0.netdev") to their new content, an empty one removing the file;
// the drop-ins on disk still apply. st is the live state.
//
// A link whose .network changes is configured again: networkd adds what
// the new file lists and removes what it does not, the addresses and
// routes of the old file and those it did not configure alike (unless
// KeepConfiguration= or ManageForeign*=no say otherwise), and every
// policy rule no applied file lists. A link no file applies to any more
// loses what networkd configured on it. A new .netdev makes its link; a
// changed or removed one changes nothing on a link that exists.
func Predict(c *Config, pending Files, st Source, dc DaemonConf) Prediction {
	return predict(c, pending, nil, st, dc, nil)
}

// PredictOf is Predict of pending files that are (some of) gen's: their
// structures are taken from gen rather than parsed again (see effective).
func PredictOf(c *Config, pending Files, gen *Generated, st Source, dc DaemonConf) Prediction {
	return predict(c, pending, gen, st, dc, nil)
}

// predict is PredictOf with routesOf, when not nil, in place of
// predictor.liveRoutes.
func predict(c *Config, pending Files, gen *Generated, st Source, dc DaemonConf, routesOf func(link string) []routeKey) Prediction {
	eff := effective(c, pending, gen)
	res := &tableResolver{declared: dc.Tables}
	links := st.Links()
	byName := map[string]model.Link{}
	byIndex := map[int32]model.Link{}
	for _, l := range links {
		byName[l.Name], byIndex[l.Index] = l, l
	}
	p := &predictor{st: st, res: res, dc: dc, byName: byName, byIndex: byIndex, tables: dc.tableNames(), concerned: map[string]bool{}, routesOf: routesOf,
		kept: gen.keptRuns(st, byIndex), gen: gen}
	changed := func(ld *Loaded) bool {
		if ld == nil {
			return false
		}
		_, ok := pending[ld.Name]
		return ok
	}
	p.netdevs(c, pending)
	oldX, effX := c.networkIndex(), eff.networkIndex()
	for _, l := range links {
		old, _ := oldX.networkFor(l)
		nw, _ := effX.networkFor(l)
		if name(old) == name(nw) && !changed(old) {
			continue
		}
		p.concerned[l.Name] = true
		p.out.Reconfigured = append(p.out.Reconfigured, l.Name)
		if nw == nil {
			p.unmanage(l, old)
			continue
		}
		p.configure(l, nw)
	}
	for _, name := range p.created {
		l := model.Link{Name: name, Kind: p.createdKind[name], LinkType: "ether"}
		if nw, _ := effX.networkFor(l); nw != nil {
			p.configure(l, nw)
		}
	}
	p.rules(c, eff)
	for n := range p.concerned {
		p.out.Links = append(p.out.Links, n)
	}
	slices.Sort(p.out.Links)
	slices.SortStableFunc(p.out.Effects, compareEffects)
	return p.out
}

func compareEffects(a, b Effect) int {
	order := map[string]int{"link": 0, "address": 1, "route": 2, "rule": 3}
	return cmp.Or(cmp.Compare(order[a.Kind], order[b.Kind]), cmp.Compare(a.Link, b.Link),
		cmp.Compare(b.Action, a.Action), cmp.Compare(a.Text, b.Text))
}

func name(ld *Loaded) string {
	if ld == nil {
		return ""
	}
	return ld.Name
}

type predictor struct {
	st          Source
	res         *tableResolver
	dc          DaemonConf
	byName      map[string]model.Link
	byIndex     map[int32]model.Link
	names       linkNames // byIndex's, for liveKey
	tables      model.TableNames
	concerned   map[string]bool
	created     []string
	createdKind map[string]string
	// configured: the files of links networkd configures now, and
	// whether any of them keeps foreign configuration.
	configured []*Loaded
	unmanaged  []*Loaded
	keepRules  bool
	out        Prediction
	// live: the keys of the live routes networkd may manage, by link
	// name ("" for device-less ones), in the model's order within a link:
	// read per link from the source's runs where it has them (a preview
	// of one link reads that link's routes), else from one walk over
	// every route (walked), not one per link the prediction concerns.
	live   map[linkName][]routeKey
	walked bool
	// homeless: the keys of live[""], as a set made once rather than
	// once per link configured.
	homeless map[routeKey]bool
	// homelessMarked: a file's keys were looked up among them once
	// already (homelessOf).
	homelessMarked bool
	// routesOf, when set, replaces liveRoutes (tests compare with it).
	routesOf func(link string) []routeKey
	// kept: the keys of the runs Generate read for the pending files,
	// read in place of the source's runs where they hold a link's.
	kept *runKeys
	// gen made the pending files, whose routes' keys it keeps (see
	// routeKeys); nil when unknown.
	gen *Generated
}

func (p *predictor) add(e Effect) { p.out.Effects = append(p.out.Effects, e) }

func (p *predictor) note(format string, args ...any) {
	p.out.Notes = append(p.out.Notes, fmt.Sprintf(format, args...))
}

// netdevs handles the .netdev files of pending: a new link is made, an
// existing one keeps what it has.
func (p *predictor) netdevs(c *Config, pending Files) {
	p.createdKind = map[string]string{}
	for _, fname := range pending.Paths() {
		if strings.Contains(fname, "/") || !strings.HasSuffix(fname, ".netdev") {
			continue
		}
		var oldName string
		dropIns := c.orphan(fname)
		for _, ld := range c.NetDevs {
			if ld.Name == fname {
				dropIns = ld
				if ld.NetDev != nil {
					oldName = ld.NetDev.NetDev.Name
				}
			}
		}
		data := pending[fname]
		if len(data) == 0 {
			if _, live := p.byName[oldName]; live && oldName != "" {
				p.concerned[oldName] = true
				p.note("networkd does not delete %s when its .netdev goes: it stays until deleted (networkctl delete %s) or the next boot", oldName, oldName)
			}
			continue
		}
		// The drop-ins on disk apply to the new file: the old one's, or
		// those that waited for a main file.
		parts := []part{{fname, data}}
		if dropIns != nil {
			parts = append(parts, dropIns.dropIns...)
		}
		nd, _, err := parseNetDev(parts)
		if nd == nil || nd.refused || nd.NetDev.Name == "" {
			p.note("%s does not parse; networkd makes no link from it", fname)
			continue
		}
		if err != nil {
			// A line networkd cannot read it ignores (an admin's
			// drop-in may hold one): the link is made all the same.
			p.note("%s: networkd ignores what it cannot read: %s", fname, strings.ReplaceAll(err.Error(), "\n", "; "))
		}
		n := nd.NetDev.Name
		p.concerned[n] = true
		if _, live := p.byName[n]; live {
			if oldName == n {
				p.note("%s exists: networkd does not change it from its .netdev (networkctl delete %s, then networkctl reload, makes it again; or the next boot)", n, n)
			}
			continue
		}
		if !slices.Contains(p.created, n) {
			p.created = append(p.created, n)
			p.createdKind[n] = nd.NetDev.Kind
			p.add(Effect{Action: "create", Kind: "link", Link: n, Text: n + " (" + nd.NetDev.Kind + ")", key: "link|create|" + n})
		}
	}
}

// keeps reports whether f keeps configuration networkd did not make
// (KeepConfiguration=yes or static).
func keeps(f *NetworkFile) bool {
	for _, o := range f.Network.Extra {
		if o.Key == "KeepConfiguration" {
			v := strings.ToLower(o.Value)
			if b, err := parseBool(v); err == nil {
				return b
			}
			return v == "static"
		}
	}
	return false
}

// configure predicts networkd configuring l with nw.
func (p *predictor) configure(l model.Link, nw *Loaded) {
	p.concerned[l.Name] = true
	p.configured = append(p.configured, nw)
	f := nw.Network
	keep := keeps(f)
	p.keepRules = p.keepRules || keep
	live := l.Index != 0
	// Addresses.
	want := fileAddrs(f)
	have := map[netip.Prefix]bool{}
	if live {
		for _, a := range p.st.Addrs() {
			if a.LinkIndex != l.Index || a.Family == unix.AF_INET6 && a.Prefix.Addr().IsLinkLocalUnicast() {
				continue
			}
			if _, static := addressFor(a, l.Name); !static {
				continue
			}
			have[a.Prefix] = true
			if !want[a.Prefix] && !keep {
				p.add(addrEffect("remove", l.Name, a.Prefix))
			}
		}
	}
	for _, a := range sortedPrefixes(want) {
		if !have[a] {
			p.add(addrEffect("add", l.Name, a))
		}
	}
	// Routes.
	wantR, order := p.fileKeys(nw, l.Name)
	var mine []routeKey
	if live {
		mine = p.liveRoutes(l.Name)
		// A link is configured once: its keys are not kept for the
		// rest of the prediction (a save of every link reads a million).
		if name, ok := lookupLinkName(l.Name); ok {
			delete(p.live, name)
		}
	}
	// haveR[j]: order[j] is among mine. Each key of mine is found once
	// in wantR, which holds its place in order, rather than stored in a
	// set of mine looked up again per key of the file (a link of a save
	// of every link: thousands of both).
	haveR := make([]bool, len(order))
	named := true // every key of mine names a link (liveRoutes' do)
	places := keyPlaces{set: wantR, order: order}
	for _, k := range mine {
		named = named && !k.link.isNone()
		if j, ok := places.find(k); ok {
			haveR[j] = true
		} else if !k.link.isNone() && !keep && !p.dc.KeepForeignRoutes {
			p.add(p.routeEffect("remove", k))
		}
	}
	// A device-less route (blackhole, unreachable) that exists already is
	// not added again, whichever file or hand made it; nor is it this
	// link's to remove.
	homeless := p.homelessOf(wantR, order)
	for j, k := range order {
		// A key of no link (the file's device-less routes: thousands in
		// the home file) is not among mine when those all name one.
		if (named && k.link.isNone() || !haveR[j]) && !homeless(j, k) {
			p.add(p.routeEffect("add", k))
		}
	}
	// Link settings.
	if mtu := f.Link.MTUBytes; mtu != 0 && live && mtu != l.MTU {
		p.add(Effect{Action: "set", Kind: "link", Link: l.Name, Text: fmt.Sprintf("%s mtu %d", l.Name, mtu), key: fmt.Sprintf("link|mtu|%s|%d", l.Name, mtu)})
	}
	if br := f.Network.Bridge; br != "" && (!live || p.byIndex[l.MasterIndex].Name != br || l.MasterIndex == 0) {
		p.add(Effect{Action: "set", Kind: "link", Link: l.Name, Text: l.Name + " master " + br, key: "link|master|" + l.Name + "|" + br})
	}
}

// homelessOf is whether a key of a file's, order[j] of wantR's (see
// fileKeys), is among the live device-less routes (liveRoutes("")). The
// first file asked about marks its keys those name, a look-up per live
// route; the next ones share a set of them, made once.
// (TestHomelessOfIsTheLiveSet compares both with the set.)
func (p *predictor) homelessOf(wantR map[routeKey]int32, order []routeKey) func(j int, k routeKey) bool {
	if p.homeless == nil && !p.homelessMarked {
		p.homelessMarked = true
		in := make([]bool, len(order))
		places := keyPlaces{set: wantR, order: order}
		for _, k := range p.liveRoutes("") {
			if j, ok := places.find(k); ok {
				in[j] = true
			}
		}
		return func(j int, _ routeKey) bool { return in[j] }
	}
	if p.homeless == nil {
		ks := p.liveRoutes("")
		p.homeless = make(map[routeKey]bool, len(ks))
		for _, k := range ks {
			p.homeless[k] = true
		}
	}
	return func(_ int, k routeKey) bool { return p.homeless[k] }
}

// keyPlaces finds keys' places in a file's keys (set holds each one's
// place in order) for keys read mostly in the file's order, as a link's
// live routes are when the file was made of them: each is compared first
// with the next key of its kind (of a link, or device-less) after the
// last one found, and looked up only when it is not that one.
type keyPlaces struct {
	set   map[routeKey]int32
	order []routeKey
	next  [2]int // by kind (1: device-less): the place after the last found
}

// find is k's place in order, if it is there.
func (p *keyPlaces) find(k routeKey) (int32, bool) {
	kind := btoi(k.link.isNone())
	// The next key of k's kind, within a few of the other kind.
	for c := p.next[kind]; c < len(p.order) && c < p.next[kind]+8; c++ {
		if o := &p.order[c]; btoi(o.link.isNone()) == kind {
			if *o == k {
				p.next[kind] = c + 1
				return int32(c), true
			}
			break
		}
	}
	j, ok := p.set[k]
	if ok {
		p.next[kind] = int(j) + 1
	}
	return j, ok
}

// fileKeys are the keys of nw's routes as link's, each once in the
// file's order, and their set: Generate's when nw is its own (read
// only), else made here, with a note for each route whose table
// networkd cannot resolve.
func (p *predictor) fileKeys(nw *Loaded, link string) (map[routeKey]int32, []routeKey) {
	f := nw.Network
	if fk := p.gen.routeKeys(f, link); fk != nil {
		return fk.set, fk.order
	}
	fk := keysOf(f, link, p.res, func(r *Route) {
		if r.GatewayDynamic == "" {
			p.note("%s: networkd cannot resolve Table=%s (it knows table names only from RouteTable= in networkd.conf when it starts) and ignores the route to %s", nw.Name, r.Table, routeDst(*r))
		}
	})
	return fk.set, fk.order
}

// unmanage predicts networkd letting go of l, which old configured: it
// removes what old configured on it.
func (p *predictor) unmanage(l model.Link, old *Loaded) {
	p.unmanaged = append(p.unmanaged, old)
	f := old.Network
	want := fileAddrs(f)
	for _, a := range p.st.Addrs() {
		if a.LinkIndex == l.Index && want[a.Prefix] {
			p.add(addrEffect("remove", l.Name, a.Prefix))
		}
	}
	wantR := map[routeKey]bool{}
	routes, _ := fileRoutes(f)
	name := newLinkName(l.Name)
	for r := range routes {
		if k, ok := fileRouteKey(r, name, p.res); ok {
			wantR[k] = true
		}
	}
	for _, k := range p.liveRoutes(l.Name) {
		if wantR[k] {
			p.add(p.routeEffect("remove", k))
		}
	}
}

// liveRoutes are the keys of the live routes networkd may manage on the
// link named link ("" for device-less routes and those of no known link).
func (p *predictor) liveRoutes(link string) []routeKey {
	if p.routesOf != nil {
		return p.routesOf(link)
	}
	if p.live == nil {
		p.live = map[linkName][]routeKey{}
	}
	// A name never interned names no key read so far; a read may intern
	// it (a long name of a fake source), so it is looked up again after.
	name, known := lookupLinkName(link)
	if ks, ok := p.live[name]; known && ok || p.walked {
		if !known {
			return nil
		}
		return ks
	}
	if ks, ok := p.runRoutes(link); ok {
		if name, known = lookupLinkName(link); known {
			p.live[name] = ks
		}
		return ks
	}
	// From here every link's routes, the device-less ones too, come
	// from this one walk: the set made of an earlier read of those goes.
	clear(p.live)
	p.homeless = nil
	p.st.EachRoute(func(r *model.Route) bool {
		if k, ok := p.liveKey(r); ok {
			p.live[k.link] = append(p.live[k.link], k)
		}
		return true
	})
	p.walked = true
	if name, known = lookupLinkName(link); !known {
		return nil
	}
	return p.live[name]
}

// runRoutes reads the keys of link's live routes from the source's runs
// of (table, link) alone (eachRunRoute); ok is false when the
// source has no runs or cannot tell them (a route with several paths).
func (p *predictor) runRoutes(link string) (ks []routeKey, ok bool) {
	pick := func(c model.RouteClass) bool {
		owner := ""
		if !deviceless(c.Type) {
			owner = p.byIndex[c.Link].Name
		}
		return owner == link
	}
	mine := linkIs(link)
	if p.kept != nil && p.kept.keys(pick, func(k routeKey) {
		if mine(k.link) {
			if ks == nil {
				ks = make([]routeKey, 0, p.kept.size(pick))
			}
			ks = append(ks, k)
		}
	}) {
		return ks, true
	}
	lr, isLR := p.st.(LinkRoutes)
	if !isLR {
		return nil, false
	}
	if !eachRunRoute(lr, pick, func(r *model.Route) bool {
		if k, want := p.liveKey(r); want && mine(k.link) {
			ks = append(ks, k)
		}
		return true
	}) {
		return nil, false
	}
	return ks, true
}

// liveKey is r's key when networkd may manage r.
func (p *predictor) liveKey(r *model.Route) (routeKey, bool) {
	if p.names.byIndex == nil {
		p.names.byIndex = p.byIndex
	}
	return managedKey(r, &p.names)
}

// managedKey is r's key, its link named as names says, and whether
// networkd may manage r: what Generate writes (wantedRoute), DHCP's
// routes aside.
func managedKey(r *model.Route, names *linkNames) (routeKey, bool) {
	if !wantedRoute(r) || r.Protocol == unix.RTPROT_DHCP {
		return routeKey{}, false
	}
	return liveRouteKey(r, names), true
}

// linkNames names the links of routeKeys by index, as byIndex does,
// remembering the last: the routes come a run, a link, at a time. It is
// one reader's, not shared.
type linkNames struct {
	byIndex map[int32]model.Link
	last    int32
	name    linkName
	named   bool
}

func (n *linkNames) of(idx int32) linkName {
	if !n.named || idx != n.last {
		n.last, n.name, n.named = idx, newLinkName(n.byIndex[idx].Name), true
	}
	return n.name
}

func liveRouteKey(r *model.Route, names *linkNames) routeKey {
	k := routeKey{family: r.Family, dst: newKeyPrefix(normalDst(r.Family, r.Dst)), table: r.Table, metric: r.Priority, typ: r.Type}
	k.setGateway(r.Gateway)
	if !deviceless(r.Type) {
		idx := r.LinkIndex
		if mp := r.Multipath(); len(mp) > 0 {
			idx = mp[0].LinkIndex
		}
		k.link = names.of(idx)
	}
	return k
}

// rules predicts the policy rules: when networkd configures a link it adds
// that file's rules and removes every rule no applied file lists; when it
// lets go of a link it removes the rules that link's file made.
func (p *predictor) rules(c, eff *Config) {
	if len(p.configured) == 0 && len(p.unmanaged) == 0 {
		return
	}
	p.out.Rules = true
	var all []ruleKey
	seen := map[*Loaded]bool{}
	// Indexed by name: a save of every link matches hundreds of links
	// against hundreds of files.
	effX := eff.networkIndex()
	for _, l := range p.st.Links() {
		if ld, _ := effX.networkFor(l); ld != nil && !seen[ld] {
			seen[ld] = true
			for _, r := range ld.Network.RoutingPolicyRules {
				all = append(all, fileRuleKeys(r, p.res)...)
			}
		}
	}
	for _, ld := range p.configured {
		if !seen[ld] {
			seen[ld] = true
			for _, r := range ld.Network.RoutingPolicyRules {
				all = append(all, fileRuleKeys(r, p.res)...)
			}
		}
	}
	var old []ruleKey
	for _, ld := range p.unmanaged {
		for _, r := range ld.Network.RoutingPolicyRules {
			old = append(old, fileRuleKeys(r, p.res)...)
		}
	}
	covered := func(keys []ruleKey, live ruleKey) bool {
		return slices.ContainsFunc(keys, func(k ruleKey) bool { return k.covers(live) })
	}
	foreignGoes := len(p.configured) > 0 && !p.keepRules && !p.dc.KeepForeignRules
	var live []ruleKey
	for _, fam := range []uint8{unix.AF_INET, unix.AF_INET6} {
		for _, r := range p.st.Rules(fam) {
			if defaultRule(r) || r.Protocol == unix.RTPROT_KERNEL {
				continue
			}
			k := liveRuleKey(r)
			live = append(live, k)
			if covered(all, k) {
				continue
			}
			if foreignGoes || covered(old, k) {
				p.add(p.ruleEffect("remove", k))
			}
		}
	}
	for _, ld := range p.configured {
		for _, r := range ld.Network.RoutingPolicyRules {
			for _, k := range fileRuleKeys(r, p.res) {
				if !slices.ContainsFunc(live, func(l ruleKey) bool { return k.covers(l) }) {
					p.add(p.ruleEffect("add", k))
				}
			}
		}
	}
	p.out.Effects = slices.CompactFunc(p.out.Effects, func(a, b Effect) bool { return a.key == b.key && a.Action == b.Action })
}

func addrEffect(action, link string, a netip.Prefix) Effect {
	return Effect{Action: action, Kind: "address", Link: link, Text: a.String() + " dev " + iproute.Quote(link), Prefix: a.String(), key: "address|" + link + "|" + a.String()}
}

func (p *predictor) routeEffect(action string, k routeKey) Effect {
	return routeEffectOf(action, k, p.tables)
}

func routeEffectOf(action string, k routeKey, tables model.TableNames) Effect {
	return Effect{Action: action, Kind: "route", Link: k.link.String(), Text: routeKeyText(k, tables), Prefix: k.dst.String(), key: fmt.Sprintf("route|%+v", k)}
}

func (p *predictor) ruleEffect(action string, k ruleKey) Effect {
	return ruleEffectOf(action, k, p.tables)
}

func ruleEffectOf(action string, k ruleKey, tables model.TableNames) Effect {
	kk := k
	return Effect{Action: action, Kind: "rule", Text: ruleKeyText(k, tables), key: fmt.Sprintf("rule|%+v", k), rule: &kk}
}

// routeKeyText prints a route key as ip route does.
func routeKeyText(k routeKey, tables model.TableNames) string {
	var b strings.Builder
	if k.typ != unix.RTN_UNICAST {
		b.WriteString(iproute.RouteType(k.typ) + " ")
	}
	if k.dst.Bits() == 0 {
		b.WriteString("default")
	} else {
		b.WriteString(k.dst.String())
	}
	if k.gw.IsValid() {
		b.WriteString(" via " + k.gateway().String())
	}
	if !k.link.isNone() {
		b.WriteString(" dev " + iproute.Quote(k.link.String()))
	}
	if k.table != unix.RT_TABLE_MAIN {
		b.WriteString(" table " + tableText(k.table, tables))
	}
	if k.metric != 0 {
		b.WriteString(" metric " + strconv.FormatUint(uint64(k.metric), 10))
	}
	return b.String()
}

func tableText(id uint32, tables model.TableNames) string {
	if tables != nil {
		return tables.Name(id)
	}
	return strconv.FormatUint(uint64(id), 10)
}

// ruleKeyText prints a rule key as ip rule does, "any" for a priority
// the kernel chooses.
func ruleKeyText(k ruleKey, tables model.TableNames) string {
	r := model.Rule{Family: k.family, Priority: k.prio, Src: k.from, Dst: k.to, Tos: k.tos, Action: k.action, Table: k.table,
		IifName: k.iif, OifName: k.oif, Invert: k.invert, IPProto: k.ipproto, SPort: k.sport, DPort: k.dport,
		HasUID: k.hasUID, UIDStart: k.uid[0], UIDEnd: k.uid[1], L3mdev: k.l3mdev, Goto: k.gotoTarget, TunID: k.tunID,
		Realms: k.realms, SuppressPrefixLen: k.suppressPL}
	if k.mask != 0 {
		r.Mark, r.Mask, r.HasMark, r.HasMask = k.mark, k.mask, true, true
	}
	if k.suppressIG >= 0 {
		r.SuppressIfGroup, r.HasSuppressIfGroup = uint32(k.suppressIG), true
	}
	text := iproute.RuleLine(&r, keyNames{liveNames{tables: tables}})
	if k.anyPrio {
		_, rest, _ := strings.Cut(text, ":")
		text = "(priority chosen by the kernel):" + rest
	}
	return strings.Replace(text, ":\t", ": ", 1)
}

// keyNames prints a rule key's iif and oif as they are. ip adds
// "[detached]" to a live rule whose link is gone; a key says what networkd
// adds or removes, and its file names a link it configures, so without
// the live links at hand every one was said to be detached.
type keyNames struct{ liveNames }

func (keyNames) HasLink(string) bool { return true }

func routeDst(r Route) string {
	if !r.Destination.IsValid() {
		return "default"
	}
	return r.Destination.String()
}

func sortedPrefixes(m map[netip.Prefix]bool) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(m))
	for p := range m {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b netip.Prefix) int {
		return cmp.Or(a.Addr().Compare(b.Addr()), cmp.Compare(a.Bits(), b.Bits()))
	})
	return out
}

// tableNames names tables as networkd knows them, for the texts.
func (dc DaemonConf) tableNames() model.TableNames {
	byID := map[uint32]string{}
	for n, id := range dc.Tables {
		byID[id] = n
	}
	return daemonTables(byID)
}

type daemonTables map[uint32]string

func (d daemonTables) Name(id uint32) string {
	switch id {
	case unix.RT_TABLE_MAIN:
		return "main"
	case unix.RT_TABLE_LOCAL:
		return "local"
	case unix.RT_TABLE_DEFAULT:
		return "default"
	}
	if n, ok := d[id]; ok {
		return n
	}
	return strconv.FormatUint(uint64(id), 10)
}

func (d daemonTables) ID(name string) (uint32, bool) {
	for id, n := range d {
		if n == name {
			return id, true
		}
	}
	return 0, false
}

// EffectiveFiles names, for each live link, the .network networkd applies
// to it once pending is on disk ("" for none).
func EffectiveFiles(c *Config, pending Files, st Source) map[string]string {
	eff := effective(c, pending, nil)
	out := map[string]string{}
	effX := eff.networkIndex()
	for _, l := range st.Links() {
		ld, _ := effX.networkFor(l)
		out[l.Name] = name(ld)
	}
	return out
}

// Observe is what changed between before and after on the links named
// and, with rules, in the policy rules, as Effects comparable with a
// Prediction's: static addresses, the routes networkd may manage, links
// made, MTUs and masters set.
func Observe(before, after Source, links []string, rules bool, dc DaemonConf) []Effect {
	tables := dc.tableNames()
	in := map[string]bool{}
	for _, l := range links {
		in[l] = true
	}
	bIdx, aIdx := indexLinks(before), indexLinks(after)
	bName, aName := nameLinks(before), nameLinks(after)
	var out []Effect
	for _, n := range links {
		b, inB := bName[n]
		a, inA := aName[n]
		switch {
		case inA && !inB:
			out = append(out, Effect{Action: "create", Kind: "link", Link: n, Text: n + " (" + a.Kind + ")", key: "link|create|" + n})
		case !inA:
			continue
		default:
			if a.MTU != b.MTU {
				out = append(out, Effect{Action: "set", Kind: "link", Link: n, Text: fmt.Sprintf("%s mtu %d", n, a.MTU), key: fmt.Sprintf("link|mtu|%s|%d", n, a.MTU)})
			}
		}
		if a.MasterIndex != 0 && (!inB || bIdx[b.MasterIndex].Name != aIdx[a.MasterIndex].Name) {
			m := aIdx[a.MasterIndex].Name
			out = append(out, Effect{Action: "set", Kind: "link", Link: n, Text: n + " master " + m, key: "link|master|" + n + "|" + m})
		}
	}
	addrs := func(st Source, byIndex map[int32]model.Link) map[string]netip.Prefix {
		out := map[string]netip.Prefix{}
		for _, a := range st.Addrs() {
			l := byIndex[a.LinkIndex]
			if !in[l.Name] || a.Family == unix.AF_INET6 && a.Prefix.Addr().IsLinkLocalUnicast() {
				continue
			}
			if _, static := addressFor(a, l.Name); static {
				out[l.Name+"|"+a.Prefix.String()] = a.Prefix
			}
		}
		return out
	}
	ba, aa := addrs(before, bIdx), addrs(after, aIdx)
	for k, p := range aa {
		if _, ok := ba[k]; !ok {
			l, _, _ := strings.Cut(k, "|")
			out = append(out, addrEffect("add", l, p))
		}
	}
	for k, p := range ba {
		if _, ok := aa[k]; !ok {
			l, _, _ := strings.Cut(k, "|")
			out = append(out, addrEffect("remove", l, p))
		}
	}
	// The links in by key, the names held in place; a long one (a
	// fake's) is compared as a string, not interned to be looked up.
	inKey := map[linkName]bool{}
	for l := range in {
		if k, ok := lookupLinkName(l); ok && k.n != longName {
			inKey[k] = true
		}
	}
	isIn := func(l linkName) bool {
		if l.n == longName {
			return in[l.String()]
		}
		return inKey[l]
	}
	routes := func(st Source, byIndex map[int32]model.Link) map[routeKey]bool {
		out := map[routeKey]bool{}
		names := linkNames{byIndex: byIndex}
		st.EachRoute(func(r *model.Route) bool {
			if !wantedRoute(r) || r.Protocol == unix.RTPROT_DHCP {
				return true
			}
			k := liveRouteKey(r, &names)
			if k.link.isNone() && rules || isIn(k.link) {
				out[k] = true
			}
			return true
		})
		return out
	}
	out = append(out, setDiff(routes(before, bIdx), routes(after, aIdx), func(action string, k routeKey) Effect {
		return routeEffectOf(action, k, tables)
	})...)
	if rules {
		ruleSet := func(st Source) map[ruleKey]bool {
			out := map[ruleKey]bool{}
			for _, fam := range []uint8{unix.AF_INET, unix.AF_INET6} {
				for _, r := range st.Rules(fam) {
					if !defaultRule(r) && r.Protocol != unix.RTPROT_KERNEL {
						out[liveRuleKey(r)] = true
					}
				}
			}
			return out
		}
		out = append(out, setDiff(ruleSet(before), ruleSet(after), func(action string, k ruleKey) Effect {
			return ruleEffectOf(action, k, tables)
		})...)
	}
	slices.SortStableFunc(out, compareEffects)
	return out
}

// setDiff turns what after has and before lacks into "add" effects and
// the reverse into "remove" ones.
func setDiff[K comparable](before, after map[K]bool, effect func(action string, k K) Effect) []Effect {
	var out []Effect
	for k := range after {
		if !before[k] {
			out = append(out, effect("add", k))
		}
	}
	for k := range before {
		if !after[k] {
			out = append(out, effect("remove", k))
		}
	}
	return out
}

func indexLinks(st Source) map[int32]model.Link {
	out := map[int32]model.Link{}
	for _, l := range st.Links() {
		out[l.Index] = l
	}
	return out
}

func nameLinks(st Source) map[string]model.Link {
	out := map[string]model.Link{}
	for _, l := range st.Links() {
		out[l.Name] = l
	}
	return out
}

// Compare matches a prediction with what was observed: missing are
// predicted effects that did not happen, unexpected are observed ones
// nobody predicted.
func Compare(predicted, observed []Effect) (missing, unexpected []Effect) {
	used := make([]bool, len(observed))
	match := func(p Effect) bool {
		for i, o := range observed {
			if used[i] || p.Action != o.Action || p.Kind != o.Kind {
				continue
			}
			if p.key == o.key || p.rule != nil && o.rule != nil && p.rule.covers(*o.rule) {
				used[i] = true
				return true
			}
		}
		return false
	}
	for _, p := range predicted {
		if !match(p) {
			missing = append(missing, p)
		}
	}
	for i, o := range observed {
		if !used[i] {
			unexpected = append(unexpected, o)
		}
	}
	return missing, unexpected
}
