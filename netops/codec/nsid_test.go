package codec

import (
	"testing"

	"github.com/netpanel/netpanel/netops/rtnl"
	"golang.org/x/sys/unix"
)

func TestNsidMessages(t *testing.T) {
	t.Run("a request carries the descriptor in NETNSA_FD after the family", func(t *testing.T) {
		b := EncodeNsidRequest(7)
		if len(b) != 12 || b[0] != unix.AF_UNSPEC {
			t.Fatalf("request %v", b)
		}
		a := rtnl.NewAttrs(b[4:])
		if !a.Next() || a.Typ != unix.NETNSA_FD || rtnl.U32(a.Val) != 7 {
			t.Fatalf("request %v has no NETNSA_FD 7", b)
		}
	})
	for _, c := range []struct {
		name string
		body []byte
		want int32
		ok   bool
	}{
		{"an answer gives its id", seedNsid, 1, true},
		{"an unassigned id reads -1", []byte{0, 0, 0, 0, 8, 0, 1, 0, 0xff, 0xff, 0xff, 0xff}, -1, true},
		{"an answer without NETNSA_NSID is an error", []byte{0, 0, 0, 0, 8, 0, 2, 0, 1, 0, 0, 0}, 0, false},
		{"a truncated id is an error", []byte{0, 0, 0, 0, 6, 0, 1, 0, 1, 0}, 0, false},
		{"a body shorter than its header is an error", []byte{0}, 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := DecodeNsid(c.body)
			if (err == nil) != c.ok || got != c.want {
				t.Fatalf("DecodeNsid(%v) = %d, %v; want %d, ok %v", c.body, got, err, c.want, c.ok)
			}
		})
	}
}
