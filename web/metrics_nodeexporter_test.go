package web

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/promtest"
	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/web/metrics"
	dto "github.com/prometheus/client_model/go"
)

// nodeExporter runs the real node_exporter's netdev and netclass
// collectors inside ns (ip netns exec mounts the namespace's own /sys)
// and returns a client and URL that reach it there.
func nodeExporter(t *testing.T, ns *testenv.NS) (*http.Client, string) {
	t.Helper()
	bin, err := exec.LookPath("prometheus-node-exporter") // Debian's name
	if err != nil {
		bin = testenv.RequireTool(t, "node_exporter")
	}
	const addr = "127.0.0.1:9100" // the namespace's own loopback: free
	cmd := exec.Command("ip", "netns", "exec", ns.Name, bin, "--web.listen-address="+addr,
		"--collector.disable-defaults", "--collector.netdev", "--collector.netclass",
		"--collector.netdev.device-exclude=^$") // lo too, as netpanel shows it
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
			var c net.Conn
			var err error
			ns.Do(func() { c, err = (&net.Dialer{}).DialContext(ctx, network, a) })
			return c, err
		},
	}}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := client.Get("http://" + addr + "/metrics")
		if err == nil {
			resp.Body.Close()
			return client, "http://" + addr + "/metrics"
		}
		if time.Now().After(deadline) {
			t.Fatalf("node_exporter did not answer in the namespace: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// send makes traffic in ns: UDP over the veth to the peer namespace
// (answered by ICMP port unreachable) and over loopback, so that no
// counter netpanel and node_exporter compare is zero by accident and
// receive and transmit differ.
func send(t *testing.T, ns *testenv.NS, to string, n int) {
	t.Helper()
	ns.Do(func() {
		for _, dst := range []string{to, "127.0.0.1:9"} {
			c, err := net.Dial("udp", dst)
			if err != nil {
				t.Errorf("dial %s: %v", dst, err)
				return
			}
			for i := range n {
				_, _ = c.Write([]byte(fmt.Sprintf("netpanel metrics test %d", i)))
			}
			c.Close()
		}
	})
}

// The per-link families carry node_exporter's names, types, labels and
// values: the real node_exporter, run in the same namespace, reports the
// same numbers for the same devices, so dashboards and alerts written for
// it read netpanel's the same way.
func TestLinkMetricsMatchNodeExporter(t *testing.T) {
	a, b := testenv.NewNS(t), testenv.NewNS(t)
	for _, ns := range []*testenv.NS{a, b} {
		// IPv6 autoconfiguration would send packets at its own pace.
		if out, err := exec.Command("ip", "netns", "exec", ns.Name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1").CombinedOutput(); err != nil {
			t.Fatalf("sysctl: %v: %s", err, out)
		}
	}
	a.Batch([]string{
		"link add v0 type veth peer name v1 netns " + b.Name,
		"addr add 10.91.0.1/24 dev v0", "link set v0 up", "link set v0 mtu 1400",
		"link add br0 type bridge", "link set br0 txqueuelen 500 group 7",
	})
	b.Batch([]string{"addr add 10.91.0.2/24 dev v1", "link set v1 up"})
	waitCarrier(t, a, "v0")
	send(t, a, "10.91.0.2:9", 20)

	store, w := startWatcher(t, a)
	ts := httptest.NewServer(metrics.Handler(metrics.New(metrics.Sources{Model: store, Stats: w}, quietLog()), quietLog()))
	t.Cleanup(ts.Close)
	neClient, neURL := nodeExporter(t, a)

	var ours, theirs promtest.Scrape
	differ := func() string {
		before := promtest.Get(t, ts.Client(), ts.URL, nil)
		theirs = promtest.Get(t, neClient, neURL, nil)
		ours = promtest.Get(t, ts.Client(), ts.URL, nil)
		return compareFamilies(t, before, ours, theirs)
	}
	// A packet between the scrapes (an ARP probe) moves a counter; the
	// comparison holds once nothing moves.
	var d string
	for range 5 {
		if d = differ(); d == "" {
			break
		}
		time.Sleep(time.Second)
	}
	if d != "" {
		t.Fatalf("netpanel and node_exporter differ:\n%s", d)
	}
	promtest.Check(t, ours.Text)

	// The comparison saw real traffic, both ways, on every device.
	for _, c := range []struct{ name, dev string }{
		{"node_network_transmit_packets_total", "v0"}, {"node_network_receive_packets_total", "v0"},
		{"node_network_receive_bytes_total", "lo"}, {"node_network_up", "v0"},
		{"node_network_mtu_bytes", "v0"}, {"node_network_net_dev_group", "br0"}, {"node_network_transmit_queue_length", "br0"},
	} {
		if v, ok := ours.Value(c.name, "device", c.dev); !ok || v == 0 {
			t.Errorf("%s{device=%q} = %v (present %v): the comparison proves nothing for it", c.name, c.dev, v, ok)
		}
	}
	tx, _ := ours.Value("node_network_transmit_bytes_total", "device", "v0")
	rx, _ := ours.Value("node_network_receive_bytes_total", "device", "v0")
	if tx == rx {
		t.Errorf("v0 sent as many bytes as it received (%v): a swap of receive and transmit would pass", tx)
	}
}

// compareFamilies compares every node_network_* family netpanel sends
// with node_exporter's, for the devices both report: name, type, label
// names and value. A value netpanel changed between its two scrapes
// (before and after node_exporter's) is not compared.
func compareFamilies(t *testing.T, before, ours, theirs promtest.Scrape) string {
	var diffs []string
	n := 0
	for name, f := range ours.Families {
		if !strings.HasPrefix(name, "node_network_") {
			continue
		}
		n++
		g, ok := theirs.Families[name]
		switch {
		case !ok:
			diffs = append(diffs, name+": node_exporter has no such family")
			continue
		case f.GetType() != g.GetType():
			diffs = append(diffs, fmt.Sprintf("%s: type %v, node_exporter's %v", name, f.GetType(), g.GetType()))
			continue
		case f.GetHelp() != g.GetHelp():
			diffs = append(diffs, fmt.Sprintf("%s: help %q, node_exporter's %q", name, f.GetHelp(), g.GetHelp()))
		}
		for _, m := range f.Metric {
			if len(m.Label) != 1 || m.Label[0].GetName() != "device" {
				diffs = append(diffs, fmt.Sprintf("%s: labels %v, want device only", name, m.Label))
				continue
			}
			dev := m.Label[0].GetValue()
			theirV, ok := theirs.Value(name, "device", dev)
			if !ok {
				diffs = append(diffs, fmt.Sprintf("%s{device=%q}: node_exporter does not report it", name, dev))
				continue
			}
			ourV, prev := sample(m), 0.0
			prev, _ = before.Value(name, "device", dev)
			if prev == ourV && ourV != theirV {
				diffs = append(diffs, fmt.Sprintf("%s{device=%q} = %v, node_exporter's %v", name, dev, ourV, theirV))
			}
		}
	}
	if n < 10 {
		diffs = append(diffs, fmt.Sprintf("netpanel sent only %d node_network_* families", n))
	}
	return strings.Join(diffs, "\n")
}

func sample(m *dto.Metric) float64 {
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.Gauge.GetValue()
}
