// Package promtest reads what netpanel and other exporters expose to
// Prometheus, for tests: Prometheus' own text parser, the real `promtool
// check metrics`, and lookups of samples by name and labels.
package promtest

import (
	"bytes"
	"io"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/internal/testenv"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	pmodel "github.com/prometheus/common/model"
)

// Scrape is one parsed exposition.
type Scrape struct {
	Text     []byte
	Families map[string]*dto.MetricFamily
}

// Parse reads Prometheus' text format with Prometheus' parser.
func Parse(t testing.TB, text []byte) Scrape {
	t.Helper()
	p := expfmt.NewTextParser(pmodel.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(text))
	if err != nil {
		t.Fatalf("the exposition does not parse: %v\n%s", err, text)
	}
	return Scrape{Text: text, Families: fams}
}

// Get fetches url with client (and the request changes in edit, such as
// an Authorization header) and parses the answer, which must be 200.
func Get(t testing.TB, client *http.Client, url string, edit func(*http.Request)) Scrape {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(req)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v\n%s", url, resp.StatusCode, err, b)
	}
	return Parse(t, b)
}

// Names lists the families' names, sorted.
func (s Scrape) Names() []string {
	var out []string
	for n := range s.Families {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Value returns the sample of name whose labels include labels (name,
// value pairs), and whether there is one. A summary's value is its
// count.
func (s Scrape) Value(name string, labels ...string) (float64, bool) {
	f, ok := s.Families[name]
	if !ok {
		return 0, false
	}
	for _, m := range f.Metric {
		if !HasLabels(m, labels...) {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Summary != nil:
			return float64(m.Summary.GetSampleCount()), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		}
	}
	return 0, false
}

// HasLabels reports whether m has every name, value pair of labels.
func HasLabels(m *dto.Metric, labels ...string) bool {
	for i := 0; i+1 < len(labels); i += 2 {
		if !slices.ContainsFunc(m.Label, func(l *dto.LabelPair) bool {
			return l.GetName() == labels[i] && l.GetValue() == labels[i+1]
		}) {
			return false
		}
	}
	return true
}

// Check runs the real `promtool check metrics` on an exposition,
// Prometheus' linter of names, types, units and help texts: it must find
// nothing.
func Check(t testing.TB, text []byte) {
	t.Helper()
	promtool := testenv.RequireTool(t, "promtool")
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(text)
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}
