package owned

import (
	"net/netip"
	"strings"
	"testing"
)

func TestCanTouchTheAdminsConnection(t *testing.T) {
	c := Client{
		Local:  netip.MustParseAddrPort("[::ffff:192.0.2.2]:8080"),
		Remote: netip.MustParseAddrPort("198.51.100.7:51000"),
		Oif:    "wan", UID: 0,
	}
	tests := []struct {
		name string
		form Form
		want bool
		why  string
	}{
		{"a udp rule misses the tcp connection", vpnForm, false, "it matches udp only"},
		{"a destination elsewhere misses it", Form{Hook: "output", Kind: "mark", Dst: "10.0.0.0/8", Mark: "1"}, false, "does not hold 198.51.100.7"},
		{"a rule for the client's network matches the replies", Form{Hook: "output", Kind: "mark", Dst: "198.51.100.0/24", Mark: "1"}, true, "it matches netpanel's replies to 198.51.100.7:51000"},
		{"another uid misses it", Form{Hook: "output", Kind: "mark", UID: "1001", Mark: "1"}, false, "netpanel runs as uid 0"},
		{"the reply port decides", Form{Hook: "output", Kind: "mark", Proto: "tcp", SPort: "8080", Mark: "1"}, true, "it matches"},
		{"another source port misses it", Form{Hook: "output", Kind: "mark", Proto: "tcp", SPort: "443", Mark: "1"}, false, "is not 8080"},
		{"another output interface misses it", Form{Hook: "output", Kind: "mark", Oif: "vpn0", Mark: "1"}, false, "leave through wan"},
		{"a restore in prerouting touches everything", Form{Hook: "prerouting", Kind: "restore"}, true, "the packets 198.51.100.7:51000 sends"},
		{"an unknown input interface cannot clear a rule", Form{Hook: "prerouting", Kind: "restore", Iif: "wan"}, true, "does not know the interface they arrive on"},
		{"the client's source port in prerouting", Form{Hook: "prerouting", Kind: "mark", Proto: "tcp", DPort: "8080", Src: "198.51.100.7", Mark: "1"}, true, "it matches"},
		{"an IPv6 rule misses an IPv4 client", Form{Hook: "prerouting", Kind: "mark", Src: "2001:db8::/32", Mark: "1"}, false, "does not hold 198.51.100.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse(tt.form, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, why := CanTouch(r, c)
			if got != tt.want || !strings.Contains(why, tt.why) {
				t.Errorf("CanTouch = %v, %q; want %v, %q", got, why, tt.want, tt.why)
			}
		})
	}
}
