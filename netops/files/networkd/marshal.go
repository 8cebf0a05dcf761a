package networkd

import (
	"net/netip"
	"strconv"
)

// writer collects sections in the order Marshal emits them.
type writer struct {
	secs []*sectionWriter
}

// section starts a section. Sections without entries are left out unless
// keep is set: an empty [Route] or [Bridge] still means something.
func (w *writer) section(name string, keep bool) *sectionWriter {
	s := &sectionWriter{name: name, keep: keep}
	w.secs = append(w.secs, s)
	return s
}

type sectionWriter struct {
	name    string
	keep    bool
	entries []entry
	// text, when set, is the section as appendTo renders it, rendered
	// before (see routeTexts); entries are then empty.
	text []byte
}

// entry is one "Key=Value" line.
type entry struct{ key, value string }

func (s *sectionWriter) add(key, value string) {
	if value != "" {
		s.entries = append(s.entries, entry{key, value})
	}
}

func (s *sectionWriter) prefix(key string, p netip.Prefix) {
	if p.IsValid() {
		s.add(key, p.String())
	}
}

func (s *sectionWriter) addr(key string, a netip.Addr) {
	if a.IsValid() {
		s.add(key, a.String())
	}
}

func (s *sectionWriter) boolean(key string, b *bool) {
	if b != nil {
		s.add(key, formatBool(*b))
	}
}

func (s *sectionWriter) uint(key string, n *uint32) {
	if n != nil {
		s.add(key, u32(*n))
	}
}

// extra writes kept unknown options verbatim, empty values included, since
// "Key=" resets a setting in networkd.
func (s *sectionWriter) extra(opts []Option) {
	for _, o := range opts {
		s.entries = append(s.entries, entry{o.Key, o.Value})
	}
}

func (w *writer) unknown(secs []Section) {
	for _, u := range secs {
		s := w.section(u.Name, true)
		s.extra(u.Options)
	}
}

// bytes renders the header line, a blank line and the sections, a blank
// line between two (as go-systemd's unit.SerializeSections did; this
// writes them without an allocation per key, and it runs for each route
// of a million).
func (w *writer) bytes(header string) []byte {
	size := len(header) + 2
	for _, s := range w.secs {
		size += len(s.name) + 4 + len(s.text)
		for _, e := range s.entries {
			size += len(e.key) + len(e.value) + 2
		}
	}
	b := make([]byte, 0, size)
	b = append(b, header...)
	b = append(b, "\n\n"...)
	first := true
	for _, s := range w.secs {
		if !s.keep && len(s.entries) == 0 {
			continue
		}
		if !first {
			b = append(b, '\n')
		}
		first = false
		b = s.appendTo(b)
	}
	return b
}

// appendTo appends the section's lines to b: its [name] line and a
// Key=Value line per entry.
func (s *sectionWriter) appendTo(b []byte) []byte {
	if s.text != nil {
		return append(b, s.text...)
	}
	b = append(b, '[')
	b = append(b, s.name...)
	b = append(b, "]\n"...)
	for _, e := range s.entries {
		b = append(b, e.key...)
		b = append(b, '=')
		b = append(b, e.value...)
		b = append(b, '\n')
	}
	return b
}

// sectionSink is what a section's keys are written to: a sectionWriter
// (entries, for a whole file) or a lineBuf (rendered lines, for one route
// of a million, without a string per value). A section's keys are
// written once, to either (see routeEntries).
type sectionSink interface {
	add(key, value string)
	prefix(key string, p netip.Prefix)
	addr(key string, a netip.Addr)
	boolean(key string, b *bool)
	uint(key string, n *uint32)
	extra(opts []Option)
}

// lineBuf renders one section as appendTo does, straight into a buffer
// it reuses, and keeps where each key and value lie, so that they can be
// checked (gen.unknownLines) without a string per value.
type lineBuf struct {
	b     []byte
	lines []lineSpan
}

// lineSpan is one "Key=Value" line of a lineBuf: its key, and its value
// b[val:end], a line break following.
type lineSpan struct {
	key      string
	val, end int
}

// reset starts the section name, forgetting the previous one.
func (l *lineBuf) reset(name string) {
	l.b = append(append(append(l.b[:0], '['), name...), "]\n"...)
	l.lines = l.lines[:0]
}

// key starts a line; end finishes it once its value is appended to l.b.
func (l *lineBuf) key(key string) {
	l.b = append(append(l.b, key...), '=')
	l.lines = append(l.lines, lineSpan{key: key, val: len(l.b)})
}

func (l *lineBuf) end() {
	l.lines[len(l.lines)-1].end = len(l.b)
	l.b = append(l.b, '\n')
}

func (l *lineBuf) add(key, value string) {
	if value != "" {
		l.key(key)
		l.b = append(l.b, value...)
		l.end()
	}
}

func (l *lineBuf) prefix(key string, p netip.Prefix) {
	if p.IsValid() {
		l.key(key)
		l.b = p.AppendTo(l.b)
		l.end()
	}
}

func (l *lineBuf) addr(key string, a netip.Addr) {
	if a.IsValid() {
		l.key(key)
		l.b = a.AppendTo(l.b)
		l.end()
	}
}

func (l *lineBuf) boolean(key string, b *bool) {
	if b != nil {
		l.add(key, formatBool(*b))
	}
}

func (l *lineBuf) uint(key string, n *uint32) {
	if n != nil {
		l.key(key)
		l.b = strconv.AppendUint(l.b, uint64(*n), 10)
		l.end()
	}
}

func (l *lineBuf) extra(opts []Option) {
	for _, o := range opts {
		l.key(o.Key)
		l.b = append(l.b, o.Value...)
		l.end()
	}
}
