package handlers

import (
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/go-chi/chi/v5"
	"github.com/netpanel/netpanel/netops/nftables"
)

// The document is OpenAPI 3.1 as kin-openapi's loader reads it, and
// passes its Validate (which checks 3.1 documents' schemas as JSON Schema
// 2020-12): every $ref resolves, every operation has responses, every
// path parameter is declared.
func TestOpenAPIDocumentIsValid31(t *testing.T) {
	b, err := OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	doc := LoadOpenAPI(t, b)
	if !doc.IsOpenAPI31OrLater() || doc.OpenAPI != "3.1.0" {
		t.Fatalf("the document says openapi %q, want 3.1.0", doc.OpenAPI)
	}

	// A broken document is caught: the validator is not blind.
	for name, breakIt := range map[string]func(tree map[string]any){
		"a dangling $ref": func(tree map[string]any) {
			get := tree["paths"].(map[string]any)["/api/v1/links"].(map[string]any)["get"].(map[string]any)
			get["responses"].(map[string]any)["200"].(map[string]any)["content"].(map[string]any)["application/json"] =
				map[string]any{"schema": ref("NoSuchSchema")}
		},
		"a path parameter not declared": func(tree map[string]any) {
			get := tree["paths"].(map[string]any)["/api/v1/changes/{id}"].(map[string]any)["get"].(map[string]any)
			delete(get, "parameters")
		},
	} {
		t.Run(name+" fails validation", func(t *testing.T) {
			var tree map[string]any
			if err := json.Unmarshal(b, &tree); err != nil {
				t.Fatal(err)
			}
			breakIt(tree)
			bad, _ := json.Marshal(tree)
			l := openapi3.NewLoader()
			d, err := l.LoadFromData(bad)
			if err == nil {
				err = d.Validate(l.Context)
			}
			if err == nil {
				t.Fatal("validates")
			}
		})
	}
}

// LoadOpenAPI loads and validates an OpenAPI document with kin-openapi.
func LoadOpenAPI(t testing.TB, b []byte) *openapi3.T {
	t.Helper()
	l := openapi3.NewLoader()
	doc, err := l.LoadFromData(b)
	if err != nil {
		t.Fatalf("loading the document: %v", err)
	}
	if err := doc.Validate(l.Context); err != nil {
		t.Fatalf("the document is not valid: %v", err)
	}
	return doc
}

// badValues are a value each documented query parameter refuses, so that
// a 400 naming it proves the handler reads the parameter the document
// promises. A parameter added to the document needs one here.
var badValues = map[string]string{
	"details": "bad-flag", "all": "bad-all", "proxy": "bad-proxy",
	"family": "bad-family", "table": "bad-table", "page": "bad-page", "per": "5000",
	"contains": "bad-address", "within": "bad-prefix", "dev": "bad-dev", "proto": "bad-proto",
	"type": "bad-type", "sort": "bad-sort", "dir": "bad-dir", "state": "bad-state",
	"port": "70000", "addr": "bad-addr", "seconds": "9999",
	"dst": "bad-dst", "src": "bad-src", "sport": "bad-sport", "dport": "bad-dport", "iif": "bad-iif",
	"uid": "bad-uid", "mark": "bad-mark", "ct_mark": "bad-ct-mark", "ct_state": "bad-ct-state",
}

// Every query parameter the document lists is one its route reads: a bad
// value of it is refused with a 4xx the operation documents and an error
// quoting the value.
func TestOpenAPIParametersAreRead(t *testing.T) {
	// An nftables model, so that the trace reads its fields rather than
	// saying nftables cannot be read.
	h := newHandlers(normalState(), socketsOf(normalSockets()), func(d *Deps) { d.Nftables = nftables.NewStore() })
	r := chi.NewRouter()
	for _, rt := range h.Endpoints() {
		r.Method(rt.Method, rt.Path, rt.Handler)
	}
	ops := apiOps()
	n := 0
	for _, key := range sortedKeys(ops) {
		method, path, _ := strings.Cut(key, " ")
		for _, p := range ops[key].params {
			if p.in != "query" {
				continue
			}
			bad, ok := badValues[p.name]
			if !ok {
				t.Errorf("%s documents ?%s: give it a bad value in badValues", key, p.name)
				continue
			}
			n++
			t.Run(key+" reads ?"+p.name, func(t *testing.T) {
				req := httptest.NewRequest(method, path+"?"+url.Values{p.name: {bad}}.Encode(), nil)
				rec := httptest.NewRecorder()
				r.ServeHTTP(rec, req)
				var e ErrorJSON
				_ = json.Unmarshal(rec.Body.Bytes(), &e)
				_, documented := ops[key].answers[rec.Code]
				if rec.Code/100 != 4 || !documented || !strings.Contains(e.Error, bad) {
					t.Fatalf("?%s=%s: %d %s", p.name, bad, rec.Code, rec.Body)
				}
			})
		}
	}
	if n < 20 {
		t.Fatalf("only %d documented query parameters", n)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

type clashA struct {
	A int `json:"a"`
}

type clashB struct {
	B string `json:"b"`
}

// Two types whose components would have one name are an error, not one
// schema silently standing for both; the same type twice is not.
func TestOpenAPIComponentNamesDoNotClash(t *testing.T) {
	s := newSchemas()
	s.r.Namer = func(reflect.Type) string { return "Clash" }
	s.of(clashA{})
	s.of(clashA{})
	if s.err != nil {
		t.Fatalf("one type twice: %v", s.err)
	}
	s.of(clashB{})
	if s.err == nil || !strings.Contains(s.err.Error(), "Clash") {
		t.Fatalf("two types named Clash: err %v", s.err)
	}
	if got := componentName(reflect.TypeFor[nftables.Document]()); got != "NftablesDocument" {
		t.Errorf("nftables.Document is component %s", got)
	}
}
