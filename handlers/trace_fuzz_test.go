package handlers

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/netpanel/netpanel/netops/nftables"
)

// FuzzTraceAPI: whatever a client POSTs to /api/v1/trace, the answer is
// a trace, a message per bad field or a refusal, in JSON, never a panic
// or a server error.
func FuzzTraceAPI(f *testing.F) {
	h := newHandlers(normalState(), socketsOf(nil), func(d *Deps) {
		d.Nftables, d.Lookup = nftables.NewStoreFrom(&nftables.Ruleset{}), markRouter
	})
	post := route(h, http.MethodPost, "/api/v1/trace")
	for _, s := range []string{
		`{"dst":"203.0.113.5","proto":"udp","sport":40000,"dport":1194}`,
		`{"dst":"2001:db8::1","src":"2001:db8:1::2","iif":"wan","proto":"tcp","dport":"443","ct_state":"established","ct_mark":"0x20"}`,
		`{"dst":"10.0.0.1","uid":1001,"mark":4294967295}`,
		`{"dst":[1,2],"proto":{"x":1}}`, `[]`, `null`, `{"dst":"1.1.1.1"`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/trace", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		post(rec, asAdmin(req, "127.0.0.1"))
		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusUnprocessableEntity:
		default:
			t.Fatalf("%q: status %d: %s", body, rec.Code, rec.Body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%q: the answer is not JSON: %s", body, rec.Body)
		}
	})
}
