package networkd

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/netpanel/netpanel/netops/model"
)

// addSeeds feeds the realistic files and some syntax corners to f.
func addSeeds(f *testing.F, glob string) {
	files, _ := filepath.Glob(filepath.Join("testdata", glob))
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"[Match]\nName=a \\\n b\n", "[X]\nK=v\\\\\n", "[Route]\nGateway=\n", "\ufeff[a]b]\r\n=\n",
		"[RoutingPolicyRule]\nFirewallMark=0x1/0xffffffff\n", "[NetDev]\nName=v\nKind=veth\n[Peer]\nName=p\n",
		"[RoutingPolicyRule]\nIPProtocol=Tcp\nSourcePort=1-2\nDestinationPort=443\nInvertRule=yes\nUser=root\nType=prohibit\n",
		"[RoutingPolicyRule]\nUser=5-9\nSuppressInterfaceGroup=0\nSuppressPrefixLength=128\nTypeOfService=8\nFirewallMark=32/0\n",
		"[Route]\nDestination=192.0.2.0/24\nGateway=2001:db8::1\n[Route]\nMetric=abc\n[Link]\nActivationPolicy=down\n",
		"[NetDev]\nName=vx\nKind=vxlan\nMACAddress=none\n[VXLAN]\nVNI=1\nLocal=slaac\n",
		"[Network]\nDHCP=maybe\n[Address]\nLabel=x\n[Address]\nAddress=10.0.0.1/24\nPeer=2001:db8::1\n",
		"[Match]\nName=\"e0\" e\\\\1 !np[!x]* a:b 0x5\nKind=\"veth\" 'br\\0' \"x\nType=[[:alpha:]]*\n",
	} {
		f.Add([]byte(s))
	}
}

// FuzzParseNetwork checks ParseNetwork never panics and that every file,
// bad lines included, comes back unchanged through Marshal: what parsed
// is typed the same, what did not is kept and fails the same way again.
func FuzzParseNetwork(f *testing.F) {
	addSeeds(f, "*.network")
	f.Fuzz(func(t *testing.T, data []byte) {
		nf, warns, err := ParseNetwork("fuzz.network", data)
		if nf == nil {
			t.Fatalf("no file returned (error %v)", err)
		}
		kindsKnown(t, warns)
		out := nf.Marshal()
		again, _, err2 := ParseNetwork("fuzz.network", out)
		if !reflect.DeepEqual(again, nf) {
			t.Fatalf("round trip changed the file:\n got %+v\nwant %+v\n%q", again, nf, out)
		}
		if err == nil && err2 != nil {
			t.Fatalf("marshalled file does not parse: %v\n%q", err2, out)
		}
	})
}

// kindsKnown fails for a warning of no known kind: it would be taken for
// a problem of the file by its text alone.
func kindsKnown(t *testing.T, warns []Warning) {
	t.Helper()
	for _, w := range warns {
		switch w.Kind {
		case WarnStrayLine, WarnUnknownSection, WarnUnknownKey, WarnNotModelled, WarnIgnoredSection, WarnMatchesAll:
		default:
			t.Fatalf("warning of kind %q: %s", w.Kind, w)
		}
	}
}

// FuzzParseNetDev is FuzzParseNetwork for .netdev files.
func FuzzParseNetDev(f *testing.F) {
	addSeeds(f, "*.netdev")
	f.Fuzz(func(t *testing.T, data []byte) {
		nf, warns, err := ParseNetDev("fuzz.netdev", data)
		if nf == nil {
			t.Fatalf("no file returned (error %v)", err)
		}
		kindsKnown(t, warns)
		out := nf.Marshal()
		again, _, err2 := ParseNetDev("fuzz.netdev", out)
		if !reflect.DeepEqual(again, nf) {
			t.Fatalf("round trip changed the file:\n got %+v\nwant %+v\n%q", again, nf, out)
		}
		if err == nil && err2 != nil {
			t.Fatalf("marshalled file does not parse: %v\n%q", err2, out)
		}
	})
}

// FuzzParseVersion feeds `systemd-networkd --version` output; a version
// it accepts is a plausible systemd release.
func FuzzParseVersion(f *testing.F) {
	f.Add([]byte("systemd 252 (252.39-1~deb12u2)\n+PAM +AUDIT\n"))
	f.Add([]byte("systemd 257.4-1\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, out []byte) {
		v, err := ParseVersion(out)
		if err == nil && (v < 200 || v > 9999) {
			t.Fatalf("version %d accepted from %q", v, out)
		}
	})
}

// FuzzDropInMerge feeds a main file and one drop-in through the merged
// parse Load uses, and the result through NetworkFor; none may panic,
// whatever the bytes, since Load runs on files an administrator wrote.
func FuzzDropInMerge(f *testing.F) {
	f.Add([]byte("[Match]\nName=eno1\n[Network]\nAddress=192.0.2.10/24\n[Address]\nAddress=198.51.100.7/32\n"),
		[]byte("[Network]\nAddress=\nAddress=203.0.113.9/24\n[Route]\nDestination=10.9.0.0/24\nTable=100\n"))
	f.Add([]byte("[NetDev]\nName=br0\nKind=bridge\n"), []byte("[NetDev]\nKind=veth\n[Peer]\nName=\n"))
	f.Add([]byte("[Match]\nName=!lo\nType=ether\n"), []byte("[Match]\nName=\nKind=!*\n\\"))
	f.Fuzz(func(t *testing.T, main, dropIn []byte) {
		parts := []part{{"main.network", main}, {"main.network.d/50.conf", dropIn}}
		nf, _, _ := parseNetwork(parts)
		c := &Config{Networks: []*Loaded{{Name: "main.network", Network: nf}}}
		c.NetworkFor(model.Link{Name: "eno1", Kind: "veth", LinkType: "ether"})
		_, _, _ = parseNetDev(parts)
	})
}
