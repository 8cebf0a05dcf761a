package handlers

import (
	"bytes"
	"context"
	"fmt"
	"net/url"

	"github.com/a-h/templ"
	"github.com/netpanel/netpanel/views"
)

// part is a component rendered into the fragment of one element.
type part struct {
	target string
	rows   bool
	c      templ.Component
}

// block replaces the element target with c.
func block(target string, c templ.Component) part { return part{target: target, c: c} }

// rows patches the rows of #rows with c's rows, by key.
func rows(c templ.Component) part { return part{target: "rows", rows: true, c: c} }

// renderBytes renders a component to bytes for the live connection.
func renderBytes(c templ.Component) ([]byte, error) {
	var buf bytes.Buffer
	err := c.Render(context.Background(), &buf)
	return buf.Bytes(), err
}

// fragments renders parts.
func fragments(parts ...part) ([]Fragment, error) {
	out := make([]Fragment, 0, len(parts))
	for _, p := range parts {
		b, err := renderBytes(p.c)
		if err != nil {
			return nil, fmt.Errorf("rendering #%s: %w", p.target, err)
		}
		out = append(out, Fragment{Target: p.target, Rows: p.rows, HTML: b})
	}
	return out, nil
}

// tableFragments is the live view of a table page: its rows, its summary
// and, when it has one, its pager.
func tableFragments(rowsOf templ.Component, summary string, nav *views.Pager) ([]Fragment, error) {
	parts := []part{rows(rowsOf), block("summary", views.Summary(summary))}
	if nav != nil {
		parts = append(parts, block("pager", views.PagerNav(*nav)))
	}
	return fragments(parts...)
}

// inMemory adapts a render that reads only the model to Live.Render.
func inMemory(f func(url.Values) ([]Fragment, error)) func(context.Context, url.Values) ([]Fragment, error) {
	return func(_ context.Context, q url.Values) ([]Fragment, error) { return f(q) }
}
