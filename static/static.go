// Package static holds netpanel's stylesheet, its small live-update script and
// the third-party browser files that `make vendor` copies from node_modules.
//
// The vendor files are never committed; a binary built without running
// `make vendor` still compiles (vendor/ then holds only README.md) and the
// server warns at start, see HasVendor.
package static

import (
	"embed"
	"io/fs"
)

// FS holds app.css, live.js and vendor/ (htmx.min.js, uPlot.iife.min.js,
// uPlot.min.css when vendored). Paths are relative: "app.css", "vendor/htmx.min.js".
//
//go:embed *.css *.js *.svg all:vendor
var FS embed.FS

// VendorFiles are the third-party files the pages load from vendor/.
var VendorFiles = []string{
	"vendor/htmx.min.js",
	"vendor/uPlot.iife.min.js",
	"vendor/uPlot.min.css",
}

// HasVendor reports whether htmx was vendored into the binary; the server
// warns at start when it was not (run `make vendor` before `go build`).
func HasVendor() bool {
	_, err := fs.Stat(FS, "vendor/htmx.min.js")
	return err == nil
}
