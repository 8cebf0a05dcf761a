package networkd

import "fmt"

// ParseError is a value or syntax error at a position in a file, formatted
// like a compiler message: "10-wan.network:12: Route.Metric: "abc" is not a
// number".
type ParseError struct {
	File    string
	Line    int
	Section string // empty for syntax errors outside an assignment
	Key     string
	Err     error
}

func (e *ParseError) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s:%d: %s.%s: %v", e.File, e.Line, e.Section, e.Key, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Warning is something networkd would ignore with a log message: an unknown
// section or key (kept and written back), a stray line (dropped); or a
// note on a file: a key netpanel keeps without modelling it, a .network
// that matches every link. Kind says which, so nothing classifies a
// warning by its text.
type Warning struct {
	File string
	Line int
	Kind WarningKind
	Msg  string
}

// WarningKind is what a Warning is about.
type WarningKind string

// The kinds of Warning.
const (
	// WarnStrayLine is a line that is no assignment in a section (no
	// '=', no key, before any section): networkd drops it.
	WarnStrayLine WarningKind = "stray-line"
	// WarnUnknownSection and WarnUnknownKey are a section or a key
	// netpanel's parser does not read; networkd may not read it either
	// (CheckEdit judges that by networkd's own keys). Kept as written.
	WarnUnknownSection WarningKind = "unknown-section"
	WarnUnknownKey     WarningKind = "unknown-key"
	// WarnNotModelled is a key networkd reads that netpanel keeps as
	// written without modelling it: no problem of the file.
	WarnNotModelled WarningKind = "not-modelled"
	// WarnIgnoredSection is a section networkd ignores as a whole where
	// it is ([Address] without Address=, [VXLAN] in a bridge's .netdev).
	WarnIgnoredSection WarningKind = "ignored-section"
	// WarnMatchesAll is a .network without [Match] settings: networkd
	// 252 ignores it (the name is older than that finding).
	WarnMatchesAll WarningKind = "matches-all"
)

// Problem reports whether w is a problem of its file (networkd ignores or
// drops something of it, or applies it more widely than it may seem),
// not a note that netpanel keeps a key it does not model.
func (w Warning) Problem() bool { return w.Kind != WarnNotModelled }

// unknownToNetpanel reports whether w is about a section or key
// netpanel's parser does not read, which only networkd's own list of
// keys can judge.
func (w Warning) unknownToNetpanel() bool {
	switch w.Kind {
	case WarnUnknownSection, WarnUnknownKey, WarnNotModelled:
		return true
	}
	return false
}

func (w Warning) String() string { return fmt.Sprintf("%s:%d: %s", w.File, w.Line, w.Msg) }
