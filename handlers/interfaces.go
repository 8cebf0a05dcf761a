package handlers

import (
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/linkkind"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/views"
)

// kindDevice is the kind filter's value for links without a kind
// (physical devices and loopback).
const kindDevice = "device"

type linkQuery struct {
	name    string
	kind    string // "" for any
	state   string // "", "up" or "down" (IFF_UP, as `ip link show up`)
	hasAddr bool
}

func parseLinkQuery(q url.Values) (linkQuery, error) {
	lq := linkQuery{name: strings.TrimSpace(q.Get("name")), kind: q.Get("kind"), state: q.Get("state")}
	if len(lq.name) > 64 {
		return lq, app.BadField("name", "name contains", "at most 64 characters, interface names have 15")
	}
	if !validKind(lq.kind) {
		return lq, app.BadField("kind", "kind", "%q is not a link kind like veth or bridge", lq.kind)
	}
	switch lq.state {
	case "", "up", "down":
	default:
		return lq, app.BadField("state", "state", "must be up or down, not %q", lq.state)
	}
	var err error
	if lq.hasAddr, err = boolParam(q, "addr"); err != nil {
		return lq, app.BadField("addr", "has an address", "%v", err)
	}
	return lq, nil
}

// validKind accepts what the kernel's rtnl_link_ops kinds look like.
func validKind(s string) bool {
	if len(s) > 32 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func (lq linkQuery) match(l *model.Link, addrs []model.Addr) bool {
	switch {
	case lq.name != "" && !strings.Contains(l.Name, lq.name):
		return false
	case lq.kind == kindDevice && l.Kind != "", lq.kind != "" && lq.kind != kindDevice && l.Kind != lq.kind:
		return false
	case lq.state == "up" && !l.Up(), lq.state == "down" && l.Up():
		return false
	case lq.hasAddr && len(addrs) == 0:
		return false
	}
	return true
}

// interfacesPage is the `ip link` and `ip addr` page.
type interfacesPage struct{ *frame }

// addrsByLink returns the model's addresses by link.
func (p *interfacesPage) addrsByLink() map[int32][]model.Addr { return addrsByLink(p.store.Addrs()) }

// addrsByLink groups addrs by their link.
func addrsByLink(addrs []model.Addr) map[int32][]model.Addr {
	byLink := map[int32][]model.Addr{}
	for _, a := range addrs {
		byLink[a.LinkIndex] = append(byLink[a.LinkIndex], a)
	}
	return byLink
}

// vm answers one interfaces view; on bad input the table is empty.
func (p *interfacesPage) vm(q url.Values, m views.Meta) (views.InterfacesVM, bool) {
	names := p.names()
	links := p.store.Links()
	lq, err := parseLinkQuery(q)
	vm := views.InterfacesVM{Meta: m, Filters: interfaceFilters(q, links)}
	for _, l := range links {
		vm.DevNames = append(vm.DevNames, l.Name)
	}
	vm.LinkAdd = linkAddForm()
	if err != nil {
		vm.Error, vm.ErrorField = err.Error(), app.FieldOf(err)
		vm.Summary = "no interfaces shown"
		return vm, false
	}
	byLink := p.addrsByLink()
	ports := map[int32][]views.NameRef{}
	for _, l := range links {
		if l.MasterIndex != 0 {
			ports[l.MasterIndex] = append(ports[l.MasterIndex], ifRef(l.Name, l.Index))
		}
	}
	up := 0
	for i := range links {
		l := &links[i]
		if l.OperState == "UP" {
			up++
		}
		if lq.match(l, byLink[l.Index]) {
			vm.Rows = append(vm.Rows, interfaceRow(l, byLink[l.Index], ports[l.Index], names, p.netns))
		}
	}
	vm.Summary = fmt.Sprintf("%s of %s shown, %s operationally up", group(len(vm.Rows)), count(len(links), "interface", "interfaces"), group(up))
	return vm, true
}

// cmds are the page's commands. The examples name the first interface the
// page shows that is not loopback (nobody takes lo down on purpose).
func (p *interfacesPage) cmds(q url.Values) []views.Cmd {
	dev := "eth0"
	if lq, err := parseLinkQuery(q); err == nil {
		byLink := p.addrsByLink()
		for _, l := range p.store.Links() {
			if l.Name != "lo" && lq.match(&l, byLink[l.Index]) {
				dev = l.Name
				break
			}
		}
	}
	dev = iproute.Quote(dev)
	return []views.Cmd{
		{IP: "ip link", Old: "ifconfig"},
		{IP: "ip addr show", Old: "ifconfig -a"},
		{IP: "ip -s link", Old: "ifconfig -s"},
		{IP: "ip link set " + dev + " up", Old: "ifconfig " + dev + " up"},
		{IP: "ip link set " + dev + " down", Old: "ifconfig " + dev + " down"},
	}
}

func ifRef(name string, idx int32) views.NameRef {
	return views.NameRef{Name: name, Title: "ifindex " + strconv.Itoa(int(idx))}
}

// NetnsNamer names the namespaces of peers that live in other ones, from
// a cache (*nsnames.Names), and wakes the pages that show them when the
// names change.
type NetnsNamer interface {
	iproute.NetnsNames
	Source
}

// noNetns knows no namespace names: peers elsewhere show by id.
type noNetns struct{}

func (noNetns) NetnsName(int32) (string, bool) { return "", false }

func (noNetns) Subscribe() (<-chan struct{}, func()) { return nil, func() {} }

// interfaceRow is one link's row; nn names the namespace of a peer that
// lives in another one (nil: by its id).
func interfaceRow(l *model.Link, addrs []model.Addr, ports []views.NameRef, names *model.Names, nn iproute.NetnsNames) views.InterfaceRow {
	j := iproute.Link(l, names, false)
	key := strconv.Itoa(int(l.Index))
	row := views.InterfaceRow{
		Key: key, Index: key, Name: l.Name, Kind: l.Kind, Alias: l.Alias,
		OperState: l.OperState, StateClass: stateClass(l.OperState), AdminUp: l.Up(),
		Flags: strings.Join(j.Flags, ","), MTU: strconv.FormatUint(uint64(l.MTU), 10), MAC: j.Address,
		Ports:   ports,
		RxBytes: HumanBytes(l.Stats.RxBytes), TxBytes: HumanBytes(l.Stats.TxBytes),
		RxPackets: group64(l.Stats.RxPackets), TxPackets: group64(l.Stats.TxPackets),
		Line: iproute.LinkLine(l, names, nn),
	}
	if l.MasterIndex != 0 {
		row.Master = ifRef(j.Master, l.MasterIndex)
	}
	row.Fields = linkFields(l, j.Master)
	switch {
	case j.Link != "":
		row.Peer = ifRef(j.Link, l.ParentIndex)
	case j.LinkNetNs != nil:
		// The other end lives in another namespace; its index means
		// nothing here, so say where it is as ip does (va@if2 ...
		// link-netns NAME) instead of guessing a name.
		row.Peer = views.NameRef{Name: "if" + strconv.Itoa(int(l.ParentIndex)),
			Title: "ifindex " + strconv.Itoa(int(l.ParentIndex)) + " in the namespace with id " + strconv.Itoa(int(*j.LinkNetNs))}
		row.PeerNetns = iproute.LinkNetns(*j.LinkNetNs, nn)
	}
	row.Addrs = addrCells(l, addrs, names)
	return row
}

// addrCells are the cells of l's addresses (ordered by family, so IPv4
// (2) comes before IPv6 (10)).
func addrCells(l *model.Link, addrs []model.Addr, names *model.Names) []views.AddrCell {
	var cells []views.AddrCell
	for i := range addrs {
		a := iproute.Addr(&addrs[i])
		cell := views.AddrCell{Addr: addrs[i].Prefix.String(), Scope: a.Scope, Title: iproute.AddrLine(&addrs[i], names),
			Fields: addrFields(&addrs[i], l.Name)}
		if a.Address != "" {
			cell.Addr = a.Local + " peer " + a.Address + "/" + strconv.Itoa(a.PrefixLen)
		}
		cells = append(cells, cell)
	}
	return cells
}

// stateClass maps ip's operstate to app.css's badge class.
func stateClass(s string) string {
	if s == "LOWERLAYERDOWN" {
		return "lower-layer-down"
	}
	return strings.ToLower(s)
}

func interfaceFilters(q url.Values, links []model.Link) views.InterfaceFilters {
	f := views.InterfaceFilters{Name: q.Get("name")}
	f.HasAddr, _ = boolParam(q, "addr")
	kind := q.Get("kind")
	kinds := []string{}
	for _, l := range links {
		if l.Kind != "" && !slices.Contains(kinds, l.Kind) {
			kinds = append(kinds, l.Kind)
		}
	}
	slices.Sort(kinds)
	f.Kinds = []views.Option{{Value: "", Label: "any"}, {Value: kindDevice, Label: "device (no kind)", Selected: kind == kindDevice}}
	for _, k := range kinds {
		f.Kinds = append(f.Kinds, views.Option{Value: k, Label: k, Selected: kind == k})
	}
	st := q.Get("state")
	f.States = []views.Option{
		{Value: "", Label: "any"},
		{Value: "up", Label: "up", Title: "administratively up, as ip link show up", Selected: st == "up"},
		{Value: "down", Label: "down", Selected: st == "down"},
	}
	return f
}

// HumanBytes prints a byte count with SI prefixes the way live.js's
// fmtRate prints rates ("0 B", "512 B", "1.2 kB", "35 MB"), so the server's
// first value and the live updates look the same.
func HumanBytes(n uint64) string {
	units := []string{"B", "kB", "MB", "GB", "TB", "PB", "EB"}
	v, i := float64(n), 0
	for v >= 999.5 && i < len(units)-1 {
		v /= 1000
		i++
	}
	if i > 0 && v < 9.95 {
		return strconv.FormatFloat(v, 'f', 1, 64) + " " + units[i]
	}
	return strconv.FormatFloat(math.Round(v), 'f', 0, 64) + " " + units[i]
}

func group64(n uint64) string {
	if n > 1<<62 {
		return strconv.FormatUint(n, 10)
	}
	return group(int(n))
}

// live renders the rows and the summary of the view q asks for.
func (p *interfacesPage) live(q url.Values) ([]Fragment, error) {
	vm, _ := p.vm(q, views.Meta{})
	return tableFragments(views.InterfaceRows(vm.Rows), vm.Summary, nil)
}

// linkAddForm lists the kinds netpanel creates and their fields, from the
// link-kind registry: each field shows while a kind that asks it is
// chosen, the lower device while a kind that sits on one is.
func linkAddForm() views.LinkAddFormVM {
	kinds := linkkind.Creatable()
	f := views.LinkAddFormVM{Kinds: linkkind.Names(kinds)}
	for _, x := range linkkind.Fields() {
		var users []string
		for _, k := range kinds {
			if slices.ContainsFunc(k.Create.Fields, func(y linkkind.Field) bool { return y.Name == x.Name }) {
				users = append(users, k.Name)
			}
		}
		f.Fields = append(f.Fields, views.FormField{Name: x.Name, Label: x.Label, Hint: x.Hint, Choices: x.Choices,
			When: "type=" + strings.Join(users, ",")})
	}
	for _, k := range kinds {
		if k.Create.Lower != linkkind.NoLower {
			f.LowerKinds = append(f.LowerKinds, k.Name)
		}
	}
	return f
}
