package views

import "context"

// Viewer is who looks at a page: the layout shows the name and offers
// what the role allows. The server puts it into the request context.
type Viewer struct {
	Name   string
	Role   string // "admin" or "viewer"
	Client string // the address the viewer connects from
}

// Admin reports whether the viewer may change things.
func (v Viewer) Admin() bool { return v.Role == "admin" }

type viewerKey struct{}

// WithViewer returns ctx carrying v for the components rendered with it.
func WithViewer(ctx context.Context, v Viewer) context.Context {
	return context.WithValue(ctx, viewerKey{}, v)
}

// ViewerFrom returns the viewer the server put into ctx.
func ViewerFrom(ctx context.Context) Viewer {
	v, _ := ctx.Value(viewerKey{}).(Viewer)
	return v
}
