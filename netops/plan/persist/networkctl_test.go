package persist_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/plan/persist"
)

// The real networkd over a private system bus: Status asks the bus without
// starting networkd, Links reads networkd's own view, Reload applies a
// changed file and Reconfigure reapplies one link's file.
func TestSystemdTalksToTheRealNetworkd(t *testing.T) {
	ns := testenv.NewNS(t)
	ns.Batch([]string{"link add v0 type veth peer name v1", "link set v1 up"})
	h := testenv.StartNetworkdHost(t, ns)
	sd := persist.Systemd{Bus: h.BusAddress(), Enter: h.EnterNet()}
	ctx := context.Background()
	if st := sd.Status(ctx); !st.Active || st.Text != "active" {
		t.Fatalf("status with networkd running: %+v", st)
	}
	conf := filepath.Join(h.Conf, "10-v0.network")
	h.WriteFile(t, conf, "[Match]\nName=v0\n\n[Network]\nConfigureWithoutCarrier=yes\nAddress=10.55.3.1/24\n")
	if out, err := sd.Reload(ctx); err != nil {
		t.Fatalf("reload: %v: %s", err, out)
	}
	v0 := waitLink(t, sd, "v0", func(l persist.LinkState) bool { return l.State == "configured" })
	if v0.NetworkFile != "/etc/systemd/network/10-v0.network" || !v0.Settled() {
		t.Fatalf("v0 as networkd sees it: %+v", v0)
	}
	if got := ns.Addrs4("v0"); !slices.Equal(got, []string{"10.55.3.1/24"}) {
		t.Fatalf("v0 after the reload: %v", got)
	}
	// A reconfigure reapplies the file: an address deleted by hand is back.
	ns.IP("addr", "del", "10.55.3.1/24", "dev", "v0")
	if out, err := sd.Reconfigure(ctx, v0.Index); err != nil {
		t.Fatalf("reconfigure: %v: %s", err, out)
	}
	for deadline := time.Now().Add(20 * time.Second); !slices.Equal(ns.Addrs4("v0"), []string{"10.55.3.1/24"}); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the reconfigure did not put 10.55.3.1/24 back:\n%s", h.Log())
		}
	}

	h.StopNetworkd()
	st := sd.Status(ctx)
	if st.Active || !strings.Contains(st.Text, "not running") {
		t.Fatalf("status with networkd stopped: %+v", st)
	}
	// Asking did not start it (D-Bus activation would, on a host).
	if st := sd.Status(ctx); st.Active {
		t.Fatal("asking for the status started networkd")
	}
	if _, err := sd.Links(ctx); err == nil {
		t.Error("Links worked with networkd stopped")
	}
}

// Without a bus at all, the status says why rather than "inactive".
func TestSystemdWithoutABusSaysSo(t *testing.T) {
	sd := persist.Systemd{Bus: "unix:path=" + filepath.Join(t.TempDir(), "nobus")}
	if _, err := os.Stat("/usr/bin/busctl"); err != nil {
		testenv.Missing(t, "busctl: %v", err)
	}
	st := sd.Status(context.Background())
	if st.Active || !strings.Contains(st.Text, "D-Bus system bus cannot be asked") {
		t.Fatalf("status without a bus: %+v", st)
	}
}

func waitLink(t *testing.T, sd persist.Systemd, name string, ok func(persist.LinkState) bool) persist.LinkState {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		links, err := sd.Links(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range links {
			if l.Name == name && ok(l) {
				return l
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not as wanted after 20 s: %+v", name, links)
		}
	}
}

func TestParseDescribe(t *testing.T) {
	out := []byte(`{"type":"s","data":["{\"Interfaces\":[{\"Index\":1,\"Name\":\"lo\",\"AdministrativeState\":\"unmanaged\"},{\"Index\":3,\"Name\":\"v0\",\"AdministrativeState\":\"configuring\",\"NetworkFile\":\"/etc/systemd/network/10-v0.network\"}]}"]}`)
	got, err := persist.ParseDescribe(out)
	if err != nil {
		t.Fatal(err)
	}
	want := []persist.LinkState{{Index: 1, Name: "lo", State: "unmanaged"}, {Index: 3, Name: "v0", State: "configuring", NetworkFile: "/etc/systemd/network/10-v0.network"}}
	if !slices.Equal(got, want) {
		t.Fatalf("got %+v", got)
	}
	if got[1].Settled() || !got[0].Settled() {
		t.Error("configuring counts as settled, or unmanaged does not")
	}
	for _, bad := range []string{``, `{}`, `{"data":[]}`, `{"data":["x"]}`, `{"data":["{\"Interfaces\":3}"]}`} {
		if _, err := persist.ParseDescribe([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func FuzzParseDescribe(f *testing.F) {
	f.Add([]byte(`{"type":"s","data":["{\"Interfaces\":[{\"Index\":3,\"Name\":\"v0\",\"AdministrativeState\":\"configured\"}]}"]}`))
	f.Add([]byte(`{"data":["{}"]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		links, err := persist.ParseDescribe(data)
		if err != nil && links != nil {
			t.Fatal("links with an error")
		}
	})
}
