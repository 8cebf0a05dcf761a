package model

import (
	"sort"

	tbtree "github.com/tidwall/btree"
)

// routeOrder is routes in an order, read by position: the model's own
// B-tree, or a sort index (routeList). Pages by position (spans.go, link
// runs, sorted pages) read either without knowing which.
type routeOrder interface {
	// Len is the number of routes.
	Len() int
	// At returns the route at position p (0 <= p < Len).
	At(p int) *Route
	// Rank returns the position of the first route not before x.
	Rank(x *Route) int
	// Search returns the first position whose route f holds for (f is
	// false, then true, along the order), Len when none.
	Search(f func(*Route) bool) int
	// Walk calls fn on the routes from position p on (back to the first
	// when desc) until it returns false.
	Walk(p int, desc bool, fn func(*Route) bool)
}

// treeOrder is the model's B-tree as a routeOrder.
type treeOrder struct{ t *tbtree.BTreeG[*Route] }

func (o treeOrder) Len() int { return o.t.Len() }

func (o treeOrder) At(p int) *Route { r, _ := o.t.GetAt(p); return r }

func (o treeOrder) Rank(x *Route) int {
	return sort.Search(o.t.Len(), func(i int) bool { r, _ := o.t.GetAt(i); return !o.t.Less(r, x) })
}

func (o treeOrder) Search(f func(*Route) bool) int {
	return sort.Search(o.t.Len(), func(i int) bool { r, _ := o.t.GetAt(i); return f(r) })
}

func (o treeOrder) Walk(p int, desc bool, fn func(*Route) bool) {
	if p < 0 || p >= o.t.Len() {
		return
	}
	it := o.t.Iter()
	defer it.Release()
	step := it.Next
	if desc {
		step = it.Prev
	}
	for ok := it.Seek(o.At(p)); ok; ok = step() {
		if !fn(it.Item()) {
			return
		}
	}
}
