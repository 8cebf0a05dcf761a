package web

import (
	"context"
	"runtime/trace"
)

// hubRegion marks a step of the hub (or of a page's render) in an
// execution trace, such as a -tags pprof build serves on
// /debug/pprof/trace, so that `go tool trace` shows which step a late
// frame waited for. It costs one flag's check when no trace runs.
func hubRegion(step, page string) (end func()) {
	if !trace.IsEnabled() {
		return noRegion
	}
	if page != "" {
		step += " " + page
	}
	return trace.StartRegion(context.Background(), step).End
}

func noRegion() {}
