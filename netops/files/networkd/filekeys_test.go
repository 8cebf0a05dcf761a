package networkd

import (
	"maps"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"testing"

	"github.com/netpanel/netpanel/netops/model"
)

// The keys a Generated keeps of its files' routes (routeKeys) are the
// keys every reader makes of them, whatever tables it declares or names:
// the prediction's and the foreign view's, which share them; each once,
// in the file's order. It keeps none of a file not its own, of one with a
// table by name, or when its files hold more routes than it keeps.
func TestGeneratedRouteKeysAreEveryReadersKeys(t *testing.T) {
	r := rand.New(rand.NewPCG(uint64(runsSeed(t)), 37))
	readers := []*tableResolver{{}, {declared: map[string]uint32{"wan": 300, "x": 100}}, {tables: tableMap{300: "wan", 200: "two"}}}
	routes := 0
	for range 6 {
		st := model.NewStoreFrom(runsState(r, false, false))
		g, err := Generate(st, []string{"br0", "eth0", "eth1", "eth2", "va", "vb", "d0", "iv0"}, tableMap{300: "wan"}, target252)
		if err != nil {
			t.Fatal(err)
		}
		for name, nf := range g.Networks {
			link := nf.Match.Name[0]
			fk := g.routeKeys(nf, link)
			if fk == nil {
				t.Fatalf("%s: no keys kept", name)
			}
			if again := g.routeKeys(nf, link); again != fk {
				t.Errorf("%s: the keys were made again", name)
			}
			for _, res := range readers {
				set, order := map[routeKey]int32{}, []routeKey(nil)
				rs, _ := fileRoutes(nf)
				for rt := range rs {
					if k, ok := fileRouteKey(rt, newLinkName(link), res); ok {
						if _, seen := set[k]; !seen {
							set[k] = int32(len(order))
							order = append(order, k)
						}
					}
				}
				if !maps.Equal(set, fk.set) || !slices.Equal(order, fk.order) {
					t.Errorf("%s: the kept keys differ from a reader's with %+v", name, res)
				}
			}
			routes += len(fk.order)
			copied := *nf
			if g.routeKeys(&copied, link) != nil {
				t.Errorf("%s: keys kept of a copy, not Generate's own", name)
			}
		}
	}
	if routes < 200 {
		t.Errorf("%d routes' keys compared: the comparison proves little", routes)
	}
	dst := netip.MustParsePrefix("10.1.0.0/16")
	named := &NetworkFile{Routes: []Route{{Destination: dst, Table: "100"}, {Destination: dst, Table: "100"}, {Destination: dst, Table: "wan"}}}
	g := &Generated{Networks: map[string]*NetworkFile{"10-x.network": named}, keys: &generatedKeys{}}
	if g.routeKeys(named, "x") != nil {
		t.Error("keys kept of a file with a table by name")
	}
	named.Routes[2].Table = "300"
	g.keys = &generatedKeys{}
	if fk := g.routeKeys(named, "x"); fk == nil || len(fk.order) != 2 || len(fk.set) != 2 {
		t.Errorf("the keys of a file of two routes, one twice, in tables by number: %+v", fk)
	}
	limit := maxKeptKeys
	t.Cleanup(func() { maxKeptKeys = limit })
	maxKeptKeys = 1
	g.keys = &generatedKeys{}
	if g.routeKeys(named, "x") != nil {
		t.Error("keys kept of more routes than maxKeptKeys")
	}
}

// The foreign view of a preview of one link with no other file shares
// the kept keys as its coverage, and the prediction takes them too.
func TestOneFilesCoverageIsItsKeptKeys(t *testing.T) {
	st := model.NewStoreFrom(runsState(rand.New(rand.NewPCG(uint64(runsSeed(t)), 38)), false, false))
	g, err := Generate(st, []string{"eth1"}, nil, target252)
	if err != nil {
		t.Fatal(err)
	}
	nf := g.Networks["10-eth1.network"]
	fk := g.routeKeys(nf, "eth1")
	if fk == nil || len(fk.set) == 0 {
		t.Fatal("no keys kept of eth1's routes")
	}
	c := loadFiles(t, map[string]string{})
	fv := NewForeignViewOf(c, g.Files, g, st, nil)
	if reflect.ValueOf(fv.cov.routes).UnsafePointer() != reflect.ValueOf(fk.set).UnsafePointer() {
		t.Error("the coverage made its own keys of the only file")
	}
	p := &predictor{gen: g, res: &tableResolver{}}
	if set, _ := p.fileKeys(&Loaded{Network: nf}, "eth1"); reflect.ValueOf(set).UnsafePointer() != reflect.ValueOf(fk.set).UnsafePointer() {
		t.Error("the prediction made its own keys of Generate's file")
	}
}

// A file naming a route twice has each key once in order, and set holds
// the place of each in order (the prediction marks a link's keys by it).
func TestFileKeysPlacesWithDuplicates(t *testing.T) {
	data := "[Match]\nName=eth1\n[Network]\nGateway=10.0.0.9\n"
	for _, d := range []string{"10.1.0.0/16", "10.2.0.0/16", "10.1.0.0/16", "10.3.0.0/16", "10.2.0.0/16", "10.4.0.0/16", "10.1.0.0/16"} {
		data += "[Route]\nDestination=" + d + "\nGateway=10.0.0.1\n"
	}
	nf, _, err := ParseNetwork("a.network", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	fk := keysOf(nf, "eth1", &tableResolver{}, nil)
	if len(fk.order) != 5 || len(fk.set) != 5 {
		t.Fatalf("%d keys in order, %d in the set; want 5 (4 destinations and the Gateway=)", len(fk.order), len(fk.set))
	}
	for i, k := range fk.order {
		if j, ok := fk.set[k]; !ok || j != int32(i) {
			t.Errorf("key %d (%s) has place %d, %v in the set", i, k.dst, j, ok)
		}
	}
}
