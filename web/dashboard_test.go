package web

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/internal/promtest"
	"github.com/netpanel/netpanel/internal/testenv"
	dto "github.com/prometheus/client_model/go"
)

// dashboardFile is the Grafana dashboard shipped for fleets (README,
// "Many hosts").
const dashboardFile = "../cmd/netpanel/dist/grafana/netpanel.json"

// grafanaDashboard is the part of Grafana's dashboard model the check
// reads.
type grafanaDashboard struct {
	Title      string `json:"title"`
	UID        string `json:"uid"`
	Templating struct {
		List []struct {
			Name       string `json:"name"`
			Type       string `json:"type"`
			Definition string `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
	Panels []grafanaPanel `json:"panels"`
}

type grafanaPanel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		UID string `json:"uid"`
	} `json:"datasource"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
}

// checkDashboard holds the dashboard to what a scrape saw: it is Grafana
// JSON whose panels query through the data source variable, every query
// is PromQL that the real promtool accepts, and every metric name a
// query uses is one the scrape holds.
func checkDashboard(t *testing.T, s promtest.Scrape) {
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d grafanaDashboard
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("%s is not JSON: %v", dashboardFile, err)
	}
	if d.Title == "" || d.UID == "" || len(d.Panels) == 0 {
		t.Fatalf("%s: no title, uid or panels", dashboardFile)
	}
	vars := map[string]string{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v.Type
	}
	if vars["datasource"] != "datasource" {
		t.Fatalf("the dashboard has no data source variable: %v", vars)
	}

	series := seriesNames(s)
	var exprs []string
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d twice", p.ID)
		}
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q does not query through ${datasource}", p.Title)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			exprs = append(exprs, q.Expr)
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		// label_values(METRIC{...}, label): the selector is PromQL.
		inner, ok := strings.CutPrefix(v.Definition, "label_values(")
		i := strings.LastIndex(inner, ",")
		if !ok || i < 0 {
			t.Errorf("variable %s: %q is not label_values(SELECTOR, LABEL)", v.Name, v.Definition)
			continue
		}
		exprs = append(exprs, inner[:i])
	}

	used := map[string]bool{}
	for _, e := range exprs {
		for _, name := range metricNames(substituteVars(e)) {
			used[name] = true
			if !series[name] {
				t.Errorf("the query %q uses %s, which the scrape does not have", e, name)
			}
		}
	}
	if len(used) < 10 {
		t.Fatalf("the dashboard's queries use only %d metric names: %v", len(used), used)
	}
	promtoolCheckRules(t, exprs)
}

// seriesNames are the names a query may use: the families, and a
// summary's or histogram's _sum, _count and _bucket series.
func seriesNames(s promtest.Scrape) map[string]bool {
	out := map[string]bool{}
	for name, f := range s.Families {
		out[name] = true
		switch f.GetType() {
		case dto.MetricType_SUMMARY:
			out[name+"_sum"], out[name+"_count"] = true, true
		case dto.MetricType_HISTOGRAM:
			out[name+"_sum"], out[name+"_count"], out[name+"_bucket"] = true, true, true
		}
	}
	return out
}

// substituteVars replaces Grafana's variables with values PromQL parses.
func substituteVars(e string) string {
	return strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$instance", ".*", "$device", ".*").Replace(e)
}

// PromQL's words that look like metric names but are not.
var promqlKeywords = []string{"by", "without", "on", "ignoring", "group_left", "group_right", "bool",
	"and", "or", "unless", "offset", "inf", "nan", "atan2"}

var (
	promqlString   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`)
	promqlBraces   = regexp.MustCompile(`\{[^}]*\}`)
	promqlRange    = regexp.MustCompile(`\[[^\]]*\]`)
	promqlGrouping = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promqlNumber   = regexp.MustCompile(`\b[0-9][0-9.eE]*[a-zA-Z]*`)
	promqlIdent    = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?`)
)

// metricNames lists the metric names a PromQL expression selects: its
// identifiers that are not functions, keywords, label names or values.
func metricNames(e string) []string {
	e = promqlString.ReplaceAllString(e, `""`)
	e = promqlBraces.ReplaceAllString(e, "{}")
	e = promqlRange.ReplaceAllString(e, "[]")
	e = promqlGrouping.ReplaceAllString(e, " ")
	e = promqlNumber.ReplaceAllString(e, "0")
	var out []string
	for _, m := range promqlIdent.FindAllString(e, -1) {
		if strings.HasSuffix(m, "(") || slices.Contains(promqlKeywords, m) {
			continue // a function or an aggregation
		}
		out = append(out, m)
	}
	return out
}

func TestMetricNamesOfPromQL(t *testing.T) {
	for _, c := range []struct {
		expr string
		want []string
	}{
		{`rate(node_network_receive_bytes_total{instance=~".*",device="eth0"}[5m]) * 8`, []string{"node_network_receive_bytes_total"}},
		{`sum by (instance, kind) (increase(netpanel_resyncs_total[1h]))`, []string{"netpanel_resyncs_total"}},
		{`time() - netpanel_last_save_timestamp_seconds`, []string{"netpanel_last_save_timestamp_seconds"}},
		{`a / on(instance) group_left(kind) b offset 5m`, []string{"a", "b"}},
		{`netpanel_docker_conflicts > 0`, []string{"netpanel_docker_conflicts"}},
	} {
		if got := metricNames(c.expr); !slices.Equal(got, c.want) {
			t.Errorf("metricNames(%q) = %q, want %q", c.expr, got, c.want)
		}
	}
}

// promtoolCheckRules has the real promtool parse every query, as
// recording rules.
func promtoolCheckRules(t *testing.T, exprs []string) {
	t.Helper()
	promtool := testenv.RequireTool(t, "promtool")
	var b strings.Builder
	b.WriteString("groups:\n- name: dashboard\n  rules:\n")
	for i, e := range exprs {
		q, _ := json.Marshal(substituteVars(e)) // a JSON string is a YAML string
		fmt.Fprintf(&b, "  - record: dashboard:query%d\n    expr: %s\n", i, q)
	}
	path := filepath.Join(t.TempDir(), "dashboard.rules.yml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules on the dashboard's queries: %v\n%s\n%s", err, out, b.String())
	}
}
