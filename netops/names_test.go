package netops_test

import (
	"strconv"

	"github.com/netpanel/netpanel/netops"
)

// storeNames resolves names from a store, with numeric tables except the
// built-in ones, as `ip` prints them when rt_tables has no entry.
type storeNames struct{ s *netops.Store }

func (n storeNames) LinkName(i int32) string {
	if l, ok := n.s.Link(i); ok {
		return l.Name
	}
	return "if" + strconv.Itoa(int(i))
}

func (n storeNames) LinkFlags(i int32) (uint32, bool) {
	l, ok := n.s.Link(i)
	return l.RawFlags, ok
}

func (n storeNames) HasLink(name string) bool {
	_, ok := n.s.LinkByName(name)
	return ok
}

func (n storeNames) TableName(id uint32) string {
	switch id {
	case 253:
		return "default"
	case 254:
		return "main"
	case 255:
		return "local"
	}
	return strconv.FormatUint(uint64(id), 10)
}
