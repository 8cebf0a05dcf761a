package networkd

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/netpanel/netpanel/netops/linkkind"
	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// Source is the live state Generate reads; *model.Store satisfies it.
type Source interface {
	Links() []model.Link
	Addrs() []model.Addr
	Rules(family uint8) []model.Rule
	EachRoute(fn func(*model.Route) bool)
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
	ConfDir    = "networkd.conf.d"
	TablesConf = ConfDir + "/netpanel-tables.conf"
	filePrefix = "10-"
)

// protocolNames are the protocols networkd names in Protocol= (the rest
// it takes as numbers).
var protocolNames = map[uint8]string{
	unix.RTPROT_KERNEL: "kernel", unix.RTPROT_BOOT: "boot", unix.RTPROT_STATIC: "static", unix.RTPROT_RA: "ra", unix.RTPROT_DHCP: "dhcp",
}

// ErrNotRecreatable reports a link Generate cannot describe in a .netdev.
var ErrNotRecreatable = errors.New("link cannot be recreated by systemd-networkd")

// ErrLowerNotSelected reports a vxlan or macvlan whose lower link is not
// among the links to generate. networkd creates such a link only through
// the lower link's .network (VXLAN=, MACVLAN=), so its .netdev alone would
// silently do nothing at boot.
var ErrLowerNotSelected = errors.New("the lower link must be saved too")

// Generated is what Generate makes: the files, and what they cannot
// carry, to be shown before saving.
type Generated struct {
	Files  Files
	Target Target // the networkd the files are written for
	// Notices are live objects or settings the files leave out or
	// reproduce differently, each with the reason.
	Notices []Notice
	// Placements say which link's .network holds each policy rule, and why:
	// rules are global, but networkd keeps them in one link's file and
	// configures them when that link is configured.
	Placements []Placement
	// Networks are the .network files of Files as structures, by the same
	// key: what ParseNetwork of their bytes gives
	// (TestGeneratedNetworksAreTheirParse). NewForeignViewOf and
	// PredictOf take them in place of parsing the bytes again, which for
	// a million routes costs more than generating them. Read only: they
	// are shared.
	Networks map[string]*NetworkFile
	// runs are the keys of the routes of the runs Generate read, for
	// PredictOf and NewForeignViewOf of the same files (see keptRuns);
	// keys, those of its files' routes (see routeKeys).
	runs *runKeys
	keys *generatedKeys
}

// Notice is something of the live state the generated files do not carry
// as it is.
type Notice struct {
	Kind    string // "rule", "route", "address" or "link"
	Link    string // "" for rules and device-less routes
	Text    string // ip-style text of the live object
	Reason  string
	LeftOut bool // the object is not in the files at all
}

// Placement is where one policy rule is written.
type Placement struct {
	Rule   string // ip-style text
	Link   string // whose .network holds it
	Reason string
	// Warn: no saved link exists at boot and is managed by networkd, so
	// the rule appears only once Link does.
	Warn bool
}

// Generate describes the current state of the named links as networkd
// files for the networkd target says: a .netdev for each virtual link
// networkd can create (bridge, dummy, veth, vxlan, macvlan), a .network for
// each link with its MTU, admin state, bridge membership, stacked links,
// static addresses and the routes through it in every table but the
// kernel's own. Policy rules go into the file of the link Placements
// names; device-less routes (blackhole, unreachable, prohibit, throw) into
// the uplink's, else the first saved link's networkd has at boot. Named
// tables other than the built-in ones are declared in
// networkd.conf.d/netpanel-tables.conf. The output depends only on the
// state, the names, their order and target.
//
// Every key written is one target's networkd knows: an address, route or
// rule that needs another is left out and listed in Notices, as is
// whatever no key expresses (a rule's goto, tun_id or realms, a route's
// TOS). A route is written without the metrics no key carries (a lock,
// window, ssthresh...), with a notice that it differs.
//
// A vxlan with an underlying device and a macvlan are named in their
// lower link's .network, which networkd requires to create them; the
// lower link must then be selected too, else Generate fails with
// ErrLowerNotSelected rather than take over a .network the caller did not
// ask for. A vxlan without a device is written with Independent=yes.
func Generate(st Source, links []string, tables model.TableNames, target Target) (*Generated, error) {
	g, sel, err := newGen(st, links, tables, target)
	if err != nil {
		return nil, err
	}
	g.addresses(st)
	g.texts = map[int32]*routeTexts{}
	g.keep = &runKeys{byIndex: g.byIndex}
	k := routeKeeper{g: g}
	err = g.routes(st, k.keep)
	if errors.Is(err, errRunsChanged) {
		return Generate(walkOnly{st}, links, tables, target)
	}
	if err != nil {
		return nil, err
	}
	k.toHome(sel)
	g.rules(st, sel)
	if err := g.finish(sel); err != nil {
		return nil, err
	}
	if g.keep.complete {
		g.out.runs = g.keep
	}
	return g.out, nil
}

// routeKeeper holds the routes read for the files: a device-less one
// aside until its home is known (toHome), the others in their link's file,
// sized once by its routes.
type routeKeeper struct {
	g             *gen
	homeless      []Route
	homelessTexts *routeTexts
}

// keep takes rt, with its section's text, into file (0: home's).
func (k *routeKeeper) keep(file int32, rt *Route, text []byte) {
	if file == 0 {
		k.slot(0)
		k.homeless = append(k.homeless, *rt)
		k.homelessTexts.add(text)
		return
	}
	nf, texts := k.slot(file)
	nf.Routes = append(nf.Routes, *rt)
	texts.add(text)
}

// slot is where file's routes and their texts go (0: the device-less
// routes aside, nil then), sized once by its routes: a link may have a
// million.
func (k *routeKeeper) slot(file int32) (*NetworkFile, *routeTexts) {
	g := k.g
	if file == 0 {
		if k.homeless == nil {
			k.homeless = make([]Route, 0, g.use.deviceless)
			k.homelessTexts = newRouteTexts(g.use.deviceless)
		}
		return nil, nil
	}
	nf := g.nets[file]
	if nf.Routes == nil {
		n := g.use.through(file)
		if len(g.nets) == 1 {
			n += g.use.deviceless // the only file is home (see home)
		}
		nf.Routes = make([]Route, 0, n)
		g.texts[file] = newRouteTexts(n)
	}
	return nf, g.texts[file]
}

// toHome appends the device-less routes kept to the file of the selected
// link that holds them (see homeFor).
func (k *routeKeeper) toHome(sel []model.Link) {
	if len(k.homeless) == 0 {
		return
	}
	g := k.g
	file := g.homeFor(sel, slices.Values(k.homeless))
	home := g.nets[file]
	home.Routes = append(home.Routes, k.homeless...)
	if g.texts[file] == nil {
		g.texts[file] = &routeTexts{}
	}
	g.texts[file].addAll(k.homelessTexts)
}

// finish writes each selected link's .network with what g holds for it,
// and the tables' declarations; it fails on a key the target does not
// know, which networkd would ignore with a log line: nothing may reach
// the disk that way.
func (g *gen) finish(sel []model.Link) error {
	files := g.out.Files
	g.out.Networks = make(map[string]*NetworkFile, len(sel))
	bad := map[string][]string{} // the .network files' unknown keys
	for _, l := range sel {
		nf := g.nets[l.Index]
		texts := g.texts[l.Index].sort(nf.Routes)
		slices.Sort(nf.Network.VXLAN)
		slices.Sort(nf.Network.MACVLAN)
		w := nf.sectionsWith(texts)
		name := filePrefix + l.Name + ".network"
		files[name] = w.bytes(g.header(l.Name))
		delete(g.texts, l.Index) // in the file now: not held with the next ones
		g.out.Networks[name] = nf
		// Each route was checked alone (fits).
		bad[name] = g.unknownKeys(w, "Route")
	}
	if conf := g.tablesConf(); conf != nil {
		files[TablesConf] = conf
	}
	for _, p := range files.Paths() {
		b, checked := bad[p]
		switch {
		case p == TablesConf:
			continue
		case !checked:
			b = g.target.unknownKeys(files[p])
		}
		if len(b) > 0 {
			return fmt.Errorf("%s: %s", p, strings.Join(b, "; "))
		}
	}
	g.sortNotices()
	return nil
}

// network is the structure of the .network file name when data is
// g.Files' own bytes of it (the same slice), else nil.
func (g *Generated) network(name string, data []byte) *NetworkFile {
	if g == nil {
		return nil
	}
	own := g.Files[name]
	if len(own) == 0 || len(own) != len(data) || &own[0] != &data[0] {
		return nil
	}
	return g.Networks[name]
}

func (g *gen) sortNotices() {
	slices.SortStableFunc(g.out.Notices, func(a, b Notice) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Link, b.Link), cmp.Compare(a.Text, b.Text))
	})
}

// newGen reads the links and writes what Generate writes of each selected
// one but its addresses, routes and rules: its .netdev, and the settings,
// bridge and stacked links of its .network.
func newGen(st Source, links []string, tables model.TableNames, target Target) (*gen, []model.Link, error) {
	if len(links) == 0 {
		return nil, nil, errors.New("no links to generate files for")
	}
	if target.Version == 0 {
		target.Version = AssumedVersion
	}
	g := &gen{tables: tables, tableNums: map[uint32]string{}, used: map[uint32]string{}, target: target,
		verdicts: map[[2]string]string{}, out: &Generated{Files: Files{}, Target: target, keys: &generatedKeys{}}}
	all := st.Links()
	g.byIndex = make(map[int32]model.Link, len(all))
	// An index, not the link: a map keeps a value as large as a model.Link
	// apart, an allocation per link, and persist generates once per link.
	byName := make(map[string]int32, len(all))
	for _, l := range all {
		g.byIndex[l.Index] = l
		byName[l.Name] = l.Index
	}
	g.names = liveNames{byIndex: g.byIndex, tables: tables}
	var sel []model.Link
	selected := map[int32]bool{}
	for _, name := range links {
		idx, ok := byName[name]
		if !ok {
			return nil, nil, fmt.Errorf("link %q does not exist", name)
		}
		l := g.byIndex[idx]
		if selected[l.Index] {
			continue
		}
		selected[l.Index] = true
		sel = append(sel, l)
	}

	files := g.out.Files
	g.nets = map[int32]*NetworkFile{}
	g.atBoot = map[int32]bool{}
	for _, l := range sel {
		m, err := NameMatch(l.Name)
		if err != nil {
			return nil, nil, err
		}
		g.nets[l.Index] = &NetworkFile{Match: m}
	}
	kl := linkkind.Links{ByIndex: g.byIndex, Selected: selected}
	for _, l := range sel {
		nd, kd, err := netdevFor(l, kl)
		if err != nil {
			return nil, nil, err
		}
		if nd != nil {
			files[filePrefix+l.Name+".netdev"] = nd.Marshal()
		}
		g.atBoot[l.Index] = existsAtBoot(l, nd, g.byIndex, selected)
		if err := stack(l, kd, g.byIndex, g.nets); err != nil {
			return nil, nil, err
		}
		nf := g.nets[l.Index]
		nf.Network.ConfigureWithoutCarrier = new(true)
		if m, ok := g.byIndex[l.MasterIndex]; ok && l.MasterIndex != 0 {
			if !linkkind.Of(&m).Master {
				return nil, nil, fmt.Errorf("%w: %s is enslaved to %s %q", ErrNotRecreatable, l.Name, m.Kind, m.Name)
			}
			nf.Network.Bridge = m.Name
		}
		g.linkSettings(l, nf)
	}
	return g, sel, nil
}

type gen struct {
	tables    model.TableNames
	tableNums map[uint32]string // Table= of the tables met (see table)
	used      map[uint32]string // named non-builtin tables referenced
	target    Target
	out       *Generated
	byIndex   map[int32]model.Link
	names     liveNames
	nets      map[int32]*NetworkFile // selected links' files
	atBoot    map[int32]bool         // selected links networkd finds or creates at boot
	ruleOn    ruleReasons            // why rules are in a link's file, for its header
	use       routeUse
	// texts: the [Route] sections of each selected link's file as fits
	// checked them, which the file takes as they are (nil: rendered by
	// finish, as NewStream's routes are not kept).
	texts map[int32]*routeTexts
	quiet bool // notices are dropped, being recorded already
	// verdicts: why the target does not know a key ("" when it does),
	// by section and key (see unknownKeys); lineVerdicts, of the
	// [Route] keys by key (see unknownLines).
	verdicts     map[[2]string]string
	lineVerdicts []lineVerdict
	// keep, when not nil, keeps the keys of the runs read (see runKeys).
	keep *runKeys
	// lastLink is the index of the link of the last route routeSection
	// read, lastName its name.
	lastLink int32
	lastName string
	// rt is the route routes is at.
	rt Route
	// line: the [Route] section of the route routeSection is at.
	line lineBuf
	// metrics holds the Metric= values of the routes read, a block at a
	// time rather than an allocation per route.
	metrics []uint32
}

// metric is a pointer to a uint32 holding v, for a Route's Metric.
func (g *gen) metric(v uint32) *uint32 {
	if len(g.metrics) == cap(g.metrics) {
		g.metrics = make([]uint32, 0, 1024)
	}
	g.metrics = append(g.metrics, v)
	return &g.metrics[len(g.metrics)-1]
}

// notice records something the files do not carry as it is.
func (g *gen) notice(n Notice) {
	if !g.quiet {
		g.out.Notices = append(g.out.Notices, n)
	}
}

// fits reports whether every key of part (one object's section) is known
// to the target; if not, the object is left out with a notice (text is
// made only then).
func (g *gen) fits(kind, link string, text func() string, part *writer) bool {
	return g.allKnown(kind, link, text, g.unknownKeys(part, ""))
}

// allKnown is fits of an object whose unknown keys are bad.
func (g *gen) allKnown(kind, link string, text func() string, bad []string) bool {
	if len(bad) == 0 {
		return true
	}
	g.notice(Notice{Kind: kind, Link: link, Text: text(), LeftOut: true, Reason: "left out: " + strings.Join(bad, "; ")})
	return false
}

// unknownKeys is Target.unknownKeys of w rendered, without rendering it
// (it runs once per route: fits) and passing over the sections named
// skip. A key's verdict is kept, as it is the same for every value but
// those of a key some values of which are dated (valued).
func (g *gen) unknownKeys(w *writer, skip string) []string {
	var out []string
	for _, s := range w.secs {
		if s.name == skip {
			continue
		}
		for _, e := range s.entries {
			if why := unwritable(e.value); why != "" {
				out = append(out, s.name+"."+e.key+"= "+why)
				continue
			}
			k := [2]string{s.name, e.key}
			why, ok := g.verdicts[k]
			if !ok {
				// As unknownKeys reads the line: the value up to the
				// line's end, trailing space trimmed.
				_, why = g.target.knows(k[0]+"."+k[1], strings.TrimRightFunc(e.value, unicode.IsSpace))
				if !valued[k[0]+"."+k[1]] {
					g.verdicts[k] = why
				}
			}
			if why != "" {
				out = append(out, why)
			}
		}
	}
	return out
}

// unknownLines is unknownKeys of the one section l holds, named name,
// read from its rendered lines: the same answers, in the same order,
// without a string per key and value (it runs once per route: a million
// for a save of every link).
func (g *gen) unknownLines(name string, l *lineBuf) []string {
	var out []string
	for _, ln := range l.lines {
		value := l.b[ln.val:ln.end]
		if why := unwritable(value); why != "" {
			out = append(out, name+"."+ln.key+"= "+why)
			continue
		}
		// A dozen keys: a look along the slice costs less than a map's
		// hash, five times a route.
		i := slices.IndexFunc(g.lineVerdicts, func(v lineVerdict) bool { return v.key == ln.key && v.section == name })
		if i < 0 {
			sk := name + "." + ln.key
			g.lineVerdicts = append(g.lineVerdicts, lineVerdict{section: name, key: ln.key, valued: valued[sk]})
			i = len(g.lineVerdicts) - 1
		}
		v := &g.lineVerdicts[i]
		if !v.known || v.valued {
			// As unknownKeys reads the line: the value up to the line's
			// end, trailing space trimmed.
			_, v.why = g.target.knows(name+"."+ln.key, strings.TrimRightFunc(string(value), unicode.IsSpace))
			v.known = true
		}
		if v.why != "" {
			out = append(out, v.why)
		}
	}
	return out
}

// lineVerdict is why the target does not know section's key ("" when it
// does), once known; valued: the answer depends on the value, and is
// asked again for each.
type lineVerdict struct {
	section, key, why string
	known, valued     bool
}

// unwritable says why networkd would not read value back as it is, ""
// when it would. A value is one line: a line break in it (an address
// label or a rule's interface name, which the kernel takes as any bytes)
// would start a key of its own, a final backslash would join the next
// line to it, and networkd trims the space around it.
func unwritable[T ~string | ~[]byte](value T) string {
	n := len(value)
	for i := range n {
		if c := value[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return fmt.Sprintf("the value %q holds a control character, which would end or break its line", value)
		}
	}
	switch {
	case n > 0 && value[n-1] == '\\':
		return fmt.Sprintf("the value %q ends in a backslash, which would join the next line to it", value)
	case n > 0 && (isBlank(value[0]) || isBlank(value[n-1])):
		return fmt.Sprintf("the value %q has space around it, which networkd would trim", value)
	}
	return ""
}

// isBlank is the space networkd trims around a value.
func isBlank(c byte) bool { return c == ' ' || c == '\t' }

// table returns the Table= value for id: empty for main, local and
// default by name, any other table by its number. A named table's name
// still goes to TablesConf (RouteTable=name:number), so that networkctl
// and networkd's log say it, but never into Table=: networkd reads
// networkd.conf.d only when it starts, not on `networkctl reload`
// (checked with 252), so a route in a table named by the same save would
// be logged "Could not parse route table" and dropped until networkd is
// restarted, and a restart releases DHCP leases. A number needs neither.
func (g *gen) table(id uint32) string {
	switch id {
	case unix.RT_TABLE_MAIN:
		return ""
	case unix.RT_TABLE_LOCAL:
		return "local"
	case unix.RT_TABLE_DEFAULT:
		return "default"
	}
	if num, ok := g.tableNums[id]; ok { // once per table, not per route
		return num
	}
	num := strconv.FormatUint(uint64(id), 10)
	g.tableNums[id] = num
	if ok, _ := g.target.knows("networkd.conf.Network.RouteTable", ""); g.tables == nil || !ok {
		return num
	}
	if name := g.tables.Name(id); name != "" && name != num && validTableName(name) {
		g.used[id] = name
	}
	return num
}

// tableName is the name of a table for the page's texts: its name when it
// has one, else its number.
func (g *gen) tableName(id uint32) string {
	if id == unix.RT_TABLE_MAIN {
		return "main"
	}
	if name, ok := g.used[id]; ok {
		return name
	}
	return g.table(id)
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

// netdevFor writes l's .netdev as its kind says (linkkind.Kind.Netdev);
// nil for a link networkd does not create. kd is the kind's part, for
// stack.
func netdevFor(l model.Link, links linkkind.Links) (nd *NetDevFile, kd *linkkind.Netdev, err error) {
	k := linkkind.Of(&l)
	if k.Netdev == nil {
		return nil, nil, nil // physical or unmanaged kind: .network only
	}
	if kd, err = k.Netdev(l, links); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrNotRecreatable, err)
	}
	if kd == nil {
		return nil, nil, nil
	}
	nd = &NetDevFile{NetDev: NetDev{Name: l.Name, Kind: l.Kind}}
	if kd.Section != "" {
		sec := &Section{Name: kd.Section}
		for _, k := range kd.Keys {
			sec.Options = append(sec.Options, Option{k.Name, k.Value})
		}
		nd.KindSection = sec
	}
	return nd, kd, nil
}

// stack names a link its kind creates through its lower link's .network
// (a vxlan with a device, a macvlan) in that file, the only way networkd
// creates them.
func stack(l model.Link, kd *linkkind.Netdev, byIndex map[int32]model.Link, nets map[int32]*NetworkFile) error {
	if kd == nil || kd.Stacked == "" {
		return nil
	}
	lowerIdx := linkkind.Lower(&l)
	lower, ok := byIndex[lowerIdx]
	if !ok {
		return fmt.Errorf("%w: the lower link of %s %s is unknown", ErrNotRecreatable, l.Kind, l.Name)
	}
	nf := nets[lowerIdx]
	if nf == nil {
		return fmt.Errorf("%w: %s %s is created through %s's .network; select %s as well",
			ErrLowerNotSelected, l.Kind, l.Name, lower.Name, lower.Name)
	}
	nf.Network.stack(kd.Stacked, l.Name)
	return nil
}

// sortRoutes orders by what the store's order may not fix across runs:
// table, family, destination, metric, then the rendered text.
func sortRoutes(rs []Route) {
	slices.SortStableFunc(rs, func(a, b Route) int {
		if c := compareRoutes(&a, &b); c != 0 {
			return c
		}
		return strings.Compare(routeText(a), routeText(b))
	})
}

// compareRoutes is sortRoutes' order but for the texts.
func compareRoutes(a, b *Route) int {
	if c := cmp.Compare(a.Table, b.Table); c != 0 {
		return c
	}
	if c := cmp.Compare(btoi(a.Destination.Addr().Is6()), btoi(b.Destination.Addr().Is6())); c != 0 {
		return c
	}
	if c := a.Destination.Addr().Compare(b.Destination.Addr()); c != 0 {
		return c
	}
	return cmp.Compare(a.Destination.Bits(), b.Destination.Bits())
}

// sort sorts rs as sortRoutes does, t holding their texts in rs's order
// (nil: none, and the file's routes are rendered anew), and returns the
// texts in the sorted order.
func (t *routeTexts) sort(rs []Route) [][]byte {
	if t == nil || len(t.ends) != len(rs) {
		sortRoutes(rs)
		return nil
	}
	order := make([]int32, len(rs))
	for i := range order {
		order[i] = int32(i)
	}
	// The texts here are the sections without routeText's header line,
	// which they all would share: they compare as routeText's.
	sortStableRuns(order, func(i, j int32) int {
		if c := compareRoutes(&rs[i], &rs[j]); c != 0 {
			return c
		}
		return bytes.Compare(t.text(int(i)), t.text(int(j)))
	})
	texts := make([][]byte, len(rs))
	for to, from := range order {
		texts[to] = t.text(int(from))
	}
	permute(rs, order)
	return texts
}

// sortStableRuns is slices.SortStableFunc(x, cmp), in fewer comparisons
// when x is a few runs already in order: a file's routes come a run of
// the model at a time (a table, then the device-less routes), each
// nearly in the file's order. It merges the runs it finds, or sorts when
// they are many.
func sortStableRuns(x []int32, cmp func(a, b int32) int) {
	bounds := []int{0}
	for i := 1; i < len(x); i++ {
		if cmp(x[i-1], x[i]) > 0 {
			if bounds = append(bounds, i); len(bounds) > maxMergedRuns {
				slices.SortStableFunc(x, cmp)
				return
			}
		}
	}
	bounds = append(bounds, len(x))
	if len(bounds) <= 2 {
		return
	}
	from, to := x, make([]int32, len(x))
	for len(bounds) > 2 {
		merged := bounds[:1]
		for i := 0; i+1 < len(bounds); i += 2 {
			lo, mid, hi := bounds[i], bounds[i+1], bounds[len(bounds)-1]
			if i+2 < len(bounds) {
				hi = bounds[i+2]
			}
			mergeRuns(to[lo:hi], from[lo:mid], from[mid:hi], cmp)
			merged = append(merged, hi)
		}
		bounds = merged
		from, to = to, from
	}
	if &from[0] != &x[0] {
		copy(x, from)
	}
}

// maxMergedRuns is how many runs sortStableRuns merges at most.
const maxMergedRuns = 64

// mergeRuns merges a and b, each in order, into out: of equal elements,
// a's first (stable).
func mergeRuns(out, a, b []int32, cmp func(a, b int32) int) {
	i, j, k := 0, 0, 0
	for i < len(a) && j < len(b) {
		if cmp(b[j], a[i]) < 0 {
			out[k] = b[j]
			j++
		} else {
			out[k] = a[i]
			i++
		}
		k++
	}
	k += copy(out[k:], a[i:])
	copy(out[k:], b[j:])
}

// permute puts rs[order[i]] at i, in place: a copy of a million routes
// would hold 200 MB more. It consumes order.
func permute(rs []Route, order []int32) {
	for start := range order {
		if order[start] < 0 {
			continue
		}
		// Follow the cycle through start: each place takes from the
		// next one the order names.
		held := rs[start]
		at := start
		for {
			from := int(order[at])
			order[at] = -1
			if from == start {
				rs[at] = held
				break
			}
			rs[at] = rs[from]
			at = from
		}
	}
}

// routeTexts are routes' [Route] sections rendered one after another
// into one buffer (an allocation per file, not per route).
type routeTexts struct {
	buf  []byte
	ends []int // where route i's text ends; it starts where i-1's ends
}

// routeTextSize is a little more than most [Route] sections take (a
// destination, a gateway, a table and a metric: about 75 bytes), to size
// a file's buffer by its routes: one that grows holds twice its routes.
const routeTextSize = 96

// newRouteTexts has room for about n routes' sections.
func newRouteTexts(n int) *routeTexts {
	return &routeTexts{buf: make([]byte, 0, n*routeTextSize), ends: make([]int, 0, n)}
}

// addAll adds u's sections after t's.
func (t *routeTexts) addAll(u *routeTexts) {
	base := len(t.buf)
	t.buf = append(t.buf, u.buf...)
	t.ends = slices.Grow(t.ends, len(u.ends))
	for _, e := range u.ends {
		t.ends = append(t.ends, base+e)
	}
}

func (t *routeTexts) add(text []byte) {
	t.buf = append(t.buf, text...)
	t.ends = append(t.ends, len(t.buf))
}

func (t *routeTexts) text(i int) []byte {
	start := 0
	if i > 0 {
		start = t.ends[i-1]
	}
	return t.buf[start:t.ends[i]]
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
