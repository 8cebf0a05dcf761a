package networkd

import (
	"bytes"
	"net"
	"slices"
	"strings"

	"github.com/netpanel/netpanel/netops/linkkind"
	"github.com/netpanel/netpanel/netops/model"
)

// MatchState says how sure NetworkFor is.
type MatchState uint8

const (
	// NoMatch: no .network file applies to the link; networkd leaves it
	// unmanaged.
	NoMatch MatchState = iota
	// Matched: the file applies, every [Match] key was evaluated.
	Matched
	// Uncertain: the keys netpanel can evaluate match, but the file also
	// has keys it cannot (Driver=, Path=, Host=, ...), listed in
	// MatchResult.Unevaluated. Later files are not looked at.
	Uncertain
)

// MatchResult is the outcome of NetworkFor.
type MatchResult struct {
	State       MatchState
	Unevaluated []string // [Match] keys not evaluated, as "Driver="
}

// String renders the result for a page: "may match (Driver= not evaluated)".
func (m MatchResult) String() string {
	switch m.State {
	case Matched:
		return "matches"
	case Uncertain:
		return "may match (" + strings.Join(m.Unevaluated, ", ") + " not evaluated)"
	}
	return "no match"
}

// NetworkFor returns the .network file networkd applies to l, the first in
// name order whose [Match] matches, as `networkctl status` shows under
// "Network File". The loopback link gets no special treatment: networkd
// 252 manages "lo" whenever a file matches it, a catch-all Name=*
// included. A file with an empty [Match] applies to no link: networkd
// ignores it (matchesAll).
func (c *Config) NetworkFor(l model.Link) (*Loaded, MatchResult) {
	for _, ld := range c.Networks {
		if ld.Network == nil {
			continue
		}
		if res := ld.Network.Match.evaluate(l); res.State != NoMatch {
			return ld, res
		}
	}
	return nil, MatchResult{}
}

// NetDevFor returns the .netdev file that creates the link called name.
// networkd refuses a second file for a name already configured, so the
// first in name order wins.
func (c *Config) NetDevFor(name string) *Loaded {
	for _, ld := range c.NetDevs {
		if ld.NetDev != nil && ld.NetDev.NetDev.Name == name {
			return ld
		}
	}
	return nil
}

// matchesAll reports an empty [Match], no key left once networkd dropped
// what it refuses (a Name= word that is no interface name): networkd 252
// ignores such a file ("No valid settings found in the [Match] section,
// ignoring file. To match all interfaces, add Name=* ...").
func (f *NetworkFile) matchesAll() bool {
	m := f.Match
	return len(m.Name) == 0 && len(m.MACAddress) == 0 && len(extraMatch(m.Extra)) == 0
}

// evaluate runs networkd's net_match_config over the keys netpanel can
// check; any failing key decides NoMatch.
func (m Match) evaluate(l model.Link) MatchResult {
	extra := extraMatch(m.Extra)
	if len(m.Name) == 0 && len(m.MACAddress) == 0 && len(extra) == 0 {
		return MatchResult{} // networkd ignores the file (matchesAll)
	}
	if !nameMatches(m.Name, l) {
		return MatchResult{}
	}
	if len(m.MACAddress) > 0 && !slices.ContainsFunc(m.MACAddress, func(a net.HardwareAddr) bool { return bytes.Equal(a, l.HWAddr) }) {
		return MatchResult{}
	}
	res := MatchResult{State: Matched}
	for _, key := range sortedKeys(extra) {
		var value string
		var known bool
		switch key {
		case "Type":
			value, known = deviceType(l)
		case "Kind":
			value, known = l.Kind, true
		}
		if !known {
			res.State = Uncertain
			res.Unevaluated = append(res.Unevaluated, key+"=")
			continue
		}
		if !globsMatch(extra[key], value) {
			return MatchResult{}
		}
	}
	return res
}

// nameMatches is networkd's test of Name= (net_condition_test_ifname):
// the patterns match the link's name or one of its alternative names
// (`ip link property add altname`), each tested alone.
func nameMatches(patterns []string, l model.Link) bool {
	if globsMatch(patterns, l.Name) {
		return true
	}
	for _, alt := range l.AltNames {
		if globsMatch(patterns, alt) {
			return true
		}
	}
	return false
}

// extraMatch folds the [Match] keys the typed model does not hold into
// per-key lists: words split and unquoted (strvWords), "!" spread over a
// line's words, and an empty assignment resetting the key, as
// config_parse_match_strv does. A key networkd 252 does not know (a typo,
// "Nmae=") it ignores with a warning, so it matches nothing, nor keeps
// the [Match] from being empty (matchesAll): it is left out.
func extraMatch(opts []Option) map[string][]string {
	out := map[string][]string{}
	for _, o := range opts {
		if !knownKeys252["Match."+o.Key] {
			continue
		}
		if o.Value == "" {
			delete(out, o.Key)
			continue
		}
		neg := strings.HasPrefix(o.Value, "!")
		for _, w := range strvWords(strings.TrimPrefix(o.Value, "!")) {
			if neg {
				w = "!" + w
			}
			out[o.Key] = append(out[o.Key], w)
		}
	}
	return out
}

// globsMatch is networkd's net_condition_test_strv: an empty list matches
// everything; a matching "!glob" rejects; otherwise a positive glob must
// match if there is one.
func globsMatch(patterns []string, s string) bool {
	matched, positive := false, false
	for _, p := range patterns {
		neg := strings.HasPrefix(p, "!")
		p = strings.TrimPrefix(p, "!")
		if !neg {
			positive = true
		}
		if s == "" {
			continue // networkd never matches a missing value, kind of a physical link
		}
		if globMatch(p, s) {
			if neg {
				return false
			}
			matched = true
		}
	}
	return matched || !positive
}

// globSpecial are the bytes that make a word a pattern for fnmatch: a word
// without any matches itself alone.
const globSpecial = `*?[\`

// globMatch is fnmatch(p, s), networkd's test of one glob. A pattern
// without a special character (a [Match] Name= of one link, as every
// generated file has) matches itself alone: compared as such, as the
// prediction and the foreign view match every link against every file of
// a save of every link (300 by 300).
func globMatch(p, s string) bool {
	if strings.ContainsAny(p, globSpecial) {
		return fnmatch(p, s)
	}
	return p == s
}

// deviceType guesses networkd's Type= value: udev's DEVTYPE when the
// kernel sets one, otherwise the ARPHRD name. model.Link carries the
// kind and the ARPHRD name only, so wireless is told from Ethernet by the
// "wl"/"ww" prefix of predictable names, and kinds whose DEVTYPE is not
// known here are reported as not evaluated.
func deviceType(l model.Link) (string, bool) {
	k := linkkind.Of(&l)
	switch k.DevType {
	case linkkind.Unknown:
		return "", false
	case "":
	default:
		return k.DevType, true
	}
	switch l.LinkType {
	case "ether":
		switch {
		case k.Physical && strings.HasPrefix(l.Name, "wl"):
			return "wlan", true
		case k.Physical && strings.HasPrefix(l.Name, "ww"):
			return "wwan", true
		}
		return "ether", true
	case "loopback", "none":
		return l.LinkType, true
	}
	return "", false
}

// networkIndex answers NetworkFor of one Config for many links without
// matching each link against every file: a file whose [Match] is only
// Name= with literal names (every generated file's) can apply to those
// names alone, so a link is matched against the files naming it and the
// others, in the Config's order. A reader that asks for every link (the
// prediction, the foreign view: 300 links by 300 files) makes one.
type networkIndex struct {
	c       *Config
	byName  map[string][]int // the literal-name files naming a link, by position
	general []int            // the other files' positions
}

// networkIndex indexes c's networks as they are now.
func (c *Config) networkIndex() *networkIndex {
	x := &networkIndex{c: c, byName: map[string][]int{}}
	for i, ld := range c.Networks {
		if ld.Network == nil {
			continue
		}
		if names, ok := literalNames(ld.Network.Match); ok {
			for _, n := range names {
				if s := x.byName[n]; len(s) == 0 || s[len(s)-1] != i {
					x.byName[n] = append(s, i)
				}
			}
			continue
		}
		x.general = append(x.general, i)
	}
	return x
}

// literalNames are m's Name= values when they are all it matches on and
// each is a name without a special character or a "!": the file matches
// a link of one of those names, and no other.
func literalNames(m Match) ([]string, bool) {
	if len(m.Name) == 0 || len(m.MACAddress) > 0 || len(m.Extra) > 0 {
		return nil, false
	}
	for _, n := range m.Name {
		if n == "" || n[0] == '!' || strings.ContainsAny(n, globSpecial) {
			return nil, false
		}
	}
	return m.Name, true
}

// networkFor is c.NetworkFor(l).
func (x *networkIndex) networkFor(l model.Link) (*Loaded, MatchResult) {
	if l.Name == "" {
		return x.c.NetworkFor(l)
	}
	named, general := x.byName[l.Name], x.general
	if len(l.AltNames) > 0 {
		// A file naming one of its alternative names applies too
		// (nameMatches): those files, in the Config's order.
		named = slices.Clone(named)
		for _, alt := range l.AltNames {
			named = append(named, x.byName[alt]...)
		}
		slices.Sort(named)
		named = slices.Compact(named)
	}
	for len(named) > 0 || len(general) > 0 {
		var i int
		if len(general) == 0 || len(named) > 0 && named[0] < general[0] {
			i, named = named[0], named[1:]
		} else {
			i, general = general[0], general[1:]
		}
		ld := x.c.Networks[i]
		if res := ld.Network.Match.evaluate(l); res.State != NoMatch {
			return ld, res
		}
	}
	return nil, MatchResult{}
}
