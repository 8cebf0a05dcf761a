package change

import (
	"strings"
	"unicode"

	"github.com/netpanel/netpanel/netops/rtnl"
	"golang.org/x/sys/unix"
)

// LinkAlias sets a link's description (`ip link set dev wan alias 'ISP A'`);
// an empty alias clears it.
type LinkAlias struct {
	Name  string
	Alias string
	Index int32 // ifindex, set by inverses (names change); 0: find the link by Name
}

// ParseLinkAlias reads a link name and an alias of at most 255 bytes.
func ParseLinkAlias(name, alias string) (*LinkAlias, error) {
	fe := FieldErrors{}
	checkIfName(fe, "name", name)
	switch {
	case len(alias) > 255:
		fe.add("alias", "is %d bytes long; the kernel keeps at most 255", len(alias))
	case strings.ContainsFunc(alias, unicode.IsControl):
		fe.add("alias", "must not contain control characters or line breaks")
	}
	return result(&LinkAlias{Name: name, Alias: alias}, fe)
}

func (o *LinkAlias) Check(m Model) error {
	_, err := modelLink(m, "name", o.Name)
	return err
}

// Apply sends the alias without a NUL, as ip does: an empty one clears it.
func (o *LinkAlias) Apply(t *Target, _ Model) error {
	return withLink(o, t, o.Index, o.Name, 0, 0, func(w *rtnl.Writer) { w.Attr(unix.IFLA_IFALIAS, []byte(o.Alias)) })
}

func (o *LinkAlias) Inverse(m Model) ([]Op, error) {
	l, err := modelLink(m, "name", o.Name)
	if err != nil {
		return nil, err
	}
	return []Op{&LinkAlias{Name: l.Name, Alias: l.Alias, Index: l.Index}}, nil
}

// Command quotes the alias like a name; an empty alias prints as ”.
func (o *LinkAlias) Command(n Names) string {
	return "ip link set dev " + quote(linkLabel(n, o.Index, o.Name)) + " alias " + quote(o.Alias)
}

func (o *LinkAlias) OldCommand(Names) string { return "" }

func (o *LinkAlias) Touches() Touch { return linkTouch(o.Name, false) }

func (o *LinkAlias) explain(errno unix.Errno) string { return explainLink(o.Name, errno) }
