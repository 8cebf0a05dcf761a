package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/netpanel/netpanel/internal/testenv"
)

// tryHost is the setup of the networkd try tests: netpanel runs inside
// namespace A as on a host, in the mount namespace of the real
// systemd-networkd and a private D-Bus system bus (testenv.NetworkdHost),
// with its default directories: it writes /etc/systemd/network and
// reloads networkd with networkctl exactly as on a host. The admin's
// browser sits in namespace B behind the veth a0-b0: Chromium runs on the
// test's host, but every connection it makes goes through a CONNECT
// proxy that dials from B, from the admin's address there.
type tryHost struct {
	a, b     *testenv.NS
	h        *testenv.NetworkdHost
	url      string
	password string
	state    string
	dir      string // netpanel's other files: docker/daemon.json, tables
	log      *syncBuffer
	done     chan struct{}
	tab      context.Context
	client   *http.Client // from B, for "does the admin reach the panel?"
}

// tryConfirm is the countdown of the try tests: long enough for a write,
// a reload and networkd's work, short enough to wait for.
const tryConfirm = 12 * time.Second

// a0File is a0's file at the start: the admin's address, written by
// netpanel (its header), so the editor needs no takeover.
const a0File = "# Written by netpanel. Edit in netpanel or take it over first.\n[Match]\nName=a0\n\n[Network]\nAddress=10.77.0.1/24\nLinkLocalAddressing=no\nConfigureWithoutCarrier=yes\n"

// newTryHost prepares A and B; files are a0's networkd files (name to
// content, none: a0 is configured by hand; "conf.d/NAME" goes to
// networkd.conf.d), client the admin's address in
// B besides 10.77.0.2/24 (routed to A through b0), aSetup commands for A,
// extra more flags for netpanel.
func newTryHost(t *testing.T, files map[string]string, client string, aSetup []string, extra ...string) *tryHost {
	t.Helper()
	bin := binary(t)
	th := &tryHost{a: testenv.NewNS(t), b: testenv.NewNS(t), log: &syncBuffer{}, done: make(chan struct{}), state: t.TempDir()}
	th.a.Batch(append([]string{"link add a0 type veth peer name b0 netns " + th.b.Name, "link set a0 up"}, aSetup...))
	th.b.Batch([]string{"addr add 10.77.0.2/24 dev b0", "link set b0 up"})
	src := "10.77.0.2"
	if client != "" {
		th.b.Batch([]string{"addr add " + client + "/32 dev b0"})
		src = client
	}
	th.h = testenv.StartNetworkdHost(t, th.a)
	restart := false
	for name, content := range files {
		if rest, ok := strings.CutPrefix(name, "conf.d/"); ok {
			// networkd reads networkd.conf.d only when it starts.
			th.h.WriteFile(t, filepath.Join(th.h.ConfD, rest), content)
			restart = true
			continue
		}
		th.h.WriteFile(t, filepath.Join(th.h.Conf, name), content)
	}
	if restart {
		th.h.StopNetworkd()
		th.h.StartNetworkd(t)
	}
	th.h.Networkctl(t, "reload")
	waitUntil(t, "a0 to have 10.77.0.1", func() bool {
		for _, a := range th.a.Addrs4("a0") {
			if a == "10.77.0.1/24" {
				return true
			}
		}
		return false
	}, th.h.Log)

	dir := t.TempDir()
	th.dir = dir
	cert, key := selfSigned(t, dir)
	addr := freeAddr(t, th.a, "10.77.0.1")
	th.url = "https://" + addr
	cmd := th.h.Command(bin, "--listen", addr, "--tls-cert", cert, "--tls-key", key, "--state-dir", th.state,
		"--confirm-timeout", tryConfirm.String(), "--rt-tables-dir", dir, "--rt-tables-owned", filepath.Join(dir, "rt_tables.d"),
		"--docker-dir", filepath.Join(dir, "docker"), "--docker-socket", filepath.Join(dir, "docker.sock"),
		"--nftables-file", filepath.Join(dir, "nftables.d", "netpanel.nft"))
	cmd.Args = append(cmd.Args, extra...)
	cmd.Stdout, cmd.Stderr = th.log, th.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(th.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-th.done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-th.done
		}
		if t.Failed() {
			t.Logf("netpanel log:\n%s", th.log.String())
		}
	})

	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		var err error
		d := &net.Dialer{Timeout: 3 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
		th.b.Do(func() { c, err = d.DialContext(ctx, network, addr) })
		return c, err
	}
	th.client = &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DialContext: dial, DisableKeepAlives: true}}
	waitUntil(t, "netpanel to answer from B", th.reachable, th.log.String)
	if m := printedPassword.FindStringSubmatch(th.log.String()); m != nil {
		th.password = m[1]
	} else {
		t.Fatalf("no admin password printed:\n%s", th.log.String())
	}
	proxy := connectProxy(t, dial)
	th.tab = newBrowser(t, chromedp.ProxyServer("http://"+proxy), chromedp.Flag("ignore-certificate-errors", true),
		chromedp.Flag("proxy-bypass-list", "<-loopback>"))
	loginAt(t, th.tab, th.url, th.password)
	return th
}

// reachable reports whether the admin reaches the panel from B now.
func (th *tryHost) reachable() bool {
	resp, err := th.client.Get(th.url + "/login")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// clickJS clicks sel from script once htmx has settled.
func (th *tryHost) clickJS(t *testing.T, sel string) {
	t.Helper()
	waitJS(t, th.tab, "htmx to settle", `!document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')`)
	evalJS[bool](t, th.tab, fmt.Sprintf(`(() => { const el = document.querySelector(%q);
		if (!el) throw new Error('nothing matches %s');
		window.confirm = () => true; el.click(); return true; })()`, sel, strings.ReplaceAll(sel, "'", "")))
}

// edit opens the editor of name, replaces its text, checks it and waits
// for the check's answer.
func (th *tryHost) edit(t *testing.T, name, text string) {
	t.Helper()
	do(t, th.tab, "opening the editor of "+name, chromedp.Navigate(th.url+"/networkd/files/"+name),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=editor-text]`)))
	evalJS[bool](t, th.tab, fmt.Sprintf(`(document.querySelector('[data-testid=editor-text]').value = %q, true)`, text))
	th.clickJS(t, `[data-testid=editor-check]`)
	waitJS(t, th.tab, "the check", `!!document.querySelector('[data-testid=editor-apply], [data-testid=editor-refused]')`)
}

// afterRollback waits until the admin reaches the panel again and the
// browser, on a freshly loaded page, shows the try rolled back; it
// returns what the notice says.
func (th *tryHost) afterRollback(t *testing.T, summary string) string {
	t.Helper()
	waitUntil(t, "the admin to reach the panel again", th.reachable, th.log.String)
	// The browser reconnects: a new page load shows what happened while
	// it was away, once. So each load is waited for to its end (a load
	// left running would take the notice unseen); one that fails (the
	// browser's pooled connections may still be dead) is tried again.
	waitUntil(t, "the browser to load a page", func() bool {
		ctx, cancel := context.WithTimeout(th.tab, 60*time.Second)
		defer cancel()
		return chromedp.Do(ctx, chromedp.Navigate(th.url+"/networkd/files")) == nil
	}, th.log.String)
	ctx, cancel := context.WithTimeout(th.tab, 2*step)
	defer cancel()
	text, err := chromedp.Run(ctx, chromedp.Poll[string](`(() => { const o = document.querySelector('#notices [data-testid=outcome]:not([data-state=pending])');
		return o ? o.dataset.state + ': ' + o.textContent : ''; })()`, chromedp.WithPollingTimeout(step)))
	if err != nil {
		page := evalJS[string](t, th.tab, `(document.querySelector('#notices') || document.body).outerHTML`)
		t.Fatalf("the page shows no rolled back try: %v\n%s\n%s", err, page, th.log.String())
	}
	if !strings.HasPrefix(text, "rolled-back: ") || !strings.Contains(text, "Try: "+summary) || !strings.Contains(text, "Rolled back") || !strings.Contains(text, "networkctl reload") {
		t.Errorf("the notice does not say the try %q was rolled back and how:\n%s", summary, text)
	}
	return text
}

// rows are the rows of the effect table testid ("add address
// 10.77.5.1/24 dev a0").
func (th *tryHost) rows(t *testing.T, testid string) []string {
	t.Helper()
	return evalJS[[]string](t, th.tab, fmt.Sprintf(`[...document.querySelectorAll('[data-testid=%s] tbody tr')].map(r =>
		[...r.cells].map(c => c.textContent.trim()).join(' '))`, testid))
}

// audited fails unless a line of the audit log holds every part.
func (th *tryHost) audited(t *testing.T, parts ...string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(th.state, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if !slices.ContainsFunc(parts, func(p string) bool { return !strings.Contains(line, p) }) {
			return
		}
	}
	t.Errorf("no audit entry holds %q:\n%s", parts, data)
}

// lostFromB waits until the admin no longer reaches the panel.
func (th *tryHost) lostFromB(t *testing.T) {
	t.Helper()
	waitUntil(t, "the admin to lose the panel", func() bool { return !th.reachable() }, th.log.String)
	ctx, cancel := context.WithTimeout(th.tab, 8*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(th.url+"/interfaces")); err == nil {
		t.Errorf("the browser still loads the panel while the admin is cut off")
	}
	// The tab would go on loading the page and, once the path is back,
	// take the notices that afterRollback looks for: stop it.
	do(t, th.tab, "leaving the page that does not load", chromedp.Navigate("about:blank"))
}

// connectProxy serves HTTP CONNECT on the host's loopback and dials every
// tunnel with dial (from B).
func connectProxy(t *testing.T, dial func(ctx context.Context, network, addr string) (net.Conn, error)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				tunnel(c, dial)
			}()
		}
	}()
	return ln.Addr().String()
}

func tunnel(c net.Conn, dial func(ctx context.Context, network, addr string) (net.Conn, error)) {
	defer c.Close()
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil || req.Method != http.MethodConnect {
		io.WriteString(c, "HTTP/1.1 405 Method Not Allowed\r\n\r\n")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	up, err := dial(ctx, "tcp", req.Host)
	cancel()
	if err != nil {
		io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\n\r\n")
		return
	}
	defer up.Close()
	io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, br); up.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
	go func() { io.Copy(c, up); done <- struct{}{} }()
	<-done
	// One side is done: give the other a moment, then close both (a dead
	// path never finishes on its own).
	select {
	case <-done:
	case <-time.After(30 * time.Second):
	}
}

func waitUntil(t *testing.T, what string, cond func() bool, log func() string) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 60 s for %s:\n%s", what, log())
		}
	}
}

// The lock-out through the editor: the admin edits a0's file so that it
// no longer carries the address the browser reaches netpanel over, and
// applies it. The page shows what networkd will do; after the apply the
// browser loses the panel; unconfirmed, the try puts the file back,
// networkd applies it again, the address is back, and the browser,
// reconnected, sees the try rolled back. A second edit that keeps the
// admin connected is confirmed from a new connection and stays.
func TestEditorTryRollsBackALockOutAndKeepsAConfirmedEdit(t *testing.T) {
	th := newTryHost(t, map[string]string{"10-a0.network": a0File}, "", nil)
	before := th.a.SettledIPState()
	moved := strings.Replace(a0File, "10.77.0.1/24", "10.77.9.1/24", 1)
	th.edit(t, "10-a0.network", moved)
	pred := evalJS[string](t, th.tab, `document.querySelector('[data-testid=editor-prediction]').textContent`)
	for _, want := range []string{"remove", "10.77.0.1/24 dev a0", "add", "10.77.9.1/24 dev a0"} {
		if !strings.Contains(pred, want) {
			t.Fatalf("the prediction lacks %q:\n%s", want, pred)
		}
	}
	th.clickJS(t, `[data-testid=editor-apply]`)
	th.lostFromB(t)
	th.afterRollback(t, "edit networkd file 10-a0.network")
	// Audited like a live change: the write, the try waiting, its
	// rollback and what it put back, by whom and from where.
	th.audited(t, `"detail":"edit networkd file 10-a0.network"`, `networkctl reload`, `"result":"ok"`)
	th.audited(t, `"detail":"try `, ` pending: edit networkd file 10-a0.network`, `"client":"10.77.0.2"`, `"user":"admin"`)
	th.audited(t, ` rolled-back: edit networkd file 10-a0.network`, `put back: `, `networkctl reload`, `"result":"rolled-back"`)
	if got, _ := os.ReadFile(filepath.Join(th.h.Conf, "10-a0.network")); string(got) != a0File {
		t.Errorf("10-a0.network after the rollback:\n%s", got)
	}
	th.a.WaitIPState(before, 30*time.Second)

	// The same kind of edit, keeping the admin's address: it waits for a
	// confirmation, which comes over a new connection, and stays.
	kept := a0File + "\n[Address]\nAddress=10.77.0.5/24\n\n[Route]\nDestination=198.51.100.0/24\nGateway=10.77.0.2\nTable=100\n"
	th.edit(t, "10-a0.network", kept)
	th.clickJS(t, `[data-testid=editor-apply]`)
	waitJS(t, th.tab, "the try to wait for confirmation", `!!document.querySelector('[data-testid=outcome][data-state=pending] [data-testid=confirm]')`)
	if r := evalJS[string](t, th.tab, `document.querySelector('[data-testid=try-report]').textContent`); !strings.Contains(r, "networkd did exactly what was predicted") {
		t.Errorf("the report does not match the prediction:\n%s", r)
	}
	// Every page shows the pending try and its countdown; the admin
	// confirms it from another page, over a new connection.
	do(t, th.tab, "opening another page", chromedp.Navigate(th.url+"/routes"))
	waitJS(t, th.tab, "the countdown on another page", `(() => { const o = document.querySelector('#notices [data-testid=outcome][data-state=pending]');
		return !!o && o.textContent.includes('Try: edit networkd file 10-a0.network') && /\d+ s/.test(o.querySelector('.countdown').textContent); })()`)
	th.clickJS(t, `#notices [data-testid=confirm]`)
	waitJS(t, th.tab, "the confirmation", `!!document.querySelector('[data-testid=outcome][data-state=confirmed]')`)
	th.audited(t, ` confirmed: edit networkd file 10-a0.network`, `"result":"ok"`)
	time.Sleep(tryConfirm + 2*time.Second) // past the countdown: nothing may roll it back
	if !th.reachable() || !strings.Contains(th.a.IP("-4", "addr", "show", "dev", "a0"), "10.77.0.5/24") ||
		!strings.Contains(th.a.IP("route", "show", "table", "100"), "198.51.100.0/24 via 10.77.0.2") {
		t.Fatalf("the confirmed edit did not stay:\n%s\n%s", th.a.IP("addr"), th.a.IP("route", "show", "table", "all"))
	}
}

// The lock-out through Restore: a0 carried the admin's address by hand;
// the admin saves it (netpanel writes 10-a0.network, confirmed), then
// restores the backup of that save, which deletes the file: networkd lets
// go of a0 and removes the address. Unconfirmed, the file comes back,
// networkd configures a0 again, and the browser sees "rolled back".
func TestRestoreTryRollsBackALockOut(t *testing.T) {
	th := newTryHost(t, nil, "", []string{"addr add 10.77.0.1/24 dev a0"})
	do(t, th.tab, "opening the save page", chromedp.Navigate(th.url+"/networkd"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=networkd-links]`)))
	evalJS[bool](t, th.tab, `([...document.querySelectorAll('input[name=link]')].forEach(b => b.checked = b.value === 'a0'), true)`)
	th.clickJS(t, `[data-testid=networkd-preview-btn]`)
	waitJS(t, th.tab, "the diff", `!!document.querySelector('[data-testid=networkd-save]')`)
	th.clickJS(t, `[data-testid=networkd-save]`)
	// Saving a0's own state changes nothing live, but a0 carries the
	// admin: the save waits for a confirmation.
	waitJS(t, th.tab, "the save to wait for confirmation", `!!document.querySelector('#networkd-preview [data-testid=confirm]')`)
	th.clickJS(t, `#networkd-preview [data-testid=confirm]`)
	waitJS(t, th.tab, "the confirmation", `!!document.querySelector('[data-testid=outcome][data-state=confirmed]')`)
	before := th.a.SettledIPState()

	do(t, th.tab, "reopening the save page", chromedp.Navigate(th.url+"/networkd"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=backups]`)))
	th.clickJS(t, `[data-testid=backups] button`)
	waitJS(t, th.tab, "the restore's preview", `!!document.querySelector('[data-testid=networkd-restore]')`)
	// Said before anything is done: the file goes, and with it the
	// admin's address.
	if got, want := th.rows(t, "preview-prediction"), "remove address 10.77.0.1/24 dev a0"; !slices.Contains(got, want) {
		t.Errorf("what networkd will do: %q, want %q among them", got, want)
	}
	if !th.reachable() || !slices.Contains(th.a.Addrs4("a0"), "10.77.0.1/24") {
		t.Fatal("the preview of the restore changed something")
	}
	th.clickJS(t, `[data-testid=networkd-restore]`)
	th.lostFromB(t)
	th.afterRollback(t, "restore backup")
	th.audited(t, ` rolled-back: restore backup`, `put back: `, `"result":"rolled-back"`)
	if _, err := os.Stat(filepath.Join(th.h.Conf, "10-a0.network")); err != nil {
		t.Errorf("10-a0.network is not back: %v", err)
	}
	th.a.WaitIPState(before, 30*time.Second)
}

// Restore with confirmation: the admin adds an address to a0's file
// (confirmed), then restores the backup of that edit, which puts the old
// file back. The restore first shows the diff and what networkd will do
// (remove that address) and changes nothing, files or live state; a
// backup that does not exist, or is deleted between the preview and the
// button, is refused with a message in place and changes nothing. The
// restore then waits for a confirmation (a0 carries the admin), networkd
// does exactly what was shown (ip -j), the confirmation comes over a new
// connection from another page, and the restored file stays past the
// countdown.
func TestRestoreTryKeepsAConfirmedRestore(t *testing.T) {
	th := newTryHost(t, map[string]string{"10-a0.network": a0File}, "", nil)
	edited := a0File + "\n[Address]\nAddress=10.77.0.5/24\n"
	th.edit(t, "10-a0.network", edited)
	th.clickJS(t, `[data-testid=editor-apply]`)
	waitJS(t, th.tab, "the edit to wait for confirmation", `!!document.querySelector('[data-testid=outcome][data-state=pending] [data-testid=confirm]')`)
	th.clickJS(t, `[data-testid=confirm]`)
	waitJS(t, th.tab, "the confirmation", `!!document.querySelector('[data-testid=outcome][data-state=confirmed]')`)
	waitUntil(t, "a0 to have 10.77.0.5", func() bool { return slices.Contains(th.a.Addrs4("a0"), "10.77.0.5/24") }, th.h.Log)
	before := th.a.SettledIPState()
	unchanged := func(when string) {
		t.Helper()
		if got, _ := os.ReadFile(filepath.Join(th.h.Conf, "10-a0.network")); string(got) != edited {
			t.Fatalf("%s: 10-a0.network changed:\n%s", when, got)
		}
		if d := testenv.StateDiff(before, th.a.IPState()); d != "" {
			t.Fatalf("%s: the live state changed:\n%s", when, d)
		}
	}
	openRestore := func() {
		t.Helper()
		do(t, th.tab, "opening the save page", chromedp.Navigate(th.url+"/networkd"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=backups]`)))
		th.clickJS(t, `[data-testid=backups] button`)
		waitJS(t, th.tab, "the restore's preview", `!!document.querySelector('#networkd-preview [data-testid=networkd-restore], #networkd-preview [data-testid=error]')`)
	}
	refusedInPlace := func(want string) {
		t.Helper()
		waitJS(t, th.tab, "the refusal", `!!document.querySelector('#networkd-preview [data-testid=error]')`)
		if msg := evalJS[string](t, th.tab, `document.querySelector('#networkd-preview [data-testid=error]').textContent`); !strings.Contains(msg, want) {
			t.Errorf("the message: %q, want %q in it", msg, want)
		}
	}

	do(t, th.tab, "opening the save page", chromedp.Navigate(th.url+"/networkd"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=backups]`)))
	if n := evalJS[int](t, th.tab, `document.querySelectorAll('[data-testid=backups] button').length`); n != 1 {
		t.Fatalf("%d backups, want the one of the edit", n)
	}
	id := evalJS[string](t, th.tab, `document.querySelector('[data-testid=backups] input[name=id]').value`)

	// A backup that does not exist.
	evalJS[bool](t, th.tab, `(document.querySelector('[data-testid=backups] input[name=id]').value = '20991231T000000.000Z', true)`)
	th.clickJS(t, `[data-testid=backups] button`)
	refusedInPlace("there is no backup 20991231T000000.000Z")
	unchanged("a restore of a backup that does not exist")

	// The preview: the diff and what networkd will do, nothing done.
	openRestore()
	if d := evalJS[string](t, th.tab, `(document.querySelector('[data-testid="diff-10-a0.network"]') || {}).textContent || ''`); !strings.Contains(d, "-Address=10.77.0.5/24") {
		t.Errorf("the restore's diff does not remove the address:\n%s", d)
	}
	predicted := th.rows(t, "preview-prediction")
	if want := []string{"remove address 10.77.0.5/24 dev a0"}; !sameStrings(predicted, want) {
		t.Errorf("what networkd will do: %q, want %q", predicted, want)
	}
	unchanged("the restore's preview")

	// The backup goes between the preview and the button.
	dir := filepath.Join(th.state, "backups", id)
	aside := filepath.Join(t.TempDir(), id)
	if err := os.Rename(dir, aside); err != nil {
		t.Fatal(err)
	}
	th.clickJS(t, `[data-testid=networkd-restore]`)
	refusedInPlace("there is no backup " + id)
	unchanged("a restore of a backup deleted since its preview")
	if err := os.Rename(aside, dir); err != nil {
		t.Fatal(err)
	}

	openRestore()
	th.clickJS(t, `[data-testid=networkd-restore]`)
	waitJS(t, th.tab, "the restore to wait for confirmation", `!!document.querySelector('#networkd-preview [data-testid=outcome][data-state=pending] [data-testid=confirm]')`)
	if got := th.rows(t, "try-observed"); !sameStrings(got, predicted) || !evalJS[bool](t, th.tab, `!!document.querySelector('[data-testid=prediction-matched]')`) {
		t.Errorf("what networkd did: %q, want what was predicted: %q", got, predicted)
	}
	if r := evalJS[string](t, th.tab, `(document.querySelector('[data-testid=try-reapplied]') || {}).textContent || ''`); !strings.Contains(r, "a0") {
		t.Errorf("the report does not say networkd configured a0 again: %q", r)
	}
	// The kernel agrees: exactly the predicted address went.
	if a := th.a.Addrs4("a0"); !sameStrings(a, []string{"10.77.0.1/24"}) {
		t.Errorf("a0 after the restore: %v, want only 10.77.0.1/24", a)
	}
	do(t, th.tab, "opening another page", chromedp.Navigate(th.url+"/routes"))
	waitJS(t, th.tab, "the countdown on another page", `(() => { const o = document.querySelector('#notices [data-testid=outcome][data-state=pending]');
		return !!o && o.textContent.includes('Try: restore backup') && /\d+ s/.test(o.querySelector('.countdown').textContent); })()`)
	th.clickJS(t, `#notices [data-testid=confirm]`)
	waitJS(t, th.tab, "the confirmation", `!!document.querySelector('[data-testid=outcome][data-state=confirmed]')`)
	th.audited(t, ` confirmed: restore backup`, `"client":"10.77.0.2"`, `"result":"ok"`)
	th.audited(t, `"detail":"restore backup `+id+`"`, `there is no backup `+id)
	time.Sleep(tryConfirm + 2*time.Second) // past the countdown: nothing may roll it back
	if got, _ := os.ReadFile(filepath.Join(th.h.Conf, "10-a0.network")); string(got) != a0File {
		t.Errorf("10-a0.network after the confirmed restore:\n%s", got)
	}
	if a := th.a.Addrs4("a0"); !sameStrings(a, []string{"10.77.0.1/24"}) || !th.reachable() {
		t.Errorf("a0 after the confirmed restore: %v", a)
	}
	if data, _ := os.ReadFile(filepath.Join(th.state, "audit.log")); strings.Contains(string(data), "rolled-back: restore backup") {
		t.Errorf("the confirmed restore was rolled back:\n%s", data)
	}
}

// The lock-out through the Docker bridge save: the admin reaches the panel
// from 172.20.5.2, routed by A's default route; a bridge subnet preferred
// in 172.20.5.0/24 takes that address's route. The save makes the bridge
// (a .netdev networkd does not delete again) and its route: the admin is
// cut off. Unconfirmed, the files go, and what networkd leaves (the
// bridge) is deleted: the route back is back.
func TestDockerBridgeSaveTryRollsBackALockOut(t *testing.T) {
	withGateway := strings.Replace(a0File, "[Network]\n", "[Network]\nGateway=10.77.0.2\n", 1)
	th := newTryHost(t, map[string]string{"10-a0.network": withGateway}, "172.20.5.2", nil)
	waitUntil(t, "the default route", func() bool { return strings.Contains(th.a.IP("route"), "default via 10.77.0.2") }, th.h.Log)
	before := th.a.SettledIPState()
	do(t, th.tab, "opening the Docker page", chromedp.Navigate(th.url+"/docker?prefer=172.20.5.0%2F24&bits=24"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=plan-subnet]`)))
	if s := evalJS[string](t, th.tab, `document.querySelector('[data-testid=plan-subnet]').textContent`); !strings.Contains(s, "172.20.5.0/24") {
		t.Fatalf("the proposal: %s", s)
	}
	th.clickJS(t, `[data-testid=docker-preview-btn]`)
	waitJS(t, th.tab, "the diff", `!!document.querySelector('form[data-form=docker-save] [type=submit]')`)
	// What networkd will do is said before the save: the bridge, its
	// address and so the route that takes the admin's.
	if p := evalJS[string](t, th.tab, `document.querySelector('[data-testid=preview-prediction]').textContent`); !strings.Contains(p, "docker-br0") || !strings.Contains(p, "172.20.5.") {
		t.Errorf("the preview does not say what networkd will do with the bridge:\n%s", p)
	}
	th.clickJS(t, `form[data-form=docker-save] [type=submit]`)
	th.lostFromB(t)
	text := th.afterRollback(t, "save the Docker bridge setup")
	th.audited(t, ` rolled-back: save the Docker bridge setup`, `ip link del dev docker-br0`, `"result":"rolled-back"`)
	if !strings.Contains(text, "ip link del dev docker-br0") {
		t.Errorf("the rollback does not say it deleted the bridge networkd left:\n%s", text)
	}
	th.a.WaitIPState(before, 30*time.Second)
}

// Without networkd running, an apply writes the file and the page says
// plainly that it is not live and why: no countdown, no comparison with
// what networkd did, and a0 keeps what it had.
func TestEditorSaysTheFilesAreNotLiveWithoutNetworkd(t *testing.T) {
	th := newTryHost(t, map[string]string{"10-a0.network": a0File}, "", nil)
	th.h.StopNetworkd()
	added := a0File + "\n[Address]\nAddress=10.77.8.1/24\n"
	th.edit(t, "10-a0.network", added)
	th.clickJS(t, `[data-testid=editor-apply]`)
	waitJS(t, th.tab, "the apply's result", `!!document.querySelector('[data-testid=saved]')`)
	page := evalJS[string](t, th.tab, `document.querySelector('main').innerText`)
	reload := evalJS[string](t, th.tab, `(document.querySelector('[data-testid=reload]') || {}).textContent || ''`)
	if !strings.Contains(reload, "the files are written, but they are not live") || !strings.Contains(reload, "systemd-networkd is not running") {
		t.Errorf("the page does not say the files are not live because networkd is not running: %q\n%s", reload, page)
	}
	if strings.Contains(page, "reload: done") || strings.Contains(page, "networkd did exactly what was predicted") ||
		evalJS[bool](t, th.tab, `!!document.querySelector('[data-testid=outcome][data-state=pending], [data-testid=confirm], [data-testid=try-observed]')`) {
		t.Errorf("the page pretends the files are live:\n%s", page)
	}
	if got, _ := os.ReadFile(filepath.Join(th.h.Conf, "10-a0.network")); string(got) != added {
		t.Errorf("10-a0.network on disk:\n%s", got)
	}
	if a := th.a.Addrs4("a0"); slices.Contains(a, "10.77.8.1/24") || !slices.Contains(a, "10.77.0.1/24") {
		t.Errorf("a0 without networkd: %v", a)
	}
	// The audit does not claim the reload its command line names.
	th.audited(t, ` applied: edit networkd file 10-a0.network (the files are written, but they are not live: systemd-networkd is not running`)
	// Nor do the commands it is audited (and shown) with.
	data, _ := os.ReadFile(filepath.Join(th.state, "audit.log"))
	for _, line := range strings.Split(string(data), "\n") {
		if strings.Contains(line, "edit networkd file 10-a0.network") && strings.Contains(line, "networkctl reload") {
			t.Errorf("the audit names a reload that was not run: %s", line)
		}
	}
}

// The editor through the browser: a file networkd would not read as
// written is refused with its file:line next to the text, and nothing is
// written; a valid edit that adds an address, a route in a table named in
// networkd.conf.d and a rule shows beforehand what networkd will do,
// writes exactly that file, and networkd does exactly what was shown.
func TestEditorRefusesAnErrorAndNetworkdDoesWhatItPredicts(t *testing.T) {
	th := newTryHost(t, map[string]string{"10-a0.network": a0File, "conf.d/tables.conf": "[Network]\nRouteTable=wanforce:100\n"}, "", nil)
	disk := func() map[string]string {
		out := map[string]string{}
		for _, dir := range []string{th.h.Conf, th.h.ConfD} {
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				data, err := os.ReadFile(filepath.Join(dir, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				out[filepath.Join(dir, e.Name())] = string(data)
			}
		}
		return out
	}
	before := disk()

	// "[Network" is no section header: networkd would not read the file.
	th.edit(t, "10-a0.network", strings.Replace(a0File, "[Network]", "[Network", 1))
	if !evalJS[bool](t, th.tab, `!!document.querySelector('[data-testid=editor-refused]') && !document.querySelector('[data-testid=editor-apply]')`) {
		t.Fatal("a file with a syntax error is not refused")
	}
	// forms.js places the message at the text area once htmx has settled
	// the answer, a moment after the refusal is in the page.
	waitJS(t, th.tab, "the message at the text area", `!!document.querySelector('#editor-form .field-error[data-error-for=text]')`)
	at := evalJS[string](t, th.tab, `document.querySelector('#editor-form .field-error[data-error-for=text]').textContent`)
	if !strings.Contains(at, "10-a0.network:5") || !strings.Contains(at, "invalid section header") {
		t.Errorf("the text area's message does not name 10-a0.network:5: %q", at)
	}
	if got := disk(); !maps.Equal(got, before) {
		t.Errorf("a refused edit changed the files")
	}

	added := "\n[Address]\nAddress=10.77.5.1/24\n" +
		"\n[Route]\nDestination=198.51.100.0/24\nGateway=10.77.0.2\nTable=wanforce\n" +
		"\n[RoutingPolicyRule]\nFirewallMark=0x20/0x20\nPriority=2000\nTable=wanforce\n"
	th.edit(t, "10-a0.network", a0File+added)
	want := []string{"add address 10.77.5.1/24 dev a0", "add route 198.51.100.0/24 via 10.77.0.2 dev a0 table wanforce",
		"add rule 2000: from all fwmark 0x20/0x20 lookup wanforce"}
	if got := th.rows(t, "editor-prediction"); !sameStrings(got, want) {
		t.Errorf("what networkd will do: %q, want %q", got, want)
	}
	th.clickJS(t, `[data-testid=editor-apply]`)
	waitJS(t, th.tab, "the try to wait for confirmation", `!!document.querySelector('[data-testid=outcome][data-state=pending] [data-testid=confirm]')`)
	if got := th.rows(t, "try-observed"); !sameStrings(got, want) || !evalJS[bool](t, th.tab, `!!document.querySelector('[data-testid=prediction-matched]')`) {
		t.Errorf("what networkd did: %q, want %q", got, want)
	}
	th.clickJS(t, `[data-testid=confirm]`)
	waitJS(t, th.tab, "the confirmation", `!!document.querySelector('[data-testid=outcome][data-state=confirmed]')`)

	// Exactly the edited file changed, to exactly the text.
	after := disk()
	name := filepath.Join(th.h.Conf, "10-a0.network")
	if after[name] != a0File+added {
		t.Errorf("10-a0.network on disk:\n%s", after[name])
	}
	delete(after, name)
	delete(before, name)
	if !maps.Equal(after, before) {
		t.Errorf("the edit changed other files: %v", after)
	}
	// And the kernel says what the page said.
	if a := th.a.IP("-4", "addr", "show", "dev", "a0"); !strings.Contains(a, "10.77.5.1/24") {
		t.Errorf("a0: %s", a)
	}
	if r := th.a.IP("route", "show", "table", "100"); !strings.Contains(r, "198.51.100.0/24 via 10.77.0.2 dev a0") {
		t.Errorf("table 100: %s", r)
	}
	if r := th.a.IP("rule"); !strings.Contains(r, "2000:\tfrom all fwmark 0x20/0x20 lookup 100") {
		t.Errorf("rules: %s", r)
	}
}

func sameStrings(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
