package e2e

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"
)

// clickOn clicks an element the page keeps replacing, as a live update
// replaces a page's rows and buttons: each click lands once, on the
// element shown when it was found. A chromedp.Click, which finds a node
// and clicks it in later round trips, failed 30 of 100 clicks on this
// page with "Could not find node with given id", and lost one more.
func TestClickOnClicksAnElementThePageKeepsReplacing(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<!doctype html><title>swap</title><div id=box></div><script>
			let n = 0;
			window.clicks = [];
			const put = () => {
				const b = document.createElement('button'), k = n++;
				b.dataset.testid = 'swapped';
				b.textContent = 'button ' + k;
				b.onclick = () => window.clicks.push(k);
				document.getElementById('box').replaceChildren(b);
			};
			put();
			setInterval(put, 1);
		</script>`))
	}))
	t.Cleanup(srv.Close)
	tab := newBrowser(t)
	do(t, tab, "opening the page", chromedp.Navigate(srv.URL))
	const clicks = 30
	for range clicks {
		do(t, tab, "clicking the replaced button", clickOn(`[data-testid=swapped]`))
	}
	if n := evalJS[int](t, tab, `window.clicks.length`); n != clicks {
		t.Fatalf("%d clicks landed, want %d", n, clicks)
	}
	// The clicks met different buttons: the page did swap them between.
	if distinct := evalJS[int](t, tab, `new Set(window.clicks).size`); distinct < 2 {
		t.Fatalf("every click met the same button: the page did not replace it under them")
	}
}
