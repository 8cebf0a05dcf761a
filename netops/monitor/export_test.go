package monitor

// RefreshAltNames is refreshAltNames, for its benchmark.
func (w *Watcher) RefreshAltNames() error { return w.refreshAltNames() }
