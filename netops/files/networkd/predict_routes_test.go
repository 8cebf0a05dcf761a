package networkd

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// perCallWalk is how the predictor found a link's live routes before it
// indexed them: a walk over every route at each call.
func perCallWalk(st Source) func(link string) []routeKey {
	byIndex := indexLinks(st)
	return func(link string) []routeKey {
		var out []routeKey
		st.EachRoute(func(r *model.Route) bool {
			if !wantedRoute(r) || r.Protocol == unix.RTPROT_DHCP {
				return true
			}
			if k := liveRouteKey(r, &linkNames{byIndex: byIndex}); k.link == newLinkName(link) {
				out = append(out, k)
			}
			return true
		})
		return out
	}
}

// The live routes read per link from the store's runs, or from one walk
// when it has none or a route has several paths, predict what the walk
// per call predicted: on links configured anew, let go of and created, in
// three tables, with device-less routes, routes of a link that is gone and
// DHCP routes.
func TestPredictReadsRoutesOncePerLinkAsThePerCallWalk(t *testing.T) {
	c := loadFiles(t, map[string]string{
		"10-eth2.network": "[Match]\nName=eth2\n\n[Route]\nDestination=10.1.4.0/24\nTable=200\n\n[Route]\nDestination=10.1.9.0/24\n",
		"10-vb.network":   "[Match]\nName=vb\n\n[Route]\nDestination=10.1.6.0/24\n",
	})
	pendings := map[string]Files{
		"one link": {"10-eth1.network": []byte("[Match]\nName=eth1\n\n[Route]\nGateway=192.0.2.1\n\n[Route]\nType=blackhole\nDestination=10.1.0.0/24\n")},
		"several links, one let go of, one created": {
			"10-eth1.network": []byte("[Match]\nName=eth1\n\n[Route]\nDestination=10.1.15.0/24\nTable=100\n"),
			"10-br0.network":  []byte("[Match]\nName=br0\n\n[Network]\nKeepConfiguration=static\n"),
			"10-eth2.network": nil,
			"10-new0.netdev":  []byte("[NetDev]\nName=new0\nKind=dummy\n"),
			"10-new0.network": []byte("[Match]\nName=new0\n\n[Route]\nType=unreachable\nDestination=10.1.1.0/24\n"),
		},
		"every link": {
			"10-all.network": []byte("[Match]\nName=*\n\n[Route]\nDestination=198.51.100.0/24\nTable=200\n"),
			"10-vb.network":  nil,
		},
	}
	for _, mp := range []bool{false, true} {
		state := streamState(mp)
		state.Routes = append(state.Routes,
			model.Route{Family: unix.AF_INET, Table: 100, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC, Dst: netip.MustParsePrefix("10.200.0.0/24"), LinkIndex: 99},
			model.Route{Family: unix.AF_INET, Table: 254, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_DHCP, Dst: netip.MustParsePrefix("10.201.0.0/24"), LinkIndex: 4})
		store := model.NewStoreFrom(state)
		for _, src := range []struct {
			name string
			st   Source
		}{{"store", store}, {"walk only", walkOnly{store}}} {
			for name, pending := range pendings {
				want := predict(c, pending, nil, src.st, DaemonConf{}, perCallWalk(src.st))
				got := Predict(c, pending, src.st, DaemonConf{})
				if !reflect.DeepEqual(got, want) {
					t.Errorf("multipath %v, %s, %s:\n%s\nwant:\n%s", mp, src.name, name,
						strings.Join(effects(got.Effects), "\n"), strings.Join(effects(want.Effects), "\n"))
				}
				if !strings.Contains(strings.Join(effects(want.Effects), "\n"), "remove route") {
					t.Errorf("multipath %v, %s, %s: no route removed, the comparison proves little:\n%s", mp, src.name, name, strings.Join(effects(want.Effects), "\n"))
				}
			}
		}
	}
}

// The route effects, which the predictor finds by the places of a file's
// keys (fileKeys.set) rather than by sets of a link's live routes and of
// the device-less ones, are the ones those sets give: over random files
// for random links, naming some of their live routes, some new ones,
// some twice, device-less routes live or not, in files of several links.
func TestPredictRouteEffectsAreTheSetsOnes(t *testing.T) {
	tables := DaemonConf{}.tableNames()
	compared := 0
	for seed := range uint64(24) {
		rnd := rand.New(rand.NewPCG(seed, 17))
		store := model.NewStoreFrom(streamState(false))
		var routes []model.Route
		store.EachRoute(func(r *model.Route) bool {
			routes = append(routes, *r)
			return true
		})
		section := func(r model.Route) string {
			s := fmt.Sprintf("[Route]\nDestination=%s\nTable=%d\nMetric=%d\n", r.Dst, r.Table, r.Priority)
			if r.Gateway.IsValid() {
				s += "Gateway=" + r.Gateway.String() + "\n"
			}
			switch r.Type {
			case unix.RTN_BLACKHOLE:
				s += "Type=blackhole\n"
			case unix.RTN_UNREACHABLE:
				s += "Type=unreachable\n"
			}
			return s + "\n"
		}
		pending := Files{}
		byIndex := indexLinks(store)
		for _, link := range []string{"br0", "eth1", "eth2", "va", "vb"} {
			if rnd.IntN(3) == 0 {
				continue
			}
			text := "[Match]\nName=" + link + "\n\n"
			for _, r := range routes {
				if byIndex[r.LinkIndex].Name != link && r.LinkIndex != 0 || rnd.IntN(4) == 0 {
					continue
				}
				if r.LinkIndex == 0 && rnd.IntN(3) != 0 {
					continue // a third of the device-less routes, per file
				}
				text += section(r)
				if rnd.IntN(20) == 0 {
					text += section(r) // twice
				}
			}
			for i := range rnd.IntN(30) {
				r := model.Route{Family: unix.AF_INET, Table: 254, Type: unix.RTN_UNICAST,
					Dst: netip.PrefixFrom(netip.AddrFrom4([4]byte{172, 20, byte(seed), byte(i)}), 32)}
				if i%3 == 0 {
					r.Type = unix.RTN_BLACKHOLE
				}
				text += section(r)
			}
			pending["10-"+link+".network"] = []byte(text)
		}
		got := Predict(&Config{}, pending, store, DaemonConf{})
		// The sets' effects, of each link the prediction reconfigured.
		walk := perCallWalk(store)
		homeless := map[routeKey]bool{}
		for _, k := range walk("") {
			homeless[k] = true
		}
		var want []string
		for _, link := range got.Reconfigured {
			nf, _, err := ParseNetwork("10-"+link+".network", pending["10-"+link+".network"])
			if err != nil {
				t.Fatal(err)
			}
			fk := keysOf(nf, link, &tableResolver{}, nil)
			mine := walk(link)
			have, named := map[routeKey]bool{}, true
			for _, k := range mine {
				have[k] = true
				named = named && !k.link.isNone()
				if _, in := fk.set[k]; !in && !k.link.isNone() {
					want = append(want, routeEffectOf("remove", k, tables).String())
				}
			}
			for _, k := range fk.order {
				if (named && k.link.isNone() || !have[k]) && !homeless[k] {
					want = append(want, routeEffectOf("add", k, tables).String())
				}
			}
		}
		var gotR []string
		for _, e := range got.Effects {
			if e.Kind == "route" {
				gotR = append(gotR, e.String())
			}
		}
		slices.Sort(gotR)
		slices.Sort(want)
		if !slices.Equal(gotR, want) {
			t.Fatalf("seed %d, links %v: route effects\n%s\nwant:\n%s", seed, got.Reconfigured, strings.Join(gotR, "\n"), strings.Join(want, "\n"))
		}
		compared += len(want)
	}
	if compared < 200 {
		t.Errorf("%d route effects compared: the comparison proves little", compared)
	}
}
