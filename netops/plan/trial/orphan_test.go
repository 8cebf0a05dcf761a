package trial_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Drop-ins of a name no main file has yet wait on disk: networkd applies
// them once a save writes the main file and reloads. The real networkd
// does (c0 takes the drop-in's MTU and route, and not those of the
// drop-ins an /etc drop-in of the same name hides in /run, by content or
// as a symlink to /dev/null), and the save's prediction says so: what
// networkd did is what was predicted, nothing missing or unexpected.
func TestOrphanDropInAppliesOnceItsMainFileIsSaved(t *testing.T) {
	e := newEnv(t, time.Minute, "")
	dropIns := filepath.Join(e.h.Conf, "10-c0.network.d")
	e.h.WriteFile(t, filepath.Join(dropIns, "a.conf"), "[Link]\nMTUBytes=1400\n\n[Route]\nDestination=198.51.100.0/24\nGateway=10.78.5.2\n")
	if err := os.Symlink("/dev/null", filepath.Join(dropIns, "gone.conf")); err != nil {
		t.Fatal(err)
	}
	// /run/systemd/network, lower than /etc: networkd reads it in the
	// host's mount namespace; netpanel's Loader does not read it here,
	// and need not, as /etc hides both.
	run := "mkdir -p /run/systemd/network/10-c0.network.d && cd /run/systemd/network/10-c0.network.d && " +
		"printf '[Link]\\nMTUBytes=1300\\n\\n[Route]\\nDestination=203.0.113.0/24\\nGateway=10.78.5.2\\n' >a.conf && " +
		"printf '[Route]\\nDestination=192.0.2.128/25\\nGateway=10.78.5.2\\n' >gone.conf && chmod -R a+rX /run/systemd/network"
	if out, err := e.h.Command("sh", "-c", run).CombinedOutput(); err != nil {
		t.Fatalf("writing /run's drop-ins: %v\n%s", err, out)
	}
	e.h.Networkctl(t, "reload")
	if l := e.a.IP("link", "show", "c0"); !strings.Contains(l, "mtu 1500") {
		t.Fatalf("drop-ins without a main file changed c0: %s", l)
	}

	_, rep := e.try(t, map[string]string{"10-c0.network": "[Match]\nName=c0\n\n[Network]\nAddress=10.78.5.1/24\nConfigureWithoutCarrier=yes\nLinkLocalAddressing=no\n"})
	want := []string{"add address 10.78.5.1/24 dev c0", "add route 198.51.100.0/24 via 10.78.5.2 dev c0", "set link c0 mtu 1400"}
	if got := effectStrings(rep.Prediction.Effects); !sameSet(got, want) {
		t.Errorf("predicted %q, want %q", got, want)
	}
	if !rep.Live || len(rep.Missing) > 0 || len(rep.Unexpected) > 0 {
		t.Errorf("live %v, observed %q; missing %q, unexpected %q\n%s", rep.Live, effectStrings(rep.Observed),
			effectStrings(rep.Missing), effectStrings(rep.Unexpected), e.h.Log())
	}
	// What networkd did, as ip prints it.
	if l := e.a.IP("link", "show", "c0"); !strings.Contains(l, "mtu 1400") {
		t.Errorf("c0 did not take the drop-in's MTU: %s", l)
	}
	routes := e.a.IP("route", "show", "dev", "c0")
	if !strings.Contains(routes, "198.51.100.0/24 via 10.78.5.2") || strings.Contains(routes, "203.0.113.0/24") || strings.Contains(routes, "192.0.2.128/25") {
		t.Errorf("c0's routes: want the /etc drop-in's only\n%s", routes)
	}
	if !slices.Contains(e.a.Addrs4("c0"), "10.78.5.1/24") {
		t.Errorf("c0's addresses: %v", e.a.Addrs4("c0"))
	}
	// networkd reads /run's drop-ins here: one nothing hides applies,
	// so the hidden ones above are hidden, not unread.
	add := "printf '[Route]\nDestination=203.0.113.128/25\nGateway=10.78.5.2\n' >/run/systemd/network/10-c0.network.d/c.conf && chmod a+r /run/systemd/network/10-c0.network.d/c.conf"
	if out, err := e.h.Command("sh", "-c", add).CombinedOutput(); err != nil {
		t.Fatalf("writing /run's drop-in: %v\n%s", err, out)
	}
	e.h.Networkctl(t, "reload")
	e.h.Networkctl(t, "reconfigure", "c0")
	waitFor(t, "networkd to apply /run's drop-in", func() bool {
		return strings.Contains(e.a.IP("route", "show", "dev", "c0"), "203.0.113.128/25")
	}, e.h.Log)
	if routes := e.a.IP("route", "show", "dev", "c0"); strings.Contains(routes, "203.0.113.0/24") || strings.Contains(routes, "192.0.2.128/25") {
		t.Errorf("networkd applied a hidden drop-in of /run:\n%s", routes)
	}
}

// A .netdev's drop-ins wait for their main file alike: the real networkd
// makes the link of a saved .netdev whose Kind= comes from a drop-in
// written before it, as predicted.
func TestOrphanNetDevDropInAppliesOnceItsMainFileIsSaved(t *testing.T) {
	e := newEnv(t, time.Minute, "")
	e.h.WriteFile(t, filepath.Join(e.h.Conf, "10-br6.netdev.d", "kind.conf"), "[NetDev]\nKind=bridge\n")
	e.h.Networkctl(t, "reload")
	if _, err := e.a.TryIP("link", "show", "br6"); err == nil {
		t.Fatal("a .netdev drop-in without its main file made br6")
	}
	_, rep := e.try(t, map[string]string{"10-br6.netdev": "[NetDev]\nName=br6\n"})
	want := []string{"create link br6 (bridge)"}
	if got := effectStrings(rep.Prediction.Effects); !slices.Equal(got, want) {
		t.Errorf("predicted %q (notes %q), want %q", got, rep.Prediction.Notes, want)
	}
	if !rep.Live || len(rep.Missing) > 0 || len(rep.Unexpected) > 0 {
		t.Errorf("live %v, observed %q; missing %q, unexpected %q\n%s", rep.Live, effectStrings(rep.Observed),
			effectStrings(rep.Missing), effectStrings(rep.Unexpected), e.h.Log())
	}
	if l := e.a.IP("-d", "link", "show", "br6"); !strings.Contains(l, "bridge") {
		t.Errorf("br6: %s", l)
	}
}
