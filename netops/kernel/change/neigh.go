package change

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/netpanel/netpanel/netops/codec"
	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// NeighSpec is one neighbour entry as the ops carry it.
type NeighSpec struct {
	Dev    string
	IP     netip.Addr
	LLAddr net.HardwareAddr
	State  uint16 // NUD_*; 0 means permanent
	// DevIndex is Dev's ifindex, set by inverses (names change); 0: find
	// the link by Dev.
	DevIndex int32
}

// NeighAdd adds a static entry
// (`ip neigh add 192.0.2.9 lladdr 02:00:00:00:00:09 dev wan nud permanent`).
type NeighAdd struct{ NeighSpec }

// NeighDel removes an entry (`ip neigh del 192.0.2.9 dev wan`).
type NeighDel struct{ NeighSpec }

// NeighFields is a neighbour change as typed in a form; Action is "add"
// or "del". LLAddr is required to add and ignored to delete.
type NeighFields struct {
	Action, Dev, IP, LLAddr string
}

// ParseNeigh validates a neighbour change and returns *NeighAdd or *NeighDel.
func ParseNeigh(f NeighFields) (Op, error) {
	fe := FieldErrors{}
	s := NeighSpec{Dev: f.Dev}
	checkIfName(fe, "dev", f.Dev)
	if f.IP == "" {
		fe.add("ip", "the neighbour's IP address is required")
	} else {
		s.IP = parseAddr(fe, "ip", f.IP)
	}
	if f.Action == "add" {
		if f.LLAddr == "" {
			fe.add("lladdr", "a permanent entry needs a MAC address such as 02:00:00:00:00:09")
		} else if hw, err := net.ParseMAC(f.LLAddr); err != nil || len(hw) != 6 {
			fe.add("lladdr", "%s is not a MAC address such as 02:00:00:00:00:09", shown(f.LLAddr))
		} else {
			s.LLAddr = hw
		}
	}
	switch f.Action {
	case "add", "del":
	default:
		fe.add("action", "%s is not a neighbour action: use add or del", shown(f.Action))
	}
	if len(fe) > 0 {
		return nil, fe
	}
	if f.Action == "del" {
		return &NeighDel{s}, nil
	}
	return &NeighAdd{s}, nil
}

func (s *NeighSpec) state() uint16 {
	if s.State == 0 {
		return unix.NUD_PERMANENT
	}
	return s.State
}

func (s *NeighSpec) find(m Model) (model.Neigh, bool) {
	l, ok := m.LinkByName(s.Dev)
	if !ok {
		return model.Neigh{}, false
	}
	for _, n := range m.Neighs() {
		if n.LinkIndex == l.Index && n.IP == s.IP {
			return n, true
		}
	}
	return model.Neigh{}, false
}

func (s *NeighSpec) apply(t *Target, add bool) error {
	idx, err := t.indexAt(s.DevIndex, s.Dev)
	if err != nil {
		return err
	}
	n := &model.Neigh{LinkIndex: idx, Family: family(s.IP), IP: s.IP}
	if !add {
		return t.request(unix.RTM_DELNEIGH, 0, codec.EncodeNeigh(n))
	}
	n.State, n.HWAddr = s.state(), s.LLAddr
	return t.request(unix.RTM_NEWNEIGH, unix.NLM_F_CREATE|unix.NLM_F_EXCL, codec.EncodeNeigh(n))
}

func (s *NeighSpec) where() string {
	return fmt.Sprintf("%s on %s", s.IP, quote(s.Dev))
}

func (s *NeighSpec) dev(n Names) string { return quote(linkLabel(n, s.DevIndex, s.Dev)) }

func (s *NeighSpec) touch() Touch {
	return Touch{Kind: model.KindNeigh, Link: s.Dev, Addr: s.IP.String(), Family: family(s.IP)}
}

func (o *NeighAdd) Check(m Model) error {
	if _, ok := m.LinkByName(o.Dev); !ok {
		return FieldErrors{"dev": "no link named " + quote(o.Dev)}
	}
	if _, ok := o.find(m); ok {
		return FieldErrors{"ip": "there is already an entry for " + o.where() + ": delete it first"}
	}
	return nil
}

func (o *NeighAdd) Apply(t *Target, _ Model) error { return Explain(o, o.apply(t, true)) }

func (o *NeighAdd) Inverse(m Model) ([]Op, error) {
	l, err := modelLink(m, "dev", o.Dev)
	if err != nil {
		return nil, err
	}
	return []Op{&NeighDel{NeighSpec{Dev: l.Name, DevIndex: l.Index, IP: o.IP}}}, nil
}

func (o *NeighAdd) Command(n Names) string {
	st := strings.ToLower(strings.Join(iproute.NeighStates(o.state()), " "))
	return "ip neigh add " + o.IP.String() + " lladdr " + o.LLAddr.String() + " dev " + o.dev(n) + " nud " + st
}

func (o *NeighAdd) OldCommand(Names) string {
	if !o.IP.Is4() || o.state() != unix.NUD_PERMANENT {
		return ""
	}
	return "arp -i " + quote(o.Dev) + " -s " + o.IP.String() + " " + o.LLAddr.String()
}

func (o *NeighAdd) Touches() Touch { return o.touch() }

func (o *NeighAdd) explain(errno unix.Errno) string {
	switch errno {
	case unix.EEXIST:
		return "there is already an entry for " + o.where() + ": delete it first"
	case unix.ENODEV:
		return "no link named " + quote(o.Dev)
	case unix.EINVAL:
		return quote(o.Dev) + " has no neighbour table for " + o.IP.String() + " (a tun or loopback link, or a MAC of the wrong length)"
	}
	return ""
}

func (o *NeighDel) Check(m Model) error {
	if _, ok := m.LinkByName(o.Dev); !ok {
		return FieldErrors{"dev": "no link named " + quote(o.Dev)}
	}
	if _, ok := o.find(m); !ok {
		return FieldErrors{"ip": "no neighbour entry for " + o.where()}
	}
	return nil
}

func (o *NeighDel) Apply(t *Target, _ Model) error { return Explain(o, o.apply(t, false)) }

// Inverse re-adds a static (permanent or noarp) entry as it was. A learnt
// entry comes back as stale with its MAC, which the kernel then confirms
// or replaces; an entry without a MAC (incomplete, failed) needs nothing
// restored, since the kernel re-resolves on demand.
func (o *NeighDel) Inverse(m Model) ([]Op, error) {
	n, ok := o.find(m)
	if !ok {
		return nil, FieldErrors{"ip": "no neighbour entry for " + o.where()}
	}
	if len(n.HWAddr) == 0 {
		return nil, nil
	}
	st := n.State & (unix.NUD_PERMANENT | unix.NUD_NOARP)
	if st == 0 {
		st = unix.NUD_STALE
	}
	return []Op{&NeighAdd{NeighSpec{Dev: o.Dev, DevIndex: n.LinkIndex, IP: n.IP, LLAddr: n.HWAddr, State: st}}}, nil
}

func (o *NeighDel) Command(n Names) string {
	return "ip neigh del " + o.IP.String() + " dev " + o.dev(n)
}

func (o *NeighDel) OldCommand(Names) string {
	if !o.IP.Is4() {
		return ""
	}
	return "arp -i " + quote(o.Dev) + " -d " + o.IP.String()
}

func (o *NeighDel) Touches() Touch { return o.touch() }

func (o *NeighDel) explain(errno unix.Errno) string {
	switch errno {
	case unix.ENOENT, unix.ESRCH:
		return "no such neighbour entry: " + o.where()
	case unix.ENODEV:
		return "no link named " + quote(o.Dev)
	}
	return ""
}
