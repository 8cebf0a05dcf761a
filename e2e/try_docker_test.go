package e2e

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/netpanel/netpanel/internal/testenv"
)

// dockerRestarter stands in for `systemctl restart docker` in the try
// tests: netpanel runs its script (--docker-restart-command), which asks
// the test through a FIFO to restart the real dockerd of namespace A and
// waits for the answer. The test, not the script, starts the new dockerd:
// netpanel lives in networkd's mount namespace, whose read-only /sys lacks
// the cgroup mounts dockerd needs (see FACTS.md), and a dockerd the test
// starts is one the test stops.
type dockerRestarter struct {
	script, req, resp string
	asked             chan string
}

func newDockerRestarter(t *testing.T) *dockerRestarter {
	t.Helper()
	dir := t.TempDir()
	r := &dockerRestarter{req: filepath.Join(dir, "req"), resp: filepath.Join(dir, "resp"), script: filepath.Join(dir, "restart-docker"), asked: make(chan string, 1)}
	for _, p := range []string{r.req, r.resp} {
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	script := "#!/bin/sh\necho restart > " + r.req + " && exec cat " + r.resp + "\n"
	if err := os.WriteFile(r.script, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	go func() {
		f, err := os.Open(r.req) // blocks until the script writes
		if err != nil {
			r.asked <- "open: " + err.Error()
			return
		}
		defer f.Close()
		line, _ := bufio.NewReader(f).ReadString('\n')
		r.asked <- strings.TrimSpace(line)
	}()
	t.Cleanup(func() {
		// Unblock the reader above if netpanel never asked: a writer
		// that opens and closes (without a reader this open fails).
		if f, err := os.OpenFile(r.req, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	})
	return r
}

// wait returns once netpanel asked for a restart.
func (r *dockerRestarter) wait(t *testing.T, log func() string) {
	t.Helper()
	select {
	case got := <-r.asked:
		if got != "restart" {
			t.Fatalf("the restart script said %q", got)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("netpanel did not run its Docker restart command within 60 s:\n%s", log())
	}
}

// answer ends the script with text as its output.
func (r *dockerRestarter) answer(t *testing.T, text string) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		f, err := os.OpenFile(r.resp, os.O_WRONLY, 0) // blocks until the script reads
		if err == nil {
			_, err = f.WriteString(text)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the restart script did not read the answer within 30 s")
	}
}

// The Docker restart after a save, with a real dockerd: Docker runs as
// installed (docker0 on 172.17.0.1/16); the admin saves a bridge setup
// clear of the host's networks and restarts Docker from the panel; the
// new dockerd takes the saved bridge from daemon.json. The restart is run
// as a try over Docker's bridges, but it moves Docker onto the bridge the
// save already made and leaves a0, the admin's path, alone: judged not
// risky, it is applied at once (no countdown, no confirmation) and
// audited with the command netpanel ran.
//
// A restart after netpanel's own save cannot cut the admin off here:
// with daemon.json's "bridge", dockerd takes the saved bridge as networkd
// configured it (the save's try already judged that bridge) and adds no
// address or route of its own; docker0 of the old daemon stays as it was.
func TestDockerRestartThatKeepsTheAdminIsAppliedAtOnceAndAudited(t *testing.T) {
	testenv.RequireTool(t, "docker")
	rs := newDockerRestarter(t)
	th := newTryHost(t, map[string]string{"10-a0.network": a0File}, "", nil, "--docker-restart-command", rs.script)
	d := testenv.StartDockerd(t, th.a, nil)
	waitUntil(t, "docker0", func() bool { return strings.Contains(th.a.IP("-4", "addr", "show", "dev", "docker0"), "172.17.0.1/16") }, d.Output)

	do(t, th.tab, "opening the Docker page", chromedp.Navigate(th.url+"/docker?prefer=10.213.0.0%2F24&bits=24"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=plan-subnet]`)))
	th.clickJS(t, `[data-testid=docker-preview-btn]`)
	waitJS(t, th.tab, "the diff", `!!document.querySelector('form[data-form=docker-save] [type=submit]')`)
	th.clickJS(t, `form[data-form=docker-save] [type=submit]`)
	waitJS(t, th.tab, "the restart button", `!!document.querySelector('button[data-testid=docker-restart]')`)
	if b := evalJS[string](t, th.tab, `document.querySelector('button[data-testid=docker-restart]').textContent`); !strings.Contains(b, rs.script) {
		t.Errorf("the restart button does not name the command netpanel runs: %q", b)
	}
	if evalJS[bool](t, th.tab, `!!document.querySelector('[data-testid=outcome][data-state=pending]')`) {
		t.Fatalf("a save that keeps the admin's path waits for confirmation:\n%s", evalJS[string](t, th.tab, `document.body.innerText`))
	}
	daemonJSON, err := os.ReadFile(filepath.Join(th.dir, "docker", "daemon.json"))
	if err != nil || !strings.Contains(string(daemonJSON), `"bridge": "docker-br0"`) {
		t.Fatalf("daemon.json after the save: %v\n%s", err, daemonJSON)
	}

	th.clickJS(t, `button[data-testid=docker-restart]`)
	rs.wait(t, th.log.String)
	d.Stop()
	d = testenv.StartDockerd(t, th.a, daemonJSON)
	rs.answer(t, "dockerd restarted in "+th.a.Name+"\n")
	waitJS(t, th.tab, "the restart's result", `!!document.querySelector('[data-testid=docker-restarted]')`)
	page := evalJS[string](t, th.tab, `document.querySelector('main').innerText`)
	if !strings.Contains(page, "Docker restarted. dockerd restarted in "+th.a.Name) {
		t.Errorf("the page does not show what the restart printed:\n%s", page)
	}
	if evalJS[bool](t, th.tab, `!!document.querySelector('[data-testid=outcome][data-state=pending], [data-testid=confirm]')`) {
		t.Errorf("a restart that keeps the admin's path waits for confirmation:\n%s", page)
	}
	if got, err := d.Docker("network", "inspect", "-f", `{{index .Options "com.docker.network.bridge.name"}}`, "bridge"); err != nil || strings.TrimSpace(got) != "docker-br0" {
		t.Errorf("the new dockerd's bridge network: %v %q, want docker-br0", err, got)
	}
	if !th.reachable() {
		t.Error("the admin lost the panel after the restart")
	}
	th.audited(t, `"detail":"restart Docker"`, `"command":"`+rs.script+`"`, `"user":"admin"`, `"result":"ok"`)
	if data, _ := os.ReadFile(filepath.Join(th.state, "audit.log")); strings.Contains(string(data), "pending: restart Docker") {
		t.Errorf("the restart was audited as a pending try:\n%s", data)
	}
	// Nothing rolls it back later: past the countdown, A is as the
	// restart left it.
	after := th.a.SettledIPState()
	time.Sleep(tryConfirm + 2*time.Second)
	th.a.WaitIPState(after, 30*time.Second)
}

// The Docker bridge save with confirmation: with "uplink" the save also
// rewrites a0's file (10-a0.network, the uplink's, which carries the
// admin) next to the bridge's files, so it waits for a confirmation even
// though the admin keeps the panel; confirmed from another page over a
// new connection, the files stay past the countdown, and so do the
// bridge and a0's address.
func TestDockerBridgeSaveTryKeepsAConfirmedSave(t *testing.T) {
	withGateway := strings.Replace(a0File, "[Network]\n", "[Network]\nGateway=10.77.0.2\n", 1)
	th := newTryHost(t, map[string]string{"10-a0.network": withGateway}, "", nil)
	waitUntil(t, "the default route", func() bool { return strings.Contains(th.a.IP("route"), "default via 10.77.0.2") }, th.h.Log)
	do(t, th.tab, "opening the Docker page", chromedp.Navigate(th.url+"/docker?prefer=10.213.0.0%2F24&bits=24&uplink=on"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=plan-subnet]`)))
	th.clickJS(t, `[data-testid=docker-preview-btn]`)
	waitJS(t, th.tab, "the diff", `!!document.querySelector('form[data-form=docker-save] [type=submit]')`)
	if !evalJS[bool](t, th.tab, `!!document.querySelector('[data-testid="diff-10-a0.network"]')`) {
		t.Fatalf("the save does not rewrite the uplink's file:\n%s", evalJS[string](t, th.tab, `document.querySelector('main').innerText`))
	}
	th.clickJS(t, `form[data-form=docker-save] [type=submit]`)
	// Longer than a step: networkd reconfigures a0 from the uplink's new
	// file, which does not turn IPv6 off (link-local, DHCPv6: seen taking
	// over 10 s here), and the try waits for networkd to settle a0 (up to
	// 30 s) before it starts the countdown.
	waitUntil(t, "the save to wait for confirmation", func() bool {
		return evalJS[bool](t, th.tab, `!!document.querySelector('[data-testid=outcome][data-state=pending] [data-testid=confirm]')`)
	}, th.log.String)
	do(t, th.tab, "opening another page", chromedp.Navigate(th.url+"/routes"))
	waitJS(t, th.tab, "the countdown on another page", `(() => { const o = document.querySelector('#notices [data-testid=outcome][data-state=pending]');
		return !!o && o.textContent.includes('Try: save the Docker bridge setup') && /\d+ s/.test(o.querySelector('.countdown').textContent); })()`)
	th.clickJS(t, `#notices [data-testid=confirm]`)
	waitJS(t, th.tab, "the confirmation", `!!document.querySelector('[data-testid=outcome][data-state=confirmed]')`)
	th.audited(t, ` confirmed: save the Docker bridge setup`, `"client":"10.77.0.2"`, `"result":"ok"`)
	time.Sleep(tryConfirm + 2*time.Second) // past the countdown: nothing may roll it back
	if data, _ := os.ReadFile(filepath.Join(th.state, "audit.log")); strings.Contains(string(data), "rolled-back: save the Docker bridge setup") {
		t.Errorf("the confirmed save was rolled back:\n%s", data)
	}
	for _, name := range []string{"10-docker-br0.netdev", "10-docker-br0.network"} {
		if _, err := os.Stat(filepath.Join(th.h.Conf, name)); err != nil {
			t.Errorf("%s after the confirmed save: %v", name, err)
		}
	}
	if got, _ := os.ReadFile(filepath.Join(th.h.Conf, "10-a0.network")); string(got) == withGateway {
		t.Errorf("10-a0.network is not the saved one:\n%s", got)
	}
	if daemon, err := os.ReadFile(filepath.Join(th.dir, "docker", "daemon.json")); err != nil || !strings.Contains(string(daemon), `"bridge": "docker-br0"`) {
		t.Errorf("daemon.json after the confirmed save: %v\n%s", err, daemon)
	}
	if br := th.a.Addrs4("docker-br0"); !slices.Contains(br, "10.213.0.1/24") || !slices.Contains(th.a.Addrs4("a0"), "10.77.0.1/24") || !th.reachable() {
		t.Errorf("after the confirmed save: docker-br0 %v, a0 %v", br, th.a.Addrs4("a0"))
	}
}
