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
// section or key (kept and written back), a stray line (dropped).
type Warning struct {
	File string
	Line int
	Msg  string
}

func (w Warning) String() string { return fmt.Sprintf("%s:%d: %s", w.File, w.Line, w.Msg) }
