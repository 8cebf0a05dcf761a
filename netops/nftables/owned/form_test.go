package owned

import (
	"errors"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/netops/kernel/change"
)

func links(names ...string) LinkExists {
	return func(n string) bool {
		for _, x := range names {
			if x == n {
				return true
			}
		}
		return false
	}
}

var vpnForm = Form{Hook: "output", Kind: "mark", Proto: "udp", Dst: "10.0.0.1", DPort: "1194", Mark: "0x20/0x20"}

func TestParseGivesAMessagePerBadField(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Form)
		field string
		has   string
	}{
		{"a hook is required", func(f *Form) { f.Hook = "" }, "hook", "choose output"},
		{"an unknown hook is named", func(f *Form) { f.Hook = "input" }, "hook", "input is not a hook"},
		{"an unknown kind is named", func(f *Form) { f.Kind = "dscp" }, "kind", "dscp is not a kind"},
		{"an unknown protocol is named", func(f *Form) { f.Proto = "sctp" }, "proto", "sctp is not a protocol"},
		{"a bad address is named", func(f *Form) { f.Dst = "10.0.0.300" }, "dst", "10.0.0.300 is not an address or a prefix"},
		{"a prefix too long is refused", func(f *Form) { f.Dst = "10.0.0.0/33" }, "dst", "is not an address or a prefix"},
		{"host bits get a suggestion", func(f *Form) { f.Dst = "10.0.0.1/24" }, "dst", "did you mean 10.0.0.0/24?"},
		{"a zero prefix is refused", func(f *Form) { f.Src = "0.0.0.0/0" }, "src", "matches every address"},
		{"families must agree", func(f *Form) { f.Src = "2001:db8::1" }, "dst", "not of the same family"},
		{"port 0 is refused", func(f *Form) { f.DPort = "0" }, "dport", "is not a port (1 to 65535)"},
		{"a port above 65535 is refused", func(f *Form) { f.DPort = "70000" }, "dport", "70000 is not a port"},
		{"a backwards range is refused", func(f *Form) { f.SPort = "2000-1000" }, "sport", "ends before it starts"},
		{"a port needs a protocol", func(f *Form) { f.Proto = "" }, "dport", "a port needs a protocol"},
		{"an unknown interface is named", func(f *Form) { f.Oif = "eth9" }, "oif", "no interface named eth9"},
		{"an interface name with a slash is refused", func(f *Form) { f.Oif = "a/b" }, "oif", "a/b is not an interface name"},
		{"output has no input interface", func(f *Form) { f.Iif = "wan" }, "iif", "has no input interface"},
		{"prerouting has no output interface", func(f *Form) { f.Hook = "prerouting"; f.Oif = "wan" }, "oif", "has no output interface"},
		{"prerouting has no socket owner", func(f *Form) { f.Hook = "prerouting"; f.UID = "1001" }, "uid", "only packets this host sends"},
		{"an unknown user is named", func(f *Form) { f.UID = "no-such-user-here" }, "uid", "neither a uid nor a user"},
		{"uid -1 is refused", func(f *Form) { f.UID = "4294967295" }, "uid", "not a valid uid"},
		{"a mark over 32 bits is refused", func(f *Form) { f.Mark = "0x100000000" }, "mark", "does not fit in 32 bits"},
		{"a huge mark is refused", func(f *Form) { f.Mark = "99999999999999999999999" }, "mark", "does not fit in 32 bits"},
		{"a mask over 32 bits is refused", func(f *Form) { f.Mark = "0x20/0x1ffffffff" }, "mark", "does not fit in 32 bits"},
		{"value bits outside the mask are refused", func(f *Form) { f.Mark = "0x30/0x20" }, "mark", "has bits outside the mask"},
		{"a mark is required", func(f *Form) { f.Mark = "" }, "mark", "a mark is required"},
		{"a mark that is no number is refused", func(f *Form) { f.Mark = "0xzz" }, "mark", "is not a number"},
		{"a restore takes no value", func(f *Form) { f.Kind = "restore" }, "mark", "takes a mask, not a value"},
		{"a restore mask of 0 is refused", func(f *Form) { f.Kind = "restore"; f.Mark = ""; f.Mask = "0" }, "mask", "copies nothing"},
		{"a quote cannot be saved", func(f *Form) { f.Comment = `say "hi"` }, "comment", "quotes"},
		{"a long comment is refused", func(f *Form) { f.Comment = strings.Repeat("x", 129) }, "comment", "at most 128"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := vpnForm
			tt.edit(&f)
			_, err := Parse(f, links("wan", "vpn0"))
			var fe change.FieldErrors
			if !errors.As(err, &fe) {
				t.Fatalf("Parse(%+v) = %v, want FieldErrors", f, err)
			}
			if msg := fe[tt.field]; !strings.Contains(msg, tt.has) {
				t.Errorf("%s: %q, want it to contain %q (all: %v)", tt.field, msg, tt.has, fe)
			}
			if len(fe) != 1 {
				t.Errorf("want one message, got %v", fe)
			}
		})
	}
}

func TestParseReportsEveryBadFieldAtOnce(t *testing.T) {
	_, err := Parse(Form{Hook: "output", Kind: "mark", Proto: "udp", Dst: "nope", DPort: "99999", Oif: "eth9", Mark: "0x1ffffffff"}, links("wan"))
	var fe change.FieldErrors
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v", err)
	}
	for _, f := range []string{"dst", "dport", "oif", "mark"} {
		if fe[f] == "" {
			t.Errorf("no message for %s: %v", f, fe)
		}
	}
}

func TestRuleTextAndCommand(t *testing.T) {
	tests := []struct {
		form Form
		text string
	}{
		{vpnForm, "ip daddr 10.0.0.1 udp dport 1194 meta mark set meta mark | 0x00000020"},
		{Form{Hook: "output", Kind: "mark", UID: "1001", Mark: "0x20"}, "meta skuid 1001 meta mark set 0x00000020"},
		{Form{Hook: "prerouting", Kind: "restore"}, "meta mark set ct mark"},
		{Form{Hook: "prerouting", Kind: "save", Mask: "0xff"}, "ct mark set meta mark & 0x000000ff"},
		{Form{Hook: "output", Kind: "mark", Mark: "0x0/0x20", Proto: "tcp"}, "meta l4proto tcp meta mark set meta mark & 0xffffffdf"},
		{Form{Hook: "output", Kind: "mark", Mark: "0x10/0x30", Src: "10.16.0.0/12", SPort: "1000-2000", Proto: "tcp", Oif: "wan", Comment: "x y"},
			`oifname "wan" ip saddr 10.16.0.0/12 tcp sport 1000-2000 meta mark set meta mark & 0xffffffdf | 0x00000010 comment "x y"`},
	}
	for _, tt := range tests {
		r, err := Parse(tt.form, links("wan"))
		if err != nil {
			t.Fatalf("Parse(%+v): %v", tt.form, err)
		}
		if got := r.Text(); got != tt.text {
			t.Errorf("Text = %q, want %q", got, tt.text)
		}
		if want := "nft 'add rule inet netpanel " + tt.form.Hook + " " + tt.text + "'"; r.Command() != want {
			t.Errorf("Command = %q, want %q", r.Command(), want)
		}
	}
}

// The iptables line says what the nft rule says, in iptables' words
// (checked against iptables-translate where it translates at all).
func TestIptablesCommand(t *testing.T) {
	for _, c := range []struct {
		form Form
		want string
	}{
		{vpnForm, "iptables -t mangle -A OUTPUT -d 10.0.0.1 -p udp --dport 1194 -j MARK --set-xmark 0x20/0x20"},
		{Form{Hook: "output", Kind: "mark", UID: "1001", Mark: "0x20", Comment: "it's"},
			`iptables -t mangle -A OUTPUT -m owner --uid-owner 1001 -m comment --comment 'it'\''s' -j MARK --set-mark 0x20; ip6tables -t mangle -A OUTPUT -m owner --uid-owner 1001 -m comment --comment 'it'\''s' -j MARK --set-mark 0x20`},
		{Form{Hook: "prerouting", Kind: "restore", Iif: "vpn0", Mask: "0xff00"},
			"iptables -t mangle -A PREROUTING -i vpn0 -j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xff00; ip6tables -t mangle -A PREROUTING -i vpn0 -j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xff00"},
		{Form{Hook: "output", Kind: "save", Src: "2001:db8::/32", Proto: "tcp", SPort: "1000-2000"},
			"ip6tables -t mangle -A OUTPUT -s 2001:db8::/32 -p tcp --sport 1000:2000 -j CONNMARK --save-mark"},
	} {
		r, err := Parse(c.form, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.IptablesCommand(); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", r.Text(), got, c.want)
		}
	}
}
