package web

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/netpanel/netpanel/handlers"
	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/model"
)

// A viewer sending thousands of views of pages that do not exist writes
// one log line per connection, not one per message.
func TestUnknownViewsLogOncePerConnection(t *testing.T) {
	var logs testenv.LockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	store := model.NewStoreFrom(model.State{})
	ta := newTestAuth(t)
	s := newServer(t, store, nil, ta, func(d *handlers.Deps) { d.Log = log })
	runHub(t, s)
	ts := newHTTPTestServer(t, s)

	for conn := range 2 {
		c := dialPage(t, ts, ta.viewer, "", "")
		for i := range 5000 {
			if err := c.c.WriteJSON(map[string]string{"type": "view", "page": fmt.Sprintf("kittens-%d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		// Views are handled in order: once this one is answered, every
		// earlier one was handled too.
		if err := c.c.WriteJSON(map[string]string{"type": "view", "page": "routes", "query": "table=main"}); err != nil {
			t.Fatal(err)
		}
		c.waitRows(t, 30*time.Second, func(string) bool { return true })
		if n := strings.Count(logs.String(), "kittens-"); n != conn+1 {
			t.Fatalf("after connection %d: %d log lines name an unknown page; want one per connection:\n%.2000s", conn+1, n, logs.String())
		}
	}
}
