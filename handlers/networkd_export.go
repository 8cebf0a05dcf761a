package handlers

import (
	"net/http"
)

// export serves GET /networkd/export.tar.gz: the whole configuration; the
// same state gives the same bytes. The archive is streamed as it is made
// (persist.Manager.Export holds one file at a time), so its headers go
// out with its first byte: an error before it is a 500 with the message;
// one after it (the state changed under a file) aborts the response, so
// that the client sees a broken download, never a valid-looking archive
// that lacks files.
func (p *networkdPage) export(w http.ResponseWriter, r *http.Request) {
	out := &exportWriter{w: w}
	err := p.files.Export(out)
	switch {
	case err == nil:
		out.start()
	case !out.started:
		http.Error(w, "export failed: "+err.Error(), http.StatusInternalServerError)
	default:
		p.log.Error("networkd export: aborted after it began", "err", err)
		panic(http.ErrAbortHandler) // net/http closes the connection without ending the body
	}
}

// exportWriter sends the download's headers before its first byte.
type exportWriter struct {
	w       http.ResponseWriter
	started bool
}

func (e *exportWriter) start() {
	if e.started {
		return
	}
	e.started = true
	e.w.Header().Set("Content-Type", "application/gzip")
	e.w.Header().Set("Content-Disposition", `attachment; filename="netpanel-config.tar.gz"`)
	e.w.WriteHeader(http.StatusOK)
}

func (e *exportWriter) Write(b []byte) (int, error) {
	e.start()
	return e.w.Write(b)
}
