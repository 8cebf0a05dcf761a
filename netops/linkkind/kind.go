// Package linkkind is the registry of link kinds: each kind netpanel
// knows (bridge, veth, vxlan, macvlan, the physical fallback, and the
// kinds it only shows) is one file of this package stating how the kernel
// reports it, how `ip -d` prints it, how it is created and recreated, what
// its form asks, and how it is written to a systemd-networkd .netdev. The
// decoder, the change engine, the networkd generator and the forms read
// the registry; no other package compares kind names.
//
// A kind's kernel constants that golang.org/x/sys/unix lacks are declared
// in its file, under their kernel names.
package linkkind

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/rtnl"
	"golang.org/x/sys/unix"
)

// The kinds other packages name (a Docker bridge, a master), so that no
// one spells them out.
const (
	Bridge  = "bridge"
	Veth    = "veth"
	VXLAN   = "vxlan"
	MACVLAN = "macvlan"
)

// Kind is everything netpanel knows about one link kind. Nil functions
// mean "nothing to do" (no settings kept, nothing printed, not created).
type Kind struct {
	// Name is IFLA_INFO_KIND and what `ip link add ... type NAME` takes;
	// "" for physical and loopback devices, which have no kind.
	Name string

	// Decode reads IFLA_INFO_DATA into what the model keeps of the kind
	// (model.Link.Settings); nil settings for kinds that keep none.
	Decode func(data []byte) model.LinkSettings
	// Info prints IFLA_INFO_DATA the way `ip -d -j link` does;
	// PortInfo prints IFLA_INFO_SLAVE_DATA of the links enslaved to a link
	// of this kind (ip's "bridge_slave"). Without them ip prints only
	// info_kind.
	Info, PortInfo func(a Attrs, n LinkNames) []InfoField
	// Lower returns the link a link of this kind sits on and is deleted
	// with (a macvlan's parent, a vxlan's dev), 0 for none; nil for
	// IFLA_LINK (see the function Lower).
	Lower func(l *model.Link) int32

	// Physical says a link of the kind is a device (or loopback), which
	// cannot be deleted.
	Physical bool
	// Master says links can be enslaved to one of this kind (`ip link set
	// dev X master Y`).
	Master bool
	// PortCarrier says the link has a carrier only while it has ports (a
	// bridge that networkd creates).
	PortCarrier bool
	// Pair says links of the kind are created in pairs, both ends by one
	// request (veth); ParentIndex is then the peer.
	Pair bool
	// DevType is what udev reports as DEVTYPE (networkd's Type= match):
	// the kind's name for most virtual kinds, "" for kinds udev gives
	// none (matched by link type); Unknown when not known here.
	DevType string

	// Create says how netpanel creates a link of the kind; nil when it
	// only shows it.
	Create *Create
	// Recreate says how a deleted link comes back as it was; nil when
	// netpanel cannot recreate the kind.
	Recreate func(l model.Link, links Links) (*Recreation, error)
	// Netdev is the kind's part of the link's .netdev; nil (or a nil
	// result) when networkd does not create the link (physical devices,
	// kinds another program makes).
	Netdev func(l model.Link, links Links) (*Netdev, error)
}

// Unknown is Kind.DevType of kinds whose DEVTYPE is not known here.
const Unknown = "?"

// Links is the rest of the namespace that a kind's recreation or .netdev
// depends on: the peer of a veth, the ports of a bridge.
type Links struct {
	ByIndex map[int32]model.Link
	// Selected are the links being written to .netdev files together
	// (nil outside the networkd generator).
	Selected map[int32]bool
}

// NewLinks indexes links.
func NewLinks(links []model.Link) Links {
	m := make(map[int32]model.Link, len(links))
	for _, l := range links {
		m[l.Index] = l
	}
	return Links{ByIndex: m}
}

// Create says how a link of the kind is created.
type Create struct {
	// Position orders the kinds on the form and in messages.
	Position int
	// Fields are the form fields beyond the link's name and lower link,
	// in form order.
	Fields []Field
	// Lower says whether the kind sits on another link (the form's "dev").
	Lower Need
	// LowerLabel names the lower link on the form ("Parent").
	LowerLabel string
	// LowerIsLink says the lower link travels as IFLA_LINK and `ip link
	// add link DEV` (macvlan); otherwise the kind's Spec carries it.
	LowerIsLink bool
	// Parse reads the kind's fields; nil for kinds without any (bridge).
	Parse func(f Form) Spec
	// Explain words a kernel refusal of a creation, "" for the generic
	// text; name and lower come quoted for the message.
	Explain func(errno unix.Errno, name, lower string, s Spec) string
}

// Need says whether a form field is needed.
type Need uint8

// The needs of a lower link.
const (
	NoLower Need = iota
	OptionalLower
	RequiredLower
)

// Field is one form field of a kind.
type Field struct {
	Name  string // the form field, and the key of its error
	Label string // what the form shows
	Hint  string // the placeholder
	// Choices are the values to pick from ("" first when optional); any
	// other is refused as "not a LABEL".
	Choices []string
	// Arg is the keyword `ip link add` takes for it, for reading ip
	// commands; "peer name" for a veth's peer.
	Arg string
	// NewLink says the value names a link to be created, so it must not
	// exist yet.
	NewLink bool
}

// Form is one link form being read. Kinds parse their fields through it,
// so every kind reports bad input with the same words (package change
// implements it).
type Form interface {
	// Value is what was typed in field ("" when nothing).
	Value(field string) string
	// Number parses field as a number in [lo, hi] (C syntax: 0x, 0).
	Number(field string, lo, hi uint64) uint64
	// Addr parses field as an IP address.
	Addr(field string) netip.Addr
	// IfName checks field as an interface name and returns it.
	IfName(field string) string
	// Lower is the lower link's name ("" when none was given).
	Lower() string
	// Fail reports field as bad; the first message per field wins.
	Fail(field, format string, args ...any)
}

// Spec is what a new link of a kind needs beyond its name, MAC, index and
// lower link: typed in a form, or taken from a deleted link.
type Spec interface {
	// Args are the words after `ip link add ... type KIND`, unquoted;
	// lower is the lower link's name ("" when none).
	Args(lower string) []string
	// Data writes IFLA_INFO_DATA; lower is the lower link's ifindex (0:
	// none).
	Data(w *rtnl.Writer, lower int32)
}

// Paired is a Spec that creates a second link with the first (a veth's
// peer).
type Paired interface {
	Spec
	// Peer is the second link's name and the ifindex asked for it.
	Peer() (name string, index int32)
	// Unindexed is the spec asking for no particular ifindex.
	Unindexed() Spec
}

// Recreation is what it takes to create a deleted link again as it was.
type Recreation struct {
	Spec  Spec
	Lower int32 // the link it sits on, 0 for none
	// Peer is the other end of a pair, deleted and created with it.
	Peer *model.Link
	// Ports are the links enslaved to it, which survive it and are
	// enslaved again.
	Ports []model.Link
	// SetHWAddr says its MAC must be given: a fresh link would get
	// another one (a bridge takes its lowest port's MAC by itself).
	SetHWAddr bool
	// MTU is the MTU a fresh link gets, so that only another one is set;
	// 0 when it cannot be told (then it is always set).
	MTU uint32
}

// Netdev is the kind's part of a .netdev file.
type Netdev struct {
	// Section is the kind's section ("VXLAN"), written even when empty;
	// "" for none.
	Section string
	Keys    []Key
	// Stacked is the key of the lower link's .network that makes
	// networkd create this link ("VXLAN" for VXLAN=NAME); "" when the
	// .netdev alone creates it.
	Stacked string
}

// Key is one line of a networkd section.
type Key struct{ Name, Value string }

// InfoField is one key of what `ip -d -j` prints for a kind, in order.
type InfoField struct {
	Key   string
	Value any
}

// Attrs are a kind's attributes (IFLA_INFO_DATA) by type.
type Attrs map[uint16][]byte

// ParseAttrs indexes attributes by type.
func ParseAttrs(b []byte) Attrs {
	m := Attrs{}
	a := rtnl.NewAttrs(b)
	for a.Next() {
		m[a.Typ] = a.Val
	}
	return m
}

// LinkNames resolves ifindexes to names for printing.
type LinkNames interface {
	LinkName(idx int32) string
}

var registry = map[string]*Kind{}

// register adds k; each kind's file calls it from init.
func register(k *Kind) {
	if _, dup := registry[k.Name]; dup {
		panic("linkkind: " + k.Name + " registered twice")
	}
	registry[k.Name] = k
}

// Lookup returns the kind of that name: the physical kind for "", a kind
// netpanel knows nothing about (only shown) for an unregistered name.
func Lookup(name string) *Kind {
	if k, ok := registry[name]; ok {
		return k
	}
	return &Kind{Name: name, DevType: Unknown}
}

// Of returns l's kind.
func Of(l *model.Link) *Kind { return Lookup(l.Kind) }

// Creatable lists the kinds netpanel creates, by name.
func Creatable() []*Kind {
	var out []*Kind
	for _, k := range registry {
		if k.Create != nil {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, func(a, b *Kind) int { return cmp.Compare(a.Create.Position, b.Create.Position) })
	return out
}

// Fields lists the form fields of every kind netpanel creates, each once,
// in form order: what a form for any of them asks.
func Fields() []Field {
	var out []Field
	for _, k := range Creatable() {
		for _, f := range k.Create.Fields {
			if !slices.ContainsFunc(out, func(x Field) bool { return x.Name == f.Name }) {
				out = append(out, f)
			}
		}
	}
	return out
}

// Names lists the names of kinds.
func Names(ks []*Kind) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.Name
	}
	return out
}

// Lower returns the link l sits on (and goes with), 0 for none. A kind
// without a Lower of its own (a vlan, an ipvlan) sits on IFLA_LINK, the
// model's ParentIndex, unless it is one end of a pair or that link is in
// another namespace.
func Lower(l *model.Link) int32 {
	k := Of(l)
	switch {
	case k.Lower != nil:
		return k.Lower(l)
	case k.Pair || l.LinkNetNsID >= 0 || l.ParentIndex == l.Index:
		return 0
	}
	return l.ParentIndex
}

// Describe names a kind for messages: "bridge", or "device" for a
// physical one.
func Describe(kind string) string {
	if kind == "" {
		return "device"
	}
	return kind
}

// settings returns l's settings as the kind's own type, or its zero
// value (nil) when l has none of that type.
func settings[T model.LinkSettings](l *model.Link) T {
	s, _ := l.Settings.(T)
	return s
}

// sortLinks orders links by ifindex, for stable results from maps.
func sortLinks(ls []model.Link) {
	slices.SortFunc(ls, func(a, b model.Link) int { return cmp.Compare(a.Index, b.Index) })
}
