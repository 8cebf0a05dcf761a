package handlers

import (
	"fmt"
	"net/url"
	"time"

	"github.com/a-h/templ"
	"github.com/netpanel/netpanel/netops"
)

// Fragment is one part of a page that the live connection replaces: the
// rows of a table (patched in place by key in the browser) or a block.
type Fragment struct {
	Target string // element id
	Rows   bool   // patch rows by data-key instead of replacing the block
	HTML   []byte
}

// liveFunc renders a page's live fragments for one query string.
type liveFunc func(q url.Values) ([]Fragment, error)

// PageDeps says what a page shows: the kinds whose changes re-render it,
// and a refresh period for data without kernel events (0 for none).
func PageDeps(page string) (kinds []netops.Kind, refresh time.Duration) {
	switch page {
	case "interfaces":
		return []netops.Kind{netops.KindLink, netops.KindAddr}, 0
	case "routes":
		return []netops.Kind{netops.KindRoute, netops.KindLink}, 0
	case "rules":
		return []netops.Kind{netops.KindRule, netops.KindLink}, 0
	case "neighbours":
		return []netops.Kind{netops.KindNeigh, netops.KindLink}, 0
	case "sockets":
		return nil, 2 * time.Second
	case "docker":
		return []netops.Kind{netops.KindRoute, netops.KindAddr, netops.KindLink}, 0
	case "networkd":
		return []netops.Kind{netops.KindRoute, netops.KindRule, netops.KindAddr, netops.KindLink}, 0
	}
	return nil, 0
}

// noFragments is the live view of a page that nothing but its own form
// changes.
func noFragments(url.Values) ([]Fragment, error) { return nil, nil }

// Live renders the fragments of a page's current view for the hub. The
// query is the page's own query string, so filters, sort and page hold.
func (h *Handlers) Live(page string, q url.Values) ([]Fragment, error) {
	f, ok := h.live[page]
	if !ok {
		return nil, fmt.Errorf("no live view for page %q", page)
	}
	return f(q)
}

// fragments renders components into fragments; rows names the target
// that is patched by key.
func fragments(rows string, parts ...any) ([]Fragment, error) {
	out := make([]Fragment, 0, len(parts)/2)
	for i := 0; i+1 < len(parts); i += 2 {
		target := parts[i].(string)
		b, err := renderBytes(parts[i+1].(templ.Component))
		if err != nil {
			return nil, fmt.Errorf("rendering #%s: %w", target, err)
		}
		out = append(out, Fragment{Target: target, Rows: target == rows, HTML: b})
	}
	return out, nil
}
