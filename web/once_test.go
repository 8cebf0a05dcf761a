package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

func TestOnceRefusesARequestTheBrowserSendsAgain(t *testing.T) {
	s := &Server{cfg: Config{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}, onceSeen: newOnceSeen(4)}
	done := 0
	h := s.once(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { done++ }))
	send := func(method, once string) int {
		r := httptest.NewRequest(method, "/changes", nil)
		if once != "" {
			r.Header.Set(OnceHeader, once)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	steps := []struct {
		name, method, once string
		want, done         int
	}{
		{"a first request is done", "POST", "a", 200, 1},
		{"the same value again is refused", "POST", "a", http.StatusConflict, 1},
		{"a new value is done", "DELETE", "b", 200, 2},
		{"a request without the header is done", "POST", "", 200, 3},
		{"and again", "POST", "", 200, 4},
		{"a GET is never refused", "GET", "b", 200, 5},
	}
	for _, st := range steps {
		if got := send(st.method, st.once); got != st.want || done != st.done {
			t.Errorf("%s: status %d, %d done; want %d, %d", st.name, got, done, st.want, st.done)
		}
	}
	// The oldest values are forgotten once more than the kept number came.
	for i := range 4 {
		send("POST", "x"+strconv.Itoa(i))
	}
	if got := send("POST", "a"); got != 200 {
		t.Errorf("a value older than the kept ones: status %d", got)
	}
	if got := send("POST", "x3"); got != http.StatusConflict {
		t.Errorf("a recent value: status %d", got)
	}
}
