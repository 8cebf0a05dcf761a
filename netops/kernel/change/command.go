package change

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/netpanel/netpanel/netops/linkkind"
	"github.com/netpanel/netpanel/netops/model"
)

// ParseCommand reads back the ip command lines that Command prints (and
// the same commands typed by hand, in that form), so an admin can paste
// one into the panel. It understands one change per line and only the
// keywords the ops use; anything else is an error naming the word.
func ParseCommand(line string, tables model.TableNames) (Op, error) {
	words, err := splitWords(line)
	if err != nil {
		return nil, err
	}
	if len(words) == 0 || words[0] != "ip" {
		return nil, errors.New("a command starts with ip")
	}
	w := &wordList{words: words[1:]}
	family := ""
	for w.more() && strings.HasPrefix(w.peek(), "-") {
		switch w.next() {
		case "-4":
			family = "inet"
		case "-6":
			family = "inet6"
		default:
			return nil, fmt.Errorf("option %s is not supported", w.last())
		}
	}
	obj, verb := w.next(), w.next()
	switch {
	case obj == "link" && verb == "set":
		return parseLinkSetWords(w)
	case obj == "link" && verb == "add":
		return parseLinkAddWords(w)
	case obj == "link" && (verb == "del" || verb == "delete"):
		if w.next() != "dev" {
			return nil, errors.New("expected: ip link del dev NAME")
		}
		op, err := ParseLinkDel(w.next())
		return w.done(op, err)
	case obj == "addr" || obj == "address":
		f := AddrFields{Action: verb, Prefix: w.next()}
		err := w.keywords(map[string]*string{"peer": &f.Peer, "brd": &f.Broadcast, "broadcast": &f.Broadcast,
			"dev": &f.Dev, "label": &f.Label, "scope": &f.Scope, "valid_lft": &f.ValidLft, "preferred_lft": &f.PreferredLft}, nil)
		if err != nil {
			return nil, err
		}
		op, err := ParseAddr(f)
		return w.done(op, err)
	case obj == "route":
		return parseRouteWords(w, verb, family, tables)
	case obj == "rule":
		f := RuleFields{Action: verb, Family: family}
		var lookup string
		flags := map[string]func(){"not": func() { f.Not = true }, "l3mdev": func() { f.L3mdev = true },
			"blackhole": func() { f.Type = "blackhole" }, "unreachable": func() { f.Type = "unreachable" },
			"prohibit": func() { f.Type = "prohibit" }, "nop": func() { f.Type = "nop" }}
		err := w.keywords(map[string]*string{"from": &f.From, "to": &f.To, "fwmark": &f.Fwmark, "iif": &f.Iif,
			"oif": &f.Oif, "priority": &f.Priority, "pref": &f.Priority, "preference": &f.Priority,
			"protocol": &f.Protocol, "lookup": &lookup, "table": &lookup, "ipproto": &f.IPProto, "sport": &f.SPort,
			"dport": &f.DPort, "uidrange": &f.UIDRange, "suppress_prefixlength": &f.SuppressPrefixLength,
			"goto": &f.Goto}, flags)
		if err != nil {
			return nil, err
		}
		f.Table = lookup
		op, err := ParseRule(f, tables)
		return w.done(op, err)
	case obj == "neigh" || obj == "neighbour" || obj == "neighbor":
		f := NeighFields{Action: verb, IP: w.next()}
		var nud string
		if err := w.keywords(map[string]*string{"lladdr": &f.LLAddr, "dev": &f.Dev, "nud": &nud}, nil); err != nil {
			return nil, err
		}
		if nud != "" && nud != "permanent" {
			return nil, fmt.Errorf("nud %s: netpanel adds permanent entries only", nud)
		}
		op, err := ParseNeigh(f)
		return w.done(op, err)
	}
	return nil, fmt.Errorf("ip %s %s is not a change netpanel makes", obj, verb)
}

func parseLinkSetWords(w *wordList) (Op, error) {
	if w.next() != "dev" {
		return nil, errors.New("expected: ip link set dev NAME ...")
	}
	name := w.next()
	var op Op
	var err error
	switch k := w.next(); k {
	case "up", "down":
		op, err = ParseLinkUpDown(name, k)
	case "mtu":
		op, err = ParseLinkMTU(name, w.next())
	case "name":
		op, err = ParseLinkRename(name, w.next())
	case "alias":
		op, err = ParseLinkAlias(name, w.next())
	case "master":
		op, err = ParseLinkMaster(name, w.next())
	case "nomaster":
		op, err = ParseLinkMaster(name, "")
	default:
		return nil, fmt.Errorf("ip link set: %q is not a setting netpanel changes", k)
	}
	return w.done(op, err)
}

func parseLinkAddWords(w *wordList) (Op, error) {
	f := LinkAddFields{Values: map[string]string{}}
	if w.peek() == "link" {
		w.next()
		f.Dev = w.next()
	}
	if err := w.keywords(map[string]*string{"name": &f.Name, "type": &f.Kind}, nil); err != nil && !w.more() {
		return nil, err
	}
	if c := linkkind.Lookup(f.Kind).Create; c != nil {
		for w.more() {
			word := w.next()
			if word == "dev" && c.Lower != linkkind.NoLower && !c.LowerIsLink {
				f.Dev = w.next()
				continue
			}
			i := slices.IndexFunc(c.Fields, func(fd linkkind.Field) bool { return strings.Fields(fd.Arg)[0] == word })
			if i < 0 {
				w.i--
				break
			}
			args := strings.Fields(c.Fields[i].Arg)
			for _, want := range args[1:] {
				if w.next() != want {
					return nil, fmt.Errorf("expected: type %s %s %s", f.Kind, c.Fields[i].Arg, strings.ToUpper(c.Fields[i].Name))
				}
			}
			f.Values[c.Fields[i].Name] = w.next()
		}
	}
	op, err := ParseLinkAdd(f)
	return w.done(op, err)
}

func parseRouteWords(w *wordList, verb, family string, tables model.TableNames) (Op, error) {
	f := RouteFields{Action: verb, Family: family}
	if _, ok := routeTypes[w.peek()]; ok {
		f.Type = w.next()
	}
	f.Dst = w.next()
	cur := &f.Via // the via/dev of the path being read
	curDev := &f.Dev
	for w.more() {
		switch k := w.next(); k {
		case "via":
			*cur = w.next()
		case "dev":
			*curDev = w.next()
		case "table":
			f.Table = w.next()
		case "metric", "priority", "preference":
			f.Metric = w.next()
		case "proto", "protocol":
			f.Protocol = w.next()
		case "scope":
			f.Scope = w.next()
		case "src":
			f.Src = w.next()
		case "tos", "dsfield":
			f.Tos = w.next()
		case "from":
			f.From = w.next()
		case "lock":
			return nil, errors.New("ip route: lock belongs after a metric: mtu lock 1400")
		case "onlink":
			if len(f.Nexthops) > 0 {
				f.Nexthops[len(f.Nexthops)-1].Onlink = true
			} else {
				f.Onlink = true
			}
		case "nexthop":
			f.Nexthops = append(f.Nexthops, NexthopFields{})
			nh := &f.Nexthops[len(f.Nexthops)-1]
			cur, curDev = &nh.Via, &nh.Dev
		case "weight":
			if len(f.Nexthops) == 0 {
				return nil, errors.New("weight belongs to a nexthop")
			}
			f.Nexthops[len(f.Nexthops)-1].Weight = w.next()
		default:
			if !slices.Contains(RouteMetricNames(), k) {
				return nil, fmt.Errorf("ip route: %q is not a keyword netpanel reads", k)
			}
			if f.Metrics == nil {
				f.Metrics = map[string]string{}
			}
			if w.peek() == "lock" {
				w.next()
				if k != "mtu" {
					return nil, fmt.Errorf("ip route: netpanel locks only the mtu, not %s", k)
				}
				f.MTULock = true
			}
			f.Metrics[k] = w.next()
		}
	}
	op, err := ParseRoute(f, tables)
	return w.done(op, err)
}

// wordList walks the words of a command.
type wordList struct {
	words   []string
	i       int
	missing bool
}

func (w *wordList) more() bool { return w.i < len(w.words) }

func (w *wordList) peek() string {
	if !w.more() {
		return ""
	}
	return w.words[w.i]
}

func (w *wordList) next() string {
	if !w.more() {
		w.missing = true
		return ""
	}
	w.i++
	return w.words[w.i-1]
}

func (w *wordList) last() string { return w.words[w.i-1] }

// keywords reads "key value" pairs and bare flags until the words run out.
func (w *wordList) keywords(vals map[string]*string, flags map[string]func()) error {
	for w.more() {
		k := w.next()
		if fn, ok := flags[k]; ok {
			fn()
			continue
		}
		p, ok := vals[k]
		if !ok {
			w.i--
			return fmt.Errorf("%q is not a keyword netpanel reads here", k)
		}
		*p = w.next()
	}
	return nil
}

// done reports a truncated command or words left over, else the parse result.
func (w *wordList) done(op Op, err error) (Op, error) {
	if w.missing {
		return nil, errors.New("the command ends too early")
	}
	if w.more() {
		return nil, fmt.Errorf("unexpected %q", w.peek())
	}
	if err != nil {
		return nil, err
	}
	return op, nil
}

// splitWords splits a command line as a POSIX shell would for the quoting
// that quote produces: single quotes, backslash escapes outside them, and
// double quotes with \" \\ escapes. Nothing is expanded.
func splitWords(s string) ([]string, error) {
	var words []string
	var b strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, b.String())
				b.Reset()
				inWord = false
			}
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated ' quote")
			}
			b.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
					i++
				}
				b.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, errors.New("unterminated \" quote")
			}
			inWord = true
		case c == '\\':
			if i+1 >= len(s) {
				return nil, errors.New("the line ends with a backslash")
			}
			i++
			b.WriteByte(s[i])
			inWord = true
		default:
			b.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, b.String())
	}
	return words, nil
}
