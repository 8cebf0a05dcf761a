package networkd

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/netpanel/netpanel/netops/model"
)

// randomKeys is n distinct route keys of a few links and device-less
// ones (an empty link), in random order.
func randomKeys(r *rand.Rand, n int) []routeKey {
	links := []linkName{{}, newLinkName("eth0"), newLinkName("eth1")}
	seen := map[routeKey]bool{}
	var out []routeKey
	for len(out) < n {
		k := routeKey{table: uint32(100 + r.IntN(3)), metric: uint32(r.IntN(2)),
			dst:  newKeyPrefix(netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(r.IntN(4)), byte(r.IntN(256)), 0}), 24)),
			link: links[r.IntN(len(links))], family: 2}
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// queries is what a file's keys are looked up with: mostly runs of
// them in the file's order (a link's live routes when the file was made
// of them), with keys skipped, others of the universe between, and
// some runs in random order.
func queries(r *rand.Rand, order, universe []routeKey) []routeKey {
	var out []routeKey
	for range 1 + r.IntN(6) {
		from := r.IntN(len(order) + 1)
		run := order[from:min(len(order), from+r.IntN(30))]
		for i := 0; i < len(run); i++ {
			switch r.IntN(8) {
			case 0:
				i += r.IntN(4) // skipped
			case 1:
				out = append(out, universe[r.IntN(len(universe))])
			}
			if i < len(run) {
				out = append(out, run[i])
			}
		}
		if r.IntN(3) == 0 {
			r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
		}
	}
	return out
}

// placesOf is a file's keys: a random part of universe, in random order,
// and the place of each.
func placesOf(r *rand.Rand, universe []routeKey) (map[routeKey]int32, []routeKey) {
	var order []routeKey
	for _, k := range universe {
		if r.IntN(3) != 0 {
			order = append(order, k)
		}
	}
	r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	set := make(map[routeKey]int32, len(order))
	for i, k := range order {
		set[k] = int32(i)
	}
	return set, order
}

// keyPlaces.find, the speed path of homelessOf's first file and of
// keptNamed, is the look-up of its set, over random keys and queries:
// whether a key is there and its place.
func TestKeyPlacesFindIsTheSetsLookUp(t *testing.T) {
	r := rand.New(rand.NewPCG(uint64(runsSeed(t)), 41))
	for round := range 300 {
		universe := randomKeys(r, 5+r.IntN(80))
		set, order := placesOf(r, universe)
		places := keyPlaces{set: set, order: order}
		for q, k := range queries(r, order, universe) {
			j, ok := places.find(k)
			want, in := set[k]
			if ok != in || ok && (j != want || order[j] != k) {
				t.Fatalf("round %d, query %d (%v): find says %d, %v; the set %d, %v", round, q, k, j, ok, want, in)
			}
		}
	}
}

// homelessOf tells of a file's keys whether they are among the live
// device-less routes as the set of those does, the first file (a mark
// by place, found through keyPlaces) as the next ones (the set), over
// random keys.
func TestHomelessOfIsTheLiveSet(t *testing.T) {
	r := rand.New(rand.NewPCG(uint64(runsSeed(t)), 43))
	for round := range 300 {
		universe := randomKeys(r, 5+r.IntN(80))
		live := queries(r, universe, universe)
		in := map[routeKey]bool{}
		for _, k := range live {
			in[k] = true
		}
		p := &predictor{routesOf: func(link string) []routeKey {
			if link != "" {
				t.Fatalf("homelessOf asked for the routes of %q", link)
			}
			return live
		}}
		for file := range 3 {
			set, order := placesOf(r, universe)
			homeless := p.homelessOf(set, order)
			for j, k := range order {
				if got := homeless(j, k); got != in[k] {
					t.Fatalf("round %d, file %d, key %d (%v): homeless %v, live %v", round, file, j, k, got, in[k])
				}
			}
		}
	}
}

// keptNamed counts the routes the generated file names from the kept
// runs the same with the file's key places (found in the file's order)
// as with a look-up of each in the coverage, group after group in random
// order over one keyPlaces, as the view does, over random states.
func TestKeptNamedFindsTheFilesKeysEitherWay(t *testing.T) {
	r := rand.New(rand.NewPCG(uint64(runsSeed(t)), 47))
	tables := tableMap{300: "wan"}
	sels := [][]string{{"eth1"}, {"eth2", "br0", "eth0"}, {"br0", "eth0", "eth1", "eth2", "va", "vb", "d0", "iv0"}}
	compared := 0
	for i := range 8 {
		store := model.NewStoreFrom(runsState(r, false, false))
		for _, sel := range sels {
			src := &runReads{countedStore: &countedStore{Store: store}}
			g, err := Generate(src, sel, tables, target252)
			if err != nil {
				t.Fatal(err)
			}
			v := NewForeignViewOf(&Config{}, g.Files, g, src, tables)
			fk := v.cov.keys
			if v.kept == nil || fk == nil {
				continue
			}
			n := map[groupKey]int{}
			for _, k := range fk.order {
				n[groupKey{k.link, k.table}]++
			}
			groups := make([]groupKey, 0, len(n))
			for g := range n {
				groups = append(groups, g)
			}
			r.Shuffle(len(groups), func(i, j int) { groups[i], groups[j] = groups[j], groups[i] })
			places := &keyPlaces{set: fk.set, order: fk.order}
			for _, grp := range groups {
				fast, okFast := v.keptNamed(grp, n[grp], places)
				plain, okPlain := v.keptNamed(grp, n[grp], nil)
				if fast != plain || okFast != okPlain {
					t.Errorf("state %d, %v, group %v: by places %d, %v; by look-up %d, %v", i, sel, grp, fast, okFast, plain, okPlain)
				}
				if okFast && fast > 0 {
					compared++
				}
			}
		}
	}
	if compared < 10 {
		t.Errorf("%d groups counted from the kept runs: the comparison proves little", compared)
	}
}
