package handlers

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

func socketsHandler(h *Handlers) http.HandlerFunc { return pageHandler(h, "sockets") }

func TestSocketsPageShowsSocketsAsSsDoes(t *testing.T) {
	runChecks(t, socketsHandler, []pageCheck{
		{"every socket is a row in ss's columns", normalHandlers, "/sockets",
			checkAll(wantRowCount(5), wantText("rows", "tcp", "LISTEN", "0.0.0.0:22", "0.0.0.0:*", "128", "[::]:80", "[::]:*", "TIME-WAIT", "198.51.100.7:50123"))},
		{"owning processes read like ss -p", normalHandlers, "/sockets",
			wantText("rows", `users:(("sshd",pid=812,fd=3))`, `users:(("nginx",pid=900,fd=6),("nginx",pid=901,fd=6))`)},
		{"a socket bound to a device shows it after the address", normalHandlers, "/sockets", wantText("rows", "172.17.0.1%docker0:53")},
		{"listening keeps TCP listeners and unconnected UDP", normalHandlers, "/sockets?state=listening", wantRowCount(3)},
		{"established and tcp keep the ssh session", normalHandlers, "/sockets?state=established&proto=tcp",
			wantKeys("tcp|192.0.2.10:22|198.51.100.7:50123|1003")},
		{"the port filter matches either end", normalHandlers, "/sockets?port=22", wantRowCount(2)},
		{"the address filter takes a prefix", normalHandlers, "/sockets?addr=198.51.100.0/24", wantRowCount(1)},
		{"the protocol filter keeps UDP", normalHandlers, "/sockets?proto=udp", wantRowCount(1)},
		{"the commands are ss and netstat", normalHandlers, "/sockets", wantCmds("ss -tuna", "netstat -tuna", "ss -tlnp", "netstat -tlnp")},
		{"5,000 sockets are paged", largeHandlers, "/sockets", checkAll(wantRowCount(100), wantText("pager", "1–100 of 5,000"))},
		{"the last page of 5,000 sockets", largeHandlers, "/sockets?page=50", checkAll(wantRowCount(100), wantText("pager", "4,901–5,000 of 5,000"))},
	})
}

func TestSocketsListErrorShowsABannerNotA500(t *testing.T) {
	for _, fragment := range []bool{false, true} {
		rec := serve(t, pageHandler(failingHandlers(), "sockets"), "/sockets", fragment)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d", rec.Code)
		}
		doc := parseHTML(t, rec.Body.String())
		b := findAll(doc, hasAttr("data-testid", "error"))
		if want := "cannot list sockets: sock_diag: permission denied"; len(b) != 1 || textOf(b[0]) != want {
			t.Errorf("fragment=%v: banner %q, want %q", fragment, textOf(doc), want)
		}
	}
	frags, err := failingHandlers().Live(context.Background(), "sockets", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range frags {
		if f.Target == "summary" && !strings.Contains(string(f.HTML), "cannot list sockets") {
			t.Errorf("live summary %q does not say why the table is empty", f.HTML)
		}
	}
}
