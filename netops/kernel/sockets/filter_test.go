package sockets

import (
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

func sock(proto, state, local, remote string) Socket {
	l, r := netip.MustParseAddrPort(local), netip.MustParseAddrPort(remote)
	fam := uint8(unix.AF_INET)
	if l.Addr().Is6() {
		fam = unix.AF_INET6
	}
	return Socket{Proto: proto, Family: fam, State: state, Local: l, Remote: r}
}

func TestFilterMatchesLikeSsOptions(t *testing.T) {
	tcpListen := sock("tcp", "LISTEN", "0.0.0.0:22", "0.0.0.0:0")
	tcpEstab := sock("tcp", "ESTAB", "192.0.2.1:22", "198.51.100.9:50000")
	tcpWait := sock("tcp", "TIME-WAIT", "192.0.2.1:41000", "203.0.113.5:443")
	udpUnconn := sock("udp", "UNCONN", "127.0.0.1:53", "0.0.0.0:0")
	udpEstab := sock("udp", "ESTAB", "10.1.2.3:40000", "10.9.9.9:53")
	v6Listen := sock("tcp", "LISTEN", "[::]:443", "[::]:0")
	mapped := sock("tcp", "ESTAB", "[::ffff:192.0.2.1]:443", "[::ffff:198.51.100.7]:40001")

	tests := []struct {
		name   string
		filter Filter
		s      Socket
		want   bool
	}{
		{"the zero filter matches everything", Filter{}, tcpWait, true},
		{"tcp keeps tcp", Filter{Proto: "tcp"}, tcpEstab, true},
		{"tcp drops udp", Filter{Proto: "tcp"}, udpUnconn, false},
		{"udp keeps udp", Filter{Proto: "udp"}, udpEstab, true},
		{"listening keeps a tcp listener", Filter{Listening: true}, tcpListen, true},
		{"listening keeps an unconnected udp socket", Filter{Listening: true}, udpUnconn, true},
		{"listening drops an established socket", Filter{Listening: true}, tcpEstab, false},
		{"established keeps connected udp", Filter{Established: true}, udpEstab, true},
		{"established drops time-wait", Filter{Established: true}, tcpWait, false},
		{"listening or established keeps a listener", Filter{Listening: true, Established: true}, tcpListen, true},
		{"listening or established keeps an established one", Filter{Listening: true, Established: true}, tcpEstab, true},
		{"listening or established drops time-wait", Filter{Listening: true, Established: true}, tcpWait, false},
		{"IPv4 only drops IPv6", Filter{Family: unix.AF_INET}, v6Listen, false},
		{"IPv6 only keeps IPv6", Filter{Family: unix.AF_INET6}, v6Listen, true},
		{"port matches the local port", Filter{Port: 22}, tcpListen, true},
		{"port matches the remote port", Filter{Port: 443}, tcpWait, true},
		{"port must match one side", Filter{Port: 80}, tcpEstab, false},
		{"address matches the local address", Filter{Addr: "192.0.2.1"}, tcpEstab, true},
		{"address matches the remote address", Filter{Addr: "198.51.100.9"}, tcpEstab, true},
		{"prefix matches an address inside it", Filter{Addr: "10.0.0.0/8"}, udpEstab, true},
		{"prefix drops an address outside it", Filter{Addr: "172.16.0.0/12"}, udpEstab, false},
		{"an IPv4 address matches its mapped form", Filter{Addr: "192.0.2.1"}, mapped, true},
		{"a mapped prefix matches the IPv4 form", Filter{Addr: "::ffff:198.51.100.0/120"}, tcpEstab, true},
		{"a wildcard listener is not any specific address", Filter{Addr: "192.0.2.1"}, tcpListen, false},
		{"the wildcard itself can be asked for", Filter{Addr: "0.0.0.0"}, tcpListen, true},
		{"a malformed address matches nothing", Filter{Addr: "nope"}, tcpListen, false},
		{"all fields must match", Filter{Proto: "tcp", Listening: true, Port: 22, Addr: "0.0.0.0/0"}, tcpListen, true},
		{"one failing field drops it", Filter{Proto: "tcp", Listening: true, Port: 23}, tcpListen, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.filter.Match(tt.s); got != tt.want {
				t.Errorf("%+v.Match(%s %s %v %v) = %v, want %v", tt.filter, tt.s.Proto, tt.s.State, tt.s.Local, tt.s.Remote, got, tt.want)
			}
		})
	}
}

func TestFilterValidate(t *testing.T) {
	tests := []struct {
		name    string
		filter  Filter
		wantErr bool
	}{
		{"the zero filter is valid", Filter{}, false},
		{"an address with a zone is valid", Filter{Addr: "fe80::1%eth0"}, false},
		{"a prefix is valid", Filter{Addr: "2001:db8::/32"}, false},
		{"an unknown protocol", Filter{Proto: "sctp"}, true},
		{"an unknown family", Filter{Family: unix.AF_UNIX}, true},
		{"a malformed address", Filter{Addr: "10.0.0.300"}, true},
		{"a malformed prefix", Filter{Addr: "10.0.0.0/33"}, true},
		{"a mapped prefix shorter than 96 bits", Filter{Addr: "::ffff:0:0/64"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.filter.Validate(); (err != nil) != tt.wantErr {
				t.Errorf("Validate() = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}
