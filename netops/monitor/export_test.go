package monitor

import (
	"github.com/netpanel/netpanel/netops/rtnl"
	"github.com/vishvananda/netns"
)

// RefreshAltNames is refreshAltNames, for its benchmark.
func (w *Watcher) RefreshAltNames() error { return w.refreshAltNames() }

// RouteDump says how the last full sync dumped the routes: "plain" on one
// socket, or how it split them over two.
func (w *Watcher) RouteDump() string {
	w.dumpMu.Lock()
	defer w.dumpMu.Unlock()
	return w.routeDump
}

// SetStrictCheck replaces the call that turns on strict checking (a
// kernel without it returns rtnl.ErrNoStrictCheck) until restore.
func SetStrictCheck(f func(*rtnl.Conn) error) (restore func()) {
	was := strictCheck
	strictCheck = f
	return func() { strictCheck = was }
}

// SetFIBTablesError makes reading the IPv4 tables fail with err until
// restore.
func SetFIBTablesError(err error) (restore func()) {
	was := fibTables
	fibTables = func(netns.NsHandle) ([]fibTable, error) { return nil, err }
	return func() { fibTables = was }
}

// SetSplitFault makes a split route dump that went well return what f
// returns for it ("inet table 100", "inet6 all tables") until restore.
func SetSplitFault(f func(job string) error) (restore func()) {
	was := splitFault
	splitFault = func(j routeJob) error { return f(j.String()) }
	return func() { splitFault = was }
}
