package sockets

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"reflect"
	"testing"

	"golang.org/x/sys/unix"
)

// encodeDiagMsg is the inverse of parseDiagMsg: a struct inet_diag_msg as
// the kernel writes it. state is the kernel state code.
func encodeDiagMsg(s Socket, state uint8) []byte {
	b := make([]byte, sizeofDiagMsg)
	ne, be := binary.NativeEndian, binary.BigEndian
	b[0], b[1] = s.Family, state
	id := b[4:]
	be.PutUint16(id[0:], s.Local.Port())
	be.PutUint16(id[2:], s.Remote.Port())
	if s.Family == unix.AF_INET {
		l, r := s.Local.Addr().As4(), s.Remote.Addr().As4()
		copy(id[4:], l[:])
		copy(id[20:], r[:])
	} else {
		l, r := s.Local.Addr().As16(), s.Remote.Addr().As16()
		copy(id[4:], l[:])
		copy(id[20:], r[:])
	}
	ne.PutUint32(id[36:], uint32(s.Interface))
	ne.PutUint32(id[40:], uint32(s.Cookie))
	ne.PutUint32(id[44:], uint32(s.Cookie>>32))
	rest := b[4+sizeofSockID:]
	ne.PutUint32(rest[4:], s.RecvQ)
	ne.PutUint32(rest[8:], s.SendQ)
	ne.PutUint32(rest[12:], s.UID)
	ne.PutUint32(rest[16:], s.Inode)
	return b
}

// nlmsg wraps a payload in a netlink header, padded to alignment.
func nlmsg(typ, flags uint16, seq uint32, payload []byte) []byte {
	n := unix.NLMSG_HDRLEN + len(payload)
	b := make([]byte, nlmsgAlign(n))
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(n))
	ne.PutUint16(b[4:], typ)
	ne.PutUint16(b[6:], flags)
	ne.PutUint32(b[8:], seq)
	copy(b[unix.NLMSG_HDRLEN:], payload)
	return b
}

func errnoPayload(code int32) []byte {
	b := make([]byte, 4)
	binary.NativeEndian.PutUint32(b, uint32(code))
	return b
}

func TestParseDiagMsgDecodesKernelLayout(t *testing.T) {
	tests := []struct {
		name  string
		state uint8
		want  Socket
	}{
		{"an IPv4 listener bound to a device", tcpListen, Socket{
			Proto: "tcp", Family: unix.AF_INET, State: "LISTEN",
			Local:  netip.MustParseAddrPort("127.0.0.1:8080"),
			Remote: netip.MustParseAddrPort("0.0.0.0:0"),
			RecvQ:  0, SendQ: 4096, UID: 1000, Inode: 123456, Interface: 7, Cookie: 0x1122334455667788,
		}},
		{"an established IPv6 connection", tcpEstablished, Socket{
			Proto: "tcp", Family: unix.AF_INET6, State: "ESTAB",
			Local:  netip.MustParseAddrPort("[2001:db8::1]:443"),
			Remote: netip.MustParseAddrPort("[2001:db8::2]:50123"),
			RecvQ:  5, SendQ: 17, Inode: 42,
		}},
		{"an unconnected UDP socket", tcpClose, Socket{
			Proto: "udp", Family: unix.AF_INET, State: "UNCONN",
			Local:  netip.MustParseAddrPort("0.0.0.0:53"),
			Remote: netip.MustParseAddrPort("0.0.0.0:0"),
		}},
		{"an IPv4-mapped address stays mapped", tcpEstablished, Socket{
			Proto: "tcp", Family: unix.AF_INET6, State: "ESTAB",
			Local:  netip.MustParseAddrPort("[::ffff:192.0.2.1]:22"),
			Remote: netip.MustParseAddrPort("[::ffff:198.51.100.7]:40000"),
		}},
		{"an unknown state code", 99, Socket{
			Proto: "tcp", Family: unix.AF_INET, State: "UNKNOWN",
			Local: netip.MustParseAddrPort("10.0.0.1:1"), Remote: netip.MustParseAddrPort("10.0.0.2:2"),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseDiagMsg(encodeDiagMsg(tt.want, tt.state), tt.want.Proto)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestStateNamesAreThoseSsPrints(t *testing.T) {
	want := map[uint8]string{
		0: "UNKNOWN", 1: "ESTAB", 2: "SYN-SENT", 3: "SYN-RECV", 4: "FIN-WAIT-1", 5: "FIN-WAIT-2",
		6: "TIME-WAIT", 7: "UNCONN", 8: "CLOSE-WAIT", 9: "LAST-ACK", 10: "LISTEN", 11: "CLOSING",
		12: "UNKNOWN", 13: "UNKNOWN", 255: "UNKNOWN",
	}
	for code, name := range want {
		if got := stateName(code); got != name {
			t.Errorf("stateName(%d) = %q, want %q", code, got, name)
		}
	}
}

func TestParseDiagMsgRejectsBadInput(t *testing.T) {
	short := make([]byte, sizeofDiagMsg-1)
	if _, err := parseDiagMsg(short, "tcp"); err == nil {
		t.Error("a short message was accepted")
	}
	bad := make([]byte, sizeofDiagMsg)
	bad[0] = unix.AF_UNIX
	if _, err := parseDiagMsg(bad, "tcp"); err == nil {
		t.Error("a message of another address family was accepted")
	}
}

func TestParseDumpFollowsTheNetlinkProtocol(t *testing.T) {
	s1 := Socket{Proto: "tcp", Family: unix.AF_INET, State: "LISTEN",
		Local: netip.MustParseAddrPort("127.0.0.1:80"), Remote: netip.MustParseAddrPort("0.0.0.0:0"), Inode: 1}
	s2 := s1
	s2.Local, s2.Inode = netip.MustParseAddrPort("127.0.0.1:81"), 2
	msg1 := nlmsg(unix.SOCK_DIAG_BY_FAMILY, unix.NLM_F_MULTI, 7, encodeDiagMsg(s1, tcpListen))
	msg2 := nlmsg(unix.SOCK_DIAG_BY_FAMILY, unix.NLM_F_MULTI, 7, encodeDiagMsg(s2, tcpListen))
	tests := []struct {
		name     string
		buf      []byte
		want     []Socket
		wantDone bool
		wantIntr bool
		wantErr  error
	}{
		{"sockets then more to come", cat(msg1, msg2), []Socket{s1, s2}, false, false, nil},
		{"done ends the dump", cat(msg1, nlmsg(unix.NLMSG_DONE, unix.NLM_F_MULTI, 7, errnoPayload(0))), []Socket{s1}, true, false, nil},
		{"replies to an older request are skipped", cat(nlmsg(unix.SOCK_DIAG_BY_FAMILY, 0, 6, encodeDiagMsg(s2, tcpListen)), msg1), []Socket{s1}, false, false, nil},
		{"an interrupted dump is flagged", cat(nlmsg(unix.SOCK_DIAG_BY_FAMILY, unix.NLM_F_MULTI|unix.NLM_F_DUMP_INTR, 7, encodeDiagMsg(s1, tcpListen))), []Socket{s1}, false, true, nil},
		{"done carrying an errno fails", nlmsg(unix.NLMSG_DONE, 0, 7, errnoPayload(-int32(unix.ENOENT))), nil, true, false, unix.ENOENT},
		{"a netlink error fails", nlmsg(unix.NLMSG_ERROR, 0, 7, errnoPayload(-int32(unix.EPERM))), nil, true, false, unix.EPERM},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []Socket
			done, intr, err := parseDump(tt.buf, 7, "tcp", func(s Socket) { got = append(got, s) })
			if done != tt.wantDone || intr != tt.wantIntr || !errors.Is(err, tt.wantErr) || (err != nil) != (tt.wantErr != nil) {
				t.Errorf("done, interrupted, err = %v, %v, %v; want %v, %v, %v", done, intr, err, tt.wantDone, tt.wantIntr, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("sockets = %+v\nwant %+v", got, tt.want)
			}
		})
	}
	if _, _, err := parseDump(msg1[:len(msg1)-8], 7, "tcp", func(Socket) {}); err == nil {
		t.Error("a message longer than the datagram was accepted")
	}
}

func cat(bs ...[]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}

func TestDumpRequestIsAnInetDiagReqV2(t *testing.T) {
	b := dumpRequest(9, unix.AF_INET6, unix.IPPROTO_UDP)
	ne := binary.NativeEndian
	if len(b) != 16+56 || ne.Uint32(b) != uint32(len(b)) {
		t.Fatalf("request of %d bytes, header says %d; want 72", len(b), ne.Uint32(b))
	}
	if ne.Uint16(b[4:]) != 20 || ne.Uint16(b[6:]) != unix.NLM_F_REQUEST|unix.NLM_F_DUMP || ne.Uint32(b[8:]) != 9 {
		t.Errorf("header type %d flags %#x seq %d", ne.Uint16(b[4:]), ne.Uint16(b[6:]), ne.Uint32(b[8:]))
	}
	if b[16] != unix.AF_INET6 || b[17] != unix.IPPROTO_UDP || b[18] != 0 || ne.Uint32(b[20:]) != 0x1fff {
		t.Errorf("body family %d proto %d ext %d states %#x", b[16], b[17], b[18], ne.Uint32(b[20:]))
	}
}
