package handlers

import (
	"cmp"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/kernel/safeapply"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/views"
	"golang.org/x/sys/unix"
)

// TallyReader reads the overview's costly counts as last made, without
// waiting, and tells of each new count (*app.Tally).
type TallyReader interface {
	Get() app.TallyState
	Source
}

// noTally is the TallyReader where nothing counts: both features off.
type noTally struct{}

func (noTally) Get() app.TallyState {
	return app.TallyState{Foreign: app.Count{Off: true}, Conflicts: app.Count{Off: true}}
}

// Subscribe never wakes: nothing counts.
func (noTally) Subscribe() (<-chan struct{}, func()) { return nil, func() {} }

// overviewPage is the home page: is this host OK, and what is not saved.
// It reads the model, the tally and the pending stack, all in memory, so
// it renders in milliseconds whatever the number of routes.
type overviewPage struct {
	*frame
	tally   TallyReader
	pending func() []safeapply.Outcome // the stack; nil when read-only

	linksBlock overviewLinksBlock
}

// The overview's limits: it shows the last changes and the uplinks'
// charts, the rest is a click away.
const (
	overviewEvents = 8
	overviewCharts = 3
	// eventsScanned bounds the walk back through the event ring for
	// changes other than neighbour churn.
	eventsScanned = 500
)

func (p *overviewPage) cmds(url.Values) []views.Cmd {
	return []views.Cmd{
		{IP: "ip route show table all default", Old: "route -n", Note: views.RouteNMainOnly},
		{IP: "ip -6 route show table all default", Old: "route -A inet6 -n", Note: views.RouteNMainOnly},
		{IP: "ip -br addr show up", Old: "ifconfig"},
		{IP: "ip -s link", Old: "ifconfig -s"},
	}
}

// vm is the overview; it takes no query.
func (p *overviewPage) vm(_ url.Values, m views.Meta) (views.OverviewVM, bool) {
	vm, in := p.read(m)
	vm.Links = overviewLinks(in.links, in.addrs, in.uplinks, in.names)
	return vm, true
}

// linksInput is what the overview's block of links is made of.
type linksInput struct {
	linkGen, addrGen uint64 // the generations of links and addresses, read before them
	links            []model.Link
	addrs            []model.Addr
	uplinks          []int32
	names            *model.Names
}

// read is the overview but its block of links, and what that block is
// made of.
func (p *overviewPage) read(m views.Meta) (views.OverviewVM, linksInput) {
	gen := p.store.Versions().Gen
	names := p.names()
	links := p.store.Links()
	byIdx := make(map[int32]*model.Link, len(links))
	for i := range links {
		byIdx[links[i].Index] = &links[i]
	}
	// Table main first: it is the one every packet without a rule uses.
	defaults := p.store.DefaultRoutes()
	slices.SortStableFunc(defaults, func(a, b model.Route) int {
		return cmp.Compare(boolInt(a.Table != unix.RT_TABLE_MAIN), boolInt(b.Table != unix.RT_TABLE_MAIN))
	})
	uplinks, others := uplinksOf(defaults, byIdx)
	var pending []safeapply.Outcome
	if p.pending != nil {
		pending = p.pending()
	}
	addrs := p.store.Addrs()
	vm := views.OverviewVM{Meta: m}
	vm.Status = p.status(defaults, byIdx, names, uplinks, addrs, links, pending)
	// The uplinks' traffic; without one, that of the policy tables' way out.
	charted := uplinks
	if len(charted) == 0 {
		charted = others
	}
	for i, idx := range charted {
		if i == overviewCharts {
			break
		}
		vm.Charts = append(vm.Charts, views.TrafficChart{Key: itoa(idx), Name: byIdx[idx].Name, Size: "medium", Link: true})
	}
	vm.Events = p.events(names)
	return vm, linksInput{linkGen: gen[model.KindLink], addrGen: gen[model.KindAddr],
		links: links, addrs: addrs, uplinks: uplinks, names: names}
}

// live renders each block of the overview; the hub sends only those that
// changed.
func (p *overviewPage) live(url.Values) ([]Fragment, error) {
	vm, in := p.read(views.Meta{})
	links, err := p.linksBlock.get(in)
	if err != nil {
		return nil, err
	}
	frags, err := fragments(
		block("ov-status", views.OverviewStatusBlock(vm.Status)),
		block("ov-charts", views.OverviewCharts(vm.Charts)),
		block("ov-events", views.OverviewEventsBlock(vm.Events)),
	)
	if err != nil {
		return nil, err
	}
	return slices.Insert(frags, 2, links), nil
}

// overviewLinksBlock is the overview's block of links as last rendered,
// and what from. Routes churn by the thousand a second on a busy router,
// links and addresses rarely: the block, rendered once a second for each
// route change and unchanged, was most of each live render's garbage.
type overviewLinksBlock struct {
	mu               sync.Mutex
	linkGen, addrGen uint64
	uplinks          []int32
	// counting: one of the block's addresses counts its lifetimes down
	// (a DHCP or SLAAC address: "valid_lft 3591sec"), each from its own
	// instant, so the block is good only for the render that made it.
	counting bool
	frag     Fragment // nil HTML: none yet
}

// get is the block for in: the last one when it was made from the same
// generations of links and addresses and the same uplinks, else a new
// render. The HTML is shared by the renders that return it, and only read.
func (b *overviewLinksBlock) get(in linksInput) (Fragment, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.frag.HTML != nil && !b.counting && b.linkGen == in.linkGen && b.addrGen == in.addrGen && slices.Equal(b.uplinks, in.uplinks) {
		return b.frag, nil
	}
	frags, err := fragments(block("ov-links", views.OverviewLinksBlock(overviewLinks(in.links, in.addrs, in.uplinks, in.names))))
	if err != nil {
		return Fragment{}, err
	}
	b.frag, b.linkGen, b.addrGen, b.uplinks = frags[0], in.linkGen, in.addrGen, slices.Clone(in.uplinks)
	b.counting = slices.ContainsFunc(in.addrs, func(a model.Addr) bool { return a.CountsDown() })
	return b.frag, nil
}

// usable reports whether a route can carry traffic: a unicast route on a
// link that is up, or why not.
func usable(r *model.Route, byIdx map[int32]*model.Link) (bool, string) {
	if r.Type != unix.RTN_UNICAST {
		return false, "a " + iproute.RouteType(r.Type) + " route: traffic it matches is not forwarded"
	}
	idx := routeLink(r)
	l := byIdx[idx]
	switch {
	case l == nil:
		return false, "its device (ifindex " + itoa(idx) + ") is gone"
	case !l.Up():
		return false, l.Name + " is administratively down"
	case l.OperState == "DOWN" || l.OperState == "LOWERLAYERDOWN" || l.OperState == "NOTPRESENT":
		return false, l.Name + " is " + l.OperState + " (no carrier)"
	}
	return true, ""
}

// routeLink is the link a route leaves by: its device, or its first
// nexthop's.
func routeLink(r *model.Route) int32 {
	if r.LinkIndex == 0 {
		if nhs := r.Multipath(); len(nhs) > 0 {
			return nhs[0].LinkIndex
		}
	}
	return r.LinkIndex
}

// uplinksOf are the links of the usable default routes of table main, in
// the kernel's order of preference (lowest metric first): the uplinks; and
// those of the other tables' (policy routing's way out).
func uplinksOf(defaults []model.Route, byIdx map[int32]*model.Link) (main, other []int32) {
	for i := range defaults {
		r := &defaults[i]
		if ok, _ := usable(r, byIdx); !ok {
			continue
		}
		idxs := []int32{r.LinkIndex}
		if r.LinkIndex == 0 {
			idxs = idxs[:0]
			for _, nh := range r.Multipath() {
				idxs = append(idxs, nh.LinkIndex)
			}
		}
		for _, idx := range idxs {
			if r.Table == unix.RT_TABLE_MAIN {
				main = appendNew(main, idx)
			} else {
				other = appendNew(other, idx)
			}
		}
	}
	return main, other
}

func appendNew(s []int32, v int32) []int32 {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

func familyName(f uint8) string {
	if f == unix.AF_INET6 {
		return "IPv6"
	}
	return "IPv4"
}

// status is the verdict, the cards, the default routes and the stack.
func (p *overviewPage) status(defaults []model.Route, byIdx map[int32]*model.Link, names *model.Names, uplinks []int32,
	addrs []model.Addr, links []model.Link, pending []safeapply.Outcome) views.OverviewStatus {
	var s views.OverviewStatus
	problem := func(level, text, href, link string) {
		s.Problems = append(s.Problems, views.OverviewProblem{Level: level, Text: text, Href: href, Link: link})
	}

	// Default routes, and whether table main has a working one per family.
	mainOK := map[uint8]string{} // family -> the route, as ip prints it
	for i := range defaults {
		r := &defaults[i]
		row := views.DefaultRouteRow{
			Key:    strconv.Itoa(i),
			Table:  names.TableName(r.Table),
			Family: familyName(r.Family),
			Route:  iproute.RouteLine(r, names),
		}
		if l := byIdx[routeLink(r)]; l != nil && routeLink(r) != 0 {
			row.Dev, row.DevState, row.StateClass = l.Name, l.OperState, stateClass(l.OperState)
		}
		ok, why := usable(r, byIdx)
		row.Problem = why
		if !ok && r.Type == unix.RTN_UNICAST {
			row.Problem += ": this route carries nothing"
		}
		if r.Table == unix.RT_TABLE_MAIN {
			if ok {
				if _, seen := mainOK[r.Family]; !seen {
					mainOK[r.Family] = row.Route
				}
			} else if r.Type == unix.RTN_UNICAST {
				href := ""
				if row.Dev != "" {
					href = "/interfaces/" + url.PathEscape(row.Dev)
				}
				problem("bad", "The "+row.Family+" default route "+row.Route+" carries nothing: "+why+".", href, row.Dev)
			}
		}
		s.Defaults = append(s.Defaults, row)
	}
	_, has4 := mainOK[unix.AF_INET]
	_, has6 := mainOK[unix.AF_INET6]
	switch {
	case !has4 && !has6:
		problem("bad", "No working default route in table main: only the networks of this host's own addresses are reachable.", "/routes", "Routes")
	case !has4:
		problem("warn", "No working IPv4 default route in table main: IPv4 reaches only the networks of this host's own addresses.", "/routes", "Routes")
	case !has6 && hasGlobal6(addrs):
		problem("warn", "This host has a global IPv6 address but no working IPv6 default route in table main.", "/routes?family=inet6", "Routes")
	}

	uplink := views.OverviewCard{ID: "uplink", Title: "Uplink", Level: "ok"}
	for _, idx := range uplinks {
		l := byIdx[idx]
		uplink.Rates = append(uplink.Rates, views.RateRef{Key: itoa(idx), Name: l.Name})
	}
	if len(uplinks) == 0 {
		uplink.Level, uplink.Value = "bad", "none"
	} else {
		var ns []string
		for _, r := range uplink.Rates {
			ns = append(ns, r.Name)
		}
		uplink.Value = strings.Join(ns, ", ")
	}
	for _, fam := range []uint8{unix.AF_INET, unix.AF_INET6} {
		if r, ok := mainOK[fam]; ok {
			uplink.Detail = append(uplink.Detail, familyName(fam)+": "+r)
		} else {
			uplink.Detail = append(uplink.Detail, familyName(fam)+": no working default route in table main")
			if uplink.Level == "ok" && fam == unix.AF_INET {
				uplink.Level = "warn"
			}
		}
	}
	s.Cards = append(s.Cards, uplink)

	st := p.tally.Get()
	s.Cards = append(s.Cards, unsavedCard(st.Foreign))
	if st.Foreign.Known && st.Foreign.Err == "" && st.Foreign.N > 0 {
		files := "networkd file"
		if st.Foreign.ByKind["nftables_rule"] > 0 {
			files = "saved file"
		}
		problem("warn", count(st.Foreign.N, "live object", "live objects")+" will not survive a reboot: no "+files+" describes "+
			them(st.Foreign.N)+".", "/networkd", "Save…")
	}
	s.Cards = append(s.Cards, dockerCard(st.Conflicts))
	if st.Conflicts.Known && st.Conflicts.N > 0 {
		problem("warn", count(st.Conflicts.N, "conflict", "conflicts")+" between Docker and this host's networks.", "/docker", "Explain…")
	}

	pc := views.OverviewCard{ID: "pending", Title: "Waiting for confirmation", Level: "ok", Value: "nothing"}
	for _, o := range pending {
		s.Pending = append(s.Pending, views.PendingRow{
			ID: o.ID, User: o.User, Commands: strings.Join(o.Commands, "; "), Reason: o.Reason,
			DeadlineUnixMs: o.Deadline.UnixMilli(), Deadline: o.Deadline.Format("15:04:05"), Waiting: strings.Join(o.Waiting, ", "),
		})
	}
	if n := len(pending); n > 0 {
		pc.Level, pc.Value = "warn", count(n, "change", "changes")
		pc.Detail = []string{"rolled back at " + pending[0].Deadline.Format("15:04:05") + " unless confirmed"}
		problem("warn", count(n, "change waits", "changes wait")+" for confirmation and will be rolled back at "+
			pending[0].Deadline.Format("15:04:05")+" unless confirmed.", "", "")
	}
	s.Cards = append(s.Cards, pc)
	s.Cards = append(s.Cards, linksCard(links))

	s.Level, s.Headline = "ok", "This host looks fine."
	for _, pr := range s.Problems {
		if pr.Level == "bad" {
			s.Level = "bad"
		} else if s.Level == "ok" {
			s.Level = "warn"
		}
	}
	if n := len(s.Problems); n > 0 {
		s.Headline = count(n, "thing needs", "things need") + " attention:"
	}
	return s
}

// hasGlobal6 reports whether any link holds a global IPv6 address, which
// makes a missing IPv6 default route worth a warning.
func hasGlobal6(addrs []model.Addr) bool {
	for _, a := range addrs {
		if a.Family == unix.AF_INET6 && a.Scope == unix.RT_SCOPE_UNIVERSE && !a.Prefix.Addr().IsPrivate() {
			return true
		}
	}
	return false
}

func them(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

// countedAt says when a count was made and whether it is being redone.
func countedAt(c app.Count) string {
	took := "under a millisecond"
	if c.Took >= time.Millisecond {
		took = c.Took.Round(time.Millisecond).String()
	}
	s := "counted at " + c.At.Format("15:04:05") + " in " + took
	if c.Stale {
		s += "; the network changed since, counting again…"
	}
	return s
}

// unsavedCard shows the objects no networkd file describes.
func unsavedCard(c app.Count) views.OverviewCard {
	card := views.OverviewCard{ID: "unsaved", Title: "Not saved", Href: "/networkd", Link: "Save…"}
	switch {
	case c.Off:
		card.Level, card.Value, card.Href = "idle", "not configured", ""
		card.Detail = []string{"saving to systemd-networkd is not configured on this server"}
	case !c.Known:
		card.Level, card.Value = "idle", "counting…"
		card.Detail = []string{"comparing every live route, rule and address with the networkd files"}
	case c.Err != "":
		card.Level, card.Value = "warn", "unknown"
		card.Detail = []string{c.Err}
	case c.N == 0:
		card.Level, card.Value = "ok", "nothing"
		card.Detail = []string{"every live address, route and rule is in a networkd file", countedAt(c)}
	default:
		card.Level, card.Value = "warn", count(c.N, "object", "objects")
		var parts []string
		for _, k := range []struct{ kind, one, many string }{
			{"address", "address", "addresses"}, {"route", "route", "routes"}, {"rule", "rule", "rules"},
			{"nftables_rule", "nftables rule", "nftables rules"},
		} {
			if n := c.ByKind[k.kind]; n > 0 {
				parts = append(parts, count(n, k.one, k.many))
			}
		}
		card.Detail = []string{strings.Join(parts, ", ") + " would be gone after a reboot", countedAt(c)}
	}
	return card
}

// dockerCard shows Docker's conflicts with the host's networks.
func dockerCard(c app.Count) views.OverviewCard {
	card := views.OverviewCard{ID: "docker", Title: "Docker", Href: "/docker", Link: "Explain…"}
	switch {
	case c.Off:
		card.Level, card.Value, card.Href = "idle", "not configured", ""
	case !c.Known:
		card.Level, card.Value = "idle", "checking…"
		card.Detail = []string{"comparing Docker's bridges and pools with every route and address"}
	case c.N == 0:
		card.Level, card.Value = "ok", "no conflicts"
		card.Detail = []string{"no Docker network overlaps a route or an address", countedAt(c)}
	default:
		card.Level, card.Value = "warn", count(c.N, "conflict", "conflicts")
		card.Detail = []string{"Docker's networks overlap routes or addresses of this host", countedAt(c)}
	}
	card.Note, card.Why = c.Note, c.Why
	return card
}

// linksCard counts the interfaces up and down.
func linksCard(links []model.Link) views.OverviewCard {
	up, noCarrier := 0, 0
	for i := range links {
		if links[i].Up() {
			up++
			if s := links[i].OperState; s == "DOWN" || s == "LOWERLAYERDOWN" {
				noCarrier++
			}
		}
	}
	// As ip -br link reads them: a link set up without a carrier is DOWN
	// there, so it is not counted as up here either, but named apart
	// from those set down.
	value := group(up-noCarrier) + " up"
	if noCarrier > 0 {
		value += ", " + group(noCarrier) + " without carrier"
	}
	c := views.OverviewCard{ID: "links", Title: "Interfaces", Level: "ok", Href: "/interfaces", Link: "All interfaces…",
		Value: value + ", " + group(len(links)-up) + " set down"}
	if noCarrier > 0 {
		c.Detail = []string{count(noCarrier, "interface is set up but has", "interfaces are set up but have") + " no carrier (ip -br link: DOWN)"}
	}
	return c
}

// overviewLinks lists the links that are up, uplinks marked, and names
// those that are down.
func overviewLinks(links []model.Link, addrs []model.Addr, uplinks []int32, names *model.Names) views.OverviewLinks {
	byLink := addrsByLink(addrs)
	var out views.OverviewLinks
	for i := range links {
		l := &links[i]
		if !l.Up() {
			out.Down = append(out.Down, l.Name)
			continue
		}
		out.Up = append(out.Up, views.OverviewLink{
			Key: itoa(l.Index), Name: l.Name, Kind: l.Kind, OperState: l.OperState, StateClass: stateClass(l.OperState),
			Uplink: slices.Contains(uplinks, l.Index),
			Addrs:  addrCells(l, byLink[l.Index], names), // not a whole row of the interfaces page per link
		})
	}
	return out
}

// events are the last changes of configuration: neighbour entries come
// and go with traffic and would bury them, so they are left out here.
func (p *overviewPage) events(names *model.Names) views.OverviewEvents {
	last := p.store.LastSeq()
	from := uint64(0)
	if last > eventsScanned {
		from = last - eventsScanned
	}
	evs, _, _ := p.store.EventsSince(from, eventsScanned)
	var keep []model.Event
	for i := len(evs) - 1; i >= 0 && len(keep) < overviewEvents; i-- {
		if evs[i].Kind != model.KindNeigh || evs[i].Resync {
			keep = append(keep, evs[i])
		}
	}
	slices.Reverse(keep)
	return views.OverviewEvents{
		Lines: eventLineVMs(EventLines(keep, names, p.netns)),
		Total: count(int(last), "kernel event", "kernel events") + " since netpanel started; neighbour entries are in the events page",
	}
}

func itoa(i int32) string { return strconv.Itoa(int(i)) }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
