package networkd

import (
	"bytes"
	"io"
	"net/netip"

	"github.com/coreos/go-systemd/v22/unit"
)

// writer collects sections in the order Marshal emits them.
type writer struct {
	secs []*sectionWriter
}

// section starts a section. Sections without entries are left out unless
// keep is set: an empty [Route] or [Bridge] still means something.
func (w *writer) section(name string, keep bool) *sectionWriter {
	s := &sectionWriter{sec: &unit.UnitSection{Section: name}, keep: keep}
	w.secs = append(w.secs, s)
	return s
}

type sectionWriter struct {
	sec  *unit.UnitSection
	keep bool
}

func (s *sectionWriter) add(key, value string) {
	if value != "" {
		s.sec.Entries = append(s.sec.Entries, &unit.UnitEntry{Name: key, Value: value})
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
		s.sec.Entries = append(s.sec.Entries, &unit.UnitEntry{Name: o.Key, Value: o.Value})
	}
}

func (w *writer) unknown(secs []Section) {
	for _, u := range secs {
		s := w.section(u.Name, true)
		s.extra(u.Options)
	}
}

// bytes renders the header line, a blank line and the sections.
func (w *writer) bytes(header string) []byte {
	var b bytes.Buffer
	b.WriteString(header)
	b.WriteString("\n\n")
	var secs []*unit.UnitSection
	for _, s := range w.secs {
		if s.keep || len(s.sec.Entries) > 0 {
			secs = append(secs, s.sec)
		}
	}
	// SerializeSections, unlike Serialize, keeps repeated sections apart.
	if _, err := io.Copy(&b, unit.SerializeSections(secs)); err != nil {
		panic(err) // reading a bytes.Buffer cannot fail
	}
	return b.Bytes()
}
