package model

import "golang.org/x/sys/unix"

// State is a complete object set, for building a store without a kernel
// (handler tests, fixtures) and for exporting one.
type State struct {
	Links  []Link
	Addrs  []Addr
	Routes []Route
	Rules  []Rule
	Neighs []Neigh
}

// NewStoreFrom returns a synced store holding st, as if dumped.
func NewStoreFrom(st State) *Store {
	s := NewStore()
	sn := newSnapshot()
	for i := range st.Links {
		l := st.Links[i]
		sn.links[l.Index] = &l
	}
	for i := range st.Addrs {
		a := st.Addrs[i]
		sn.addrs[a.Key()] = &a
	}
	for i := range st.Routes {
		sn.routes.ReplaceOrInsert(&st.Routes[i])
	}
	sn.rules = append(sn.rules, st.Rules...)
	for i := range st.Neighs {
		n := st.Neighs[i]
		set := sn.neighs
		if n.Flags&unix.NTF_PROXY != 0 {
			set = sn.proxies // as the applier keeps them
		}
		set[NeighKey{n.LinkIndex, n.IP}] = &n
	}
	s.replace(sn, "loaded")
	return s
}
