package networkd

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/netops/model"
)

// Generated.Networks, which the preview hands to the foreign view and the
// prediction in place of the bytes, must be what networkd reads: for
// every .network of random states' files (TestGenerateFromRunsAsTheWalk's,
// every selection kind, networkd 252 and an older one) and of the
// hand-built ones (addresses of every kind, rules, stacked links),
// ParseNetwork of the bytes gives the structure, which rendered anew
// gives the bytes (Generate renders each route once, to check it, and
// the file takes that text), and Networks holds exactly the .network
// files.
func TestGeneratedNetworksAreTheirParse(t *testing.T) {
	r := rand.New(rand.NewPCG(uint64(runsSeed(t)), 23))
	names := []string{"lo", "br0", "eth0", "eth1", "eth2", "va", "vb", "d0", "iv0"}
	tables := tableMap{300: "wan"}
	compared, routes := 0, 0
	check := func(name string, g *Generated) {
		t.Helper()
		var paths []string
		for _, p := range g.Files.Paths() {
			if strings.HasSuffix(p, ".network") {
				paths = append(paths, p)
			}
		}
		var have []string
		for p := range g.Networks {
			have = append(have, p)
		}
		slices.Sort(have)
		if !slices.Equal(have, paths) {
			t.Fatalf("%s: Networks holds %v, the files are %v", name, have, paths)
		}
		for _, p := range paths {
			parsed, warn, err := ParseNetwork(p, g.Files[p])
			if err != nil {
				t.Fatalf("%s: %s does not parse: %v", name, p, err)
			}
			if !reflect.DeepEqual(parsed, g.Networks[p]) {
				t.Fatalf("%s: %s parses to\n%#v\nGenerated.Networks has\n%#v\nwarnings %v", name, p, parsed, g.Networks[p], warn)
			}
			// The file's [Route] sections are those fits checked, taken
			// as they are: rendered anew they are the same bytes.
			lines := strings.SplitAfter(string(g.Files[p]), "\n")
			header := ""
			for _, l := range lines {
				if !strings.HasPrefix(l, "#") {
					break
				}
				header += l
			}
			if again := parsed.MarshalWithHeader(strings.TrimSuffix(header, "\n")); !bytes.Equal(again, g.Files[p]) {
				t.Fatalf("%s: %s rendered anew differs:\n%s\nthe file:\n%s", name, p, again, g.Files[p])
			}
			compared++
			routes += len(parsed.Routes)
		}
	}
	for i := range 40 {
		st := model.NewStoreFrom(runsState(r, i%4 == 3, false))
		for _, sel := range runsSelections(r, names) {
			target := target252
			if r.IntN(3) == 0 {
				target = Target{Version: 244}
			}
			name := fmt.Sprintf("state %d, %v, networkd %d", i, sel, target.Version)
			g, err := Generate(st, sel, tables, target)
			if err != nil {
				continue // lo alone, a lower link not selected
			}
			check(name, g)
		}
	}
	for _, hand := range []struct {
		name  string
		st    *fakeSource
		links []string
	}{
		{"fakeState", fakeState(), []string{"br0", "vethA", "vethB", "eth0"}},
		{"stackedState", stackedState(), []string{"br0", "vethA", "vethB", "eth0", "vx100", "vx200", "vx300", "mv0", "mv1"}},
		{"predictState", predictState(), []string{"wan", "lan"}},
	} {
		g, err := Generate(hand.st, hand.links, tables, target252)
		if err != nil {
			t.Fatalf("%s: %v", hand.name, err)
		}
		check(hand.name, g)
	}
	t.Logf("compared %d files, %d routes", compared, routes)
	if compared < 200 || routes < 5000 {
		t.Errorf("compared %d files with %d routes: want more", compared, routes)
	}
}
