package networkd

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// importDirs copies testdata/import into a temp dir, adds the /dev/null
// mask (kept out of the repository as a symlink would be) and returns the
// root and the search dirs in precedence order.
func importDirs(t *testing.T) (string, []string) {
	t.Helper()
	root := t.TempDir()
	if err := os.CopyFS(root, os.DirFS(filepath.Join("testdata", "import"))); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/null", filepath.Join(root, "etc", "20-dhcp.network")); err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, d := range []string{"etc", "run", "missing", "usr-lib"} {
		dirs = append(dirs, filepath.Join(root, d))
	}
	return root, dirs
}

// loadedSummary is a Loaded with paths relative to the test root.
type loadedSummary struct {
	Name, Path string
	Shadowed   []string
	DropIns    []string
	Owned      bool
}

func summarize(root string, ls []*Loaded) []loadedSummary {
	rel := func(p string) string { return strings.TrimPrefix(p, root+"/") }
	var out []loadedSummary
	for _, l := range ls {
		s := loadedSummary{Name: l.Name, Path: rel(l.Path), Owned: l.Owned}
		for _, p := range l.Shadowed {
			s.Shadowed = append(s.Shadowed, rel(p))
		}
		for _, p := range l.DropIns {
			s.DropIns = append(s.DropIns, rel(p))
		}
		out = append(out, s)
	}
	return out
}

func TestLoadImport(t *testing.T) {
	root, dirs := importDirs(t)
	c, err := Load(dirs)
	if err != nil {
		t.Fatal(err)
	}
	rel := func(p string) string { return strings.TrimPrefix(p, root+"/") }

	t.Run("winners, shadowed files and drop-ins follow networkd's precedence", func(t *testing.T) {
		want := []loadedSummary{
			{Name: "10-wan.network", Path: "etc/10-wan.network", Shadowed: []string{"usr-lib/10-wan.network"},
				DropIns: []string{"etc/10-wan.network.d/50-route.conf", "run/10-wan.network.d/70-renumber.conf"}},
			{Name: "30-br0.network", Path: "etc/30-br0.network", DropIns: []string{"run/30-br0.network.d/10-bad.conf"}, Owned: true},
			{Name: "35-ports.network", Path: "etc/35-ports.network"},
			{Name: "80-en.network", Path: "usr-lib/80-en.network"},
			{Name: "90-broken.network", Path: "run/90-broken.network"},
		}
		if got := summarize(root, c.Networks); !slices.EqualFunc(got, want, summaryEqual) {
			t.Errorf("networks:\n got %+v\nwant %+v", got, want)
		}
		if got := summarize(root, c.NetDevs); len(got) != 1 || got[0].Path != "etc/30-br0.netdev" || c.NetDevs[0].NetDev.NetDev.Kind != "bridge" {
			t.Errorf("netdevs: %+v", got)
		}
	})

	t.Run("an empty file and a /dev/null symlink mask their name", func(t *testing.T) {
		var got []string
		for _, m := range c.Masked {
			got = append(got, m.Name+" "+rel(m.Path))
		}
		want := []string{"20-dhcp.network etc/20-dhcp.network", "40-lan.network etc/40-lan.network"}
		if !slices.Equal(got, want) {
			t.Errorf("masked = %q, want %q", got, want)
		}
	})

	t.Run("drop-ins add a route, reset Address= and a masked drop-in is skipped", func(t *testing.T) {
		nf := c.Networks[0].Network
		if want := []netip.Prefix{pfx("203.0.113.9/24")}; !slices.Equal(nf.Network.Address, want) {
			t.Errorf("Address = %v, want %v", nf.Network.Address, want)
		}
		if len(nf.Addresses) != 0 {
			t.Errorf("[Address] sections survived Address=: %+v", nf.Addresses)
		}
		if len(nf.Routes) != 1 || nf.Routes[0].Destination != pfx("10.9.0.0/24") || nf.Routes[0].Table != "100" || *nf.Routes[0].Metric != 5 {
			t.Errorf("routes = %+v, want only the /etc drop-in's 10.9.0.0/24", nf.Routes)
		}
		if nf.Link.MTUBytes != 0 {
			t.Errorf("MTUBytes = %d from a masked drop-in", nf.Link.MTUBytes)
		}
		if !slices.Equal(nf.Network.Gateway, []netip.Addr{ip("192.0.2.1")}) {
			t.Errorf("Gateway = %v", nf.Network.Gateway)
		}
	})

	t.Run("parse errors name the drop-in or file and line, and the files stay listed", func(t *testing.T) {
		var got []string
		for _, e := range c.Errors {
			got = append(got, rel(e.Error()))
		}
		want := []string{
			`run/30-br0.network.d/10-bad.conf:2: Network.DHCP: "maybe" is not a boolean, ipv4 or ipv6`,
			"run/90-broken.network:5: Route.Destination:",
		}
		if len(got) != len(want) {
			t.Fatalf("errors = %q, want %q", got, want)
		}
		for i := range want {
			if !strings.HasPrefix(got[i], want[i]) {
				t.Errorf("error %d = %q, want prefix %q", i, got[i], want[i])
			}
		}
		br := c.Networks[1]
		if br.Err == nil || br.Network == nil || !slices.Equal(br.Network.Network.Address, []netip.Prefix{pfx("10.0.0.1/24")}) {
			t.Errorf("30-br0 should keep what parsed next to its error: %+v %v", br.Network, br.Err)
		}
		if broken := c.Networks[4]; broken.Err == nil || len(broken.Network.Routes) != 0 {
			t.Errorf("90-broken should have an error and no route: %+v", broken)
		}
	})

	t.Run("warnings keep the file and line", func(t *testing.T) {
		var got []string
		for _, w := range c.Warnings {
			got = append(got, rel(w.String()))
		}
		if !slices.Contains(got, "etc/10-wan.network:8: DNS= in [Network] is networkd's, not modelled by netpanel: kept as written") {
			t.Errorf("warnings = %q", got)
		}
	})
}

func summaryEqual(a, b loadedSummary) bool {
	return a.Name == b.Name && a.Path == b.Path && a.Owned == b.Owned &&
		slices.Equal(a.Shadowed, b.Shadowed) && slices.Equal(a.DropIns, b.DropIns)
}

func TestLoadMissingDirs(t *testing.T) {
	c, err := Load([]string{filepath.Join(t.TempDir(), "nope")})
	if err != nil || len(c.Networks)+len(c.NetDevs)+len(c.Errors) != 0 {
		t.Errorf("Load of a missing dir = %+v, %v", c, err)
	}
}

func TestOwned(t *testing.T) {
	for data, want := range map[string]bool{
		Header + "\n\n[Match]\n": true,
		Header:                   true,
		Header + " (not)\n":      false,
		"\n" + Header + "\n":     false,
		"[Match]\nName=eth0\n":   false,
	} {
		if got := Owned([]byte(data)); got != want {
			t.Errorf("Owned(%q) = %v, want %v", data, got, want)
		}
	}
}
