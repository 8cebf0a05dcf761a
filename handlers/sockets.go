package handlers

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/kernel/sockets"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/views"
)

// SocketLister lists the namespace's sockets (sock_diag in production).
type SocketLister interface {
	List() ([]sockets.Socket, error)
}

// SocketListerFunc adapts a function to SocketLister.
type SocketListerFunc func() ([]sockets.Socket, error)

// List calls f.
func (f SocketListerFunc) List() ([]sockets.Socket, error) { return f() }

// socketsPage is the `ss` page.
type socketsPage struct {
	*frame
	list SocketLister
}

const socketsPerPage = 100

// socketFilter turns the page's query into an ss-style filter, naming the
// field it cannot use.
func socketFilter(q url.Values) (sockets.Filter, error) {
	var f sockets.Filter
	switch s := q.Get("proto"); s {
	case "", "all":
	case "tcp", "udp":
		f.Proto = s
	default:
		return f, app.BadField("proto", "protocol", "must be tcp, udp or all, not %q", s)
	}
	switch s := q.Get("state"); s {
	case "", "all":
	case "listening":
		f.Listening = true
	case "established":
		f.Established = true
	default:
		return f, app.BadField("state", "state", "must be listening, established or all, not %q", s)
	}
	var ok bool
	if f.Family, ok = parseFamily(q.Get("family"), 0, false); !ok {
		return f, app.BadField("family", "family", "must be inet or inet6, not %q", q.Get("family"))
	}
	if s := strings.TrimSpace(q.Get("port")); s != "" {
		p, err := strconv.Atoi(s)
		if err != nil || p < 1 || p > 65535 {
			return f, app.BadField("port", "port", "must be a number from 1 to 65535, not %q", s)
		}
		f.Port = uint16(p)
	}
	f.Addr = strings.TrimSpace(q.Get("addr"))
	if err := f.Validate(); err != nil {
		return f, app.BadField("addr", "address or prefix", "%q is not an address like 10.0.0.1 or a prefix like 10.0.0.0/8", f.Addr)
	}
	return f, nil
}

// vm answers one sockets view.
func (p *socketsPage) vm(q url.Values, m views.Meta) (views.SocketsVM, bool) {
	vm := views.SocketsVM{Meta: m, Filters: socketFilters(q)}
	page, per, err := paging(q, socketsPerPage)
	var f sockets.Filter
	if err == nil {
		f, err = socketFilter(q)
	}
	if err != nil {
		vm.Error, vm.ErrorField = err.Error(), app.FieldOf(err)
		vm.Summary = "no sockets shown"
		vm.Pager = pager("/sockets", q, 1, per, 0)
		return vm, false
	}
	all, err := p.list.List()
	if err != nil {
		// The kernel's answer is missing, not the user's input wrong: say
		// so in the page and keep it usable (and live: it retries).
		p.log.Warn("listing sockets failed", "err", err)
		vm.Error = "cannot list sockets: " + err.Error()
		vm.Summary = vm.Error // the live view updates the summary, not the banner
		vm.Pager = pager("/sockets", q, 1, per, 0)
		return vm, true
	}
	names := p.names()
	total, from := 0, (page-1)*per
	for _, s := range all {
		if !f.Match(s) {
			continue
		}
		if total >= from && total < from+per {
			vm.Rows = append(vm.Rows, socketRow(&s, names))
		}
		total++
	}
	vm.Summary = fmt.Sprintf("%s of %s match", group(total), count(len(all), "socket", "sockets"))
	vm.Pager = pager("/sockets", q, page, per, total)
	return vm, true
}

func socketRow(s *sockets.Socket, names *model.Names) views.SocketRow {
	local := s.End(s.Local)
	if s.Interface != 0 {
		// ss prints the bound device after the address: 10.0.0.1%eth0:53.
		i := strings.LastIndexByte(local, ':')
		local = local[:i] + "%" + names.LinkName(s.Interface) + local[i:]
	}
	row := views.SocketRow{
		Netid: s.Proto, State: s.State,
		RecvQ: strconv.FormatUint(uint64(s.RecvQ), 10), SendQ: strconv.FormatUint(uint64(s.SendQ), 10),
		Local: local, Peer: s.End(s.Remote),
	}
	row.Key = s.Proto + "|" + row.Local + "|" + row.Peer + "|" + strconv.FormatUint(uint64(s.Inode), 10)
	if len(s.Processes) > 0 {
		users := make([]string, len(s.Processes))
		for i, p := range s.Processes {
			users[i] = fmt.Sprintf("(%q,pid=%d,fd=%d)", p.Name, p.PID, p.FD)
		}
		row.Process = "users:(" + strings.Join(users, ",") + ")"
	}
	return row
}

func socketFilters(q url.Values) views.SocketFilters {
	opts := func(cur string, vals ...string) []views.Option {
		out := make([]views.Option, 0, len(vals)/2)
		for i := 0; i+1 < len(vals); i += 2 {
			out = append(out, views.Option{Value: vals[i], Label: vals[i+1], Selected: cur == vals[i]})
		}
		return out
	}
	return views.SocketFilters{
		Protos:   opts(q.Get("proto"), "", "tcp and udp", "tcp", "tcp", "udp", "udp"),
		States:   opts(q.Get("state"), "", "all", "listening", "listening (ss -l)", "established", "established"),
		Families: opts(q.Get("family"), "", "both", "inet", "IPv4", "inet6", "IPv6"),
		Port:     q.Get("port"), Addr: q.Get("addr"), Per: q.Get("per"),
	}
}

// live lists the sockets again: they have no kernel events, so the hub
// calls it at the period the page declares (Live.Every).
func (p *socketsPage) live(q url.Values) ([]Fragment, error) {
	vm, _ := p.vm(q, views.Meta{})
	return tableFragments(views.SocketRows(vm.Rows), vm.Summary, &vm.Pager)
}
