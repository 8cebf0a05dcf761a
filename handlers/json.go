package handlers

import (
	"encoding/json"
	"net/http"
)

// writeJSON answers with v as JSON: the API's answers, and a change's
// outcome when the API applied it.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
}

// apiError answers {"error": ...}.
func apiError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, ErrorJSON{Error: err.Error()})
}
