package handlers

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A JSON change over 64 KiB is refused with a message that names the
// limit, not with the decoder's "unexpected EOF"; nothing is applied.
func TestChangeJSONBodyOverTheLimit(t *testing.T) {
	fc := &fakeChanger{}
	h := withChanges(fc)
	post := func(body string) (int, string) {
		req := httptest.NewRequest("POST", "/api/v1/changes", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req = asAdmin(req, "127.0.0.1")
		rec := httptest.NewRecorder()
		route(h, "POST", "/api/v1/changes")(rec, req)
		var out struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		return rec.Code, out.Error
	}
	// A body of exactly n bytes: a link change whose alias pads it out.
	body := func(n int) string {
		head, tail := `{"kind":"link","fields":{"action":"alias","name":"wan","alias":"`, `"}}`
		return head + strings.Repeat("a", n-len(head)-len(tail)) + tail
	}
	if code, msg := post(body(maxJSONBody + 1)); code != http.StatusRequestEntityTooLarge || msg != "request body too large (limit 64 KiB)" {
		t.Fatalf("one byte over: %d %q", code, msg)
	}
	if code, msg := post(body(200 << 10)); code != http.StatusRequestEntityTooLarge || msg != "request body too large (limit 64 KiB)" {
		t.Fatalf("200 KiB: %d %q", code, msg)
	}
	if len(fc.reqs) != 0 {
		t.Fatalf("%d changes applied from bodies over the limit", len(fc.reqs))
	}
	if code, msg := post(body(maxJSONBody)); code == http.StatusRequestEntityTooLarge || strings.Contains(msg, "too large") || strings.Contains(msg, "EOF") {
		t.Fatalf("a body at the limit: %d %q", code, msg)
	}
}
