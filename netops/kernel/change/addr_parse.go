package change

import (
	"strings"

	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// AddrFields is an address as typed in a form. Action is "add" or "del".
type AddrFields struct {
	Action                                     string
	Dev, Prefix, Peer, Broadcast, Label, Scope string
	ValidLft, PreferredLft                     string
}

// userFlags are the IFA_F_* flags the kernel accepts from user space.
const userFlags = unix.IFA_F_NODAD | unix.IFA_F_HOMEADDRESS | unix.IFA_F_MANAGETEMPADDR |
	unix.IFA_F_NOPREFIXROUTE | unix.IFA_F_MCAUTOJOIN

var addrFlagNames = []struct {
	bit  uint32
	name string
}{
	{unix.IFA_F_HOMEADDRESS, "home"}, {unix.IFA_F_NODAD, "nodad"}, {unix.IFA_F_MANAGETEMPADDR, "mngtmpaddr"},
	{unix.IFA_F_NOPREFIXROUTE, "noprefixroute"}, {unix.IFA_F_MCAUTOJOIN, "autojoin"},
}

// ParseAddr validates an address change and returns *AddrAdd or *AddrDel.
func ParseAddr(f AddrFields) (Op, error) {
	fe := FieldErrors{}
	s := AddrSpec{Dev: f.Dev, Label: f.Label}
	checkIfName(fe, "dev", f.Dev)
	if f.Prefix == "" {
		fe.add("prefix", "an address such as 192.0.2.5/24 is required")
	} else {
		s.Prefix = parsePrefix(fe, "prefix", f.Prefix, false)
	}
	if f.Peer != "" {
		s.Peer = parsePrefix(fe, "peer", f.Peer, false)
		if s.Peer.IsValid() && s.Prefix.IsValid() && s.Peer.Addr().Is4() != s.Prefix.Addr().Is4() {
			fe.add("peer", "%s is %s but the address is %s", s.Peer, familyName(family(s.Peer.Addr())), familyName(family(s.Prefix.Addr())))
		}
	}
	v4 := !s.Prefix.IsValid() || s.Prefix.Addr().Is4()
	if f.Broadcast != "" {
		s.Broadcast = parseAddr(fe, "broadcast", f.Broadcast)
		if s.Broadcast.IsValid() && (!v4 || !s.Broadcast.Is4()) {
			fe.add("broadcast", "only IPv4 addresses have a broadcast address")
		}
	}
	if f.Label != "" {
		switch {
		case !v4:
			fe.add("label", "only IPv4 addresses carry a label")
		case len(f.Label) > 15:
			fe.add("label", "%s is longer than 15 bytes", shown(f.Label))
		case !strings.HasPrefix(f.Label, f.Dev):
			fe.add("label", "must begin with the interface name, as in %s:1", f.Dev)
		case strings.ContainsFunc(f.Label, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '/' }):
			fe.add("label", "must not contain spaces, '/' or control characters")
		}
	}
	if f.Scope != "" {
		s.Scope, s.HasScope = parseScope(fe, "scope", f.Scope), true
	} else if s.Prefix.IsValid() && s.Prefix.Addr().Is4() && s.Prefix.Addr().IsLoopback() {
		// ip gives 127/8 addresses host scope unless told otherwise.
		s.Scope = unix.RT_SCOPE_HOST
	}
	s.ValidLft = parseLifetime(fe, "valid_lft", f.ValidLft)
	s.PreferredLft = parseLifetime(fe, "preferred_lft", f.PreferredLft)
	if f.ValidLft != "" && s.ValidLft == 0 && fe["valid_lft"] == "" {
		fe.add("valid_lft", "must be more than 0 seconds (use forever for no limit)")
	}
	if fe["valid_lft"] == "" && fe["preferred_lft"] == "" && s.PreferredLft > s.ValidLft {
		fe.add("preferred_lft", "must not be longer than valid_lft")
	}
	if s.ValidLft == model.Forever && s.PreferredLft == model.Forever {
		s.ValidLft, s.PreferredLft = 0, 0
	}
	if s.Label == s.Dev {
		s.Label = "" // the kernel's default label is the device name
	}
	if f.Action == "del" {
		// The kernel matches a deletion on address, peer and label only.
		s = AddrSpec{Dev: s.Dev, Prefix: s.Prefix, Peer: s.Peer, Label: s.Label}
	}
	switch f.Action {
	case "add", "del":
	default:
		fe.add("action", "%s is not an address action: use add or del", shown(f.Action))
	}
	if len(fe) > 0 {
		return nil, fe
	}
	if f.Action == "del" {
		return &AddrDel{s}, nil
	}
	return &AddrAdd{s}, nil
}
