package trace

import (
	"errors"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/netops/kernel/change"
)

func TestParseFormGivesAMessagePerBadField(t *testing.T) {
	ok := Form{Dst: "203.0.113.5", Proto: "udp", DPort: "1194"}
	tests := []struct {
		edit  func(*Form)
		field string
		has   string
	}{
		{func(f *Form) { f.Dst = "" }, "dst", "required"},
		{func(f *Form) { f.Dst = "203.0.113.300" }, "dst", "is not an IPv4 or IPv6 address"},
		{func(f *Form) { f.Src = "2001:db8::1" }, "src", "not of the same family"},
		{func(f *Form) { f.Proto = "ospf" }, "proto", "is not a protocol"},
		{func(f *Form) { f.DPort = "65536" }, "dport", "is not a port"},
		{func(f *Form) { f.Proto = "icmp" }, "dport", "a port needs tcp"},
		{func(f *Form) { f.Iif = "eth9"; f.Src = "10.0.0.1" }, "iif", "no interface named"},
		{func(f *Form) { f.Iif = "wan" }, "src", "needs a source address"},
		{func(f *Form) { f.Mark = "0x100000000" }, "mark", "does not fit in 32 bits"},
		{func(f *Form) { f.CtMark = "zz" }, "ct_mark", "is not a number"},
		{func(f *Form) { f.UID = "4294967295" }, "uid", "does not fit"},
		{func(f *Form) { f.UID = "0"; f.Iif = "wan"; f.Src = "10.0.0.1" }, "uid", "has no socket owner"},
		{func(f *Form) { f.CtState = "closed" }, "ct_state", "is not a conntrack state"},
	}
	for _, tt := range tests {
		f := ok
		tt.edit(&f)
		_, err := ParseForm(f, func(n string) bool { return n == "wan" })
		var fe change.FieldErrors
		if !errors.As(err, &fe) || !strings.Contains(fe[tt.field], tt.has) || len(fe) != 1 {
			t.Errorf("ParseForm(%+v) = %v; want only %s: %q", f, err, tt.field, tt.has)
		}
	}
	p, err := ParseForm(Form{Dst: "203.0.113.5", Proto: "udp", DPort: "1194", Mark: "0x20", CtState: "established", CtMark: "32"}, nil)
	if err != nil || p.Mark != 0x20 || p.CtMark != 32 || !p.HasCtMark || p.DPort != 1194 {
		t.Errorf("ParseForm = %+v, %v", p, err)
	}
}

// FuzzParseForm: no input panics, and what parses is a packet the tracer
// accepts.
func FuzzParseForm(f *testing.F) {
	f.Add("203.0.113.5", "10.0.0.1", "udp", "40000", "1194", "wan", "1001", "0x20", "0x100", "new")
	f.Add("2001:db8::1", "", "tcp", "", "443", "", "", "", "", "established")
	f.Fuzz(func(t *testing.T, dst, src, proto, sport, dport, iif, uid, mark, ctmark, state string) {
		p, err := ParseForm(Form{Dst: dst, Src: src, Proto: proto, SPort: sport, DPort: dport, Iif: iif, UID: uid, Mark: mark, CtMark: ctmark, CtState: state}, nil)
		if err == nil {
			if verr := p.Validate(); verr != nil {
				t.Fatalf("ParseForm accepted %+v, which Validate refuses: %v", p, verr)
			}
			_ = p.String()
		}
	})
}
