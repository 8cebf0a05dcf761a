package handlers

import (
	"bytes"
	"net/http"
)

// export serves GET /networkd/export.tar.gz: the whole configuration; the
// same state gives the same bytes.
func (p *networkdPage) export(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	if err := p.files.Export(&buf); err != nil {
		http.Error(w, "export failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/gzip")
	w.Header().Set("Content-Disposition", `attachment; filename="netpanel-config.tar.gz"`)
	_, _ = w.Write(buf.Bytes())
}
