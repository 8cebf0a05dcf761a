package networkd

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/netpanel/netpanel/netops"
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
	} {
		f.Add([]byte(s))
	}
}

// FuzzParseNetwork checks ParseNetwork never panics and that every file it
// accepts comes back unchanged through Marshal.
func FuzzParseNetwork(f *testing.F) {
	addSeeds(f, "*.network")
	f.Fuzz(func(t *testing.T, data []byte) {
		nf, _, err := ParseNetwork("fuzz.network", data)
		if err != nil {
			return
		}
		out := nf.Marshal()
		again, _, err := ParseNetwork("fuzz.network", out)
		if err != nil {
			t.Fatalf("marshalled file does not parse: %v\n%q", err, out)
		}
		if !reflect.DeepEqual(again, nf) {
			t.Fatalf("round trip changed the file:\n got %+v\nwant %+v\n%q", again, nf, out)
		}
	})
}

// FuzzParseNetDev is FuzzParseNetwork for .netdev files.
func FuzzParseNetDev(f *testing.F) {
	addSeeds(f, "*.netdev")
	f.Fuzz(func(t *testing.T, data []byte) {
		nf, _, err := ParseNetDev("fuzz.netdev", data)
		if err != nil {
			return
		}
		out := nf.Marshal()
		again, _, err := ParseNetDev("fuzz.netdev", out)
		if err != nil {
			t.Fatalf("marshalled file does not parse: %v\n%q", err, out)
		}
		if !reflect.DeepEqual(again, nf) {
			t.Fatalf("round trip changed the file:\n got %+v\nwant %+v\n%q", again, nf, out)
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
		c.NetworkFor(netops.Link{Name: "eno1", Kind: "veth", LinkType: "ether"})
		_, _, _ = parseNetDev(parts)
	})
}
