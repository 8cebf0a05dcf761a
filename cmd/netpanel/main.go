// Command netpanel serves a live web panel for Linux networking: iproute2
// in a browser, fed by netlink.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/netpanel/netpanel/handlers"
	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/app/audit"
	"github.com/netpanel/netpanel/netops/files/networkd"
	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/netops/kernel/change"
	"github.com/netpanel/netpanel/netops/kernel/demo"
	"github.com/netpanel/netpanel/netops/kernel/safeapply"
	"github.com/netpanel/netpanel/netops/kernel/sockets"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/monitor"
	"github.com/netpanel/netpanel/netops/nftables"
	"github.com/netpanel/netpanel/netops/nftables/owned"
	"github.com/netpanel/netpanel/netops/nsnames"
	"github.com/netpanel/netpanel/netops/plan/dockernet"
	"github.com/netpanel/netpanel/netops/plan/lookup"
	"github.com/netpanel/netpanel/netops/plan/persist"
	"github.com/netpanel/netpanel/netops/plan/trial"
	"github.com/netpanel/netpanel/netops/traffic"
	"github.com/netpanel/netpanel/static"
	"github.com/netpanel/netpanel/web"
	"github.com/netpanel/netpanel/web/auth"
	"github.com/netpanel/netpanel/web/metrics"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

type config struct {
	listen    string
	netns     string
	demo      bool
	demoName  string
	stateDir  string
	tablesDir stringList
	logLevel  slog.Level
	tlsCert   string
	tlsKey    string
	tlsProxy  bool

	metricsListen string

	confirmTimeout time.Duration
	ownedDir       string

	networkdDir     string
	networkdConfDir string
	dockerDir       string
	dockerSocket    string
	dockerRestart   string
	nftablesFile    string
	memoryLimit     string
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func main() { os.Exit(cli(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

// cli runs one command line and returns the exit status: 2 for a command
// line it does not understand, 1 when the command failed.
func cli(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c, err := parseArgs(args)
	if errors.Is(err, flag.ErrHelp) {
		printHelp(stdout)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "netpanel: %v\n\n%s\n", err, usage)
		return 2
	}
	switch c.name {
	case "serve":
		log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: c.cfg.logLevel}))
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		if err := run(ctx, c.cfg, log); err != nil {
			log.Error("netpanel stopped", "err", err)
			return 1
		}
	case "export":
		if err := runExport(c.cfg, stdout, stderr); err != nil {
			fmt.Fprintln(stderr, "netpanel export:", err)
			return 1
		}
	case "version":
		fmt.Fprintln(stdout, readBuildInfo())
	case "man":
		if err := writeManPage(stdout, readBuildInfo()); err != nil {
			fmt.Fprintln(stderr, "netpanel man:", err)
			return 1
		}
	case "completion bash":
		if err := writeBashCompletion(stdout); err != nil {
			fmt.Fprintln(stderr, "netpanel completion bash:", err)
			return 1
		}
	default:
		if err := runUserCommand(c, stdin, stdout, stderr); err != nil {
			fmt.Fprintf(stderr, "netpanel %s: %v\n", c.name, err)
			return 1
		}
	}
	return 0
}

func run(ctx context.Context, cfg config, log *slog.Logger) error {
	memLimit, err := parseMemoryLimit(cfg.memoryLimit)
	if err != nil {
		return err
	}
	if (cfg.tlsCert == "") != (cfg.tlsKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	if err := checkListen(cfg.listen, cfg.tlsCert != "", cfg.tlsProxy); err != nil {
		return err
	}
	if cfg.metricsListen != "" {
		if err := checkMetricsListen(cfg.metricsListen); err != nil {
			return err
		}
	}
	if cfg.demo && cfg.netns != "" {
		return errors.New("--demo and --netns exclude each other: the demo makes its own namespace")
	}
	if cfg.demo && !hasCaps(unix.CAP_NET_ADMIN, unix.CAP_SYS_ADMIN) {
		// Creating and mounting /run/netns entries needs both; without them
		// the kernel's answer ("operation not permitted" from a mount) says
		// nothing about what to do.
		return errors.New("--demo needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) to create its network namespaces: run it with sudo")
	}
	// A bad certificate or key fails the start before anything is made.
	var tlsConfig *tls.Config
	if cfg.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.tlsCert, cfg.tlsKey)
		if err != nil {
			return fmt.Errorf("--tls-cert %s / --tls-key %s: %w", cfg.tlsCert, cfg.tlsKey, err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	}
	if err := os.MkdirAll(cfg.stateDir, 0o700); err != nil {
		return fmt.Errorf("state dir: %w", err)
	}
	users, err := auth.Open(usersFile(cfg.stateDir))
	if err != nil {
		return err
	}
	for _, w := range users.Warnings() {
		log.Warn("users file", "warning", w)
	}
	if err := startAdmin(users, cfg.stateDir, os.Stdout); err != nil {
		return err
	}
	auditLog, err := audit.Open(filepath.Join(cfg.stateDir, "audit.log"))
	if err != nil {
		return err
	}
	defer auditLog.Close()
	rec := app.NewRecorder(auditLog, log)
	readOnly := !hasCaps(unix.CAP_NET_ADMIN)
	if readOnly {
		log.Warn("no CAP_NET_ADMIN: running read-only")
	}
	warnSocketOwners(log)
	if !static.HasVendor() {
		log.Warn("htmx and uPlot were not vendored into this binary; build with `make build` for live pages")
	}

	nsName, extra := "host", []rttables.Entry(nil)
	ns := netns.None()
	switch {
	case cfg.demo:
		d, err := demo.Create(demo.Options{Name: cfg.demoName, Logger: log})
		if err != nil {
			return fmt.Errorf("creating the demo namespace: %w", err)
		}
		defer func() {
			if err := d.Close(); err != nil {
				log.Error("removing the demo namespace", "err", err)
			} else {
				log.Info("demo namespace removed", "netns", d.Name())
			}
		}()
		cfg.netns = d.Name()
		// Charts with nothing on them look broken to a newcomer.
		if err := d.Traffic(ctx); err != nil {
			log.Warn("the demo's made-up traffic does not flow", "err", err)
		}
		for _, t := range demo.Tables() {
			extra = append(extra, rttables.Entry{ID: t.ID, Name: t.Name, Source: "demo"})
		}
		log.Info("demo namespace created", "netns", d.Name(), "try", "ip -n "+d.Name()+" route add 198.51.100.0/24 via 192.0.2.1")
		fallthrough
	case cfg.netns != "":
		h, err := netns.GetFromName(cfg.netns)
		if err != nil {
			return fmt.Errorf("opening network namespace %q: %w", cfg.netns, err)
		}
		defer h.Close()
		if err := checkNetns(h, cfg.netns); err != nil {
			return err
		}
		ns, nsName = h, cfg.netns
		if cfg.demo {
			demoMarkRule(h, log)
		}
	}

	store := model.NewStore()
	store.SetReadOnly(readOnly)
	applyMemoryLimit(ctx, memLimit, store, log, nil)
	watcher := monitor.NewWatcher(ns, store, log)
	watcher.SyncGCPercent = monitor.ProcessSyncGCPercent()
	defer watcher.Close()
	// The names ip prints for the namespaces of peers elsewhere
	// (link-netns), kept so that live renders read them without I/O.
	netnsNames := nsnames.New(ns, nsnames.Dir, log)
	defer netnsNames.Close()
	// nfnetlink answers only CAP_NET_ADMIN, reads included: without it
	// there is no nftables model, and its pages say why.
	var nft *nftables.Store
	var nftWatcher *nftables.Watcher
	if !readOnly {
		nft = nftables.NewStore()
		nftWatcher = nftables.NewWatcher(ns, nft, log)
		defer nftWatcher.Close()
	}

	dirs := []string(cfg.tablesDir)
	if len(dirs) == 0 {
		dirs = rttables.DefaultDirs
	}
	if cfg.demo && cfg.ownedDir == "" {
		// The demo keeps its table names to itself, not in the host's /etc.
		d := filepath.Join(cfg.stateDir, "demo-iproute2")
		dirs = append(slices.Clone(dirs), d)
		cfg.ownedDir = filepath.Join(d, "rt_tables.d")
	}
	var tables atomic.Pointer[rttables.Tables]
	var ownedTables atomic.Pointer[rttables.Owned]
	tables.Store(rttables.New(extra...))
	tablesReady := make(chan struct{})
	go func() {
		first := true
		err := rttables.Watch(ctx, dirs, func(t *rttables.Tables, errs []error) {
			for _, e := range errs {
				log.Warn("rt_tables", "err", e)
			}
			tables.Store(t.With(extra...))
			if o := ownedTables.Load(); o != nil {
				o.SetLoaded(t)
			}
			if first {
				close(tablesReady)
				first = false
			}
		})
		if err != nil {
			log.Error("watching rt_tables failed; table names will not update", "err", err)
		}
	}()

	nh, err := change.Dial(ns)
	if err != nil {
		return err
	}
	defer nh.Close()
	lookupFn := func(q lookup.Query) (lookup.Result, error) {
		return lookup.Explain(nh, q, store.Rules(0), tables.Load(), lookup.StoreFinder(store))
	}
	popts := persistOptions(cfg)
	if nftWatcher != nil {
		popts.Kinds = append(popts.Kinds, app.NftablesKind(nftablesPath(cfg), nftWatcher.Dump, nft.Ruleset))
	}
	mgr := persist.New(popts, store, tables.Load)
	defer mgr.Close()
	files := app.NewFiles(mgr, rec)
	docker := app.NewDocker(files, store, tables.Load, dockerEngine(cfg))
	// The counters are read every second whether anyone watches, so a
	// chart opened now has the last 15 minutes; the costly counts the
	// overview and /metrics show are made once, off the request path.
	sampler := traffic.NewSampler(watcher, store, traffic.Period)
	// Counted again after a change of what is counted: the kernel's
	// objects, the files, and the owned nftables rules the nft file keeps.
	tallyWakes := []func() (<-chan struct{}, func()){store.Subscribe, files.Subscribe}
	if nft != nil {
		tallyWakes = append(tallyWakes, nft.Subscribe)
	}
	tally := app.NewTally(files.Unsaved, docker.Conflicts, tallyWakes...)
	deps := handlers.Deps{
		Refresh:  watcher,
		Store:    store,
		Tables:   tables.Load,
		Sockets:  handlers.SocketListerFunc(func() ([]sockets.Socket, error) { return sockets.List(ns) }),
		NSName:   nsName,
		ReadOnly: readOnly,
		Log:      log,
		Audit:    auditLog,
		Warnings: plainHTTPWarning(cfg),
		Lookup:   lookupFn,
		Files:    files,
		Docker:   docker,
		Traffic:  sampler.History(),
		Netns:    netnsNames,
		Tally:    tally,
	}
	if nft != nil {
		deps.Nftables, deps.NftablesDump = nft, nftWatcher.Dump
		if f := app.NewNftablesFile(files); f != nil {
			deps.NftablesFile = f
		}
	}
	bi := readBuildInfo()
	// A scrape waits for the sampler's next reading of the counters
	// rather than dumping the links a second time.
	metricSrc := &metrics.Sources{Model: store, Stats: sampler, Saves: files, Tally: tally,
		Version: bi.Version, Commit: bi.Commit}
	if !readOnly {
		owned, err := rttables.OpenOwned(ownedDir(cfg, dirs))
		if err != nil {
			log.Warn("named tables cannot be edited", "err", err)
		} else {
			ownedTables.Store(owned)
			deps.TableNames = app.NewTables(owned, dirs, func(t *rttables.Tables) { tables.Store(t.With(extra...)) }, rec)
		}
		changes := app.NewChanges(nh, store, func() change.Names { return store.Names(tables.Load()) }, rec, log,
			app.ChangeOptions{Timeout: cfg.confirmTimeout, Sync: watcher.Sync})
		// Pending changes cannot be rolled back once netpanel is gone: undo
		// the stack on the way out, newest first, once the server stopped
		// taking changes.
		defer changes.Close()
		deps.Changes = changes
		metricSrc.Changes = changes
		// Writes that reload networkd (or restart Docker) are tries on the
		// same stack: undone unless confirmed when they may cut the admin
		// off. Only here: undoing what networkd did takes CAP_NET_ADMIN.
		runner := &trial.Runner{Files: mgr, Store: store, Target: nh, Sync: watcher.Sync,
			Names: func() change.Names { return store.Names(tables.Load()) }, Version: mgr.Options().Target}
		if d, ok := popts.Networkd.(trial.Daemon); ok {
			runner.Daemon = d
		}
		files.Try(changes, runner)
	}

	srv := web.New(web.Config{
		Handlers: handlers.New(deps), Store: store, Stats: sampler, Log: log,
		Users: users, Sessions: auth.NewSessions(sessionIdle, sessionMax, time.Now),
		Audit: rec, TLSProxy: cfg.tlsProxy, Metrics: metricSrc,
	})

	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return err
	}
	perAddr := web.MaxConnsPerAddr
	if cfg.tlsProxy {
		perAddr = 0 // every connection comes from the proxy, which limits its own clients
	}
	ln = web.LimitListener(ln, perAddr, web.ConnBudget(), log)
	httpSrv := web.NewHTTPServer(srv.Handler(), web.DefaultTimeouts, log)
	httpSrv.TLSConfig = tlsConfig
	errc := make(chan error, 4)
	if cfg.metricsListen != "" {
		mln, err := net.Listen("tcp", cfg.metricsListen)
		if err != nil {
			return fmt.Errorf("--metrics-listen: %w", err)
		}
		defer serveMetrics(mln, srv, log, errc).Close()
	}
	go func() { errc <- watcher.Run(ctx) }()
	go func() {
		if err := netnsNames.Run(ctx); err != nil {
			log.Warn("namespace names will not follow /run/netns", "err", err)
		}
	}()
	if nftWatcher != nil {
		go func() { errc <- nftWatcher.Run(ctx) }()
	}
	go sampler.Run(ctx)
	go tally.Run(ctx)
	go func() { srv.Hub().Run(ctx); errc <- nil }()
	scheme := "http"
	go func() {
		var err error
		if tlsConfig != nil {
			err = httpSrv.ServeTLS(ln, "", "") // the certificate loaded above
		} else {
			err = httpSrv.Serve(ln)
		}
		if !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}()
	if cfg.tlsCert != "" {
		scheme = "https"
	}
	select {
	case <-tablesReady:
	case <-time.After(2 * time.Second):
	}
	log.Info("netpanel serving", "url", scheme+"://"+ln.Addr().String()+"/", "netns", nsName)

	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if serr := httpSrv.Shutdown(shutCtx); errors.Is(serr, context.DeadlineExceeded) {
		// Browsers open speculative connections that never send a request;
		// Shutdown waits for those (StateNew) before closing them. Don't.
		log.Info("closing connections that did not finish in time")
		_ = httpSrv.Close()
	} else if serr != nil && err == nil {
		err = serr
	}
	return err
}

// persistOptions says where saves go. The demo keeps its files in the
// state dir; a managed namespace other than the host's is not the one the
// host's networkd configures, so netpanel does not reload it then.
func persistOptions(cfg config) persist.Options {
	o := persist.Options{
		NetworkDir: cfg.networkdDir, ConfDir: cfg.networkdConfDir, DockerDir: cfg.dockerDir,
		SearchDirs: networkd.SearchDirs, BackupDir: filepath.Join(cfg.stateDir, "backups"),
		// The files are for this host's networkd: only keys it reads.
		Target: networkd.DetectTarget(context.Background()),
	}
	switch {
	case cfg.demo:
		d := filepath.Join(cfg.stateDir, "demo-config")
		o.NetworkDir, o.ConfDir, o.DockerDir = filepath.Join(d, "network"), filepath.Join(d, "networkd.conf.d"), filepath.Join(d, "docker")
		o.SearchDirs, o.BackupDir = nil, filepath.Join(d, "backups")
	case cfg.netns == "":
		o.Networkd = persist.Systemd{}
	default:
		// The host's networkd files configure the host, not this namespace.
		o.SearchDirs = nil
	}
	return o
}

// demoMarkRule completes the demo's policy routing with its first part,
// what marks packets: UDP to a VPN server's port gets mark 0x20, which
// the demo's rule sends to table wan-force. A demo without it still runs.
func demoMarkRule(ns netns.NsHandle, log *slog.Logger) {
	r, err := owned.Parse(owned.Form{Hook: "output", Kind: "mark", Proto: "udp", Dst: "198.51.100.10", DPort: "1194",
		Mark: "0x20/0x20", Comment: "the VPN server, reached over wan"}, nil)
	if err == nil {
		_, err = owned.Add(ns, r)
	}
	if err != nil {
		log.Warn("the demo's nftables mark rule could not be added", "err", err)
	}
}

// nftablesPath is where the owned nftables table is saved: the demo keeps
// it in the state dir with its other files.
func nftablesPath(cfg config) string {
	if cfg.demo {
		return filepath.Join(cfg.stateDir, "demo-config", "nftables", filepath.Base(cfg.nftablesFile))
	}
	return cfg.nftablesFile
}

// dockerEngine reads Docker's networks from its socket. netpanel restarts
// Docker with --docker-restart-command where given; else it restarts the
// host's Docker service only on a host booted with systemd and only for
// the host's own namespace.
func dockerEngine(cfg config) app.DockerEngine {
	client := dockernet.NewClient(cfg.dockerSocket)
	d := app.DockerEngine{Networks: client.Networks}
	argv := strings.Fields(cfg.dockerRestart)
	if _, err := os.Stat("/run/systemd/system"); len(argv) == 0 && err == nil && cfg.netns == "" && !cfg.demo {
		argv = []string{"systemctl", "restart", "docker.service"}
	}
	if len(argv) > 0 {
		d.Command = strings.Join(argv, " ")
		d.Restart = func(ctx context.Context) (string, error) {
			ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			defer cancel()
			// The admin's own command line, run without a shell.
			out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
			return string(out), err
		}
	}
	return d
}

// registerFlags declares the flags the server and `netpanel export` share.
func registerFlags(fs *flag.FlagSet, cfg *config) {
	fs.StringVar(&cfg.listen, "listen", "127.0.0.1:8080", "`ADDRESS` (host:port) to serve on; other than loopback it needs --tls-cert/--tls-key or --tls-proxy")
	fs.StringVar(&cfg.netns, "netns", "", "manage the named network namespace `NAME` (as in ip netns) instead of the host's")
	fs.BoolVar(&cfg.demo, "demo", false, "create a throwaway namespace with a sample setup, manage it, remove it on exit")
	fs.StringVar(&cfg.demoName, "demo-name", demo.DefaultName, "`NAME` of the --demo namespace (its ISP peer is NAME-isp)")
	fs.StringVar(&cfg.stateDir, "state-dir", "/var/lib/netpanel", "`DIR` for netpanel's own files: accounts, audit log, backups")
	fs.Var(&cfg.tablesDir, "rt-tables-dir", "`DIR` holding rt_tables and rt_tables.d (repeatable; default /usr/share/iproute2 then /etc/iproute2)")
	fs.TextVar(&cfg.logLevel, "log-level", slog.LevelInfo, "log `LEVEL`: debug, info, warn, error")
	fs.StringVar(&cfg.tlsCert, "tls-cert", "", "TLS certificate `FILE` (PEM); serve HTTPS")
	fs.StringVar(&cfg.tlsKey, "tls-key", "", "TLS private key `FILE` (PEM)")
	fs.StringVar(&cfg.ownedDir, "rt-tables-owned", "", "`DIR` of the file where netpanel writes table names (default: rt_tables.d in the last --rt-tables-dir)")
	fs.DurationVar(&cfg.confirmTimeout, "confirm-timeout", safeapply.DefaultTimeout, "how long (a `DURATION` such as 30s or 2m) a change that may cut your connection waits for confirmation before it is rolled back")
	fs.StringVar(&cfg.metricsListen, "metrics-listen", "", "also serve /metrics without authentication on `ADDRESS` (host:port), which must be loopback; on --listen it needs an API token (a metrics token: token create USER --role metrics)")
	fs.BoolVar(&cfg.tlsProxy, "tls-proxy", false, "a TLS-terminating proxy sits in front: allow plain HTTP on a non-loopback address, trust its X-Forwarded-For")
	fs.StringVar(&cfg.networkdDir, "networkd-dir", "/etc/systemd/network", "`DIR` where saved .network and .netdev files go")
	fs.StringVar(&cfg.networkdConfDir, "networkd-conf-dir", "/etc/systemd/networkd.conf.d", "`DIR` where the saved table names (RouteTable=) go")
	fs.StringVar(&cfg.dockerDir, "docker-dir", "/etc/docker", "`DIR` where Docker's daemon.json is read and written")
	fs.StringVar(&cfg.memoryLimit, "memory-limit", "auto", "soft memory `LIMIT` of the server: auto (1.25 times the heap the model needs plus 8MiB, followed after each sync and every 10s, at least 64MiB; GOMEMLIMIT wins when set), off, or a size such as 300MiB")
	fs.StringVar(&cfg.nftablesFile, "nftables-file", owned.DefaultPath, "`FILE` where the nftables table netpanel owns (inet netpanel) is saved")
	fs.StringVar(&cfg.dockerRestart, "docker-restart-command", "", "`COMMAND` (split at spaces, run without a shell) with which netpanel restarts Docker; default: systemctl restart docker.service on a host booted with systemd, for the host's own namespace")
	fs.StringVar(&cfg.dockerSocket, "docker-socket", "/var/run/docker.sock", "the Docker Engine API socket (a `PATH`), read for Docker's networks")
}

// Session lifetimes: an idle browser is logged out after sessionIdle, any
// session after sessionMax.
const (
	sessionIdle = 30 * time.Minute
	sessionMax  = 12 * time.Hour
)

// checkListen refuses plain HTTP on anything but loopback unless the admin
// says a TLS proxy sits in front: passwords and session cookies must not
// cross a network in clear text.
func checkListen(addr string, tls, proxy bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--listen %q: %w", addr, err)
	}
	if tls || proxy || host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("--listen %q: plain HTTP is only served on loopback; pass --tls-cert and --tls-key, or --tls-proxy when a TLS proxy sits in front (or use an SSH tunnel: ssh -L 8080:127.0.0.1:8080 HOST)", addr)
}

func plainHTTPWarning(cfg config) []string {
	if cfg.tlsProxy && cfg.tlsCert == "" {
		return []string{"netpanel serves plain HTTP and trusts that a TLS proxy sits in front (--tls-proxy); make sure nothing reaches it directly."}
	}
	return nil
}

// startAdmin makes sure an admin can log in after this start: the first
// start creates "admin" and prints its password; a later start whose
// admin never logged in with that password (the first start failed after
// printing it, or it scrolled away) prints a new one.
func startAdmin(users *auth.Store, stateDir string, out io.Writer) error {
	if users.Empty() {
		return firstAdmin(users, stateDir, out)
	}
	return renewFirstPassword(users, stateDir, out)
}

// firstAdmin creates the account "admin" with a random password on the
// first start and prints the password, as Jupyter and Grafana do.
func firstAdmin(users *auth.Store, stateDir string, out io.Writer) error {
	if !users.Empty() {
		return nil
	}
	pw := auth.GeneratePassword()
	if err := users.AddGeneratedUser("admin", auth.RoleAdmin, pw); err != nil {
		return err
	}
	printAdminPassword(out, `netpanel created the user "admin" with the password:`, pw, stateDir)
	return nil
}

// renewFirstPassword replaces admin's generated password when nobody has
// logged in with it yet, and prints the new one. Printing the old one
// again would need it stored in clear; a fresh one needs nothing but its
// hash, and the old one stops working, so only one is ever valid. A login
// with it or `netpanel user passwd admin` ends the renewals.
func renewFirstPassword(users *auth.Store, stateDir string, out io.Writer) error {
	u, err := users.User("admin")
	if errors.Is(err, auth.ErrNoUser) || (err == nil && !u.Generated) {
		return nil // the usual start: no bcrypt round for nothing
	}
	if err != nil {
		return err
	}
	pw := auth.GeneratePassword()
	renewed, err := users.RenewGenerated("admin", pw)
	if err != nil || !renewed {
		return err
	}
	printAdminPassword(out, "Nobody has logged in as \"admin\" with the password printed before; that one\n"+
		"  no longer works. The password of \"admin\" is now:", pw, stateDir)
	return nil
}

// printAdminPassword shows a generated password of admin and what happens
// to it.
func printAdminPassword(out io.Writer, intro, pw, stateDir string) {
	fmt.Fprintf(out, "\n  %s\n\n      %s\n\n"+
		"  Only its hash is stored (%s). Until someone logs in with it,\n"+
		"  each start replaces it with a new one and prints that.\n"+
		"  Or set your own: netpanel user passwd admin --state-dir %s\n\n", intro, pw, usersFile(stateDir), stateDir)
}

// ownedDir is where netpanel keeps its table names: --rt-tables-owned, or
// rt_tables.d in the last --rt-tables-dir (by default /etc/iproute2).
func ownedDir(cfg config, dirs []string) string {
	if cfg.ownedDir != "" {
		return cfg.ownedDir
	}
	return filepath.Join(dirs[len(dirs)-1], "rt_tables.d")
}

// hasCaps reports whether the process has all the capabilities in its
// effective set (CAP_NET_ADMIN: it may change the network).
func hasCaps(caps ...int) bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return false
	}
	for _, c := range caps {
		if data[c/32].Effective&(1<<(c%32)) == 0 {
			return false
		}
	}
	return true
}
