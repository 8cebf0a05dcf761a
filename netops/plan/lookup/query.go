package lookup

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/netpanel/netpanel/netops/iproute"
)

// Query describes the packet to look up, as `ip route get` takes it.
type Query struct {
	Dst netip.Addr
	// Src is the source address ("from"); optional for a locally
	// generated packet, required with Iif.
	Src netip.Addr
	// Iif names the interface the packet arrives on. With it the kernel
	// simulates forwarding, which needs Src and IP forwarding enabled.
	Iif     string
	Mark    uint32
	HasMark bool
	// UID is the socket owner uidrange rules test. Without it the kernel
	// uses the uid of the asking process for a local packet and no uid
	// (which no uidrange matches) for a forwarded one.
	UID    uint32
	HasUID bool
}

// Validate reports a query the kernel would refuse for reasons that have
// nothing to do with routing, in words a form can show.
func (q Query) Validate() error {
	if !q.Dst.IsValid() {
		return errors.New("a destination address is required")
	}
	if q.Dst.Zone() != "" || q.Src.Zone() != "" {
		return errors.New("addresses with a zone (%eth0) are not supported; use iif to name the interface")
	}
	if q.Src.IsValid() && q.Src.Is4() != q.Dst.Is4() {
		return fmt.Errorf("source %s and destination %s are not of the same family", q.Src, q.Dst)
	}
	if q.Iif != "" && !q.Src.IsValid() {
		return fmt.Errorf("a lookup with iif %s simulates a forwarded packet and needs a source address (from)", q.Iif)
	}
	return nil
}

// normalize unmaps IPv4-mapped IPv6 addresses, which the kernel would
// look up as IPv6.
func (q Query) normalize() Query {
	q.Dst = q.Dst.Unmap()
	if q.Src.IsValid() {
		q.Src = q.Src.Unmap()
	}
	return q
}

// Args returns the arguments of the equivalent `ip route get` after "ip".
func (q Query) Args() []string {
	args := []string{"route", "get", q.Dst.String()}
	if q.Src.IsValid() {
		args = append(args, "from", q.Src.String())
	}
	if q.Iif != "" {
		args = append(args, "iif", q.Iif)
	}
	if q.HasMark {
		args = append(args, "mark", "0x"+strconv.FormatUint(uint64(q.Mark), 16))
	}
	if q.HasUID {
		args = append(args, "uid", strconv.FormatUint(uint64(q.UID), 10))
	}
	return args
}

// Command returns the equivalent command line, for example
// "ip route get 198.51.100.7 mark 0x20", with the interface name quoted
// for a shell.
func (q Query) Command() string {
	args := q.Args()
	for i := range args {
		if i > 0 && args[i-1] == "iif" {
			args[i] = iproute.Quote(args[i])
		}
	}
	return "ip " + strings.Join(args, " ")
}
