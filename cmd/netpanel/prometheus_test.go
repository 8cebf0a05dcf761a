package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/internal/testenv"
)

// The scrape configuration the README shows is the file shipped in
// dist/prometheus, and the real promtool accepts it (with the CA and
// token files it names, which promtool requires to exist).
func TestPrometheusScrapeConfig(t *testing.T) {
	const file = "dist/prometheus/netpanel.yml"
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```yaml\n"+string(b)+"```\n") {
		t.Errorf("README.md does not show %s as it is", file)
	}

	promtool := testenv.RequireTool(t, "promtool")
	dir := t.TempDir()
	cfg := string(b)
	for _, f := range []string{"netpanel-ca.pem", "netpanel-host1.token", "netpanel-host2.token"} {
		p := filepath.Join(dir, f)
		if err := os.WriteFile(p, []byte("x\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(cfg, "/etc/prometheus/"+f) {
			t.Fatalf("%s does not name /etc/prometheus/%s", file, f)
		}
		cfg = strings.ReplaceAll(cfg, "/etc/prometheus/"+f, p)
	}
	path := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "check", "config", path).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check config: %v\n%s", err, out)
	}
}
