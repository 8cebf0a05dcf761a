package trace

import "github.com/netpanel/netpanel/netops/model"

// StoreLinks names interfaces from netpanel's model of the namespace.
func StoreLinks(s *model.Store) Links { return storeLinks{s} }

type storeLinks struct{ s *model.Store }

func (l storeLinks) LinkName(index int) (string, bool) {
	k, ok := l.s.Link(int32(index))
	return k.Name, ok
}

func (l storeLinks) LinkIndex(name string) (int, bool) {
	k, ok := l.s.LinkByName(name)
	return int(k.Index), ok
}
