package networkd

import (
	"fmt"
	"strings"
	"unique"
)

// keep returns v without its ties to the file's text: a string value
// (a table's name, a protocol, an interface name) is the one copy of it
// unique keeps rather than a piece of the text it was read from, which
// would keep the whole text alive as long as the parsed file lives (a
// Loader keeps a million routes' files, tens of MB of text, parsed).
func keep[V any](v V) V {
	if p, ok := any(&v).(*string); ok {
		*p = unique.Make(*p).Value()
	}
	return v
}

// option is one key and value kept as written, apart from the text.
func option(key, value string) Option {
	return Option{keep(key), keep(value)}
}

// setter assigns one key's value to a section struct. An empty value resets
// the field (and empties a list), as "Key=" does in networkd.
type setter[T any] func(dst *T, value string) error

// scalar sets a plain field; the last assignment wins.
func scalar[T, V any](field func(*T) *V, parse func(string) (V, error)) setter[T] {
	return func(t *T, s string) error {
		var v V
		if s != "" {
			var err error
			if v, err = parse(s); err != nil {
				return err
			}
		}
		*field(t) = keep(v)
		return nil
	}
}

// optional sets a pointer field, for settings whose zero value differs from
// "not set" (Metric=0, Unmanaged=no). The value pointed to may be shared
// with other settings and files (shared): a parsed file is read-only, and
// code that changes a setting points the field elsewhere, never writes
// through it.
func optional[T, V any](field func(*T) **V, parse func(string) (V, error)) setter[T] {
	point := pointerTo[V]()
	return func(t *T, s string) error {
		if s == "" {
			*field(t) = nil
			return nil
		}
		v, err := parse(s)
		if err != nil {
			return err
		}
		*field(t) = point(keep(v))
		return nil
	}
}

// pointerTo returns how optional points to a value of type V: for a
// boolean, or a number below sharedNumbersMax (a metric, a priority: the
// small values nearly every file uses), one pointer per value, else a
// pointer of its own. A Loader holds the files of a million routes
// parsed; a metric of its own for each was a million allocations and
// 4 MB kept. The shared values are a fixed table, not a pool filled as
// files come: no lock on every number, and no file of unusual values
// decides for good which ones are shared. It is chosen once per setter:
// a type switch per value would box the value.
func pointerTo[V any]() func(V) *V {
	var zero V
	switch any(zero).(type) {
	case bool:
		return any(func(b bool) *bool {
			if b {
				return &sharedTrue
			}
			return &sharedFalse
		}).(func(V) *V)
	case uint32:
		return any(sharedNumber).(func(V) *V)
	}
	return func(v V) *V { return &v }
}

var sharedTrue, sharedFalse = true, false

// sharedNumbersMax bounds the shared numbers: 16 KB of table, which
// holds the metrics of routes the kernel and networkd pick (0, 100,
// 1024, ...) and most written by hand.
const sharedNumbersMax = 4096

var sharedNumbers = func() (t [sharedNumbersMax]uint32) {
	for i := range t {
		t[i] = uint32(i)
	}
	return t
}()

func sharedNumber(n uint32) *uint32 {
	if n < sharedNumbersMax {
		return &sharedNumbers[n]
	}
	p := new(uint32) // not &n: that would move n to the heap on every call
	*p = n
	return p
}

// list appends to a repeatable setting; words splits whitespace-separated
// lists like [Match] Name=.
func list[T, V any](field func(*T) *[]V, words bool, parse func(string) (V, error)) setter[T] {
	return func(t *T, s string) error {
		if s == "" {
			*field(t) = nil
			return nil
		}
		items := []string{s}
		if words {
			items = strings.Fields(s)
		}
		for _, it := range items {
			v, err := parse(it)
			if err != nil {
				return err
			}
			*field(t) = append(*field(t), keep(v))
		}
		return nil
	}
}

func str(s string) (string, error) { return s, nil }

// parser collects the warnings and errors of one merged parse. Positions
// come from each section, so a drop-in's problems name the drop-in.
type parser struct {
	file string // the main file, for errors about the file as a whole
	warn []Warning
	errs []error
}

// part is one file of a merged parse: the main file or a drop-in.
type part struct {
	name string
	data []byte
}

// lexParts lexes the main file and its drop-ins into one sequence of
// sections, which is how networkd reads them: later assignments override
// scalars, append to lists, and repeated sections add objects.
func lexParts(parts []part) (*parser, []rawSection) {
	p := &parser{file: parts[0].name}
	var secs []rawSection
	for _, pt := range parts {
		s, warn, err := lex(pt.name, pt.data)
		p.warn = append(p.warn, warn...)
		if err != nil {
			p.errs = append(p.errs, err)
		}
		if secs == nil {
			secs = s // a file without drop-ins: no copy of its sections
		} else {
			secs = append(secs, s...)
		}
	}
	return p, secs
}

func (p *parser) warnf(file string, line int, kind WarningKind, format string, args ...any) {
	p.warn = append(p.warn, Warning{File: file, Line: line, Kind: kind, Msg: fmt.Sprintf(format, args...)})
}

// errorf records an error about a whole section.
func (p *parser) errorf(sec rawSection, format string, args ...any) {
	p.errs = append(p.errs, &ParseError{File: sec.file, Line: sec.line, Err: fmt.Errorf("[%s]: "+format, append([]any{sec.name}, args...)...)})
}

// apply runs the setters of keys for every entry of sec. Unknown keys go to
// extra, with a warning; with keepBad, so do assignments whose value does
// not parse (networkd ignores just that line), so a rewrite keeps them.
func apply[T any](p *parser, sec rawSection, dst *T, keys map[string]setter[T], extra *[]Option, keepBad bool) {
	for _, e := range sec.entries {
		set, ok := keys[e.key]
		if !ok {
			if knownKeys252[sec.name+"."+e.key] {
				p.warnf(sec.file, e.line, WarnNotModelled, "%s= in [%s] is networkd's, not modelled by netpanel: kept as written", e.key, sec.name)
			} else {
				p.warnf(sec.file, e.line, WarnUnknownKey, "unknown key %s= in [%s], kept", e.key, sec.name)
			}
			*extra = append(*extra, option(e.key, e.value))
			continue
		}
		if err := set(dst, e.value); err != nil {
			p.errs = append(p.errs, &ParseError{File: sec.file, Line: e.line, Section: keep(sec.name), Key: keep(e.key), Err: err})
			if keepBad {
				*extra = append(*extra, option(e.key, e.value))
			}
		}
	}
}

// verbatim is sec as written, for a section kept without being modelled.
func verbatim(sec rawSection) Section {
	s := Section{Name: keep(sec.name)}
	for _, e := range sec.entries {
		s.Options = append(s.Options, option(e.key, e.value))
	}
	return s
}

func unknownSection(p *parser, sec rawSection) Section {
	p.warnf(sec.file, sec.line, WarnUnknownSection, "unknown section [%s], kept", sec.name)
	return verbatim(sec)
}
