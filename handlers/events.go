package handlers

import (
	"bytes"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/views"
)

// eventsShown is how many events the page starts with; newer ones arrive
// over the live connection.
const eventsShown = 500

// eventKinds are the kinds the page can hide, in display order.
var eventKinds = []string{"link", "addr", "route", "rule", "neigh", "nexthop", "resync"}

// EventLine is one event as the page and the live connection show it.
type EventLine struct {
	Seq  uint64
	Kind string // link, addr, route, rule, neigh, nexthop or resync
	Text string // the `ip monitor` line without its [KIND] label
	Time time.Time
}

// EventLines renders events as `ip monitor` prints them; nn names the
// namespaces of links' peers (nil: by id). names should be taken once per
// batch. A link is named as it was when the events
// happened (eventNames); one deleted since that the batch has no event
// of shows as "ifN".
func EventLines(evs []model.Event, names *model.Names, nn iproute.NetnsNames) []EventLine {
	out := make([]EventLine, len(evs))
	en := newEventNames(evs, names)
	for i := range evs {
		e := &evs[i]
		en.seen(e)
		kind := e.Kind.String()
		if e.Resync {
			kind = "resync"
		}
		// EventLine labels the line ("[ROUTE] ", after "Deleted " when it
		// is one); the page has a column for the kind instead.
		text := withoutLabel(iproute.EventLine(e, en, nn), kind)
		out[i] = EventLine{Seq: e.Seq, Kind: kind, Text: text, Time: e.Time}
	}
	return out
}

// eventLabels are EventLine's labels of the kinds ("[ROUTE] "), made once
// rather than for each line of a thousand a second.
var eventLabels = func() map[string]string {
	m := make(map[string]string, len(eventKinds))
	for _, k := range eventKinds {
		m[k] = "[" + strings.ToUpper(k) + "] "
	}
	return m
}()

// withoutLabel is line without its first label of kind; a line that starts
// with it (the most) is cut, not copied.
func withoutLabel(line, kind string) string {
	label, ok := eventLabels[kind]
	if !ok {
		label = "[" + strings.ToUpper(kind) + "] "
	}
	switch i := strings.Index(line, label); {
	case i < 0:
		return line
	case i == 0:
		return line[len(label):]
	default:
		return line[:i] + line[i+len(label):]
	}
}

// eventNames names links in events as ip monitor did when it printed
// them: by the link's latest event so far in the batch, or else its first
// one (a route's or an address's deletion comes before its link's), or
// else as the link is named now. Without it, every event of a link
// deleted since read "ifN" and its rules "[detached]", which ip monitor
// never printed.
type eventNames struct {
	*model.Names
	latest map[int32]string
	first  map[int32]string
	known  map[string]bool // every name the batch's link events give
}

func newEventNames(evs []model.Event, names *model.Names) *eventNames {
	n := &eventNames{Names: names, latest: map[int32]string{}, first: map[int32]string{}, known: map[string]bool{}}
	for i := range evs {
		if l := evs[i].Link; l != nil {
			if _, ok := n.first[l.Index]; !ok {
				n.first[l.Index] = l.Name
			}
			n.known[l.Name] = true
		}
	}
	return n
}

// seen notes e's link, if it is a link's event, before e is printed.
func (n *eventNames) seen(e *model.Event) {
	if e.Link != nil {
		n.latest[e.Link.Index] = e.Link.Name
	}
}

// LinkName names idx as it was at the event being printed.
func (n *eventNames) LinkName(idx int32) string {
	if s, ok := n.latest[idx]; ok {
		return s
	}
	if s, ok := n.first[idx]; ok {
		return s
	}
	return n.Names.LinkName(idx)
}

// HasLink reports a link that exists or that the batch's events show.
func (n *eventNames) HasLink(name string) bool { return n.known[name] || n.Names.HasLink(name) }

// eventsPage is the `ip monitor` page.
type eventsPage struct{ *frame }

// vm shows the last events; the page takes no query.
func (p *eventsPage) vm(_ url.Values, m views.Meta) (views.EventsVM, bool) {
	vm := views.EventsVM{Meta: m, Kinds: eventKinds}
	last := p.store.LastSeq()
	from := uint64(0)
	if last > eventsShown {
		from = last - eventsShown
	}
	evs, _, _ := p.store.EventsSince(from, eventsShown)
	vm.Lines = eventLineVMs(EventLines(evs, p.names(), p.netns))
	vm.Summary = eventsSummary(last)
	return vm, true
}

// eventLineVMs are lines as the pages show them.
func eventLineVMs(lines []EventLine) []views.EventLineVM {
	out := make([]views.EventLineVM, 0, len(lines))
	for _, l := range lines {
		out = append(out, views.EventLineVM{
			Seq: strconv.FormatUint(l.Seq, 10), Kind: l.Kind, Text: l.Text,
			Time: l.Time.Format("15:04:05.000"), DateTime: l.Time.Format(time.RFC3339Nano),
		})
	}
	return out
}

func eventsSummary(last uint64) string {
	return fmt.Sprintf("events since netpanel started: %s; the page starts with the last %d and adds new ones as the kernel announces them", group64(last), eventsShown)
}

// text serves /events.txt: every event still in the ring, one
// "TIME [KIND] text" line each, as a download.
func (p *eventsPage) text(w http.ResponseWriter, r *http.Request) {
	evs, _, _ := p.store.EventsSince(0, math.MaxInt)
	var b bytes.Buffer
	for _, l := range EventLines(evs, p.names(), p.netns) {
		fmt.Fprintf(&b, "%s [%s] %s\n", l.Time.Format("2006-01-02T15:04:05.000Z07:00"), strings.ToUpper(l.Kind), l.Text)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="netpanel-events.txt"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(b.Bytes())
}

// live refreshes the summary only: lines go out as events messages
// (EventLines, Live.Events), which live.js appends, holds while paused,
// and filters. Patching #event-log as rows would undo all three.
func (p *eventsPage) live(url.Values) ([]Fragment, error) {
	return fragments(block("summary", views.Summary(eventsSummary(p.store.LastSeq()))))
}
