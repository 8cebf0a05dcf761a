package change

import (
	"github.com/netpanel/netpanel/netops/linkkind"
	"github.com/netpanel/netpanel/netops/rtnl"
	"golang.org/x/sys/unix"
)

// LinkMaster makes a link a port of a bridge (`ip link set dev v0 master
// br0`), or releases it when Master is "" (`nomaster`).
type LinkMaster struct {
	Name   string
	Master string
	// Index and MasterIndex are the ifindexes, set by inverses (names
	// change); 0 finds the link by name.
	Index, MasterIndex int32
}

// ParseLinkMaster reads a link name and a master name ("" for none).
func ParseLinkMaster(name, master string) (*LinkMaster, error) {
	fe := FieldErrors{}
	checkIfName(fe, "name", name)
	if master != "" {
		checkIfName(fe, "master", master)
		if master == name {
			fe.add("master", "a link cannot be its own master")
		}
	}
	return result(&LinkMaster{Name: name, Master: master}, fe)
}

func (o *LinkMaster) Check(m Model) error {
	fe := FieldErrors{}
	if _, ok := m.LinkByName(o.Name); !ok {
		fe.add("name", "no link named %s", quote(o.Name))
	}
	if o.Master != "" {
		if ml, ok := m.LinkByName(o.Master); !ok {
			fe.add("master", "no link named %s", quote(o.Master))
		} else if !linkkind.Of(&ml).Master {
			fe.add("master", "%s is a %s, not a bridge", quote(o.Master), linkkind.Describe(ml.Kind))
		}
	}
	return fe.err()
}

func (o *LinkMaster) Apply(t *Target, _ Model) error {
	mi := int32(0)
	if o.Master != "" {
		var err error
		if mi, err = t.indexAt(o.MasterIndex, o.Master); err != nil {
			return Explain(o, err)
		}
	}
	return withLink(o, t, o.Index, o.Name, 0, 0, func(w *rtnl.Writer) { w.U32(unix.IFLA_MASTER, uint32(mi)) })
}

func (o *LinkMaster) Inverse(m Model) ([]Op, error) {
	l, err := modelLink(m, "name", o.Name)
	if err != nil {
		return nil, err
	}
	old := ""
	if l.MasterIndex != 0 {
		var ok bool
		if old, ok = linkNameAt(m, l.MasterIndex); !ok {
			return nil, noInverse("the current master of %s (index %d) is not in the model", o.Name, l.MasterIndex)
		}
	}
	return []Op{&LinkMaster{Name: l.Name, Master: old, Index: l.Index, MasterIndex: l.MasterIndex}}, nil
}

func (o *LinkMaster) Command(n Names) string {
	dev := quote(linkLabel(n, o.Index, o.Name))
	if o.Master == "" {
		return "ip link set dev " + dev + " nomaster"
	}
	return "ip link set dev " + dev + " master " + quote(linkLabel(n, o.MasterIndex, o.Master))
}

func (o *LinkMaster) OldCommand(Names) string { return "" }

// Touches marks the port as going down: joining or leaving a bridge
// interrupts its traffic.
func (o *LinkMaster) Touches() Touch { return linkTouch(o.Name, true) }

func (o *LinkMaster) explain(errno unix.Errno) string {
	switch errno {
	case unix.EBUSY:
		return quote(o.Name) + " is already a port of a bridge, or another device (macvlan, vxlan) sits on it: release it first"
	case unix.EOPNOTSUPP:
		return quote(o.Master) + " cannot take ports: only bridges can be masters here"
	case unix.ELOOP:
		return "making " + quote(o.Master) + " the master of " + quote(o.Name) + " would create a loop"
	case unix.EINVAL:
		return quote(o.Name) + " cannot be a port of " + quote(o.Master) + " (a bridge cannot be its own port, and loopback cannot be a port)"
	}
	return explainLink(o.Name, errno)
}
