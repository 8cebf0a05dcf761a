package demo

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vishvananda/netns"

	"github.com/netpanel/netpanel/internal/testenv"
)

// want describes one object in `ip -j` output: dotted JSON path -> value.
// A path that leads to an array matches if the array contains the value;
// an empty value means the field is absent.
type want map[string]string

func TestCreateBuildsTheClassicSetup(t *testing.T) {
	hostBefore := hostLinks(t)
	d := createForTest(t, newName(t))
	name, isp := d.Name(), d.Name()+ispSuffix

	t.Run("nothing is created on the host, the tun included", func(t *testing.T) {
		if got := hostLinks(t); !slices.Equal(got, hostBefore) {
			t.Errorf("host links changed: before %v, after %v", hostBefore, got)
		}
	})
	t.Run("links exist with their kinds, state and bridge port", func(t *testing.T) {
		links := ipJSON(t, name, "-d", "link")
		for _, w := range []want{
			{"ifname": "lo", "flags": "UP"},
			{"ifname": "wan", "linkinfo.info_kind": "veth", "flags": "UP", "operstate": "UP", "link_netnsid": "0"},
			{"ifname": "vpn0", "linkinfo.info_kind": "tun", "linkinfo.info_data.type": "tun",
				"linkinfo.info_data.persist": "true", "linkinfo.info_data.pi": "false", "flags": "UP"},
			{"ifname": "docker0", "linkinfo.info_kind": "bridge", "flags": "UP"},
			{"ifname": "vethdemo0", "master": "docker0", "linkinfo.info_slave_kind": "bridge", "flags": "UP"},
			{"ifname": "vethdemo1", "linkinfo.info_kind": "veth", "master": "", "flags": "UP"},
		} {
			requireMatch(t, "link", links, w)
		}
		ispLinks := ipJSON(t, isp, "link")
		requireMatch(t, "isp link", ispLinks, want{"ifname": "lo", "flags": "UP"})
		requireMatch(t, "isp link", ispLinks, want{"ifname": "isp0", "flags": "UP", "operstate": "UP"})
	})
	t.Run("addresses sit on both ends of wan, on vpn0 and on docker0", func(t *testing.T) {
		addrs := flattenAddrs(ipJSON(t, name, "addr"))
		for _, w := range []want{
			{"dev": "wan", "local": "192.0.2.2", "prefixlen": "24"},
			{"dev": "wan", "local": "2001:db8:1::2", "prefixlen": "64", "nodad": "true"},
			{"dev": "vpn0", "local": "10.8.0.2", "prefixlen": "24"},
			{"dev": "docker0", "local": "172.17.0.1", "prefixlen": "16"},
		} {
			requireMatch(t, "address", addrs, w)
		}
		ispAddrs := flattenAddrs(ipJSON(t, isp, "addr"))
		requireMatch(t, "isp address", ispAddrs, want{"dev": "isp0", "local": "192.0.2.1", "prefixlen": "24"})
		requireMatch(t, "isp address", ispAddrs, want{"dev": "isp0", "local": "2001:db8:1::1", "prefixlen": "64"})
	})
	t.Run("default and VPN routes are static routes in main", func(t *testing.T) {
		v4 := ipJSON(t, name, "-4", "route", "show", "table", "main")
		for _, w := range []want{
			{"dst": "default", "gateway": "192.0.2.1", "dev": "wan", "protocol": "static"},
			{"dst": "10.8.0.0/16", "gateway": "10.8.0.1", "dev": "vpn0", "protocol": "static"},
			{"dst": "172.16.50.0/24", "gateway": "10.8.0.1", "dev": "vpn0", "protocol": "static"},
			// The trap: a VPN route inside docker0's 172.17.0.0/16.
			{"dst": "172.17.5.0/24", "gateway": "10.8.0.1", "dev": "vpn0", "protocol": "static"},
		} {
			requireMatch(t, "IPv4 main route", v4, w)
		}
		v6 := ipJSON(t, name, "-6", "route", "show", "table", "main")
		requireMatch(t, "IPv6 main route", v6,
			want{"dst": "default", "gateway": "2001:db8:1::1", "dev": "wan", "protocol": "static"})
	})
	t.Run("table wan-force holds a default route via the ISP", func(t *testing.T) {
		if got := Tables(); len(got) != 1 || got[0] != (Table{ID: 1, Name: "wan-force"}) {
			t.Errorf("Tables() = %v, want [{1 wan-force}]", got)
		}
		table := fmt.Sprint(WanForceTable)
		requireMatch(t, "IPv4 table 1 route", ipJSON(t, name, "-4", "route", "show", "table", table),
			want{"dst": "default", "gateway": "192.0.2.1", "dev": "wan", "protocol": "static"})
		requireMatch(t, "IPv6 table 1 route", ipJSON(t, name, "-6", "route", "show", "table", table),
			want{"dst": "default", "gateway": "2001:db8:1::1", "dev": "wan", "protocol": "static"})
	})
	t.Run("fwmark 0x20/0x20 looks up table 1 for both families", func(t *testing.T) {
		w := want{"priority": "16286", "fwmark": "0x20", "fwmask": "0x20", "table": "1"}
		requireMatch(t, "IPv4 rule", ipJSON(t, name, "-4", "rule"), w)
		requireMatch(t, "IPv6 rule", ipJSON(t, name, "-6", "rule"), w)
	})
	t.Run("neighbours on wan include the ISP's real MAC and a stale entry", func(t *testing.T) {
		peerMAC := fmt.Sprint(field(findMatch(ipJSON(t, isp, "link"), want{"ifname": "isp0"}), "address"))
		neigh := ipJSON(t, name, "neigh", "show", "dev", "wan")
		for _, w := range []want{
			{"dst": "192.0.2.1", "lladdr": peerMAC, "state": "PERMANENT"},
			{"dst": "192.0.2.3", "lladdr": "02:6e:70:00:00:03", "state": "PERMANENT"},
			{"dst": "192.0.2.4", "lladdr": "02:6e:70:00:00:04", "state": "STALE"},
		} {
			requireMatch(t, "neighbour", neigh, w)
		}
		// Added as REACHABLE; the kernel ages it to STALE after ~30 s.
		v6 := requireMatch(t, "neighbour", neigh, want{"dst": "2001:db8:1::1", "lladdr": peerMAC})
		if st := fmt.Sprint(v6["state"]); st != "[REACHABLE]" && st != "[STALE]" {
			t.Errorf("IPv6 neighbour state %s, want REACHABLE or STALE", st)
		}
	})
}

func TestCloseRemovesBothNamespaces(t *testing.T) {
	hostBefore := hostLinks(t)
	fdsBefore := openFDs(t)
	d := createForTest(t, newName(t))
	if err := d.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	requireGone(t, d.Name(), d.Name()+ispSuffix)
	// A namespace lives on while any fd refers to it (an NsHandle, a
	// netlink socket opened inside, the tun fd): none may survive Create.
	if got := openFDs(t); got != fdsBefore {
		t.Errorf("open fds: %d before Create, %d after Close", fdsBefore, got)
	}
	if got := hostLinks(t); !slices.Equal(got, hostBefore) {
		t.Errorf("host links changed: before %v, after %v", hostBefore, got)
	}
	if err := d.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestCreateReplacesLeftovers(t *testing.T) {
	t.Run("namespaces left by a crashed run are removed and rebuilt", func(t *testing.T) {
		name := newName(t)
		crashed := createForTest(t, name) // never closed, as after a crash
		// A process that dies loses its flock but leaves the file.
		crashed.lock.f.Close()
		crashed.lock = nil
		if out, err := exec.Command("ip", "-n", name, "link", "add", "leftover0", "type", "bridge").CombinedOutput(); err != nil {
			t.Fatalf("marking the leftover: %v: %s", err, out)
		}
		d := createForTest(t, name)
		links := ipJSON(t, name, "link")
		if findMatch(links, want{"ifname": "leftover0"}) != nil {
			t.Error("leftover0 survived: the old namespace was reused, not replaced")
		}
		requireMatch(t, "link", links, want{"ifname": "vpn0"})
		// The crashed run's handle must not delete the new run's namespaces.
		if err := crashed.Close(); err != nil {
			t.Errorf("Close of the replaced demo: %v", err)
		}
		requireMatch(t, "link after old Close", ipJSON(t, name, "link"), want{"ifname": "wan"})
		if err := d.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		requireGone(t, name, name+ispSuffix)
	})
	t.Run("a namespace file that was never mounted is replaced", func(t *testing.T) {
		name := newName(t)
		if err := os.MkdirAll(runDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(runDir, name+ispSuffix), nil, 0o444); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Remove(filepath.Join(runDir, name+ispSuffix)) })
		d := createForTest(t, name)
		requireMatch(t, "isp link", ipJSON(t, name+ispSuffix, "link"), want{"ifname": "isp0"})
		if err := d.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		requireGone(t, name, name+ispSuffix)
	})
}

func TestSecondDemoOfTheSameNameRefuses(t *testing.T) {
	name := newName(t)
	first := createForTest(t, name)
	id, err := namedID(name)
	if err != nil {
		t.Fatal(err)
	}

	second, err := Create(Options{Name: name})
	if err == nil {
		second.Close()
		t.Fatal("a second demo of the same name started while the first runs")
	}
	var inUse *InUseError
	if !errors.As(err, &inUse) || inUse.PID != os.Getpid() {
		t.Fatalf("Create = %v; want an *InUseError naming pid %d", err, os.Getpid())
	}
	pid := strconv.Itoa(os.Getpid())
	if msg := err.Error(); !strings.Contains(msg, "pid "+pid) || !strings.Contains(msg, "kill "+pid) || !strings.Contains(msg, "--demo-name") {
		t.Fatalf("the message does not say who runs the demo and how to stop it: %s", msg)
	}
	if now, err := namedID(name); err != nil || now != id {
		t.Fatalf("the running demo's namespace was touched: %v, %v (was %v)", now, err, id)
	}
	requireMatch(t, "link of the running demo", ipJSON(t, name, "link"), want{"ifname": "wan"})

	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(DefaultLockDir, "demo-"+name+".lock")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the lock file outlives Close: %v", err)
	}
	third := createForTest(t, name)
	requireMatch(t, "link after a restart", ipJSON(t, third.Name(), "link"), want{"ifname": "wan"})
}

func TestCreateFailureRemovesWhatWasCreated(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip")
	hostBefore := hostLinks(t)
	name := newName(t)
	cleanupNamespaces(t, name)
	injected := errors.New("injected failure")
	d, err := create(Options{Name: name}, func(demoNS, ispNS netns.NsHandle) error {
		if err := populate(demoNS, ispNS); err != nil {
			return err
		}
		return injected
	})
	if !errors.Is(err, injected) || d != nil {
		t.Fatalf("create = %v, %v; want nil, the injected error", d, err)
	}
	requireGone(t, name, name+ispSuffix)
	if got := hostLinks(t); !slices.Equal(got, hostBefore) {
		t.Errorf("host links changed: before %v, after %v", hostBefore, got)
	}
}

func TestCreateRejectsPathLikeNames(t *testing.T) {
	for _, name := range []string{"../etc", "a/b", ".hidden", "-x", strings.Repeat("n", 300)} {
		if d, err := Create(Options{Name: name}); err == nil {
			d.Close()
			t.Errorf("Create(%q) succeeded, want an error", name)
		}
	}
}

// newName returns a per-test namespace name, so parallel runs don't collide.
func newName(t *testing.T) string {
	t.Helper()
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "np-demo-" + hex.EncodeToString(b[:])
}

// createForTest creates a demo and makes sure its namespaces go away even
// if the test fails before Close.
func createForTest(t *testing.T, name string) *Demo {
	t.Helper()
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip")
	cleanupNamespaces(t, name)
	d, err := Create(Options{Name: name})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return d
}

func cleanupNamespaces(t *testing.T, name string) {
	t.Cleanup(func() {
		for _, n := range []string{name, name + ispSuffix} {
			if namedExists(n) {
				exec.Command("ip", "netns", "del", n).Run()
			}
		}
	})
}

func requireGone(t *testing.T, names ...string) {
	t.Helper()
	out, err := exec.Command("ip", "netns", "list").CombinedOutput()
	if err != nil {
		t.Fatalf("ip netns list: %v: %s", err, out)
	}
	listed := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			listed[f[0]] = true
		}
	}
	for _, n := range names {
		if listed[n] {
			t.Errorf("ip netns list still shows %s", n)
		}
		if _, err := os.Lstat(filepath.Join(runDir, n)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s/%s still exists (err %v)", runDir, n, err)
		}
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(fds)
}

// hostLinks lists the host's link names (read-only `ip -j link`).
func hostLinks(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("ip", "-j", "link").Output()
	if err != nil {
		t.Fatalf("ip -j link: %v", err)
	}
	var links []struct {
		Ifname string `json:"ifname"`
	}
	if err := json.Unmarshal(out, &links); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range links {
		names = append(names, l.Ifname)
	}
	slices.Sort(names)
	return names
}

func ipJSON(t *testing.T, ns string, args ...string) []map[string]any {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"-n", ns, "-j"}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %v", cmd.Args, err)
	}
	var v []map[string]any
	if s := strings.TrimSpace(string(out)); s != "" {
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Fatalf("%v: %v\n%s", cmd.Args, err, out)
		}
	}
	return v
}

// flattenAddrs turns `ip -j addr` into one entry per address with its dev.
func flattenAddrs(links []map[string]any) []map[string]any {
	var out []map[string]any
	for _, l := range links {
		infos, _ := l["addr_info"].([]any)
		for _, i := range infos {
			if a, ok := i.(map[string]any); ok {
				a["dev"] = l["ifname"]
				out = append(out, a)
			}
		}
	}
	return out
}

func field(m map[string]any, path string) any {
	var v any = m
	for _, k := range strings.Split(path, ".") {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

func findMatch(entries []map[string]any, w want) map[string]any {
	for _, e := range entries {
		if matches(e, w) {
			return e
		}
	}
	return nil
}

func matches(e map[string]any, w want) bool {
	for path, val := range w {
		switch got := field(e, path).(type) {
		case nil:
			if val != "" {
				return false
			}
		case []any:
			if !slices.ContainsFunc(got, func(x any) bool { return fmt.Sprint(x) == val }) {
				return false
			}
		default:
			if fmt.Sprint(got) != val {
				return false
			}
		}
	}
	return true
}

func requireMatch(t *testing.T, what string, entries []map[string]any, w want) map[string]any {
	t.Helper()
	e := findMatch(entries, w)
	if e == nil {
		js, _ := json.Marshal(entries)
		t.Errorf("no %s matching %v in:\n%s", what, w, js)
	}
	return e
}
