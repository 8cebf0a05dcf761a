package handlers

import (
	"io"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"

	"github.com/netpanel/netpanel/netops/model"
)

var (
	bigOnce  sync.Once
	bigStore *model.Store
)

// millionRoutes is a store with 1,000,000 IPv4 routes over four tables,
// two default routes and a few links, built without a kernel: the render
// path is what is measured.
func millionRoutes() *model.Store {
	bigOnce.Do(func() {
		st := model.State{Links: []model.Link{
			{Index: 1, Name: "lo", RawFlags: 0x10049, MTU: 65536, OperState: "UNKNOWN"},
			{Index: 2, Name: "wan", RawFlags: 0x11043, MTU: 1500, OperState: "UP"},
			{Index: 3, Name: "vpn0", RawFlags: 0x11043, MTU: 1420, OperState: "UP"},
		}}
		st.Routes = make([]model.Route, 0, 1_000_002)
		// The uplink's default routes, in main and in a policy table, as
		// the overview reads them.
		for _, table := range []uint32{254, 100} {
			st.Routes = append(st.Routes, model.Route{Family: 2, Table: table, Type: 1, Protocol: 4, LinkIndex: 2,
				Dst: netip.MustParsePrefix("0.0.0.0/0"), Gateway: netip.AddrFrom4([4]byte{192, 0, 2, 1})})
		}
		for i := range 1_000_000 {
			st.Routes = append(st.Routes, model.Route{
				Family: 2, Table: uint32(100 + i%4), Type: 1, Protocol: 4, LinkIndex: int32(2 + i%2),
				Dst:     netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 32),
				Gateway: netip.AddrFrom4([4]byte{192, 0, 2, 1}),
			})
		}
		bigStore = model.NewStoreFrom(st)
	})
	return bigStore
}

// BenchmarkRoutesPageRender1M measures a full server render of a filtered,
// paged routes fragment over a million routes (target: 20 ms).
func BenchmarkRoutesPageRender1M(b *testing.B) {
	h := New(Deps{Store: millionRoutes()})
	for _, bc := range []struct{ name, query string }{
		{"all tables, within /16, page 3", "table=all&within=10.1.0.0/16&page=3"},
		{"one table, first page", "table=101"},
		{"all tables sorted by metric", "table=all&sort=metric&dev=wan"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest("GET", "/routes?"+bc.query, nil)
				req.Header.Set("HX-Request", "true")
				req.Header.Set("HX-Target", "content")
				rec := httptest.NewRecorder()
				pageHandler(h, "routes")(rec, req)
				if rec.Code != 200 {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
				_, _ = io.Copy(io.Discard, rec.Body)
			}
		})
	}
}
