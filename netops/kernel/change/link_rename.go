package change

import (
	"errors"
	"fmt"

	"github.com/netpanel/netpanel/netops/rtnl"
	"golang.org/x/sys/unix"
)

// LinkRename renames a link (`ip link set dev wan name uplink`).
//
// The kernel relabels the link's IPv4 addresses on a rename: the first
// gets the new name, each other one the new name plus its old ":suffix",
// or ":N" (its position) when it had none, so a rename and its reverse
// leave "wan:2" where "wan" was. The inverse therefore also restores the
// labels: an address whose label came back different is deleted and added
// again with everything the kernel removes along (see AddrDel.Inverse).
//
// Kernels before 6.2 rename only links that are down and answer EBUSY
// otherwise; newer ones (this project's test machines run 6.18) rename
// links that are up too. Check therefore leaves the decision to the
// kernel, and Explain says what to do when an older one refuses.
type LinkRename struct {
	Name    string
	NewName string
	Index   int32 // ifindex, set by inverses (names change); 0: find the link by Name

	labels []relabel // set by Inverse: IPv4 labels to restore after renaming back
}

// relabel is one address as it was before a rename, and the ops that put
// it back with its label once deleted.
type relabel struct {
	spec    AddrSpec
	restore []Op
	why     error // why it cannot be deleted and restored, if so
}

// ParseLinkRename reads the current and the new name.
func ParseLinkRename(name, newName string) (*LinkRename, error) {
	fe := FieldErrors{}
	checkIfName(fe, "name", name)
	checkIfName(fe, "new_name", newName)
	if fe["name"] == "" && name == newName {
		fe.add("new_name", "is the current name")
	}
	return result(&LinkRename{Name: name, NewName: newName}, fe)
}

func (o *LinkRename) Check(m Model) error {
	if _, err := modelLink(m, "name", o.Name); err != nil {
		return err
	}
	if _, taken := m.LinkByName(o.NewName); taken {
		return FieldErrors{"new_name": "a link named " + quote(o.NewName) + " already exists"}
	}
	return nil
}

func (o *LinkRename) Apply(t *Target, _ Model) error {
	return withLink(o, t, o.Index, o.Name, 0, 0, func(w *rtnl.Writer) { w.String(unix.IFLA_IFNAME, o.NewName) })
}

func (o *LinkRename) Inverse(m Model) ([]Op, error) {
	l, err := modelLink(m, "name", o.Name)
	if err != nil {
		return nil, err
	}
	back := &LinkRename{Name: o.NewName, NewName: l.Name, Index: l.Index}
	for _, a := range m.Addrs() {
		if a.LinkIndex == l.Index && a.Family == unix.AF_INET {
			r := relabel{spec: addrFromModel(l, a)}
			r.restore, r.why = (&AddrDel{r.spec}).Inverse(m)
			back.labels = append(back.labels, r)
		}
	}
	return []Op{back}, nil
}

func (o *LinkRename) Command(n Names) string {
	return "ip link set dev " + quote(linkLabel(n, o.Index, o.Name)) + " name " + quote(o.NewName)
}

// OldCommand is empty: ifconfig cannot rename (nameif only matches MACs).
func (o *LinkRename) OldCommand(Names) string { return "" }

func (o *LinkRename) Touches() Touch { return linkTouch(o.Name, false) }

func (o *LinkRename) explain(errno unix.Errno) string {
	switch errno {
	case unix.EBUSY:
		return quote(o.Name) + " is up: this kernel renames only links that are down; set it down first"
	case unix.EEXIST:
		return "a link named " + quote(o.NewName) + " already exists"
	case unix.EINVAL:
		return quote(o.NewName) + " is not a valid interface name"
	}
	return explainLink(o.Name, errno)
}

// settle restores the IPv4 labels the rename changed (see LinkRename),
// when it runs in an Undo.
func (o *LinkRename) settle(t *Target, m Model, err error) error {
	u := t.undo
	if err != nil || u == nil {
		return err
	}
	var errs []error
	for _, r := range o.labels {
		have, ok := r.spec.live(t)
		want := r.spec.Label
		if want == "" {
			want = o.NewName
		}
		if !ok || have.Label == want {
			continue
		}
		if r.why != nil {
			errs = append(errs, fmt.Errorf("%s on %s is labelled %s, not %s, and cannot be re-added: %w", r.spec.Prefix, quote(o.NewName), quote(have.Label), quote(want), r.why))
			continue
		}
		for _, op := range append([]Op{&AddrDel{r.spec.undoKey()}}, r.restore...) {
			if err := u.Apply(op); err != nil {
				errs = append(errs, fmt.Errorf("restoring the label of %s: %w", r.spec.Prefix, err))
			}
		}
	}
	return errors.Join(errs...)
}
