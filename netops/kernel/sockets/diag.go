package sockets

import (
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/netpanel/netpanel/netops/rtnl"
	"net/netip"

	"golang.org/x/sys/unix"
)

// Sizes from include/uapi/linux/inet_diag.h.
const (
	sizeofSockID  = 48 // struct inet_diag_sockid
	sizeofReqV2   = 8 + sizeofSockID
	sizeofDiagMsg = 4 + sizeofSockID + 20 // struct inet_diag_msg: family, state, timer, retrans, id, then five u32
	// allStates asks for every state ss -a shows: bits 0..12, that is up
	// to TCP_NEW_SYN_RECV, without TCP_BOUND_INACTIVE (13), which ss
	// shows only when asked (-B).
	allStates = 1<<(tcpNewSynRecv+1) - 1
)

// dumpRequest builds a netlink SOCK_DIAG_BY_FAMILY dump request for every
// socket of one family and protocol (struct inet_diag_req_v2).
func dumpRequest(seq uint32, family, protocol uint8) []byte {
	b := make([]byte, unix.NLMSG_HDRLEN+sizeofReqV2)
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(len(b)))
	ne.PutUint16(b[4:], unix.SOCK_DIAG_BY_FAMILY)
	ne.PutUint16(b[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	ne.PutUint32(b[8:], seq)
	p := b[unix.NLMSG_HDRLEN:]
	p[0], p[1] = family, protocol // ext and pad stay 0: no extra attributes
	ne.PutUint32(p[4:], allStates)
	return b
}

// parseDump reads one datagram of a dump reply, calling add for each
// socket. done is true at NLMSG_DONE; interrupted is true if a message was
// flagged NLM_F_DUMP_INTR (the socket tables changed during the dump, so it
// may have missed or repeated sockets).
func parseDump(buf []byte, seq uint32, proto string, add func(Socket)) (done, interrupted bool, err error) {
	ne := binary.NativeEndian
	for len(buf) >= unix.NLMSG_HDRLEN {
		n := int(ne.Uint32(buf[0:]))
		typ, flags, mseq := ne.Uint16(buf[4:]), ne.Uint16(buf[6:]), ne.Uint32(buf[8:])
		if n < unix.NLMSG_HDRLEN || n > len(buf) {
			return false, interrupted, fmt.Errorf("malformed netlink message: length %d of %d bytes", n, len(buf))
		}
		body := buf[unix.NLMSG_HDRLEN:n]
		buf = buf[min(nlmsgAlign(n), len(buf)):]
		if mseq != seq {
			continue // a stale reply to an earlier request
		}
		if flags&unix.NLM_F_DUMP_INTR != 0 {
			interrupted = true
		}
		switch typ {
		case unix.NLMSG_DONE:
			// The payload is an int: a negative errno if the dump failed.
			if len(body) >= 4 {
				if code := int32(ne.Uint32(body)); code < 0 {
					return true, interrupted, unix.Errno(-code)
				}
			}
			return true, interrupted, nil
		case unix.NLMSG_ERROR:
			if len(body) < 4 {
				return true, interrupted, errors.New("truncated netlink error")
			}
			if code := int32(ne.Uint32(body)); code < 0 {
				return true, interrupted, unix.Errno(-code)
			}
		case unix.SOCK_DIAG_BY_FAMILY:
			s, err := parseDiagMsg(body, proto)
			if err != nil {
				return false, interrupted, err
			}
			add(s)
		}
	}
	return false, interrupted, nil
}

func nlmsgAlign(n int) int { return (n + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1) }

// parseDiagMsg decodes a struct inet_diag_msg and the one attribute the
// kernel sends unasked that List reports: INET_DIAG_SKV6ONLY, of IPv6
// listeners and unconnected sockets.
func parseDiagMsg(b []byte, proto string) (Socket, error) {
	if len(b) < sizeofDiagMsg {
		return Socket{}, fmt.Errorf("inet_diag message of %d bytes, want %d", len(b), sizeofDiagMsg)
	}
	ne, be := binary.NativeEndian, binary.BigEndian
	s := Socket{Proto: proto, Family: b[0], State: stateName(b[1])}
	id := b[4 : 4+sizeofSockID]
	sport, dport := be.Uint16(id[0:]), be.Uint16(id[2:])
	switch s.Family {
	case unix.AF_INET:
		s.Local = netip.AddrPortFrom(netip.AddrFrom4([4]byte(id[4:8])), sport)
		s.Remote = netip.AddrPortFrom(netip.AddrFrom4([4]byte(id[20:24])), dport)
	case unix.AF_INET6:
		s.Local = netip.AddrPortFrom(netip.AddrFrom16([16]byte(id[4:20])), sport)
		s.Remote = netip.AddrPortFrom(netip.AddrFrom16([16]byte(id[20:36])), dport)
	default:
		return Socket{}, fmt.Errorf("inet_diag message for address family %d", s.Family)
	}
	s.Interface = int32(ne.Uint32(id[36:]))
	s.Cookie = uint64(ne.Uint32(id[40:])) | uint64(ne.Uint32(id[44:]))<<32
	rest := b[4+sizeofSockID:]
	// rest: expires, rqueue, wqueue, uid, inode
	s.RecvQ = ne.Uint32(rest[4:])
	s.SendQ = ne.Uint32(rest[8:])
	s.UID = ne.Uint32(rest[12:])
	s.Inode = ne.Uint32(rest[16:])
	for a := rtnl.NewAttrs(b[sizeofDiagMsg:]); a.Next(); {
		if a.Typ == inetDiagSkV6Only && len(a.Val) > 0 {
			s.V6Only = a.Val[0] != 0
		}
	}
	return s, nil
}

// inetDiagSkV6Only is INET_DIAG_SKV6ONLY (linux/inet_diag.h), a u8.
const inetDiagSkV6Only = 11
