package networkd

// Marshal renders f with Header as its first line; see NetworkFile.Marshal.
func (f *NetDevFile) Marshal() []byte {
	return f.MarshalWithHeader(Header)
}

// MarshalWithHeader is Marshal with another first comment line.
func (f *NetDevFile) MarshalWithHeader(header string) []byte {
	var w writer
	n := f.NetDev
	s := w.section("NetDev", true)
	s.add("Name", n.Name)
	s.add("Kind", n.Kind)
	if n.MTUBytes != 0 {
		s.add("MTUBytes", u32(n.MTUBytes))
	}
	if n.MACAddress != nil {
		s.add("MACAddress", n.MACAddress.String())
	}
	if n.MACAddressNone {
		s.add("MACAddress", "none")
	}
	s.extra(n.Extra)

	if b := f.Bridge; b != nil {
		w.section("Bridge", true).extra(b.Extra)
	}
	if v := f.VXLAN; v != nil {
		s = w.section("VXLAN", true)
		if v.VNI != 0 {
			s.add("VNI", u32(v.VNI))
		}
		s.addr("Local", v.Local)
		s.add("Local", v.LocalDynamic)
		s.addr("Remote", v.Remote)
		s.addr("Group", v.Group)
		if v.DestinationPort != 0 {
			s.add("DestinationPort", u32(uint32(v.DestinationPort)))
		}
		s.boolean("MacLearning", v.MacLearning)
		s.boolean("Independent", v.Independent)
		s.extra(v.Extra)
	}
	if m := f.MACVLAN; m != nil {
		s = w.section("MACVLAN", true)
		s.add("Mode", m.Mode)
		s.extra(m.Extra)
	}
	if p := f.Peer; p != nil {
		s = w.section("Peer", true)
		s.add("Name", p.Name)
		s.extra(p.Extra)
	}
	if f.KindSection != nil {
		w.unknown([]Section{*f.KindSection})
	}
	w.unknown(f.Unknown)
	return w.bytes(header)
}
