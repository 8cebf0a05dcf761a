package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/netpanel/netpanel/internal/testenv"
)

// TestLargeSavePreviewIsCutAndDownloads previews, in the browser, the
// save of a link with 2,000 routes: the page shows the first 400 lines
// of its file's diff and how many more, and its link opens the whole
// diff, whose start is what the page showed and which holds every
// route.
func TestLargeSavePreviewIsCutAndDownloads(t *testing.T) {
	ns := testenv.NewNS(t)
	lines := []string{"link add big0 type veth peer name big0-peer", "link set big0 up", "link set big0-peer up",
		"addr add 10.40.0.1/24 dev big0"}
	for i := range 2000 {
		lines = append(lines, fmt.Sprintf("route add 10.41.%d.%d/32 via 10.40.0.254 dev big0", i>>8, i&255))
	}
	ns.Batch(lines)
	root := t.TempDir()
	netDir, confDir := filepath.Join(root, "network"), filepath.Join(root, "networkd.conf.d")
	for _, d := range []string{netDir, confDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	p := startPanel(t, "--netns", ns.Name, "--networkd-dir", netDir, "--networkd-conf-dir", confDir)
	tab := newBrowser(t)
	p.login(t, tab)

	do(t, tab, "previewing the save of big0", chromedp.Navigate(p.URL+"/networkd"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=networkd-links]`)),
		clickOn(`input[name=link][value=big0]`),
		clickOn(`[data-testid=networkd-preview-btn]`))
	const more = `document.querySelector('[data-testid="diff-more-10-big0.network"]')`
	waitJS(t, tab, "the diff is cut", "!!"+more)
	shown := evalJS[string](t, tab, `document.querySelector('[data-testid="diff-10-big0.network"]').textContent`)
	if n := strings.Count(shown, "\n"); n != 400 || !strings.HasPrefix(shown, "--- a/10-big0.network\n") {
		t.Fatalf("the page shows %d lines of the diff:\n%.300s", n, shown)
	}
	cut := evalJS[string](t, tab, more+`.textContent`)
	if !strings.Contains(cut, "more lines of this diff") {
		t.Fatalf("the cut says %q", cut)
	}
	if whole := evalJS[string](t, tab, `document.querySelector('[data-testid=diff-whole]').textContent`); !strings.Contains(whole, "download the whole diff") {
		t.Fatalf("the page says %q about the whole diff", whole)
	}
	left, err := strconv.Atoi(strings.ReplaceAll(strings.Fields(strings.TrimPrefix(strings.TrimSpace(cut), "…"))[0], ",", ""))
	if err != nil {
		t.Fatalf("no count in %q: %v", cut, err)
	}

	// Where the link leads, opened as a click on it would (a click races
	// the poll that waits for the new document).
	href := evalJS[string](t, tab, `document.querySelector('[data-testid=diff-download]').href`)
	do(t, tab, "opening the whole diff", chromedp.Navigate(href))
	waitJS(t, tab, "the diff is open", `document.contentType === "text/plain"`)
	whole := evalJS[string](t, tab, `document.body.innerText`)
	file := whole[strings.Index(whole, "--- a/10-big0.network\n"):]
	if i := strings.Index(file[1:], "\n--- a/"); i >= 0 {
		file = file[:i+2]
	}
	if !strings.HasPrefix(file, shown) {
		t.Errorf("the whole diff does not start with what the page showed:\n%.300s", file)
	}
	if n := strings.Count(strings.TrimSuffix(file, "\n"), "\n") + 1; n != 400+left {
		t.Errorf("the file's diff has %d lines, the page said 400 and %d more", n, left)
	}
	for _, want := range []string{"+Destination=10.41.0.0/32", "+Destination=10.41.7.207/32"} {
		if !strings.Contains(file, want) {
			t.Errorf("the whole diff lacks %q", want)
		}
	}
}
