package networkd

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unique"
	"unsafe"
)

// A parsed file holds no piece of the text it was read from: every
// string in it is unique's copy (keep), so a Loader that keeps a million
// routes' files parsed does not keep their tens of MB of text too. Run
// over every file of testdata (all modelled keys, unknown keys kept as
// written, drop-ins' kinds of values).
func TestParsedFilesHoldNoPieceOfTheirText(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "*"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("testdata: %v %v", paths, err)
	}
	extra := "[Match]\nName=!eth* wl0\n\n[Network]\nVXLAN=vx0\nNotAKey=kept as written\n\n[Route]\nGateway=_dhcp4\nTable=main\nProtocol=static\nUnknownRouteKey=x y\n\n[Bogus]\nKey=value\n"
	files := map[string][]byte{"99-extra.network": []byte(extra)}
	for _, p := range paths {
		if strings.HasSuffix(p, ".network") || strings.HasSuffix(p, ".netdev") {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			files[filepath.Base(p)] = data
		}
	}
	checked := 0
	for name, data := range files {
		var v any
		if strings.HasSuffix(name, ".network") {
			v, _, _ = ParseNetwork(name, data)
		} else {
			v, _, _ = ParseNetDev(name, data)
		}
		eachString(reflect.ValueOf(v), func(path, s string) {
			checked++
			if c := unique.Make(s).Value(); unsafe.StringData(c) != unsafe.StringData(s) {
				t.Errorf("%s: %s = %q is a piece of the file's text, not kept apart from it", name, path, s)
			}
		})
	}
	if checked < 50 {
		t.Fatalf("only %d strings checked", checked)
	}
}

// eachString calls fn with every non-empty string reachable from v.
func eachString(v reflect.Value, fn func(path, s string)) {
	var walk func(v reflect.Value, path string)
	walk = func(v reflect.Value, path string) {
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if !v.IsNil() {
				walk(v.Elem(), path)
			}
		case reflect.Struct:
			for i := range v.NumField() {
				if f := v.Type().Field(i); f.IsExported() {
					walk(v.Field(i), path+"."+f.Name)
				}
			}
		case reflect.Slice, reflect.Array:
			if v.Type().Elem().Kind() == reflect.Uint8 {
				return // bytes (a MAC address) are parsed, not text
			}
			for i := range v.Len() {
				walk(v.Index(i), path+"[]")
			}
		case reflect.Map:
			for _, k := range v.MapKeys() {
				walk(v.MapIndex(k), path+"{}")
			}
		case reflect.String:
			if s := v.String(); s != "" {
				fn(path, s)
			}
		}
	}
	walk(v, "")
}

// A number or boolean setting points to one value per value, shared by
// every route and file that sets it (parsed files are read-only): a
// Loader keeps a million routes' metrics without a pointer each. Distinct
// values keep distinct pointers, and numbers written otherwise than in
// plain decimal come back in decimal.
func TestParsedNumbersAndBooleansAreShared(t *testing.T) {
	route := func(metric, table, onlink string) string {
		return "[Route]\nDestination=10.0.0.0/24\nGateway=10.0.0.1\nMetric=" + metric + "\nTable=" + table + "\nGatewayOnLink=" + onlink + "\n"
	}
	a, _, err := ParseNetwork("a.network", []byte(route("100", "0x65", "yes")+"\n"+route("100", "0101", "no")+"\n"+route("200", "101", "true")))
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := ParseNetwork("b.network", []byte(route("100", "101", "on")))
	if err != nil {
		t.Fatal(err)
	}
	r, other := a.Routes, b.Routes[0]
	if r[0].Metric != r[1].Metric || r[0].Metric != other.Metric || *r[0].Metric != 100 {
		t.Errorf("Metric=100 of three routes in two files: pointers %p %p %p", r[0].Metric, r[1].Metric, other.Metric)
	}
	if r[2].Metric == r[0].Metric || *r[2].Metric != 200 {
		t.Errorf("Metric=200 is %d, sharing Metric=100's pointer %v", *r[2].Metric, r[2].Metric == r[0].Metric)
	}
	if r[0].GatewayOnLink != r[2].GatewayOnLink || r[0].GatewayOnLink != other.GatewayOnLink || !*r[0].GatewayOnLink || *r[1].GatewayOnLink {
		t.Errorf("GatewayOnLink yes/no/true/on: %v %v %v %v", *r[0].GatewayOnLink, *r[1].GatewayOnLink, *r[2].GatewayOnLink, *other.GatewayOnLink)
	}
	for i, rt := range append(r, other) {
		if rt.Table != "101" {
			t.Errorf("route %d: Table=%q, want 101", i, rt.Table)
		}
	}
	// Which numbers are shared does not depend on what was parsed
	// before: after a file of thousands of distinct metrics, two files
	// that set a small one still share it.
	var many strings.Builder
	for m := range 5000 {
		many.WriteString(route(strconv.Itoa(5000+m), "main", "yes") + "\n")
	}
	if _, _, err := ParseNetwork("many.network", []byte(many.String())); err != nil {
		t.Fatal(err)
	}
	x, _, err := ParseNetwork("x.network", []byte(route("3999", "main", "yes")))
	if err != nil {
		t.Fatal(err)
	}
	y, _, err := ParseNetwork("y.network", []byte(route("3999", "main", "yes")+"\n"+route("4242017", "main", "yes")))
	if err != nil {
		t.Fatal(err)
	}
	if m := x.Routes[0].Metric; m != y.Routes[0].Metric || *m != 3999 {
		t.Errorf("Metric=3999 of two files, after 5000 other metrics: pointers %p %p", m, y.Routes[0].Metric)
	}
	if *y.Routes[1].Metric != 4242017 {
		t.Errorf("Metric=4242017 is %d", *y.Routes[1].Metric)
	}
	// A write through a shared value is what no reader may do; the
	// package's TestMain looks for one after every test. Put back at
	// once.
	m := x.Routes[0].Metric
	*m = 7
	found := sharedIntact()
	*m = 3999
	if found == nil {
		t.Fatal("a write through a shared metric goes unseen")
	}
}
