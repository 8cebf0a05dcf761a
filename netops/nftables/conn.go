package nftables

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/mdlayher/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// errInterrupted means the ruleset changed while it was being dumped.
var errInterrupted = errors.New("nftables ruleset changed during the dump")

// dial opens a NETLINK_NETFILTER socket in ns (netns.None() or a closed
// handle: the caller's namespace).
func dial(ns netns.NsHandle) (*netlink.Conn, error) {
	cfg := &netlink.Config{}
	if ns.IsOpen() {
		cfg.NetNS = int(ns)
	}
	c, err := netlink.Dial(unix.NETLINK_NETFILTER, cfg)
	if err != nil {
		return nil, fmt.Errorf("opening an nftables netlink socket: %w", err)
	}
	return c, nil
}

// setReadBuffer sets SO_RCVBUF, forcing past rmem_max when allowed.
func setReadBuffer(c *netlink.Conn, n int) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		if serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, n); serr != nil {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, n)
		}
	})
	if err != nil {
		return err
	}
	return serr
}

// request builds an nftables request of type typ (NFT_MSG_*).
func request(typ uint16, fam Family, flags netlink.HeaderFlags, attrs []netlink.Attribute) (netlink.Message, error) {
	data := []byte{byte(fam), unix.NFNETLINK_V0, 0, 0}
	if len(attrs) > 0 {
		b, err := netlink.MarshalAttributes(attrs)
		if err != nil {
			return netlink.Message{}, err
		}
		data = append(data, b...)
	}
	return netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | typ), Flags: netlink.Request | flags},
		Data:   data,
	}, nil
}

// msgType returns the NFT_MSG_* of an nftables message, or -1 for a
// message of another subsystem.
func msgType(m netlink.Message) int {
	if uint16(m.Header.Type)>>8 != unix.NFNL_SUBSYS_NFTABLES {
		return -1
	}
	return int(uint16(m.Header.Type) & 0xff)
}

// dump runs one NLM_F_DUMP request and calls fn for each reply.
// errInterrupted reports a reply flagged NLM_F_DUMP_INTR.
func dump(c *netlink.Conn, typ uint16, fam Family, attrs []netlink.Attribute, fn func(netlink.Message) error) error {
	req, err := request(typ, fam, netlink.Dump, attrs)
	if err != nil {
		return err
	}
	msgs, err := c.Execute(req)
	if err != nil {
		return err
	}
	interrupted := false
	for _, m := range msgs {
		if m.Header.Flags&netlink.DumpInterrupted != 0 {
			interrupted = true
		}
		if msgType(m) < 0 {
			continue
		}
		if err := fn(m); err != nil {
			return err
		}
	}
	if interrupted {
		return errInterrupted
	}
	return nil
}

// getGen asks for the ruleset's generation id.
func getGen(c *netlink.Conn) (uint32, error) {
	req, err := request(unix.NFT_MSG_GETGEN, 0, 0, nil)
	if err != nil {
		return 0, err
	}
	msgs, err := c.Execute(req)
	if err != nil {
		return 0, fmt.Errorf("reading the nftables generation: %w", err)
	}
	for _, m := range msgs {
		if msgType(m) == unix.NFT_MSG_NEWGEN {
			return DecodeGen(m.Data)
		}
	}
	return 0, errors.New("reading the nftables generation: no answer")
}

// isNotFound reports ENOENT: the object went away between two requests.
func isNotFound(err error) bool { return errors.Is(err, syscall.ENOENT) }

func strAttr(t uint16, s string) netlink.Attribute {
	return netlink.Attribute{Type: t, Data: append([]byte(s), 0)}
}
