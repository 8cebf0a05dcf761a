package trial_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/files/networkd"
	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/netops/kernel/change"
	"github.com/netpanel/netpanel/netops/kernel/safeapply"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/monitor"
	"github.com/netpanel/netpanel/netops/plan/persist"
	"github.com/netpanel/netpanel/netops/plan/trial"
	"golang.org/x/sys/unix"
)

// env is the panel's namespace A run by the real systemd-networkd over a
// private bus, the admin's namespace B behind the veth a0-b0 (10.77.0.1 -
// 10.77.0.2), netpanel's model of A, the files manager, the engine and
// the runner.
type env struct {
	a, b   *testenv.NS
	h      *testenv.NetworkdHost
	store  *model.Store
	files  *persist.Manager
	engine *safeapply.Engine
	runner *trial.Runner
}

var client = mustAddr("10.77.0.2")

// a0File is the file networkd configures a0 with at the start.
const a0File = "[Match]\nName=a0\n\n[Network]\nAddress=10.77.0.1/24\nLinkLocalAddressing=no\nConfigureWithoutCarrier=yes\n"

func newEnv(t *testing.T, timeout time.Duration, tablesConf string) *env {
	t.Helper()
	e := &env{a: testenv.NewNS(t), b: testenv.NewNS(t)}
	e.a.Batch([]string{"link add a0 type veth peer name b0 netns " + e.b.Name, "link set a0 up",
		"link add c0 type veth peer name c1", "link set c1 up"})
	e.b.Batch([]string{"addr add 10.77.0.2/24 dev b0", "link set b0 up"})
	e.h = testenv.StartNetworkdHost(t, e.a)
	e.h.WriteFile(t, filepath.Join(e.h.Conf, "10-a0.network"), a0File)
	if tablesConf != "" {
		e.h.WriteFile(t, filepath.Join(e.h.ConfD, "tables.conf"), tablesConf)
		// networkd reads networkd.conf.d when it starts.
		e.h.StopNetworkd()
		e.h.StartNetworkd(t)
	}
	e.h.Networkctl(t, "reload")
	waitFor(t, "networkd to configure a0", func() bool { return slices.Contains(e.a.Addrs4("a0"), "10.77.0.1/24") }, e.h.Log)

	e.store = model.NewStore()
	w := monitor.NewWatcher(e.a.Handle(), e.store, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var runErr atomic.Value
	go func() {
		defer close(done)
		if err := w.Run(ctx); err != nil {
			runErr.Store(err.Error())
		}
	}()
	t.Cleanup(func() { cancel(); <-done; w.Close() })
	waitFor(t, "the model's first sync", func() bool { return e.store.Status().Synced }, func() string {
		return fmt.Sprintf("watcher: %v, status %+v", runErr.Load(), e.store.Status())
	})
	tg, err := change.Dial(e.a.Handle())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tg.Close() })
	sd := persist.Systemd{Bus: e.h.BusAddress(), Enter: e.h.EnterNet()}
	tables := func() *rttables.Tables { return rttables.New() }
	e.files = persist.New(persist.Options{NetworkDir: e.h.Conf, ConfDir: e.h.ConfD, BackupDir: filepath.Join(t.TempDir(), "backups"),
		Networkd: sd, Target: networkd.DetectTarget(context.Background())}, e.store, tables)
	if v := e.files.Options().Target; v.Assumed {
		t.Fatalf("the networkd the test runs told no version: %s", v.How)
	}
	names := func() change.Names { return e.store.Names(tables()) }
	e.engine = safeapply.New(tg, e.store, names, slog.New(slog.DiscardHandler), nil)
	e.engine.Timeout, e.engine.Sync = timeout, w.Sync
	t.Cleanup(e.engine.Close)
	e.runner = &trial.Runner{Files: e.files, Daemon: sd, Store: e.store, Target: tg, Sync: w.Sync, Names: names,
		Version: e.files.Options().Target}
	return e
}

// try applies files as a try from the admin's address and returns the
// outcome and the report.
func (e *env) try(t *testing.T, files map[string]string) (safeapply.Outcome, *trial.Report) {
	t.Helper()
	fs := map[string][]byte{}
	for k, v := range files {
		fs[k] = nil
		if v != "" {
			fs[k] = []byte(v)
		}
	}
	pv, err := e.files.PreviewFiles(fs, slices.Collect(func(yield func(string) bool) {
		for k := range files {
			if !yield(k) {
				return
			}
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	var rep *trial.Report
	out, err := e.engine.ApplyBatch(safeapply.Batch{User: "admin", Client: client, Summary: "test", Apply: func() (safeapply.BatchResult, error) {
		res, r, err := e.runner.Run(context.Background(), pv.Plan, func() (persist.Result, error) { return e.files.Write(pv, pv.Digest) })
		rep = r
		return res, err
	}})
	if err != nil {
		t.Fatalf("try: %v\n%s", err, e.h.Log())
	}
	return out, rep
}

func effectStrings(es []networkd.Effect) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.String())
	}
	return out
}

// The prediction equals the outcome: an address, a route in a table named
// in networkd.conf.d and a rule added to a0's file, one after the other,
// are what networkd does, and nothing else happens.
func TestPredictionEqualsOutcome(t *testing.T) {
	e := newEnv(t, time.Minute, "[Network]\nRouteTable=wanforce:100\n")
	file := a0File
	for _, step := range []struct {
		name, add string
		want      []string
	}{
		{"an address", "\n[Address]\nAddress=10.77.5.1/24\n", []string{"add address 10.77.5.1/24 dev a0"}},
		{"a route in a named table", "\n[Route]\nDestination=198.51.100.0/24\nGateway=10.77.0.2\nTable=wanforce\n",
			[]string{"add route 198.51.100.0/24 via 10.77.0.2 dev a0 table wanforce"}},
		{"a rule", "\n[RoutingPolicyRule]\nFirewallMark=0x20/0x20\nPriority=2000\nTable=wanforce\n",
			[]string{"add rule 2000: from all fwmark 0x20/0x20 lookup wanforce"}},
	} {
		file += step.add
		out, rep := e.try(t, map[string]string{"10-a0.network": file})
		if got := effectStrings(rep.Prediction.Effects); !slices.Equal(got, step.want) {
			t.Errorf("%s: predicted %q, want %q", step.name, got, step.want)
		}
		if !rep.Live || len(rep.Missing) > 0 || len(rep.Unexpected) > 0 {
			t.Errorf("%s: live %v, observed %q; missing %q, unexpected %q\n%s", step.name, rep.Live, effectStrings(rep.Observed),
				effectStrings(rep.Missing), effectStrings(rep.Unexpected), e.h.Log())
		}
		// a0 carries the admin's connection, and rules decide how it is
		// routed: a change of either waits for confirmation even though
		// the route back did not move.
		if out.State != safeapply.Pending || out.Reason == "" {
			t.Fatalf("%s: %+v", step.name, out)
		}
		if _, err := e.engine.Confirm(out.ID, "admin"); err != nil {
			t.Fatal(err)
		}
	}
	if r := e.a.IP("route", "show", "table", "100"); !strings.Contains(r, "198.51.100.0/24 via 10.77.0.2 dev a0") {
		t.Fatalf("table 100: %s", r)
	}
}

// The bug this package was written against: a save that names a table
// for the first time. netpanel writes the number into Table=, so the
// reload alone applies the route; networkd 252 would log "Could not parse
// route table" for a name its networkd.conf.d had not declared at start.
func TestATableNamedByTheSameSaveWorksWithoutARestart(t *testing.T) {
	e := newEnv(t, time.Minute, "")
	e.a.Batch([]string{"route add 198.51.100.0/24 via 10.77.0.2 dev a0 table 100", "rule add fwmark 0x20/0x20 priority 2000 lookup 100"})
	tables := func() *rttables.Tables { return rttables.New(rttables.Entry{ID: 100, Name: "newtab"}) }
	files := persist.New(e.files.Options(), e.store, tables)
	// The save describes what the model holds: both the route and the
	// rule must be in it (the rule's event can come after the route's),
	// or the files leave the rule out and networkd removes it.
	waitFor(t, "the model to see the route and the rule", func() bool {
		return len(e.store.RoutesTo(100, mustPrefix("198.51.100.0/24"))) == 1 &&
			slices.ContainsFunc(e.store.Rules(unix.AF_INET), func(r model.Rule) bool { return r.Priority == 2000 && r.Table == 100 })
	}, e.h.Log)
	pv, err := files.Preview(persist.Selection{Links: []string{"a0"}, TakeOver: []string{"10-a0.network"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(pv.Files[networkd.TablesConf]), "RouteTable=newtab:100") || !strings.Contains(string(pv.Files["10-a0.network"]), "Table=100\n") {
		t.Fatalf("the save does not declare newtab and write its number:\n%s\n%s", pv.Files[networkd.TablesConf], pv.Files["10-a0.network"])
	}
	// networkd now removes nothing: the files describe the live state.
	e.runner.Files = files
	_, rep, err := e.runner.Run(context.Background(), pv.Plan, func() (persist.Result, error) { return files.Write(pv, pv.Digest) })
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Observed) != 0 || len(rep.Prediction.Effects) != 0 {
		t.Errorf("a save of the live state changed something: predicted %q, observed %q", effectStrings(rep.Prediction.Effects), effectStrings(rep.Observed))
	}
	// The preview predicts from Generate's structures, the try from the
	// files' bytes: the same.
	if pv.Prediction == nil || !reflect.DeepEqual(pv.Prediction.Effects, rep.Prediction.Effects) || !slices.Equal(pv.Prediction.Reconfigured, rep.Prediction.Reconfigured) {
		t.Errorf("the preview predicted %+v, the try %+v", pv.Prediction, rep.Prediction)
	}
	if !slices.ContainsFunc(rep.Notes, func(n string) bool { return strings.Contains(n, "networkd.conf.d only when it starts") }) {
		t.Errorf("the tables file's change is not explained: %q", rep.Notes)
	}
	// A fresh networkd from the same files builds it all again.
	e.a.Batch([]string{"route del 198.51.100.0/24 table 100", "rule del priority 2000"})
	e.h.StopNetworkd()
	e.h.StartNetworkd(t)
	waitFor(t, "networkd to rebuild table 100 and the rule", func() bool {
		r, _ := e.a.TryIP("route", "show", "table", "100")
		return strings.Contains(r, "198.51.100.0/24") && strings.Contains(e.a.IP("rule"), "lookup 100")
	}, e.h.Log)
	if strings.Contains(e.h.Log(), "Could not parse route table") {
		t.Fatalf("networkd could not parse a table:\n%s", e.h.Log())
	}
}

// The lock-out: a file that moves a0 off the admin's address cuts the
// route back to the admin; unconfirmed, the try puts the file back, networkd
// re-applies it, and what networkd removed and does not put back (a route
// added by hand) comes back from the capture: ip -j prints what it printed
// before.
func TestAnUnconfirmedTryThatCutsTheAdminOffRollsBack(t *testing.T) {
	e := newEnv(t, 3*time.Second, "")
	e.a.Batch([]string{"route add 10.99.0.0/24 via 10.77.0.2 dev a0", "rule add fwmark 0x40 priority 3000 lookup main"})
	before := e.a.SettledIPState()
	moved := strings.Replace(a0File, "10.77.0.1/24", "10.78.0.1/24", 1)
	out, rep := e.try(t, map[string]string{"10-a0.network": moved})
	if out.State != safeapply.Pending || !strings.Contains(out.Reason, "route back to you") && !strings.Contains(out.Reason, "how your connection is routed now") {
		t.Fatalf("the try that cut the admin off: %+v", out)
	}
	want := []string{"add address 10.78.0.1/24 dev a0", "remove address 10.77.0.1/24 dev a0", "remove route 10.99.0.0/24 via 10.77.0.2 dev a0",
		"remove rule 3000: from all fwmark 0x40 lookup main"}
	if got := effectStrings(rep.Observed); !sameSet(got, want) || len(rep.Missing)+len(rep.Unexpected) > 0 {
		t.Errorf("observed %q, want %q; missing %q, unexpected %q", got, want, effectStrings(rep.Missing), effectStrings(rep.Unexpected))
	}
	final := settled(t, e.engine, out.ID)
	if final.State != safeapply.RolledBack || len(final.LeftOver) > 0 {
		t.Fatalf("after the countdown: %+v", final)
	}
	for _, w := range []string{"restored " + filepath.Join(e.h.Conf, "10-a0.network"), "networkctl reload", "ip route add 10.99.0.0/24 via 10.77.0.2 dev a0"} {
		if !slices.ContainsFunc(final.Undone, func(s string) bool { return strings.HasPrefix(s, w) }) {
			t.Errorf("the rollback does not say %q: %q", w, final.Undone)
		}
	}
	if got, _ := os.ReadFile(filepath.Join(e.h.Conf, "10-a0.network")); string(got) != a0File {
		t.Errorf("10-a0.network after the rollback:\n%s", got)
	}
	e.a.WaitIPState(before, 20*time.Second)
}

// Confirmed, the same try stays.
func TestAConfirmedTryStays(t *testing.T) {
	e := newEnv(t, 2*time.Second, "")
	out, _ := e.try(t, map[string]string{"10-a0.network": a0File + "\n[Address]\nAddress=10.77.7.1/24\n"})
	if out.State != safeapply.Pending {
		t.Fatalf("%+v", out)
	}
	if _, err := e.engine.Confirm(out.ID, "admin"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // past the countdown: nothing may roll it back
	if got, _ := e.engine.Get(out.ID); got.State != safeapply.Confirmed {
		t.Fatalf("%+v", got)
	}
	if !slices.Contains(e.a.Addrs4("a0"), "10.77.7.1/24") {
		t.Fatalf("a0 lost the confirmed address: %v", e.a.Addrs4("a0"))
	}
}

// A try that makes a bridge through a .netdev: networkd does not delete
// the bridge when the file goes, so the rollback does.
func TestARollbackDeletesTheLinkANetdevMade(t *testing.T) {
	e := newEnv(t, 2*time.Second, "")
	before := e.a.SettledIPState()
	out, rep := e.try(t, map[string]string{
		"10-br7.netdev": "[NetDev]\nName=br7\nKind=bridge\n",
		"10-br7.network": "[Match]\nName=br7\n\n[Network]\nAddress=10.79.0.1/24\nConfigureWithoutCarrier=yes\nLinkLocalAddressing=no\n\n" +
			"[Route]\nDestination=10.77.0.2/32\n",
	})
	if !slices.Contains(effectStrings(rep.Observed), "create link br7 (bridge)") || len(rep.Missing)+len(rep.Unexpected) > 0 {
		t.Errorf("predicted %q, observed %q", effectStrings(rep.Prediction.Effects), effectStrings(rep.Observed))
	}
	if out.State != safeapply.Pending {
		t.Fatalf("a bridge with a route to the admin: %+v", out)
	}
	final := settled(t, e.engine, out.ID)
	if final.State != safeapply.RolledBack || !slices.Contains(final.Undone, "ip link del dev br7") {
		t.Fatalf("%+v", final)
	}
	e.a.WaitIPState(before, 20*time.Second)
}

// With networkd stopped the files are written and said not to be live;
// nothing waits for a confirmation.
func TestATryWithoutNetworkdSaysTheFilesAreNotLive(t *testing.T) {
	e := newEnv(t, time.Minute, "")
	e.h.StopNetworkd()
	out, rep := e.try(t, map[string]string{"10-a0.network": a0File + "\n[Address]\nAddress=10.77.8.1/24\n"})
	if out.State != safeapply.Applied || rep.Live || !strings.Contains(rep.Result.Reload.Skipped, "not live") || !strings.Contains(out.Err, "not running") {
		t.Fatalf("outcome %+v, reload %+v", out, rep.Result.Reload)
	}
	if slices.Contains(e.a.Addrs4("a0"), "10.77.8.1/24") {
		t.Fatal("the address is live without networkd")
	}
}

func settled(t *testing.T, e *safeapply.Engine, id string) safeapply.Outcome {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		o, _ := e.Get(id)
		if o.State != safeapply.Pending {
			return o
		}
		if time.Now().After(deadline) {
			t.Fatalf("still pending after 60 s: %+v", o)
		}
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func waitFor(t *testing.T, what string, cond func() bool, log func() string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 20 s for %s:\n%s", what, log())
		}
	}
}

func mustAddr(s string) netip.Addr     { return netip.MustParseAddr(s) }
func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// countingDaemon is the real networkd, with a record of the links
// `networkctl reconfigure` ran for (by index; the rollback runs it from
// the engine's timer).
type countingDaemon struct {
	persist.Systemd
	mu    sync.Mutex
	calls []int32
}

func (c *countingDaemon) Reconfigure(ctx context.Context, index int32) (string, error) {
	c.mu.Lock()
	c.calls = append(c.calls, index)
	c.mu.Unlock()
	return c.Systemd.Reconfigure(ctx, index)
}

// take returns the calls since the last take.
func (c *countingDaemon) take() []int32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	calls := c.calls
	c.calls = nil
	return calls
}

// The installed networkd (252 here and in CI) is at or above
// trial.ReloadReconfiguresFrom: its `networkctl reload` applies every
// changed .network by itself, so a try runs no `networkctl reconfigure`.
func TestReloadAloneReappliesEveryChangedFile(t *testing.T) {
	e := newEnv(t, 4*time.Second, "")
	if v := e.runner.Version; v.Version < trial.ReloadReconfiguresFrom {
		t.Fatalf("the installed networkd is %d (%s): below %d, a try reconfigures", v.Version, v.How, trial.ReloadReconfiguresFrom)
	}
	reapplies(t, e, false)
}

// Told that networkd is older than trial.ReloadReconfiguresFrom (249,
// Debian 11's is 247), a try runs `networkctl reconfigure` for each link
// it concerns after the reload, and the rollback after its reload; the
// real networkd 252 then ends where the reload alone puts it.
func TestBelowTheBoundATryReconfiguresEachLinkItConcerns(t *testing.T) {
	e := newEnv(t, 4*time.Second, "")
	e.runner.Version = networkd.Target{Version: 249, How: "test"}
	reapplies(t, e, true)
}

// reapplies runs tries against the real networkd: a file for a link
// networkd did not manage, a file of higher precedence that takes a link
// over, its removal (the link goes back to the file it shadowed) and a
// changed address each are live, and networkd says it applies that file,
// as soon as the try returns; the report names the link networkd
// configured again, and ip -j shows what the file says. The same kind of
// try on the admin's link (a file that takes a0 over), unconfirmed, rolls
// back: networkd applies a0's own file again and ip -j prints what it
// printed before. reconfigure says whether each try (and the rollback)
// must have run `networkctl reconfigure` for the link it concerns, and
// only for it.
func reapplies(t *testing.T, e *env, reconfigure bool) {
	t.Helper()
	sd := &countingDaemon{Systemd: persist.Systemd{Bus: e.h.BusAddress(), Enter: e.h.EnterNet()}}
	e.runner.Daemon = sd
	state := func(link string) persist.LinkState {
		t.Helper()
		ls, err := sd.Links(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range ls {
			if l.Name == link {
				return l
			}
		}
		t.Fatalf("networkd does not list %s", link)
		return persist.LinkState{}
	}
	fileOf := func(link string) string { return filepath.Base(state(link).NetworkFile) }
	// ran checks the reconfigures since the last check against link:
	// exactly one for it when reconfigure, none otherwise.
	ran := func(what, link string, reported []string) {
		t.Helper()
		calls, want, wantNames := sd.take(), []int32(nil), []string(nil)
		if reconfigure {
			want, wantNames = []int32{state(link).Index}, []string{link}
		}
		if !slices.Equal(calls, want) || !slices.Equal(reported, wantNames) {
			t.Errorf("%s: networkctl reconfigure ran for links %v, reported %q; want %v (%s)", what, calls, reported, want, link)
		}
	}
	c0 := func(addr string) string {
		return "[Match]\nName=c0\n\n[Network]\nAddress=" + addr + "\nLinkLocalAddressing=no\nConfigureWithoutCarrier=yes\n"
	}
	for _, step := range []struct {
		name  string
		files map[string]string
		file  string // the file networkd then applies to c0
		addrs []string
	}{
		{"a file for a link networkd did not manage", map[string]string{"20-c0.network": c0("10.78.0.1/24")}, "20-c0.network", []string{"10.78.0.1/24"}},
		{"a file of higher precedence", map[string]string{"05-c0.network": c0("10.78.1.1/24")}, "05-c0.network", []string{"10.78.1.1/24"}},
		{"its removal", map[string]string{"05-c0.network": ""}, "20-c0.network", []string{"10.78.0.1/24"}},
		{"a changed address", map[string]string{"20-c0.network": c0("10.78.2.1/24")}, "20-c0.network", []string{"10.78.2.1/24"}},
	} {
		out, rep := e.try(t, step.files)
		ran(step.name, "c0", rep.Reconfigured)
		if got := fileOf("c0"); got != step.file {
			t.Errorf("%s: networkd applies %q to c0 once the try returns, want %q\n%s", step.name, got, step.file, e.h.Log())
		}
		if !slices.Equal(rep.Reapplied, []string{"c0"}) || len(rep.Notes) > 0 {
			t.Errorf("%s: reapplied %q, notes %q", step.name, rep.Reapplied, rep.Notes)
		}
		if len(rep.Observed) == 0 || len(rep.Missing)+len(rep.Unexpected) > 0 {
			t.Errorf("%s: predicted %q, observed %q", step.name, effectStrings(rep.Prediction.Effects), effectStrings(rep.Observed))
		}
		if got := e.a.Addrs4("c0"); !sameSet(got, step.addrs) {
			t.Errorf("%s: c0 has %q, want %q", step.name, got, step.addrs)
		}
		if out.State == safeapply.Pending {
			if _, err := e.engine.Confirm(out.ID, "admin"); err != nil {
				t.Fatal(err)
			}
		}
	}

	before := e.a.SettledIPState()
	out, rep := e.try(t, map[string]string{"05-a0.network": strings.Replace(a0File, "10.77.0.1/24", "10.77.0.1/24\nAddress=10.77.6.1/24", 1)})
	ran("a file that takes a0 over", "a0", rep.Reconfigured)
	if got := fileOf("a0"); got != "05-a0.network" || !slices.Equal(rep.Reapplied, []string{"a0"}) {
		t.Errorf("networkd applies %q to a0, reapplied %q", got, rep.Reapplied)
	}
	if got := e.a.Addrs4("a0"); !sameSet(got, []string{"10.77.0.1/24", "10.77.6.1/24"}) {
		t.Errorf("a0 has %q", got)
	}
	if out.State != safeapply.Pending {
		t.Fatalf("a try on the admin's link: %+v", out)
	}
	final := settled(t, e.engine, out.ID)
	if final.State != safeapply.RolledBack || len(final.LeftOver) > 0 {
		t.Fatalf("after the countdown: %+v", final)
	}
	var undone []string
	for _, d := range final.Undone {
		if name, ok := strings.CutPrefix(d, "networkctl reconfigure "); ok {
			undone = append(undone, name)
		}
	}
	ran("the rollback", "a0", undone)
	if _, err := os.Stat(filepath.Join(e.h.Conf, "05-a0.network")); !os.IsNotExist(err) {
		t.Errorf("05-a0.network after the rollback: %v", err)
	}
	if got := fileOf("a0"); got != "10-a0.network" {
		t.Errorf("after the rollback networkd applies %q to a0", got)
	}
	e.a.WaitIPState(before, 20*time.Second)
}
