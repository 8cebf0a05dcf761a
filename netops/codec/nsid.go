package codec

import (
	"errors"

	"github.com/netpanel/netpanel/netops/rtnl"
	"golang.org/x/sys/unix"
)

// sizeofRtgenmsg is struct rtgenmsg (one family byte) padded to the
// netlink alignment, as iproute2 sends it.
const sizeofRtgenmsg = 4

// EncodeNsidRequest encodes an RTM_GETNSID body asking which id the
// socket's namespace gives the namespace that fd refers to (an open
// /run/netns entry): `ip netns list-id` and ip's "link-netns NAME" ask
// the same way.
func EncodeNsidRequest(fd int) []byte {
	w := rtnl.NewWriter(make([]byte, sizeofRtgenmsg)) // family AF_UNSPEC
	w.U32(unix.NETNSA_FD, uint32(fd))
	return w.Bytes()
}

// DecodeNsid reads an RTM_NEWNSID/RTM_DELNSID body: the id, or -1
// (NETNSA_NSID_NOT_ASSIGNED) when the namespace has none here.
func DecodeNsid(b []byte) (int32, error) {
	if len(b) < sizeofRtgenmsg {
		return 0, errShort
	}
	a := rtnl.NewAttrs(b[sizeofRtgenmsg:])
	for a.Next() {
		if a.Typ == unix.NETNSA_NSID {
			if len(a.Val) < 4 {
				return 0, errNsidShort
			}
			return int32(rtnl.U32(a.Val)), nil
		}
	}
	return 0, errNoNsid
}

var (
	errNsidShort = errors.New("NETNSA_NSID shorter than 4 bytes")
	errNoNsid    = errors.New("namespace id message without NETNSA_NSID")
)
