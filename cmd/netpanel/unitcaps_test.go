package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/nftables"
	"github.com/netpanel/netpanel/netops/nftables/owned"
	"github.com/netpanel/netpanel/netops/nsexec"
	"github.com/vishvananda/netns"
)

// TestMain lets this test binary stand in for the small helpers the
// capability test runs under a reduced bounding set or as another user.
func TestMain(m *testing.M) {
	if role := os.Getenv(helperEnv); role != "" {
		os.Exit(helperMain(role))
	}
	os.Exit(m.Run())
}

const helperEnv = "NETPANEL_UNITCAPS_HELPER"

// helperMain runs one helper role. "listen" holds a listening TCP socket
// on loopback, prints its port and waits for stdin to close; "nft" reads
// the nftables ruleset and adds a rule to netpanel's own table, as the
// panel's nftables code does (it is not wired into the binary yet).
func helperMain(role string) int {
	switch role {
	case "listen":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Printf("port %d\n", ln.Addr().(*net.TCPAddr).Port)
		_, _ = io.Copy(io.Discard, os.Stdin)
		return 0
	case "nft":
		if _, err := nftables.Dump(netns.None()); err != nil {
			fmt.Fprintln(os.Stderr, "reading the ruleset:", err)
			return 1
		}
		r, err := owned.Parse(owned.Form{Hook: "output", Kind: "mark", Mark: "0x20"}, nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if _, err := owned.Add(netns.None(), r); err != nil {
			fmt.Fprintln(os.Stderr, "adding a rule:", err)
			return 1
		}
		return 0
	}
	fmt.Fprintln(os.Stderr, "unknown helper role", role)
	return 2
}

// capsEnv is what every run of the capability test shares: the binary,
// a namespace with a link to save and a named table, and helpers
// holding sockets as root and as nobody.
type capsEnv struct {
	t       *testing.T
	bin     string // netpanel, built from this package
	ns      *testenv.NS
	nsH     netns.NsHandle
	token   string
	state   string // --state-dir, with the admin "boss" and its token
	nobody  int    // pid of a listener running as nobody
	rootPID int    // pid of a listener running as root with every capability
	ports   map[int]int
}

// Each capability of netpanel.service, measured: the features work under
// exactly the unit's bounding set (with no_new_privs, and the file system,
// /proc and umask as the unit makes them: see serve), and with one
// capability less the feature that needs it fails, with a message saying
// so. The same run under strace shows that
// netpanel stays within the unit's system call filter and address
// families.
func TestUnitCapabilities(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "setpriv")
	testenv.RequireTool(t, "nft")
	unitCaps := unitCapabilities(unitFile)
	if len(unitCaps) == 0 {
		t.Fatal("netpanel.service has no CapabilityBoundingSet=")
	}
	env := newCapsEnv(t)

	t.Run("every feature works with exactly the unit's capabilities", func(t *testing.T) {
		r := env.serve(t, unitCaps, nil, "")
		r.changeWorks(t)
		r.markRuleWorks(t)
		r.socketOwnersNamed(t, true, true)
		r.saveKeepsOwner(t)
		r.tablesWritten(t)
		if out, err := env.helper(t, unitCaps, "nft"); err != nil {
			t.Errorf("nftables read and write under %v: %v\n%s", unitCaps, err, out)
		}
		for _, w := range []string{"read-only", "cannot name the processes"} {
			if strings.Contains(r.log(), w) {
				t.Errorf("netpanel says %q under the unit's capabilities:\n%s", w, r.log())
			}
		}
	})

	less := func(c string) []string {
		if !slices.Contains(unitCaps, c) {
			t.Fatalf("the unit does not grant %s any more: update this test and the README's table", c)
		}
		return slices.DeleteFunc(slices.Clone(unitCaps), func(x string) bool { return x == c })
	}
	t.Run("without CAP_NET_ADMIN netpanel is read-only and says so", func(t *testing.T) {
		caps := less("CAP_NET_ADMIN")
		r := env.serve(t, caps, nil, "")
		if !strings.Contains(r.log(), "no CAP_NET_ADMIN: running read-only") {
			t.Errorf("no read-only warning:\n%s", r.log())
		}
		code, body := r.change(t, "br-less")
		if code < 400 || !strings.Contains(body, "no CAP_NET_ADMIN") {
			t.Errorf("a change without CAP_NET_ADMIN: %d %s", code, body)
		}
		if out, _ := env.ns.TryIP("link", "show", "br-less"); !strings.Contains(out, "does not exist") {
			t.Errorf("br-less exists: %s", out)
		}
		out, err := env.helper(t, caps, "nft")
		if err == nil || !strings.Contains(out, "operation not permitted") {
			t.Errorf("nftables without CAP_NET_ADMIN: %v %s", err, out)
		}
		if code, body := r.do(t, "GET", "/api/v1/nftables", "", ""); code != http.StatusServiceUnavailable || !strings.Contains(body, "CAP_NET_ADMIN") {
			t.Errorf("the nftables API without CAP_NET_ADMIN: %d %s", code, body)
		}
	})
	t.Run("without CAP_CHOWN a save that must keep a file's group changes nothing and says why", func(t *testing.T) {
		r := env.serve(t, less("CAP_CHOWN"), nil, "")
		before := r.foreignFile(t)
		msg := r.save(t)
		if !strings.Contains(msg, "chown") || !strings.Contains(msg, "operation not permitted") || !strings.Contains(msg, "all files left as they were") {
			t.Errorf("save answered: %s", msg)
		}
		if after, _ := os.ReadFile(filepath.Join(r.networkd, "10-a0.network")); !bytes.Equal(after, before) {
			t.Errorf("10-a0.network changed:\n%s", after)
		}
	})
	// Under ProtectProc=invisible only CAP_SYS_PTRACE shows other users'
	// processes at all.
	t.Run("without CAP_SYS_PTRACE other programs' processes go unnamed, with a warning", func(t *testing.T) {
		r := env.serve(t, less("CAP_SYS_PTRACE"), nil, "")
		r.socketOwnersNamed(t, false, false)
		if !regexp.MustCompile(`cannot name the processes of other programs" missing=CAP_SYS_PTRACE`).MatchString(r.log()) {
			t.Errorf("no warning naming CAP_SYS_PTRACE:\n%s", r.log())
		}
	})
	t.Run("without CAP_DAC_READ_SEARCH other users' processes go unnamed, with a warning", func(t *testing.T) {
		r := env.serve(t, less("CAP_DAC_READ_SEARCH"), nil, "")
		r.socketOwnersNamed(t, true, false)
		if !regexp.MustCompile(`cannot name the processes of other programs" missing=CAP_DAC_READ_SEARCH`).MatchString(r.log()) {
			t.Errorf("no warning naming CAP_DAC_READ_SEARCH:\n%s", r.log())
		}
	})

	t.Run("--netns needs CAP_SYS_ADMIN and says so at once", func(t *testing.T) {
		out, err := env.run(unitCaps, false, env.bin, "export", "--netns", env.ns.Name, "--state-dir", t.TempDir())
		if err == nil || !strings.Contains(out, "entering a namespace needs CAP_SYS_ADMIN") {
			t.Errorf("export --netns under the unit's capabilities: %v\n%s", err, out)
		}
		out, err = env.run(append(slices.Clone(unitCaps), "CAP_SYS_ADMIN"), false, env.bin, "export", "--netns", env.ns.Name, "--state-dir", t.TempDir())
		if err != nil || !strings.HasPrefix(out, "\x1f\x8b") {
			t.Errorf("export --netns with CAP_SYS_ADMIN added: %v\n%.300q", err, out)
		}
	})

	t.Run("networkctl reload needs uid 0, no capability", func(t *testing.T) {
		testNetworkctlReload(t, unitCaps)
	})

	t.Run("netpanel stays within the unit's system calls and address families", func(t *testing.T) {
		testenv.RequireTool(t, "strace")
		testenv.RequireTool(t, "systemd-analyze")
		traceDir := t.TempDir()
		trace := filepath.Join(traceDir, "strace.out")
		r := env.serve(t, unitCaps, []string{"strace", "-f", "-qq", "-o", trace}, traceDir)
		r.changeWorks(t)
		r.markRuleWorks(t)
		r.socketOwnersNamed(t, true, true)
		r.saveKeepsOwner(t)
		r.tablesWritten(t)
		r.stop(t)
		checkSyscalls(t, trace)
	})
}

func newCapsEnv(t *testing.T) *capsEnv {
	t.Helper()
	env := &capsEnv{t: t, ports: map[int]int{}}
	env.bin = filepath.Join(t.TempDir(), "netpanel")
	if out, err := exec.Command("go", "build", "-o", env.bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if _, err := user.LookupGroup("systemd-network"); err != nil {
		testenv.Missing(t, "group systemd-network (Debian's systemd package): %v", err)
	}
	env.ns = testenv.NewNS(t)
	env.ns.Batch([]string{
		"link add a0 type veth peer name a1",
		"addr add 10.91.0.1/24 dev a0",
		"link set a0 up",
		"link set a1 up",
		"route add 10.92.0.0/24 dev a0 table 100",
	})
	env.nsH = env.ns.Handle()

	env.state = t.TempDir()
	var out, errb bytes.Buffer
	if cli([]string{"user", "add", "boss", "--role", "admin", "--state-dir", env.state}, strings.NewReader("a long enough password\n"), &out, &errb) != 0 {
		t.Fatalf("user add: %s", errb.String())
	}
	out.Reset()
	if cli([]string{"token", "create", "boss", "--state-dir", env.state}, strings.NewReader(""), &out, &errb) != 0 {
		t.Fatalf("token create: %s", errb.String())
	}
	env.token = strings.TrimSpace(out.String())

	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	env.nobody = env.listener(t, self, "--reuid=65534", "--regid=65534", "--clear-groups")
	env.rootPID = env.listener(t, self)
	return env
}

// listener starts a helper holding a listening socket in the namespace,
// through setpriv with args, and returns its pid.
func (env *capsEnv) listener(t *testing.T, self string, setpriv ...string) int {
	t.Helper()
	args := append([]string{"netns", "exec", env.ns.Name, "setpriv"}, setpriv...)
	args = append(args, "--", self)
	cmd := exec.Command("ip", args...)
	cmd.Env = append(os.Environ(), helperEnv+"=listen")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	port, perr := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "port ")))
	if err != nil || perr != nil {
		t.Fatalf("listener %v printed %q: %v", setpriv, line, err)
	}
	env.ports[cmd.Process.Pid] = port
	return cmd.Process.Pid
}

// setprivArgs bounds a process to caps, as CapabilityBoundingSet= does
// for a root service, with no_new_privs as NoNewPrivileges=yes.
func setprivArgs(caps []string) []string {
	bset := "-all"
	for _, c := range caps {
		bset += ",+" + strings.ToLower(strings.TrimPrefix(c, "CAP_"))
	}
	return []string{"setpriv", "--bounding-set=" + bset, "--inh-caps=-all", "--no-new-privs", "--"}
}

// run runs a command line in the namespace under caps and returns its
// output (stdout then stderr).
func (env *capsEnv) run(caps []string, helper bool, args ...string) (string, error) {
	full := append([]string{"netns", "exec", env.ns.Name}, setprivArgs(caps)...)
	cmd := exec.Command("ip", append(full, args...)...)
	if helper {
		cmd.Env = append(os.Environ(), helperEnv+"=nft")
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String() + stderr.String(), err
}

func (env *capsEnv) helper(t *testing.T, caps []string, role string) (string, error) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if role != "nft" {
		t.Fatalf("helper role %s", role)
	}
	return env.run(caps, true, self)
}

// capsRun is one netpanel serving the namespace as its host, under a
// bounding set.
type capsRun struct {
	env      *capsEnv
	cmd      *exec.Cmd
	out      *lockedLog
	done     chan struct{}
	client   *http.Client
	networkd string // --networkd-dir
	confDir  string // --networkd-conf-dir, missing until a save makes it
	tables   string // --rt-tables-dir
	stopOnce sync.Once
}

type lockedLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serve starts netpanel in the namespace (its "host") under caps, and
// waits until it serves. wrap (strace, writing into wrapDir) runs between
// setpriv and netpanel.
//
// ip netns exec gives netpanel a mount namespace of its own; protect
// makes it what the unit's settings make of the host's: every mount
// read-only but the directories the unit lists as writable (here their
// stand-ins, made beforehand as tmpfiles.d and Debian make them), /proc
// mounted with hidepid=invisible,subset=pid as ProtectProc=invisible and
// ProcSubset=pid mount it, and umask 077 as UMask= sets.
func (env *capsEnv) serve(t *testing.T, caps, wrap []string, wrapDir string) *capsRun {
	t.Helper()
	dir := t.TempDir()
	r := &capsRun{env: env, out: &lockedLog{}, done: make(chan struct{}),
		networkd: filepath.Join(dir, "network"), confDir: filepath.Join(dir, "networkd.conf.d"), tables: filepath.Join(dir, "iproute2")}
	docker := filepath.Join(dir, "docker")
	state := t.TempDir()
	writable := []string{state, r.networkd, r.confDir, filepath.Join(r.tables, "rt_tables.d"), docker}
	for _, d := range writable {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if wrapDir != "" {
		writable = append(writable, wrapDir)
	}
	if err := os.WriteFile(filepath.Join(r.tables, "rt_tables"), []byte("100\tcapt\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.foreignFile(t)
	b, err := os.ReadFile(filepath.Join(env.state, "users.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(state, "users.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	// Other tests (other packages run in parallel) add and delete
	// namespaces while this lists the mounts: their /run/netns handles are
	// no data to protect, and a mount that is gone by the time it is
	// remounted is no failure.
	const protect = `set -e
rw=$1
shift
IFS=:
for d in $rw; do mount --bind "$d" "$d"; done
awk '$5 !~ "^/(proc|sys|dev)(/|$)" && $5 !~ "^/run/netns/." { print $5 }' /proc/self/mountinfo | sort -u | while read -r m; do
	mount -o remount,bind,ro "$m" 2>/dev/null || ! mountpoint -q "$m" || mount -o remount,bind,ro "$m"
done
for d in $rw; do mount -o remount,bind,rw "$d"; done
unset IFS
mount -t proc -o hidepid=invisible,subset=pid proc /proc
umask 077
exec "$@"
`
	args := []string{"netns", "exec", env.ns.Name, "sh", "-c", protect, "sh", strings.Join(writable, ":")}
	args = append(args, setprivArgs(caps)...)
	args = append(args, wrap...)
	args = append(args, env.bin, "--listen", "127.0.0.1:8080", "--state-dir", state,
		"--networkd-dir", r.networkd, "--networkd-conf-dir", r.confDir, "--docker-dir", docker,
		"--rt-tables-dir", r.tables, "--docker-socket", filepath.Join(dir, "no-docker.sock"))
	r.cmd = exec.Command("ip", args...)
	r.cmd.Stdout, r.cmd.Stderr = r.out, r.out
	// A group of its own: with strace in between, stop signals netpanel
	// as well as strace, which would otherwise leave it running.
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	r.cmd.WaitDelay = 10 * time.Second
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = r.cmd.Wait(); close(r.done) }()
	t.Cleanup(func() {
		r.stop(t)
		if t.Failed() {
			t.Logf("netpanel under %v:\n%s", caps, r.log())
		}
	})
	r.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		// The panel listens on the namespace's loopback: dial from there.
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var c net.Conn
			err := nsexec.Do(env.nsH, func() error {
				var err error
				c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
				return err
			})
			return c, err
		},
	}}
	// Serving comes before the first netlink sync: a request in between
	// would not find the namespace's links yet.
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(r.log(), "netpanel serving") || !strings.Contains(r.log(), "netlink state synced") {
		select {
		case <-r.done:
			t.Fatalf("netpanel exited under %v:\n%s", caps, r.log())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("netpanel under %v does not serve:\n%s", caps, r.log())
		}
	}
	return r
}

func (r *capsRun) log() string { return r.out.String() }

// stop ends netpanel with SIGTERM, as systemctl stop does.
func (r *capsRun) stop(t *testing.T) {
	r.stopOnce.Do(func() {
		_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-r.done:
		case <-time.After(30 * time.Second):
			_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
			<-r.done
			t.Errorf("netpanel did not stop on SIGTERM")
		}
	})
}

func (r *capsRun) do(t *testing.T, method, path, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://127.0.0.1:8080"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+r.env.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (r *capsRun) change(t *testing.T, bridge string) (int, string) {
	t.Helper()
	return r.do(t, "POST", "/api/v1/changes", "application/json",
		`{"kind":"link","fields":{"action":"add","name":"`+bridge+`","type":"bridge"}}`)
}

// changeWorks adds a bridge through the API and finds it with ip.
func (r *capsRun) changeWorks(t *testing.T) {
	t.Helper()
	name := fmt.Sprintf("brc%d", time.Now().UnixNano()%100000)
	code, body := r.change(t, name)
	if code != http.StatusOK || !strings.Contains(body, `"state":"applied"`) {
		t.Fatalf("link add: %d %s", code, body)
	}
	if out, err := r.env.ns.TryIP("-j", "link", "show", name); err != nil {
		t.Fatalf("the bridge netpanel added is not there: %v %s", err, out)
	}
	r.env.ns.IP("link", "del", name)
}

// markRuleWorks adds a mark rule to netpanel's nftables table through
// the API, finds it with nft, and reads the ruleset back through the API.
func (r *capsRun) markRuleWorks(t *testing.T) {
	t.Helper()
	code, body := r.do(t, "POST", "/api/v1/changes", "application/json",
		`{"kind":"nft","fields":{"hook":"output","action":"mark","proto":"udp","dst":"203.0.113.5","dport":"1194","mark":"0x20/0x20"}}`)
	if code != http.StatusOK || !strings.Contains(body, `"state":"applied"`) {
		t.Fatalf("mark rule: %d %s", code, body)
	}
	out, err := exec.Command("ip", "netns", "exec", r.env.ns.Name, "nft", "list", "table", "inet", "netpanel").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ip daddr 203.0.113.5 udp dport 1194 meta mark set meta mark | 0x00000020") {
		t.Fatalf("nft list table inet netpanel: %v\n%s", err, out)
	}
	if code, body := r.do(t, "GET", "/api/v1/nftables", "", ""); code != http.StatusOK || !strings.Contains(body, `"name":"netpanel"`) {
		t.Errorf("the nftables API: %d %s", code, body)
	}
	_ = exec.Command("ip", "netns", "exec", r.env.ns.Name, "nft", "delete", "table", "inet", "netpanel").Run()
}

// socketOwnersNamed checks which listeners' processes the sockets API
// names: root's (with every capability) and nobody's.
func (r *capsRun) socketOwnersNamed(t *testing.T, root, nobody bool) {
	t.Helper()
	code, body := r.do(t, "GET", "/api/v1/sockets", "", "")
	if code != http.StatusOK {
		t.Fatalf("sockets: %d %s", code, body)
	}
	var socks []struct {
		State string `json:"state"`
		Local string `json:"local"`
		Users []struct {
			PID int `json:"pid"`
		} `json:"users"`
	}
	if err := json.Unmarshal([]byte(body), &socks); err != nil {
		t.Fatalf("sockets: %v\n%s", err, body)
	}
	named := func(pid int) bool {
		want := "127.0.0.1:" + strconv.Itoa(r.env.ports[pid])
		listed := false
		for _, s := range socks {
			if s.State == "LISTEN" && s.Local == want {
				listed = true
				if slices.ContainsFunc(s.Users, func(u struct {
					PID int `json:"pid"`
				}) bool {
					return u.PID == pid
				}) {
					return true
				}
			}
		}
		if !listed {
			t.Errorf("the socket %s of pid %d is not listed at all", want, pid)
		}
		return false
	}
	if got := named(r.env.rootPID); got != root {
		t.Errorf("root's listener (pid %d, every capability) named: %v, want %v", r.env.rootPID, got, root)
	}
	if got := named(r.env.nobody); got != nobody {
		t.Errorf("nobody's listener (pid %d) named: %v, want %v", r.env.nobody, got, nobody)
	}
}

// foreignFile (re)writes a .network file for a0 that netpanel did not
// write, root:systemd-network 0640 like a file holding a secret, and
// returns its content.
func (r *capsRun) foreignFile(t *testing.T) []byte {
	t.Helper()
	g, err := user.LookupGroup("systemd-network")
	if err != nil {
		t.Fatal(err)
	}
	gid, _ := strconv.Atoi(g.Gid)
	p := filepath.Join(r.networkd, "10-a0.network")
	data := []byte("[Match]\nName=a0\n")
	if err := os.WriteFile(p, data, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(p, 0, gid); err != nil {
		t.Fatal(err)
	}
	return data
}

var digestRE = regexp.MustCompile(`name="digest" value="([^"]+)"`)

// save takes 10-a0.network over and saves a0, as the Save page does
// (preview, then save with the reviewed diff's digest); it returns the
// answer's text.
func (r *capsRun) save(t *testing.T) string {
	t.Helper()
	form := url.Values{"link": {"a0"}, "takeover": {"10-a0.network"}}
	code, body := r.do(t, "POST", "/networkd/preview", "application/x-www-form-urlencoded", form.Encode())
	m := digestRE.FindStringSubmatch(body)
	if code != http.StatusOK || m == nil {
		t.Fatalf("preview: %d %s", code, body)
	}
	form.Set("digest", m[1])
	_, body = r.do(t, "POST", "/networkd/save", "application/x-www-form-urlencoded", form.Encode())
	return regexp.MustCompile(`<[^>]*>`).ReplaceAllString(body, " ")
}

// saveKeepsOwner saves a0 over the foreign file: the file keeps its group
// and mode, new files are world-readable although the umask is 077
// (networkd reads them as systemd-network), and the route in the named
// table brings a file into networkd.conf.d.
func (r *capsRun) saveKeepsOwner(t *testing.T) {
	t.Helper()
	if msg := r.save(t); !strings.Contains(msg, "Wrote") {
		t.Fatalf("save: %s", msg)
	}
	g, _ := user.LookupGroup("systemd-network")
	gid, _ := strconv.Atoi(g.Gid)
	for _, f := range []struct {
		path string
		mode os.FileMode
		gid  int
	}{
		{filepath.Join(r.networkd, "10-a0.network"), 0o640, gid},
		{filepath.Join(r.networkd, "10-a0.netdev"), 0o644, 0},
		{filepath.Join(r.confDir, "netpanel-tables.conf"), 0o644, 0},
	} {
		fi, err := os.Stat(f.path)
		if err != nil {
			t.Errorf("after the save: %v", err)
			continue
		}
		if fi.Mode() != f.mode || int(fi.Sys().(*syscall.Stat_t).Gid) != f.gid {
			t.Errorf("%s: mode %v gid %d, want %v gid %d", f.path, fi.Mode(), fi.Sys().(*syscall.Stat_t).Gid, f.mode, f.gid)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(r.networkd, "10-a0.network")); !bytes.Contains(b, []byte("Table=100\n")) {
		t.Errorf("10-a0.network lacks the route in table capt (100):\n%s", b)
	}
}

// tablesWritten names a table from the tables page: the file is
// world-readable whatever the umask.
func (r *capsRun) tablesWritten(t *testing.T) {
	t.Helper()
	code, body := r.do(t, "POST", "/tables", "application/x-www-form-urlencoded", "action=add&name=capx&id=123")
	if code != http.StatusOK {
		t.Fatalf("tables: %d %s", code, body)
	}
	p := filepath.Join(r.tables, "rt_tables.d", "netpanel.conf")
	if fi, err := os.Stat(p); err != nil || fi.Mode() != 0o644 {
		t.Errorf("%s: %v %v, want mode 0644", p, fi, err)
	}
}

// testNetworkctlReload runs the real systemd-networkd and a private
// D-Bus system bus in a namespace, then `networkctl reload` (what
// netpanel runs after a save) under the unit's bounding set and under an
// empty one; each reload must apply a changed .network file, and the
// first, traced, must stay within the unit's system call filter.
func testNetworkctlReload(t *testing.T, unitCaps []string) {
	ns := testenv.NewNS(t)
	ns.Batch([]string{"link add r0 type veth peer name r1", "link set r1 up"})
	// Each reload gets a new address for r0, written just before.
	// The first reload runs under strace, for the unit's filters.
	script := `trace=$1
shift
i=0
for caps in "$@"; do
	i=$((i+1))
	printf '[Match]\nName=r0\n\n[Network]\nConfigureWithoutCarrier=yes\nAddress=10.93.%d.1/24\n' $i >/etc/systemd/network/10-r0.network
	if [ $i = 1 ]; then
		setpriv --bounding-set="$caps" --inh-caps=-all --no-new-privs -- strace -f -qq -o "$trace" networkctl reload
	else
		setpriv --bounding-set="$caps" --inh-caps=-all --no-new-privs -- networkctl reload
	fi
	n=0
	until ip -br addr show r0 | grep -q "10.93.$i.1/24"; do n=$((n+1)); [ $n -lt 200 ] || { echo "reload under $caps did not apply 10.93.$i.1"; exit 5; }; sleep 0.1; done
	echo "reloaded under $caps"
done
`
	bset := strings.TrimPrefix(setprivArgs(unitCaps)[1], "--bounding-set=")
	testenv.RequireTool(t, "strace")
	trace := filepath.Join(t.TempDir(), "strace.out")
	out, err := runWithNetworkd(t, ns, t.TempDir(), script, trace, bset, "-all")
	if err != nil {
		t.Fatalf("networkctl reload: %v\n%s", err, out)
	}
	checkSyscalls(t, trace)
	for _, want := range []string{"reloaded under " + bset, "reloaded under -all"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}
