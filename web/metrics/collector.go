package metrics

import (
	"log/slog"
	"maps"
	"runtime"
	"slices"

	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/prometheus/client_golang/prometheus"
)

// Collector reads netpanel's numbers when Prometheus scrapes.
type Collector struct {
	src   Sources
	log   *slog.Logger
	links linkDescs

	objects, events, resyncs, syncs, lastSync, live, readOnly     *prometheus.Desc
	clients, behind, pending, rollbacks, lastSave, build          *prometheus.Desc
	unsaved, docker, backgroundAt, backgroundErrors, lastSyncTime *prometheus.Desc
}

// New returns a collector over src.
func New(src Sources, log *slog.Logger) *Collector {
	d := prometheus.NewDesc
	kind, none := []string{"kind"}, []string(nil)
	return &Collector{
		src: src, log: log, links: newLinkDescs(),
		objects:          d("netpanel_model_objects", "Objects in netpanel's model of the kernel, by kind.", kind, nil),
		events:           d("netpanel_events_total", "Kernel events applied to the model, by kind of object.", kind, nil),
		resyncs:          d("netpanel_resyncs_total", "Times the model may have been stale and was dumped again, by cause.", []string{"cause"}, nil),
		syncs:            d("netpanel_sync_duration_seconds", "Full dumps of the kernel's state into the model and the time they took.", none, nil),
		lastSync:         d("netpanel_last_sync_duration_seconds", "How long the newest full dump took.", none, nil),
		lastSyncTime:     d("netpanel_last_sync_timestamp_seconds", "When the newest full dump was installed.", none, nil),
		live:             d("netpanel_model_live", "1 when the model follows the kernel, 0 while it is (re)syncing.", none, nil),
		readOnly:         d("netpanel_read_only", "1 when netpanel runs without CAP_NET_ADMIN and cannot change anything.", none, nil),
		clients:          d("netpanel_websocket_clients", "Open WebSocket connections: live pages and event streams.", none, nil),
		behind:           d("netpanel_websocket_clients_behind", "WebSocket clients that fell behind and wait for a resync frame.", none, nil),
		pending:          d("netpanel_changes_pending", "Changes applied and waiting for confirmation; rolled back when the countdown ends.", none, nil),
		rollbacks:        d("netpanel_rollbacks_total", "Unconfirmed changes rolled back, by outcome: rolled_back (undone exactly) or failed (something is left changed).", []string{"outcome"}, nil),
		lastSave:         d("netpanel_last_save_timestamp_seconds", "When the configuration files were last written successfully (a save or a restore).", none, nil),
		unsaved:          d("netpanel_unsaved_objects", "Live objects no configuration file describes, by kind: they would not survive a reboot (networkd removes or never restores them).", kind, nil),
		docker:           d("netpanel_docker_conflicts", "Docker's networks and pools colliding with the host's routes and addresses, by kind.", kind, nil),
		backgroundAt:     d("netpanel_background_refresh_timestamp_seconds", "When a value computed off the scrape's path was last computed.", []string{"value"}, nil),
		backgroundErrors: d("netpanel_background_refresh_errors_total", "Failed computations of a value computed off the scrape's path.", []string{"value"}, nil),
		build:            d("netpanel_build_info", "The running netpanel's version and commit (always 1).", []string{"version", "commit", "goversion"}, nil),
	}
}

// Describe sends every family the collector may send.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	c.links.describe(ch)
	for _, d := range []*prometheus.Desc{c.objects, c.events, c.resyncs, c.syncs, c.lastSync, c.lastSyncTime, c.live,
		c.readOnly, c.clients, c.behind, c.pending, c.rollbacks, c.lastSave, c.unsaved, c.docker,
		c.backgroundAt, c.backgroundErrors, c.build} {
		ch <- d
	}
}

// Collect reads the sources: counts and totals the model keeps, a dump of
// the links' counters, the tally's last counts.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	m := c.src.Model
	if c.src.Stats != nil {
		if err := c.src.Stats.RefreshStats(); err != nil {
			c.log.Warn("metrics: re-reading the link counters failed; serving the last ones", "err", err)
		}
	}
	c.links.collect(ch, m.Links())

	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	counts, totals, st := m.Counts(), m.Totals(), m.Status()
	for _, k := range model.Kinds() {
		gauge(c.objects, float64(counts[k]), k.String())
		counter(c.events, float64(totals.Events[k]), k.String())
	}
	causes := model.ResyncCauses()
	for cause := range totals.Resyncs {
		if !slices.Contains(causes, cause) {
			causes = append(causes, cause)
		}
	}
	for _, cause := range causes {
		counter(c.resyncs, float64(totals.Resyncs[cause]), cause)
	}
	ch <- prometheus.MustNewConstSummary(c.syncs, totals.Syncs, totals.SyncTime.Seconds(), nil)
	if totals.Syncs > 0 {
		gauge(c.lastSync, totals.LastSync.Seconds())
		gauge(c.lastSyncTime, float64(st.LastSync.UnixNano())/1e9)
	}
	gauge(c.live, boolValue(st.State == "live"))
	gauge(c.readOnly, boolValue(st.ReadOnly))

	if cl := c.src.Clients; cl != nil {
		gauge(c.clients, float64(cl.ClientCount()))
		gauge(c.behind, float64(cl.Behind()))
	}
	if chg := c.src.Changes; chg != nil {
		t := chg.Totals()
		gauge(c.pending, float64(t.Pending))
		counter(c.rollbacks, float64(t.RolledBack), "rolled_back")
		counter(c.rollbacks, float64(t.RollbackFailed), "failed")
	}
	if s := c.src.Saves; s != nil {
		if at := s.LastSave(); !at.IsZero() {
			gauge(c.lastSave, float64(at.UnixNano())/1e9)
		}
	}
	if t := c.src.Tally; t != nil {
		st := t.Get()
		c.counted(ch, c.unsaved, "unsaved_objects", st.Foreign)
		c.counted(ch, c.docker, "docker_conflicts", st.Conflicts)
	}
	gauge(c.build, 1, c.src.Version, c.src.Commit, runtime.Version())
}

// counted sends a count of the tally by kind, once one was made, when it
// was made and how many counts failed; nothing for a feature that is off.
func (c *Collector) counted(ch chan<- prometheus.Metric, d *prometheus.Desc, value string, n app.Count) {
	if n.Off {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.backgroundErrors, prometheus.CounterValue, float64(n.Errors), value)
	if n.At.IsZero() {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.backgroundAt, prometheus.GaugeValue, float64(n.At.UnixNano())/1e9, value)
	for _, k := range slices.Sorted(maps.Keys(n.ByKind)) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(n.ByKind[k]), k)
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
