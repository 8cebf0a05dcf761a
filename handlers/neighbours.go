package handlers

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/views"
	"golang.org/x/sys/unix"
)

// nudNames are the states the filter offers, as `ip neigh show nud` names them.
var nudNames = []struct {
	name string
	bit  uint16
}{
	{"reachable", unix.NUD_REACHABLE}, {"stale", unix.NUD_STALE}, {"delay", unix.NUD_DELAY},
	{"probe", unix.NUD_PROBE}, {"failed", unix.NUD_FAILED}, {"incomplete", unix.NUD_INCOMPLETE},
	{"permanent", unix.NUD_PERMANENT}, {"noarp", unix.NUD_NOARP}, {"none", unix.NUD_NONE},
}

type neighQuery struct {
	dev    int32 // 0 for any
	state  string
	family uint8
	all    bool
	proxy  bool // the proxy entries (`ip neigh show proxy`) instead
}

func parseNeighQuery(q url.Values, names *model.Names) (neighQuery, error) {
	var nq neighQuery
	if s := q.Get("dev"); s != "" {
		idx, ok := names.LinkIndex(s)
		if !ok {
			return nq, fmt.Errorf("device: no interface named %q", s)
		}
		nq.dev = idx
	}
	if s := q.Get("state"); s != "" {
		if _, ok := nudBit(s); !ok {
			return nq, fmt.Errorf("state: %q is not a neighbour state (reachable, stale, failed, ...)", s)
		}
		nq.state = s
	}
	var ok bool
	if nq.family, ok = parseFamily(q.Get("family"), 0, false); !ok {
		return nq, fmt.Errorf("family must be inet or inet6, not %q", q.Get("family"))
	}
	var err error
	if nq.all, err = boolParam(q, "all"); err != nil {
		return nq, fmt.Errorf("show all: %w", err)
	}
	if nq.proxy, err = boolParam(q, "proxy"); err != nil {
		return nq, fmt.Errorf("proxy entries: %w", err)
	}
	if nq.proxy && nq.state != "" {
		return nq, fmt.Errorf("state: proxy entries have no state; clear the state or the proxy filter")
	}
	return nq, nil
}

func nudBit(name string) (uint16, bool) {
	for _, n := range nudNames {
		if n.name == name {
			return n.bit, true
		}
	}
	return 0, false
}

// hidden reports what plain `ip neigh` leaves out: NOARP and NONE entries
// (proxy entries always show).
func hidden(n *model.Neigh) bool {
	return n.Flags&unix.NTF_PROXY == 0 && (n.State == unix.NUD_NONE || n.State&unix.NUD_NOARP != 0)
}

func (nq neighQuery) match(n *model.Neigh) bool {
	switch {
	case nq.dev != 0 && n.LinkIndex != nq.dev:
		return false
	case nq.family != 0 && n.Family != nq.family:
		return false
	case nq.state != "":
		// An explicit state shows entries `ip neigh` hides, as `nud noarp` does.
		bit, _ := nudBit(nq.state)
		return n.State&bit != 0 || bit == unix.NUD_NONE && n.State == unix.NUD_NONE
	}
	return nq.all || !hidden(n)
}

// neighboursPage is the `ip neigh` page.
type neighboursPage struct{ *frame }

// cmds are the page's commands: with all=1 they show what plain `ip neigh`
// hides, with proxy=1 the proxy entries, which arp cannot list (they are
// not in /proc/net/arp).
func (p *neighboursPage) cmds(q url.Values) []views.Cmd {
	if proxy, _ := boolParam(q, "proxy"); proxy {
		return []views.Cmd{{IP: "ip neigh show proxy"}}
	}
	ipCmd := "ip neigh"
	if all, _ := boolParam(q, "all"); all {
		ipCmd = "ip neigh show nud all"
	}
	return []views.Cmd{{IP: ipCmd, Old: "arp -na"}}
}

// vm answers one neighbours view.
func (p *neighboursPage) vm(q url.Values, m views.Meta) (views.NeighboursVM, bool) {
	names := p.names()
	nq, err := parseNeighQuery(q, names)
	_, devs := p.formChoices()
	vm := views.NeighboursVM{DevNames: devs, Meta: m, Filters: neighFilters(q, p.store.Links())}
	if err != nil {
		vm.Error = err.Error()
		vm.Summary = "no neighbours shown"
		return vm, false
	}
	all, what := p.store.Neighs(), "neighbour"
	if nq.proxy {
		all, what = p.store.Proxies(), "proxy"
	}
	// Count what only the NOARP/NONE default hides, so the summary can
	// say why entries the kernel has are missing.
	hid, withAll := 0, nq
	withAll.all = true
	for i := range all {
		n := &all[i]
		if nq.match(n) {
			vm.Rows = append(vm.Rows, neighRow(n, names))
		} else if withAll.match(n) {
			hid++
		}
	}
	vm.Summary = fmt.Sprintf("%s of %s shown", group(len(vm.Rows)), count(len(all), what+" entry", what+" entries"))
	if hid > 0 {
		vm.Summary += fmt.Sprintf("; %s hidden, as ip neigh does", count(hid, "NOARP or NONE entry", "NOARP or NONE entries"))
	}
	return vm, true
}

func neighRow(n *model.Neigh, names *model.Names) views.NeighRow {
	j := iproute.Neigh(n, names)
	row := views.NeighRow{
		Key:  strconv.Itoa(int(n.LinkIndex)) + "|" + n.IP.String(),
		Addr: j.Dst, Dev: ifRef(j.Dev, n.LinkIndex), LLAddr: j.LLAddr,
		Router: bool(j.Router), Proxy: bool(j.Proxy),
		Line: iproute.NeighLine(n, names), Fields: neighFields(n, j.Dev),
	}
	for _, s := range j.State {
		row.States = append(row.States, views.NeighState{Name: s, Class: strings.ToLower(s)})
	}
	if n.State == unix.NUD_NONE && n.Flags&unix.NTF_PROXY == 0 {
		// ip prints no state for NUD_NONE; the page names it, so the
		// column is never silently empty. A proxy entry has no state.
		row.States = append(row.States, views.NeighState{Name: "NONE", Class: "none"})
	}
	return row
}

func neighFilters(q url.Values, links []model.Link) views.NeighFilters {
	f := views.NeighFilters{}
	f.All, _ = boolParam(q, "all")
	f.Proxy, _ = boolParam(q, "proxy")
	f.Devs = []views.Option{{Value: "", Label: "any"}}
	for _, l := range links {
		f.Devs = append(f.Devs, views.Option{Value: l.Name, Label: l.Name, Selected: q.Get("dev") == l.Name})
	}
	f.States = []views.Option{{Value: "", Label: "any"}}
	for _, n := range nudNames {
		f.States = append(f.States, views.Option{Value: n.name, Label: strings.ToUpper(n.name), Selected: q.Get("state") == n.name})
	}
	f.Families = familyOptions(q.Get("family"))
	return f
}

// live renders the rows and the summary of the view q asks for.
func (p *neighboursPage) live(q url.Values) ([]Fragment, error) {
	vm, _ := p.vm(q, views.Meta{})
	return tableFragments(views.NeighRows(vm.Rows), vm.Summary, nil)
}
