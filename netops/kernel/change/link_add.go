package change

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/netpanel/netpanel/netops/codec"
	"github.com/netpanel/netpanel/netops/linkkind"
	"github.com/netpanel/netpanel/netops/rtnl"
	"golang.org/x/sys/unix"
)

// LinkAdd creates a link of a kind netpanel creates (see
// linkkind.Creatable) with the kernel's defaults for everything not given,
// as `ip link add` does. What a kind needs beyond a name is its Spec.
type LinkAdd struct {
	Kind  string
	Name  string
	Lower string        // the link it sits on (the form's "dev"); "" for none
	Spec  linkkind.Spec // the kind's own settings; nil for none (a bridge)

	// Set when the inverse of a delete recreates a link: its old ifindex
	// (asked of the kernel, which grants it while no other link took it),
	// its MAC, and its lower link's ifindex (followed during an Undo).
	Index      int32
	HWAddr     net.HardwareAddr
	LowerIndex int32

	// created are the names the op creates besides Name, by form field (a
	// veth's peer), for Check.
	created map[string]string
	made    *madeLink // shared with the LinkDel that undoes this add
}

// madeLink is the ifindex the kernel gave a link that a LinkAdd created,
// so that its inverse deletes that link, whatever its name by then.
type madeLink struct{ index int32 }

// LinkAddFields is LinkAdd as typed in a form: the kind ("type"), the
// name, the lower link ("dev"), and the kinds' own fields by name (see
// linkkind.Fields).
type LinkAddFields struct {
	Kind, Name, Dev string
	Values          map[string]string
}

// ParseLinkAdd validates a new link. Fields that do not belong to the kind
// are refused rather than ignored, so a form cannot silently drop them.
func ParseLinkAdd(f LinkAddFields) (*LinkAdd, error) {
	fe := FieldErrors{}
	op := &LinkAdd{Kind: f.Kind, Name: f.Name, Lower: f.Dev}
	checkIfName(fe, "name", f.Name)
	k := linkkind.Lookup(f.Kind)
	if k.Create == nil {
		fe.add("kind", "%s is not a link kind netpanel creates: use %s", shown(f.Kind), orList(linkkind.Names(linkkind.Creatable())))
		return result(op, fe)
	}
	c := k.Create
	unused := func(field, val string) {
		if val != "" {
			fe.add(field, "does not apply to a %s link", f.Kind)
		}
	}
	switch {
	case c.Lower == linkkind.NoLower:
		unused("dev", f.Dev)
	case f.Dev != "":
		checkIfName(fe, "dev", f.Dev)
	case c.Lower == linkkind.RequiredLower:
		fe.add("dev", "a %s needs the parent link it sits on", f.Kind)
	}
	for name, v := range f.Values {
		if !slices.ContainsFunc(c.Fields, func(x linkkind.Field) bool { return x.Name == name }) {
			unused(name, v)
		}
	}
	form := &linkForm{fe: fe, f: f}
	for _, field := range c.Fields {
		v := f.Values[field.Name]
		if len(field.Choices) > 0 && !slices.Contains(field.Choices, v) {
			choices := slices.DeleteFunc(slices.Clone(field.Choices), func(s string) bool { return s == "" })
			fe.add(field.Name, "%s is not a %s: use %s", shown(v), field.Label, orList(choices))
		}
		if field.NewLink && v != "" {
			if op.created == nil {
				op.created = map[string]string{}
			}
			op.created[field.Name] = v
		}
	}
	if c.Parse != nil {
		op.Spec = c.Parse(form)
	}
	return result(op, fe)
}

// orList joins "a, b or c".
func orList(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// linkForm is linkkind.Form over a LinkAddFields.
type linkForm struct {
	fe FieldErrors
	f  LinkAddFields
}

func (l *linkForm) Value(field string) string {
	if field == "name" {
		return l.f.Name
	}
	return l.f.Values[field]
}

func (l *linkForm) Number(field string, lo, hi uint64) uint64 {
	return parseNumber(l.fe, field, l.Value(field), lo, hi)
}

func (l *linkForm) Addr(field string) netip.Addr { return parseAddr(l.fe, field, l.Value(field)) }

func (l *linkForm) IfName(field string) string {
	checkIfName(l.fe, field, l.Value(field))
	return l.Value(field)
}

func (l *linkForm) Lower() string { return l.f.Dev }

func (l *linkForm) Fail(field, format string, args ...any) { l.fe.add(field, format, args...) }

func (o *LinkAdd) Check(m Model) error {
	fe := FieldErrors{}
	if _, taken := m.LinkByName(o.Name); taken {
		fe.add("name", "a link named %s already exists", quote(o.Name))
	}
	for field, name := range o.created {
		if _, taken := m.LinkByName(name); taken {
			fe.add(field, "a link named %s already exists", quote(name))
		}
	}
	if o.Lower != "" {
		if _, ok := m.LinkByName(o.Lower); !ok {
			fe.add("dev", "no link named %s", quote(o.Lower))
		}
	}
	return fe.err()
}

func (o *LinkAdd) Apply(t *Target, _ Model) error {
	err := o.add(t, o.Index, o.Spec)
	if err != nil && o.Index != 0 && errnoOf(err) == unix.EEXIST {
		if _, lerr := t.linkByName(o.Name); lerr != nil {
			// The name is free, so another link holds an old index:
			// recreate it under a new one, which an Undo then follows.
			spec := o.Spec
			if p, ok := spec.(linkkind.Paired); ok {
				spec = p.Unindexed()
			}
			err = o.add(t, 0, spec)
		}
	}
	return Explain(o, err)
}

func (o *LinkAdd) add(t *Target, index int32, spec linkkind.Spec) error {
	k := linkkind.Lookup(o.Kind)
	if k.Create == nil {
		return fmt.Errorf("link kind %q is not supported", o.Kind)
	}
	lower, err := t.indexAt(o.LowerIndex, o.Lower)
	if err != nil {
		return err
	}
	n := &codec.NewLink{Name: o.Name, Index: index, HWAddr: o.HWAddr, Kind: o.Kind}
	if k.Create.LowerIsLink {
		n.Link = lower
	}
	if spec != nil {
		n.Data = func(w *rtnl.Writer) { spec.Data(w, lower) }
	}
	if err := t.request(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, codec.EncodeNewLink(n)); err != nil {
		return err
	}
	// Ask which index the kernel gave it, by name, as ip does.
	l, err := t.linkByName(o.Name)
	if err != nil {
		return err
	}
	if o.made != nil {
		o.made.index = l.Index
	}
	t.moved(o.Index, l.Index)
	if p, ok := o.Spec.(linkkind.Paired); ok {
		name, old := p.Peer()
		if pl, err := t.linkByName(name); err == nil {
			t.moved(old, pl.Index)
		}
	}
	return nil
}

// Inverse deletes the link this op creates, by the index the kernel gives
// it: a later change may rename it.
func (o *LinkAdd) Inverse(Model) ([]Op, error) {
	if o.made == nil {
		o.made = &madeLink{}
	}
	return []Op{&LinkDel{Name: o.Name, made: o.made}}, nil
}

func (o *LinkAdd) Command(n Names) string {
	var b strings.Builder
	b.WriteString("ip link add ")
	k := linkkind.Lookup(o.Kind)
	lower := ""
	if o.Lower != "" || o.LowerIndex != 0 {
		lower = linkLabel(n, o.LowerIndex, o.Lower)
	}
	if lower != "" && k.Create != nil && k.Create.LowerIsLink {
		b.WriteString("link " + quote(lower) + " ")
	}
	b.WriteString("name " + quote(o.Name))
	if o.HWAddr != nil {
		b.WriteString(" address " + o.HWAddr.String())
	}
	if o.Index != 0 {
		b.WriteString(" index " + strconv.Itoa(int(o.Index)))
	}
	b.WriteString(" type " + o.Kind)
	if o.Spec != nil {
		for _, a := range o.Spec.Args(lower) {
			b.WriteString(" " + quote(a))
		}
	}
	return b.String()
}

func (o *LinkAdd) OldCommand(Names) string { return "" }

func (o *LinkAdd) Touches() Touch { return linkTouch(o.Name, false) }

func (o *LinkAdd) explain(errno unix.Errno) string {
	k := linkkind.Lookup(o.Kind)
	if k.Create != nil && k.Create.Explain != nil {
		if s := k.Create.Explain(errno, quote(o.Name), quote(o.Lower), o.Spec); s != "" {
			return s
		}
	}
	switch errno {
	case unix.EEXIST:
		if p, ok := o.Spec.(linkkind.Paired); ok {
			peer, _ := p.Peer()
			return fmt.Sprintf("a link named %s or %s already exists", quote(o.Name), quote(peer))
		}
		return "a link named " + quote(o.Name) + " already exists"
	case unix.EOPNOTSUPP:
		return "this kernel cannot create " + o.Kind + " links (the module is missing)"
	case unix.ENODEV:
		return "no link named " + quote(o.Lower)
	}
	return ""
}
