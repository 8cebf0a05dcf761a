package networkd

import (
	"net/netip"
	"reflect"
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
