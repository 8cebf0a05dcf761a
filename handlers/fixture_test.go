package handlers

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/netops/kernel/sockets"
	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/net/html"
	"golang.org/x/sys/unix"
)

// Fixtures: the same handlers over an empty namespace, a small realistic
// one, and a large one, all built without a kernel.

// fixtureTables names table 1 as a policy-routing setup would.
var fixtureTables = rttables.New(rttables.Entry{ID: 1, Name: "wan-force"})

type fixture struct {
	name string
	h    func() *Handlers
}

func fixtures() []fixture {
	return []fixture{
		{"empty", emptyHandlers},
		{"normal", normalHandlers},
		{"large", largeHandlers},
	}
}

// newHandlers serves st; opts add optional features.
func newHandlers(st model.State, list SocketLister, opts ...func(*Deps)) *Handlers {
	d := Deps{
		Store:   model.NewStoreFrom(st),
		Tables:  func() *rttables.Tables { return fixtureTables },
		Sockets: list,
		NSName:  "test",
		Log:     slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		o(&d)
	}
	return New(d)
}

// withChanges serves the normal namespace, applying changes through c.
func withChanges(c Changer) *Handlers {
	return newHandlers(normalState(), socketsOf(normalSockets()), func(d *Deps) { d.Changes = c })
}

func socketsOf(s []sockets.Socket) SocketLister {
	return SocketListerFunc(func() ([]sockets.Socket, error) { return s, nil })
}

func emptyHandlers() *Handlers { return newHandlers(model.State{}, socketsOf(nil)) }

func normalHandlers() *Handlers { return newHandlers(normalState(), socketsOf(normalSockets())) }

var largeHandlers = sync.OnceValue(func() *Handlers {
	return newHandlers(largeState(), socketsOf(largeSockets()))
})

// failingHandlers has a namespace whose sockets cannot be listed.
func failingHandlers() *Handlers {
	return newHandlers(normalState(), SocketListerFunc(func() ([]sockets.Socket, error) {
		return nil, errors.New("sock_diag: permission denied")
	}))
}

const (
	flagsUp     = unix.IFF_UP | unix.IFF_BROADCAST | unix.IFF_MULTICAST | unix.IFF_RUNNING | unix.IFF_LOWER_UP
	flagsNoCarr = unix.IFF_UP | unix.IFF_BROADCAST | unix.IFF_MULTICAST
	flagsDown   = unix.IFF_BROADCAST | unix.IFF_MULTICAST
	flagsLo     = unix.IFF_UP | unix.IFF_LOOPBACK | unix.IFF_RUNNING | unix.IFF_LOWER_UP
)

func fxMAC(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

func fxPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func fxAddr(s string) netip.Addr     { return netip.MustParseAddr(s) }

func fxLink(idx int32, name, kind string, raw uint32, oper string) model.Link {
	l := model.Link{Index: idx, Name: name, Kind: kind, RawFlags: raw, MTU: 1500, TxQLen: 1000,
		OperState: oper, LinkType: "ether", LinkNetNsID: -1,
		HWAddr: fxMAC(fmt.Sprintf("02:00:00:00:%02x:%02x", idx>>8, idx&0xff)), Broadcast: fxMAC("ff:ff:ff:ff:ff:ff")}
	if raw&unix.IFF_UP != 0 {
		l.Flags |= net.FlagUp
	}
	return l
}

// normalState is a small host: loopback, a veth pair "wan"/"wan-peer", a
// Docker bridge with one port whose peer is in a container, a spare NIC
// that is down, and a policy rule sending fwmark 0x20 to table wan-force.
func normalState() model.State {
	lo := fxLink(1, "lo", "", flagsLo, "UNKNOWN")
	lo.MTU, lo.LinkType, lo.HWAddr, lo.Broadcast = 65536, "loopback", fxMAC("00:00:00:00:00:00"), fxMAC("00:00:00:00:00:00")
	wan := fxLink(2, "wan", "veth", flagsUp, "UP")
	wan.ParentIndex, wan.Alias = 3, "uplink to the ISP"
	wan.Stats = model.LinkStats{RxBytes: 1_500_000, TxBytes: 42_000, RxPackets: 1234567, TxPackets: 89}
	peer := fxLink(3, "wan-peer", "veth", flagsUp, "UP")
	peer.ParentIndex = 2
	docker0 := fxLink(4, "docker0", "bridge", flagsNoCarr, "DOWN")
	port := fxLink(5, "vethab12", "veth", flagsNoCarr, "LOWERLAYERDOWN")
	port.MasterIndex, port.ParentIndex, port.LinkNetNsID = 4, 9, 1
	eth1 := fxLink(6, "eth1", "", flagsDown, "DOWN")
	eth1.Alias = "spare"

	rule := func(fam uint8, prio uint32, table uint32) model.Rule {
		return model.Rule{Family: fam, Priority: prio, Action: 1, Table: table, SuppressPrefixLen: -1}
	}
	fwmark := rule(unix.AF_INET, 16286, 1)
	fwmark.Mark, fwmark.Mask, fwmark.HasMark, fwmark.HasMask = 0x20, 0x20, true, true
	blackhole := rule(unix.AF_INET, 100, 0)
	blackhole.Action, blackhole.Src, blackhole.Invert = 6, fxPrefix("10.66.0.0/16"), true
	fromEth1 := rule(unix.AF_INET, 200, 254)
	fromEth1.IifName = "eth1"

	return model.State{
		Links: []model.Link{lo, wan, peer, docker0, port, eth1},
		Addrs: []model.Addr{
			{LinkIndex: 1, Family: unix.AF_INET, Prefix: fxPrefix("127.0.0.1/8"), Scope: unix.RT_SCOPE_HOST, Flags: unix.IFA_F_PERMANENT, ValidLft: ^uint32(0), PreferredLft: ^uint32(0)},
			{LinkIndex: 1, Family: unix.AF_INET6, Prefix: fxPrefix("::1/128"), Scope: unix.RT_SCOPE_HOST, Flags: unix.IFA_F_PERMANENT, ValidLft: ^uint32(0), PreferredLft: ^uint32(0)},
			{LinkIndex: 2, Family: unix.AF_INET6, Prefix: fxPrefix("2001:db8::10/64"), Flags: unix.IFA_F_PERMANENT, ValidLft: ^uint32(0), PreferredLft: ^uint32(0)},
			{LinkIndex: 2, Family: unix.AF_INET6, Prefix: fxPrefix("fe80::10/64"), Scope: unix.RT_SCOPE_LINK, Flags: unix.IFA_F_PERMANENT, ValidLft: ^uint32(0), PreferredLft: ^uint32(0)},
			{LinkIndex: 2, Family: unix.AF_INET, Prefix: fxPrefix("192.0.2.10/24"), Broadcast: fxAddr("192.0.2.255"), Label: "wan", Flags: unix.IFA_F_PERMANENT, ValidLft: ^uint32(0), PreferredLft: ^uint32(0)},
			{LinkIndex: 4, Family: unix.AF_INET, Prefix: fxPrefix("172.17.0.1/16"), Broadcast: fxAddr("172.17.255.255"), Label: "docker0", Flags: unix.IFA_F_PERMANENT, ValidLft: ^uint32(0), PreferredLft: ^uint32(0)},
		},
		Routes: []model.Route{
			{Family: unix.AF_INET, Table: 254, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_BOOT, Dst: fxPrefix("0.0.0.0/0"), Gateway: fxAddr("192.0.2.1"), LinkIndex: 2},
			{Family: unix.AF_INET, Table: 254, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_KERNEL, Scope: unix.RT_SCOPE_LINK, Dst: fxPrefix("192.0.2.0/24"), PrefSrc: fxAddr("192.0.2.10"), LinkIndex: 2},
			{Family: unix.AF_INET, Table: 254, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_KERNEL, Scope: unix.RT_SCOPE_LINK, Dst: fxPrefix("172.17.0.0/16"), PrefSrc: fxAddr("172.17.0.1"), LinkIndex: 4},
			{Family: unix.AF_INET6, Table: 254, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_KERNEL, Dst: fxPrefix("2001:db8::/64"), Priority: 256, LinkIndex: 2},
			{Family: unix.AF_INET, Table: 1, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC, Dst: fxPrefix("0.0.0.0/0"), Gateway: fxAddr("192.0.2.254"), LinkIndex: 2},
		},
		Rules: []model.Rule{
			rule(unix.AF_INET, 0, 255), blackhole, fromEth1, fwmark, rule(unix.AF_INET, 32766, 254), rule(unix.AF_INET, 32767, 253),
			rule(unix.AF_INET6, 0, 255), rule(unix.AF_INET6, 32766, 254),
		},
		Neighs: []model.Neigh{
			{LinkIndex: 2, Family: unix.AF_INET, IP: fxAddr("192.0.2.1"), HWAddr: fxMAC("52:54:00:12:34:56"), State: unix.NUD_REACHABLE, Flags: unix.NTF_ROUTER},
			{LinkIndex: 2, Family: unix.AF_INET, IP: fxAddr("192.0.2.99"), State: unix.NUD_FAILED},
			{LinkIndex: 2, Family: unix.AF_INET6, IP: fxAddr("fe80::1"), HWAddr: fxMAC("52:54:00:12:34:56"), State: unix.NUD_STALE, Flags: unix.NTF_ROUTER},
			{LinkIndex: 1, Family: unix.AF_INET, IP: fxAddr("127.0.0.1"), State: unix.NUD_NOARP},
			{LinkIndex: 4, Family: unix.AF_INET, IP: fxAddr("172.17.0.9"), State: unix.NUD_NONE},
			// Proxy entries (ip neigh add proxy ...), kept apart by the store.
			{LinkIndex: 2, Family: unix.AF_INET, IP: fxAddr("192.0.2.77"), Flags: unix.NTF_PROXY},
			{LinkIndex: 4, Family: unix.AF_INET6, IP: fxAddr("2001:db8::77"), Flags: unix.NTF_PROXY},
		},
	}
}

func normalSockets() []sockets.Socket {
	ap := netip.MustParseAddrPort
	return []sockets.Socket{
		{Proto: "tcp", Family: unix.AF_INET, State: "LISTEN", Local: ap("0.0.0.0:22"), Remote: ap("0.0.0.0:0"), SendQ: 128, Inode: 1001,
			Processes: []sockets.Process{{PID: 812, Name: "sshd", FD: 3}}},
		{Proto: "tcp", Family: unix.AF_INET6, State: "LISTEN", Local: ap("[::]:80"), Remote: ap("[::]:0"), SendQ: 511, Inode: 1002, V6Only: true, // nginx listens with ipv6only=on
			Processes: []sockets.Process{{PID: 900, Name: "nginx", FD: 6}, {PID: 901, Name: "nginx", FD: 6}}},
		{Proto: "tcp", Family: unix.AF_INET, State: "ESTAB", Local: ap("192.0.2.10:22"), Remote: ap("198.51.100.7:50123"), Inode: 1003,
			Processes: []sockets.Process{{PID: 1200, Name: "sshd", FD: 4}}},
		{Proto: "tcp", Family: unix.AF_INET, State: "TIME-WAIT", Local: ap("192.0.2.10:43210"), Remote: ap("203.0.113.5:443")},
		{Proto: "udp", Family: unix.AF_INET, State: "UNCONN", Local: ap("172.17.0.1:53"), Remote: ap("0.0.0.0:0"), Inode: 1004, Interface: 4,
			Processes: []sockets.Process{{PID: 700, Name: "dnsmasq", FD: 5}}},
	}
}

// largeState has 200 links, 100,000 routes (main and four more tables),
// 1,000 neighbours and 500 rules.
func largeState() model.State {
	var st model.State
	st.Links = append(st.Links, normalState().Links[0])
	for i := int32(2); i <= 200; i++ {
		l := fxLink(i, fmt.Sprintf("eth%d", i), "", flagsUp, "UP")
		if i%10 == 0 {
			l.Kind = "vlan"
			l.ParentIndex = 2
		}
		st.Links = append(st.Links, l)
		st.Addrs = append(st.Addrs, model.Addr{LinkIndex: i, Family: unix.AF_INET,
			Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i), 0, 1}), 24), ValidLft: ^uint32(0), PreferredLft: ^uint32(0)})
	}
	st.Routes = make([]model.Route, 0, 100_000)
	for i := range 100_000 {
		table := uint32(254)
		if i%5 != 0 {
			table = uint32(100 + i%5)
		}
		st.Routes = append(st.Routes, model.Route{
			Family: unix.AF_INET, Table: table, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC, LinkIndex: int32(2 + i%199),
			Dst:     netip.PrefixFrom(netip.AddrFrom4([4]byte{100, byte(i >> 16), byte(i >> 8), byte(i)}), 32),
			Gateway: netip.AddrFrom4([4]byte{10, byte(2 + i%199), 0, 254}),
		})
	}
	for i := range 1000 {
		st.Neighs = append(st.Neighs, model.Neigh{LinkIndex: int32(2 + i%199), Family: unix.AF_INET,
			IP:     netip.AddrFrom4([4]byte{10, byte(2 + i%199), byte(i >> 8), byte(i)}),
			HWAddr: fxMAC(fmt.Sprintf("02:01:00:00:%02x:%02x", i>>8, i&0xff)), State: unix.NUD_REACHABLE})
	}
	for i := range 500 {
		r := model.Rule{Family: unix.AF_INET, Priority: uint32(1000 + i), Action: 1, Table: uint32(100 + i%5), SuppressPrefixLen: -1,
			Src: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0}), 24)}
		st.Rules = append(st.Rules, r)
	}
	return st
}

func largeSockets() []sockets.Socket {
	out := make([]sockets.Socket, 0, 5000)
	for i := range 5000 {
		out = append(out, sockets.Socket{Proto: "tcp", Family: unix.AF_INET, State: "ESTAB",
			Local:  netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 2, 0, 1}), 443),
			Remote: netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)}), uint16(30000+i)),
			Inode:  uint32(10000 + i)})
	}
	return out
}

// ---- requests and HTML ----

// asAdmin makes req act as the admin "admin" connecting from client.
func asAdmin(req *http.Request, client string) *http.Request {
	return WithIdentity(req, app.Identity{User: "admin", Role: app.RoleAdmin, Client: client})
}

// serve serves one request through handler; fragment asks as htmx does.
func serve(t *testing.T, handler http.HandlerFunc, target string, fragment bool) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	if fragment {
		req.Header.Set("HX-Request", "true")
		req.Header.Set("HX-Target", "content")
	}
	rec := httptest.NewRecorder()
	handler(rec, req)
	return rec
}

var voidElements = map[string]bool{"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true,
	"img": true, "input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true}

// wellFormed fails unless every element that was opened is closed, in order.
func wellFormed(t *testing.T, body string) {
	t.Helper()
	z := html.NewTokenizer(strings.NewReader(body))
	var open []string
	for {
		switch z.Next() {
		case html.ErrorToken:
			if z.Err() != io.EOF {
				t.Fatalf("HTML does not tokenize: %v", z.Err())
			}
			if len(open) > 0 {
				t.Fatalf("elements left open at the end: %v", open)
			}
			return
		case html.StartTagToken:
			name, _ := z.TagName()
			if !voidElements[string(name)] {
				open = append(open, string(name))
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if len(open) == 0 || open[len(open)-1] != string(name) {
				t.Fatalf("</%s> closes %v", name, open)
			}
			open = open[:len(open)-1]
		}
	}
}

// parseHTML reads a document, or a fragment (rows parse inside a table).
func parseHTML(t *testing.T, body string) *html.Node {
	t.Helper()
	if strings.HasPrefix(strings.TrimSpace(body), "<tr") {
		body = "<table><tbody>" + body + "</tbody></table>"
	}
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// findAll returns the elements for which match is true, in document order.
func findAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for c := range n.Descendants() {
		if c.Type == html.ElementNode && match(c) {
			out = append(out, c)
		}
	}
	return out
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func hasAttr(key, val string) func(*html.Node) bool {
	return func(n *html.Node) bool { v, ok := attr(n, key); return ok && v == val }
}

func byID(doc *html.Node, id string) *html.Node {
	if m := findAll(doc, hasAttr("id", id)); len(m) > 0 {
		return m[0]
	}
	return nil
}

func textOf(n *html.Node) string {
	var b strings.Builder
	for c := range n.Descendants() {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return b.String()
}

// rowKeys lists the data-key of every row in #rows.
func rowKeys(doc *html.Node) []string {
	var keys []string
	for _, n := range findAll(doc, func(n *html.Node) bool { return n.Data == "tr" }) {
		if k, ok := attr(n, "data-key"); ok {
			keys = append(keys, k)
		}
	}
	return keys
}

// rowByKey returns the row with data-key key, or fails.
func rowByKey(t *testing.T, doc *html.Node, key string) *html.Node {
	t.Helper()
	m := findAll(doc, hasAttr("data-key", key))
	if len(m) == 0 {
		t.Fatalf("no row with data-key %q; keys: %v", key, rowKeys(doc))
	}
	return m[0]
}

// ---- the registry ----

// pageHandler is what the router mounts at the page's path.
func pageHandler(h *Handlers, name string) http.HandlerFunc {
	p, ok := h.Page(name)
	if !ok {
		panic("no page " + name)
	}
	return p.Serve
}

// pageOf picks the page called name from handlers.
func pageOf(name string) func(*Handlers) http.HandlerFunc {
	return func(h *Handlers) http.HandlerFunc { return pageHandler(h, name) }
}

// route is what the router mounts for method and path: a page's route or
// an endpoint.
func route(h *Handlers, method, path string) http.HandlerFunc {
	all := h.Endpoints()
	for _, p := range h.Pages() {
		all = append(all, p.Routes...)
	}
	for _, r := range all {
		if r.Method == method && r.Path == path {
			return r.Handler
		}
	}
	panic("no route " + method + " " + path)
}
