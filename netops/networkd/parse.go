package networkd

import (
	"fmt"
	"strings"
)

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
		*field(t) = v
		return nil
	}
}

// optional sets a pointer field, for settings whose zero value differs from
// "not set" (Metric=0, Unmanaged=no).
func optional[T, V any](field func(*T) **V, parse func(string) (V, error)) setter[T] {
	return func(t *T, s string) error {
		if s == "" {
			*field(t) = nil
			return nil
		}
		v, err := parse(s)
		if err != nil {
			return err
		}
		*field(t) = &v
		return nil
	}
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
			*field(t) = append(*field(t), v)
		}
		return nil
	}
}

func str(s string) (string, error) { return s, nil }

type parser struct {
	file string
	warn []Warning
	errs []error
}

func (p *parser) warnf(line int, format string, args ...any) {
	p.warn = append(p.warn, Warning{p.file, line, fmt.Sprintf(format, args...)})
}

// errorf records an error about a whole section.
func (p *parser) errorf(sec rawSection, format string, args ...any) {
	p.errs = append(p.errs, &ParseError{File: p.file, Line: sec.line, Err: fmt.Errorf("[%s]: "+format, append([]any{sec.name}, args...)...)})
}

// apply runs the setters of keys for every entry of sec. Unknown keys go to
// extra, with a warning.
func apply[T any](p *parser, sec rawSection, dst *T, keys map[string]setter[T], extra *[]Option) {
	for _, e := range sec.entries {
		set, ok := keys[e.key]
		if !ok {
			p.warnf(e.line, "unknown key %s= in [%s], kept", e.key, sec.name)
			*extra = append(*extra, Option{e.key, e.value})
			continue
		}
		if err := set(dst, e.value); err != nil {
			p.errs = append(p.errs, &ParseError{File: p.file, Line: e.line, Section: sec.name, Key: e.key, Err: err})
		}
	}
}

func unknownSection(p *parser, sec rawSection) Section {
	p.warnf(sec.line, "unknown section [%s], kept", sec.name)
	s := Section{Name: sec.name}
	for _, e := range sec.entries {
		s.Options = append(s.Options, Option{e.key, e.value})
	}
	return s
}
