package web

import (
	"context"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netpanel/netpanel/handlers"
	"github.com/netpanel/netpanel/internal/ipjson"
	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/nsnames"
)

// ipPeerNetns is what `ip -d link show dev DEV` says of a peer in another
// namespace: the name it prints ("va@if2") and its link-netns (or
// link-netnsid) clause.
func ipPeerNetns(t *testing.T, ns *testenv.NS, dev string) (name, clause string) {
	t.Helper()
	out := ns.IP("-d", "link", "show", "dev", dev)
	m := regexp.MustCompile(`^\d+: (\S+@if\d+):`).FindStringSubmatch(out)
	c := regexp.MustCompile(`link-netns(id)? \S+`).FindString(out)
	if m == nil || c == "" {
		t.Fatalf("ip prints no peer namespace for %s:\n%s", dev, out)
	}
	return m[1], c
}

// A veth whose peer lives in another namespace reads as ip prints it, on
// the interfaces page, the interface's own page and the JSON API: "va@if2
// ... link-netns NAME" for a namespace /run/netns names, "link-netnsid
// N" for one it does not; the API's link_netnsid and link_index are ip
// -j's.
func TestPeerInAnotherNamespaceReadsAsIP(t *testing.T) {
	a, b := testenv.NewNS(t), testenv.NewNS(t)
	pid := testenv.UnnamedNS(t)
	a.IP("link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", b.Name)
	a.IP("link", "add", "vc", "type", "veth", "peer", "name", "vd", "netns", strconv.Itoa(pid))
	store, w := startWatcher(t, a)
	names := nsnames.New(a.Handle(), nsnames.Dir, quietLog())
	t.Cleanup(names.Close)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = names.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	ta := newTestAuth(t)
	s := newServer(t, store, w, ta, func(d *handlers.Deps) { d.Netns = names; d.Refresh = w })
	runHub(t, s)
	ts := newHTTPTestServer(t, s)

	for _, c := range []struct{ dev, want string }{
		{"va", "link-netns " + b.Name},
		{"vc", "link-netnsid "},
	} {
		name, clause := ipPeerNetns(t, a, c.dev)
		if !strings.HasPrefix(clause, c.want) {
			t.Fatalf("ip says %q of %s, the test expected %q: its setup is wrong", clause, c.dev, c.want)
		}
		shown := `data-testid="peer-netns">` + clause + `<`
		for _, path := range []string{"/interfaces", "/interfaces/" + c.dev} {
			var body string
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				_, body = getBody(t, ts.URL, ta.viewer, path)
				if strings.Contains(body, shown) || time.Now().After(deadline) {
					break
				}
			}
			if !strings.Contains(body, shown) {
				t.Errorf("%s does not show the peer of %s as ip does (%q):\n%s", path, c.dev, clause, peerLines(body))
			}
			// The ip -o link line on hover names it as ip does too.
			if !strings.Contains(body, name+": ") || !strings.Contains(body, " "+clause+`"`) {
				t.Errorf("%s: the ip line of %s does not read %q ... %q:\n%s", path, c.dev, name, clause, peerLines(body))
			}
		}
	}

	// The interface's page lists the command that shows the peer.
	if _, body := getBody(t, ts.URL, ta.viewer, "/interfaces/va"); !strings.Contains(body, `<code class="ip">ip -n `+b.Name+` -d link show</code>`) {
		t.Errorf("/interfaces/va lists no ip -n %s command for its peer:\n%s", b.Name, peerLines(body))
	}

	// Naming the unnamed namespace changes no link and gives no id: the
	// live page still shows its new name, as ip then prints it.
	live := dialPage(t, ts, ta.viewer, "interfaces", "")
	live.waitRows(t, 10*time.Second, func(h string) bool { return strings.Contains(h, `data-testid="peer-netns">link-netnsid `) })
	named := "np-test-named-" + strconv.Itoa(pid)
	runCmd(t, "ip", "netns", "attach", named, strconv.Itoa(pid))
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", named).Run() })
	if _, clause := ipPeerNetns(t, a, "vc"); clause != "link-netns "+named {
		t.Fatalf("after ip netns attach, ip says %q of vc", clause)
	}
	live.waitRows(t, 10*time.Second, func(h string) bool {
		return strings.Contains(h, `data-testid="peer-netns">link-netns `+named+`<`)
	})

	out, err := exec.Command("ip", "-n", a.Name, "-j", "-s", "-d", "link", "show").Output()
	if err != nil {
		t.Fatal(err)
	}
	before, err := ipjson.Decode(out)
	if err != nil {
		t.Fatal(err)
	}
	api := apiList(t, ts.URL+"/api/v1/links?details=1", ta.viewer)
	after := ipList(t, a, [][]string{{"-s", "-d", "link", "show"}})
	if d := ipjson.Compare(ipjson.Spec{Name: "links", Allow: allow}, before, api, after); len(d) > 0 {
		t.Errorf("the API differs from ip -j -s -d link show:\n%s", strings.Join(d, "\n"))
	}
	for _, o := range api {
		l := o.(map[string]any)
		if l["ifname"] == "va" || l["ifname"] == "vc" {
			if _, ok := l["link_netnsid"]; !ok {
				t.Errorf("the API prints no link_netnsid for %s: the comparison proved nothing", l["ifname"])
			}
		}
	}
}

func runCmd(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v: %s", name, args, err, out)
	}
}

// peerLines are the lines of a page that mention a peer, for a failure's
// message.
func peerLines(body string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.Contains(l, "@if") || strings.Contains(l, "peer") {
			out = append(out, strings.TrimSpace(l))
		}
	}
	return strings.Join(out, "\n")
}
