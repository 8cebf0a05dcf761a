package networkd

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/netpanel/netpanel/netops/model"
)

// Problem is something about an edited file at a line: what networkd
// would refuse or ignore (Error, Warning), or what the admin should know
// (Note).
type Problem struct {
	File     string
	Line     int
	Severity string // SeverityError, SeverityWarning or SeverityNote
	Msg      string
}

// The severities of a Problem. An Error is a line or section networkd
// drops (a bad value, a table it cannot resolve, a syntax error): an edit
// with one is refused. A Warning is a line networkd ignores with a log
// message (an unknown key); a Note explains, and changes nothing.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
	SeverityNote    = "note"
)

func (p Problem) String() string { return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg) }

// Edit is one main file (a .network or .netdev) with new content, checked
// as networkd would read it.
type Edit struct {
	Name string // "10-wan.network"
	// Path is where the edit is written; Winner is the file of that name
	// networkd reads now ("" for a new name); Shadows are the files of that
	// name networkd reads no more once Path exists (lower precedence);
	// Masked is a mask that makes networkd ignore the name whatever Path
	// holds.
	Path, Winner string
	Shadows      []string
	Masked       string
	DropIns      []NamedData // the drop-ins networkd merges into it, in order
	Problems     []Problem
	// Matches are, for a .network, the live links its [Match] selects
	// and whether networkd would apply it to them.
	Matches []LinkMatch
}

// Refused reports whether an edit has errors (networkd would drop lines
// or sections of it).
func (e Edit) Refused() bool {
	return slices.ContainsFunc(e.Problems, func(p Problem) bool { return p.Severity == SeverityError })
}

// LinkMatch is one live link a .network matches.
type LinkMatch struct {
	Link    string
	Applied bool   // networkd applies this file to it
	By      string // the file networkd applies instead, when not
	// Uncertain names [Match] keys netpanel cannot evaluate.
	Uncertain string
}

// CheckEdit checks data as the new content of the main file name in dir
// (the directory the edit is written to, the highest precedence): parsed
// with the drop-ins c merges into that name, every key checked against
// the keys target's networkd reads, table names against those dc
// declares, and, for a .network, matched against st's links.
func CheckEdit(c *Config, dir, name string, data []byte, target Target, dc DaemonConf, st Source) Edit {
	e := Edit{Name: name, Path: filepath.Join(dir, name)}
	var cur *Loaded
	for _, ld := range slices.Concat(c.Networks, c.NetDevs) {
		if ld.Name == name {
			cur = ld
		}
	}
	for _, m := range c.Masked {
		if m.Name == name && m.Path != e.Path {
			e.Masked = m.Path
		}
	}
	parts := []part{{e.Path, data}}
	// The drop-ins merged: the current file's, or for a new name those
	// waiting on disk for a main file.
	withDropIns := c.orphan(name)
	if cur != nil {
		e.Winner = cur.Path
		for _, p := range append([]string{cur.Path}, cur.Shadowed...) {
			if p != e.Path {
				e.Shadows = append(e.Shadows, p)
			}
		}
		withDropIns = cur
	}
	if withDropIns != nil {
		parts = append(parts, withDropIns.dropIns...)
		for _, d := range withDropIns.dropIns {
			e.DropIns = append(e.DropIns, NamedData{Name: d.name, Data: d.data})
		}
	}
	// Lexed once: parsed as networkd's file, and each key judged by
	// networkd's own table.
	p, secs := lexParts(parts)
	var warns []Warning
	var err error
	var nf *NetworkFile
	if strings.HasSuffix(name, ".network") {
		nf, warns, err = networkOf(p, secs)
	} else {
		var nd *NetDevFile
		nd, warns, err = netDevOf(p, secs)
		if nd != nil && err == nil && (nd.NetDev.Name == "" || nd.NetDev.Kind == "") {
			err = &ParseError{File: e.Path, Line: 1, Err: errors.New("[NetDev] needs Name= and Kind=; networkd ignores the file without them")}
		}
	}
	for _, pe := range flatten(err) {
		p := Problem{File: e.Path, Severity: SeverityError, Msg: pe.Error()}
		var perr *ParseError
		if errors.As(pe, &perr) {
			p.File, p.Line = perr.File, perr.Line
			p.Msg = strings.TrimPrefix(perr.Error(), fmt.Sprintf("%s:%d: ", perr.File, perr.Line))
		}
		e.Problems = append(e.Problems, p)
	}
	for _, w := range warns {
		// Keys and sections netpanel does not model are judged below by
		// networkd's own table, not by netpanel's model.
		if w.unknownToNetpanel() {
			continue
		}
		e.Problems = append(e.Problems, Problem{File: w.File, Line: w.Line, Severity: SeverityWarning, Msg: w.Msg})
	}
	e.Problems = append(e.Problems, checkKeys(secs, target, dc)...)
	// The edited file first, then the drop-ins in the order networkd
	// reads them; by line within a file.
	order := func(f string) int { return slices.IndexFunc(parts, func(p part) bool { return p.name == f }) }
	slices.SortStableFunc(e.Problems, func(a, b Problem) int {
		if oa, ob := order(a.File), order(b.File); oa != ob {
			return oa - ob
		}
		return a.Line - b.Line
	})
	if nf != nil && st != nil {
		e.Matches = matches(c, e, nf, st)
	}
	return e
}

// checkKeys judges each section and key by the keys target's networkd
// reads, and each Table= by the names it knows.
func checkKeys(secs []rawSection, target Target, dc DaemonConf) []Problem {
	var out []Problem
	v := target.version()
	for _, s := range secs {
		if !knownSection(s.name) {
			out = append(out, Problem{s.file, s.line, SeverityWarning, fmt.Sprintf("networkd knows no section [%s]: it ignores the whole section", s.name)})
			continue
		}
		for _, en := range s.entries {
			sk := s.name + "." + en.key
			if k, ok := keys[sk]; ok && k.since > v {
				out = append(out, Problem{s.file, en.line, SeverityWarning, fmt.Sprintf("%s= needs systemd %d (%s); this host's networkd is %d and ignores the line", sk, k.since, k.source, v)})
				continue
			}
			if !knownKeys252[sk] {
				msg := fmt.Sprintf("networkd %d knows no %s= in [%s]: it ignores the line", v, en.key, s.name)
				sev := SeverityWarning
				if v > 252 {
					msg, sev = fmt.Sprintf("%s= is not a key of networkd 252, the newest netpanel has the keys of; networkd %d may read it", sk, v), SeverityNote
				}
				out = append(out, Problem{s.file, en.line, sev, msg})
				continue
			}
			if en.key == "Table" && (s.name == "Route" || s.name == "RoutingPolicyRule") {
				out = append(out, checkTable(s, en, dc)...)
			}
		}
	}
	return out
}

func knownSection(name string) bool { return knownSections252()[name] }

// knownSections252 are the sections of knownKeys252, collected once.
var knownSections252 = sync.OnceValue(func() map[string]bool {
	out := map[string]bool{}
	for k := range knownKeys252 {
		sec, _, _ := strings.Cut(k, ".")
		out[sec] = true
	}
	return out
})

// checkTable: networkd resolves Table= names only through RouteTable= of
// networkd.conf, read when it starts; rt_tables means nothing to it.
func checkTable(s rawSection, en rawEntry, dc DaemonConf) []Problem {
	t := en.value
	switch t {
	case "", "main", "local", "default":
		return nil
	}
	if _, err := strconv.ParseUint(t, 10, 32); err == nil {
		return nil
	}
	if id, ok := dc.Tables[t]; ok {
		return []Problem{{s.file, en.line, SeverityNote, fmt.Sprintf("networkd knows table %s (%d) only if networkd.conf declared it before networkd started; Table=%d needs no restart", t, id, id)}}
	}
	return []Problem{{s.file, en.line, SeverityError, fmt.Sprintf(
		"networkd knows no table %q: it reads table names only from RouteTable= in networkd.conf (not rt_tables) when it starts, and drops this [%s]; write the table's number", t, s.name)}}
}

// matches lists the live links nf's [Match] selects and whether networkd
// applies the edited file to them: the first .network in name order that
// matches wins.
func matches(c *Config, e Edit, nf *NetworkFile, st Source) []LinkMatch {
	eff := effective(c, Files{e.Name: []byte("#")}, nil)
	for _, ld := range eff.Networks {
		if ld.Name == e.Name {
			ld.Network = nf
		}
	}
	var out []LinkMatch
	for _, l := range st.Links() {
		res := nf.Match.evaluate(l)
		if res.State == NoMatch {
			continue
		}
		m := LinkMatch{Link: l.Name, Uncertain: strings.Join(res.Unevaluated, " ")}
		win, _ := eff.NetworkFor(l)
		m.Applied = win != nil && win.Name == e.Name
		if !m.Applied && win != nil {
			m.By = win.Name
		}
		out = append(out, m)
	}
	return out
}

// Template is the text of a new file: a .network for one link (its
// current static addresses and routes are not copied: Save does that) or
// a .netdev for a bridge.
func Template(kind, link string, l *model.Link) (name string, data []byte, err error) {
	switch kind {
	case "network":
		m, err := NameMatch(link)
		if err != nil {
			return "", nil, err
		}
		text := "[Match]\nName=" + nameLines(m.Name)[0] + "\n\n[Network]\n"
		if l == nil {
			text += "# " + link + " does not exist yet: networkd configures it when it appears.\n"
		}
		text += "ConfigureWithoutCarrier=yes\n#Address=192.0.2.1/24\n#Gateway=192.0.2.254\n"
		return filePrefix + link + ".network", []byte(text), nil
	case "bridge":
		if _, err := parseIfname(link); err != nil {
			return "", nil, fmt.Errorf("link name %q: %w", link, err)
		}
		return filePrefix + link + ".netdev", []byte("[NetDev]\nName=" + link + "\nKind=bridge\n"), nil
	}
	return "", nil, fmt.Errorf("unknown template %q: network or bridge", kind)
}
