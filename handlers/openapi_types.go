package handlers

// ErrorJSON is every error answer of the API: what went wrong in words
// one can act on, and for a change, the message for each form field that
// was refused.
type ErrorJSON struct {
	Error  string            `json:"error"`
	Fields map[string]string `json:"fields,omitempty"`
}

// ChangeRequestJSON is the body of POST /api/v1/changes: the kind of
// change and the fields its form on the page sends, by the same names.
type ChangeRequestJSON struct {
	Kind   string         `json:"kind"`
	Fields map[string]any `json:"fields"`
}

// EventsResyncJSON is sent on /api/v1/events to a client that read too
// slowly, once it caught up: Missed events were not sent, so the client
// reads the state again.
type EventsResyncJSON struct {
	Type   string `json:"type"` // "resync"
	Missed int    `json:"missed"`
}

// EventsStatusJSON is sent on /api/v1/events (and to live pages) when the
// model's state changes: State is "syncing", "live", "resyncing" or
// "readonly"; Progress, while syncing, is the fraction done.
type EventsStatusJSON struct {
	Type     string   `json:"type"` // "status"
	State    string   `json:"state"`
	Text     string   `json:"text"`
	Progress *float64 `json:"progress,omitempty"`
}
