package web

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/netpanel/netpanel/handlers"
	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/plan/dockernet"
	"github.com/netpanel/netpanel/netops/plan/persist"
)

// withDocker configures the Docker page: files under dir, the Engine API
// through networks.
func withDocker(store *model.Store, dir string, networks func(context.Context) ([]dockernet.Network, error)) func(*handlers.Deps) {
	return func(d *handlers.Deps) {
		opts := persist.Options{
			NetworkDir: filepath.Join(dir, "network"), ConfDir: filepath.Join(dir, "networkd.conf.d"),
			DockerDir: filepath.Join(dir, "docker"), BackupDir: filepath.Join(dir, "backups"),
		}
		tables := func() *rttables.Tables { return rttables.New() }
		files := app.NewFiles(persist.New(opts, store, tables), nil)
		d.Files, d.Docker = files, app.NewDocker(files, store, tables, app.DockerEngine{Networks: networks})
	}
}

// wait waits for a message of a client that satisfies ok; the bound only
// turns a hang into a failure.
func (w *wsClient) wait(t testing.TB, what string, ok func(m map[string]any) bool) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case m, open := <-w.msgs:
			if !open {
				t.Fatalf("connection closed while waiting for %s", what)
			}
			if ok(m) {
				return
			}
		case <-timeout:
			t.Fatalf("no %s", what)
		}
	}
}

func htmlFrame(target, text string) func(m map[string]any) bool {
	return func(m map[string]any) bool {
		h, _ := m["html"].(string)
		return m["target"] == target && strings.Contains(h, text)
	}
}

const lanNetworks = `[{"Name":"lab","Id":"0123456789abcdef0123","Driver":"bridge",` +
	`"Options":{"com.docker.network.bridge.name":"br-lab"},"IPAM":{"Config":[{"Subnet":"10.20.0.0/16","Gateway":"10.20.0.1"}]}}]`

// A Docker socket that accepts and never answers, watched by 15 tabs of
// the Docker page, does not hold up a /routes tab: its update arrives
// while the Docker render is still waiting on the socket. The Docker tabs
// get their view once the socket answers, from one render at a time.
func TestHungDockerSocketDoesNotDelayOtherPages(t *testing.T) {
	ns := testenv.NewNS(t)
	ns.Batch([]string{"link add v0 type veth peer name v1", "link set v0 up", "link set v1 up", "addr add 10.20.0.1/24 dev v0"})
	store, w := startWatcher(t, ns)
	hung := testenv.NewHungSocket(t)
	client := dockernet.NewClient(hung.Path)
	var returned atomic.Int32 // Engine API reads that have returned
	networks := func(ctx context.Context) ([]dockernet.Network, error) {
		defer returned.Add(1)
		return client.Networks(ctx)
	}
	ta := newTestAuth(t)
	s := newServer(t, store, w, ta, withDocker(store, t.TempDir(), networks))
	// Only the socket's answer may end the render: no deadline interferes.
	s.Hub().RenderTimeout = time.Hour
	runHub(t, s)
	ts := newHTTPTestServer(t, s)

	var dockerTabs []*wsClient
	for i := range 15 {
		dockerTabs = append(dockerTabs, dialPage(t, ts, ta.viewer, "docker", fmt.Sprintf("ranges=10.%d.0.0/16", 100+i%5)))
	}
	select {
	case <-hung.Accepted():
	case <-time.After(30 * time.Second):
		t.Fatal("the Docker page never asked the Engine API")
	}

	routes := dialPage(t, ts, ta.viewer, "routes", "table=main")
	routes.waitRows(t, 30*time.Second, func(h string) bool { return strings.Contains(h, "10.20.0.0/24") })
	ns.IP("route", "add", "198.51.100.0/24", "via", "10.20.0.2")
	routes.waitRows(t, 30*time.Second, func(h string) bool { return strings.Contains(h, "198.51.100.0/24") })
	if n := returned.Load(); n != 0 {
		t.Fatalf("the routes update waited for %d Docker renders", n)
	}

	body := lanNetworks
	hung.Release([]byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)))
	for _, tab := range dockerTabs {
		tab.wait(t, "Docker conflicts naming the network the API reported", htmlFrame("docker-conflicts", "10.20.0.0/16"))
	}
	if n := hung.MaxOpen(); n != 1 {
		t.Errorf("%d Engine API requests were open at once; want one render of the page at a time", n)
	}
}

// A FIFO at daemon.json stops nothing: a plain read would block the hub
// forever; the Docker page says what is wrong and other pages stay live.
func TestFIFOAtDaemonJSONDoesNotStopLiveUpdates(t *testing.T) {
	ns := testenv.NewNS(t)
	ns.Batch([]string{"link add v0 type veth peer name v1", "link set v0 up", "link set v1 up", "addr add 10.20.0.1/24 dev v0"})
	store, w := startWatcher(t, ns)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "docker"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "docker", "daemon.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	ta := newTestAuth(t)
	s := newServer(t, store, w, ta, withDocker(store, dir, nil))
	runHub(t, s)
	ts := newHTTPTestServer(t, s)

	docker := dialPage(t, ts, ta.viewer, "docker", "")
	routes := dialPage(t, ts, ta.viewer, "routes", "table=main")
	docker.wait(t, "a checklist saying daemon.json is a FIFO", htmlFrame("docker-checklist", "is a named pipe (FIFO), not a regular file"))
	ns.IP("route", "add", "198.51.100.0/24", "via", "10.20.0.2")
	routes.waitRows(t, 30*time.Second, func(h string) bool { return strings.Contains(h, "198.51.100.0/24") })
	ns.IP("link", "add", dockernet.DefaultBridge, "type", "bridge")
	docker.wait(t, "a Docker update after the bridge appeared", htmlFrame("docker-checklist", "Bridge "+dockernet.DefaultBridge+" exists"))
}
