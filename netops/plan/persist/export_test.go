package persist

import (
	"bytes"
	"strings"

	"github.com/netpanel/netpanel/netops/files/configfiles"
	"github.com/netpanel/netpanel/netops/files/networkd"
)

// ExportAtOnce is the export as it was before it streamed: every link's
// files generated at once (networkd.Generate), every file of the archive
// in one map, the archive written from it into memory. The tests compare
// the streamed archive with it byte for byte.
func (m *Manager) ExportAtOnce() ([]byte, error) {
	links, skipped := m.ExportLinks()
	out := map[string][]byte{}
	var files networkd.Files
	var notices []networkd.Notice
	if len(links) > 0 {
		gen, err := networkd.Generate(m.src, links, m.tables(), m.opts.Target)
		if err != nil {
			return nil, err
		}
		files, notices = gen.Files, gen.Notices
	}
	for rel, data := range files {
		if strings.HasPrefix(rel, networkd.ConfDir+"/") {
			out[rel] = data
		} else {
			out["network/"+rel] = data
		}
	}
	unread := m.addOnDisk(out, namesOf(out))
	unread = append(unread, m.addKinds(out)...)
	if t := m.tables(); t != nil {
		if data := tablesFile(t); data != nil {
			out["iproute2/rt_tables.d/netpanel.conf"] = data
		}
	}
	out["README"] = readme(namesOf(out), skipped, unread, m.opts.Target, notices, m.opts.Kinds)
	var b bytes.Buffer
	if err := configfiles.WriteArchive(&b, "netpanel-config", out); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func namesOf(files map[string][]byte) map[string]bool {
	out := make(map[string]bool, len(files))
	for n := range files {
		out[n] = true
	}
	return out
}

// Shown is how many times the manager computed what only a preview page
// shows (what no file would describe, networkd's expected work).
func (m *Manager) Shown() int64 { return m.shown.Load() }

// Uncached is a manager like m, on the same files and state, that
// generates every file of a selection every time (networkd.Generate), as
// the manager did before it kept what it generated: the tests compare
// the two managers' previews.
func (m *Manager) Uncached() *Manager {
	u := New(m.opts, m.src, m.tables)
	u.uncached, u.foreignPage = true, m.foreignPage
	return u
}

// Made counts the .network files the manager generated with their routes.
func (m *Manager) Made() int {
	m.gens.Lock()
	defer m.gens.Unlock()
	return m.gens.made
}

// Recounted counts the links whose foreign route groups the manager
// counted again.
func (m *Manager) Recounted() int {
	m.lostc.Lock()
	defer m.lostc.Unlock()
	return m.lostc.counted
}

// SetForeignPage makes Preview.Lost at most n objects long, for tests
// whose pages end within few objects.
func (m *Manager) SetForeignPage(n int) { m.foreignPage = n }

// SetBatchRoutes makes the batches of a generation hold about n routes
// until the test ends.
func SetBatchRoutes(t interface{ Cleanup(func()) }, n int) {
	was := batchRoutes
	batchRoutes = n
	t.Cleanup(func() { batchRoutes = was })
}

// Wholes counts the generations made whole (networkd.Generate) because
// the batches read two states twice.
func (m *Manager) Wholes() int {
	m.gens.Lock()
	defer m.gens.Unlock()
	return m.gens.wholes
}

// KeptNotices counts the route notices of the files the manager keeps.
func (m *Manager) KeptNotices() int {
	m.gens.Lock()
	defer m.gens.Unlock()
	n := 0
	for _, e := range m.gens.links {
		n += len(e.notices)
	}
	return n
}

// SetKeptNotices makes the kept files hold at most n route notices in
// all until the test ends.
func SetKeptNotices(t interface{ Cleanup(func()) }, n int) {
	was := keptNotices
	keptNotices = n
	t.Cleanup(func() { keptNotices = was })
}

// SetKeysHook runs hook before the keys of each link's file are made by
// the goroutine a Preview's plan starts for them, until t's end; stopped
// is closed once that goroutine is told to stop.
func SetKeysHook(t interface{ Cleanup(func()) }, hook func(link string, stopped <-chan struct{})) {
	was := keysHook
	keysHook = hook
	t.Cleanup(func() { keysHook = was })
}

// SetKeysStartedHook runs hook in the plan's generation right after it
// started the goroutine that makes the keys, until t's end.
func SetKeysStartedHook(t interface{ Cleanup(func()) }, hook func()) {
	was := keysStartedHook
	keysStartedHook = hook
	t.Cleanup(func() { keysStartedHook = was })
}

// KeysRunning is how many goroutines that make the keys of a plan's
// generated routes are running, and KeysStarted how many were started.
func KeysRunning() int64 { return keysRunning.Load() }
func KeysStarted() int64 { return keysStarted.Load() }
