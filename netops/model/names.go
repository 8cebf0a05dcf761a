package model

import "strconv"

// TableNames resolves routing table numbers and names, as rt_tables
// declares them (*rttables.Tables). Name gives the number in decimal for
// a table without a name; ID reads a name or a number.
type TableNames interface {
	Name(id uint32) string
	ID(name string) (uint32, bool)
}

// Names is a point-in-time copy of what rendering needs to resolve: link
// names and flags, and table names. Taking it once per render keeps
// renderers from calling back into the store while they iterate it.
type Names struct {
	links    map[int32]nameEntry
	byName   map[string]int32
	tables   TableNames
	nexthops map[uint32]NexthopObject
}

type nameEntry struct {
	name  string
	flags uint32
}

// Names snapshots the link names; tables may be nil (tables are then
// shown by number).
func (s *Store) Names(tables TableNames) *Names {
	s.mu.RLock()
	defer s.mu.RUnlock()
	// Every render asks for the names; they change with the links and
	// nexthop objects only, so the maps built for their generations are
	// shared (nothing writes to a Names' maps once built).
	gen := [2]uint64{s.gen[KindLink], s.gen[KindNexthop]}
	s.namesMu.Lock()
	defer s.namesMu.Unlock()
	if c := s.names; c != nil && s.namesGen == gen {
		return &Names{links: c.links, byName: c.byName, nexthops: c.nexthops, tables: tables}
	}
	n := s.buildNames(tables)
	s.names, s.namesGen = n, gen
	return n
}

// buildNames builds the names of the links and nexthop objects; the
// caller holds the read lock.
func (s *Store) buildNames(tables TableNames) *Names {
	n := &Names{links: make(map[int32]nameEntry, len(s.links)), byName: make(map[string]int32, len(s.links)), tables: tables}
	for i, l := range s.links {
		n.links[i] = nameEntry{l.Name, l.RawFlags}
		n.byName[l.Name] = i
	}
	if len(s.nexthops) > 0 {
		n.nexthops = make(map[uint32]NexthopObject, len(s.nexthops))
		for id, nh := range s.nexthops {
			n.nexthops[id] = *nh
		}
	}
	return n
}

// Nexthop returns a nexthop object by id, for routes that use one.
func (n *Names) Nexthop(id uint32) (NexthopObject, bool) {
	nh, ok := n.nexthops[id]
	return nh, ok
}

// LinkName returns a link's name, or "ifN" for an unknown index as ip does.
func (n *Names) LinkName(idx int32) string {
	if e, ok := n.links[idx]; ok {
		return e.name
	}
	return "if" + strconv.Itoa(int(idx))
}

// LinkFlags returns a link's IFF_* flags.
func (n *Names) LinkFlags(idx int32) (uint32, bool) {
	e, ok := n.links[idx]
	return e.flags, ok
}

// HasLink reports whether a link of that name exists.
func (n *Names) HasLink(name string) bool {
	_, ok := n.byName[name]
	return ok
}

// LinkIndex finds a link by name.
func (n *Names) LinkIndex(name string) (int32, bool) {
	i, ok := n.byName[name]
	return i, ok
}

// TableName returns the table's name from rt_tables, or its number.
func (n *Names) TableName(id uint32) string {
	if n.tables == nil {
		return strconv.FormatUint(uint64(id), 10)
	}
	return n.tables.Name(id)
}

// Tables returns the table names in use (nil when none were given).
func (n *Names) Tables() TableNames { return n.tables }
