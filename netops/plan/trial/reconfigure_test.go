package trial

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/netops/files/networkd"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/plan/persist"
)

// fakeNetworkd is the networkd a unit test of the decision talks to: each
// link runs on a file (running) and networkd has loaded another for it
// (loaded), which a reconfigure makes it run on. A reload is not its
// business: afterReload runs once the reload is done.
type fakeNetworkd struct {
	// noDescribe makes Links fail, as on a networkd without Describe.
	noDescribe bool
	index      map[string]int32
	running    map[string]string
	loaded     map[string]string
	calls      []string // the links reconfigured, in order
}

func (f *fakeNetworkd) Status(context.Context) persist.Status {
	return persist.Status{Active: true, Text: "active"}
}
func (f *fakeNetworkd) Reload(context.Context) (string, error) { return "", nil }

func (f *fakeNetworkd) Links(context.Context) ([]persist.LinkState, error) {
	if f.noDescribe {
		return nil, errors.New("Unknown method Describe")
	}
	var out []persist.LinkState
	for name, idx := range f.index {
		file := ""
		if f.running[name] != "" {
			file = "/etc/systemd/network/" + f.running[name]
		}
		out = append(out, persist.LinkState{Index: idx, Name: name, State: "configured", NetworkFile: file})
	}
	return out, nil
}

func (f *fakeNetworkd) Reconfigure(_ context.Context, index int32) (string, error) {
	for name, idx := range f.index {
		if idx == index {
			f.calls = append(f.calls, name)
			f.running[name] = f.loaded[name]
		}
	}
	return "", nil
}

// The decision after a reload: which links get `networkctl reconfigure`,
// by networkd's version and by the file networkd then runs them on. The
// try concerns a0 and c0 (and d0, which a .netdev creates and networkd
// does not have yet); the files give a0 10-a0.network and c0
// 05-c0.network.
func TestReconfigureAfterReload(t *testing.T) {
	want := map[string]string{"a0": "10-a0.network", "c0": "05-c0.network", "d0": "20-d0.network"}
	predicted := []string{"a0", "c0", "d0"}
	known := func(v int) networkd.Target { return networkd.Target{Version: v, How: "systemd-networkd --version"} }
	for _, tc := range []struct {
		name    string
		version networkd.Target
		// running is the file networkd runs c0 on after the reload;
		// loaded the one a reconfigure gives it.
		running, loaded string
		// calls are the links reconfigured, in order.
		calls, reconfigured, reapplied []string
		why, note                      string
	}{
		{name: "below the bound every link concerned is reconfigured", version: known(249),
			running: "05-c0.network", loaded: "05-c0.network",
			calls: []string{"a0", "c0"}, reconfigured: []string{"a0", "c0"}, reapplied: []string{"a0", "c0"},
			why: "this host's systemd-networkd is 249, and networkd before 252"},
		{name: "the oldest release before the bound too", version: known(244),
			running: "05-c0.network", loaded: "05-c0.network",
			calls: []string{"a0", "c0"}, reconfigured: []string{"a0", "c0"}, reapplied: []string{"a0", "c0"},
			why: "systemd-networkd is 244"},
		{name: "at the bound the reload alone does it", version: known(252),
			running: "05-c0.network", loaded: "05-c0.network", reapplied: []string{"a0", "c0"}},
		{name: "above the bound the reload alone does it", version: known(257),
			running: "05-c0.network", loaded: "05-c0.network", reapplied: []string{"a0", "c0"}},
		{name: "an unknown version is reconfigured, and a note says why",
			version: networkd.Target{Version: networkd.AssumedVersion, How: "assumed systemd 252: no systemd-networkd found", Assumed: true},
			running: "05-c0.network", loaded: "05-c0.network",
			calls: []string{"a0", "c0"}, reconfigured: []string{"a0", "c0"}, reapplied: []string{"a0", "c0"},
			why: "does not know systemd-networkd's version (assumed systemd 252: no systemd-networkd found)", note: "to be safe"},
		{name: "a version nobody asked for is unknown", version: networkd.Target{},
			running: "05-c0.network", loaded: "05-c0.network",
			calls: []string{"a0", "c0"}, reconfigured: []string{"a0", "c0"}, reapplied: []string{"a0", "c0"},
			why: "(it was not asked)", note: "to be safe"},
		{name: "a link still on its old file is reconfigured once and then right", version: known(252),
			running: "10-c0.network", loaded: "05-c0.network",
			calls: []string{"c0"}, reconfigured: []string{"c0"}, reapplied: []string{"a0", "c0"},
			why: "networkd applied another .network than the files give to c0 after the reload"},
		{name: "a link still on its old file after the reconfigure is said", version: known(252),
			running: "10-c0.network", loaded: "10-c0.network",
			calls: []string{"c0"}, reconfigured: []string{"c0"}, reapplied: []string{"a0"},
			why:  "networkd applied another .network than the files give to c0",
			note: "networkd applies 10-c0.network to c0, not 05-c0.network as netpanel expected from the files"},
		{name: "below the bound a link is not reconfigured twice", version: known(249),
			running: "10-c0.network", loaded: "10-c0.network",
			calls: []string{"a0", "c0"}, reconfigured: []string{"a0", "c0"}, reapplied: []string{"a0"},
			why: "systemd-networkd is 249", note: "networkd applies 10-c0.network to c0, not 05-c0.network"},
		{name: "a link the files leave without a .network, running on none", version: known(252),
			running: "", loaded: "", reapplied: []string{"a0", "c0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeNetworkd{
				index:   map[string]int32{"a0": 2, "c0": 3},
				running: map[string]string{"a0": "10-a0.network", "c0": tc.running},
				loaded:  map[string]string{"a0": "10-a0.network", "c0": tc.loaded},
			}
			w := want
			if tc.running == "" && tc.loaded == "" {
				w = map[string]string{"a0": "10-a0.network", "c0": ""}
			}
			r := &Runner{Daemon: f, Version: tc.version}
			rep := &Report{Prediction: networkd.Prediction{Reconfigured: predicted}}
			r.afterReload(context.Background(), rep, w)
			if !slices.Equal(f.calls, tc.calls) {
				t.Errorf("networkctl reconfigure ran for %q, want %q", f.calls, tc.calls)
			}
			if !slices.Equal(rep.Reconfigured, tc.reconfigured) || !slices.Equal(rep.Reapplied, tc.reapplied) {
				t.Errorf("reported reconfigured %q, reapplied %q; want %q, %q", rep.Reconfigured, rep.Reapplied, tc.reconfigured, tc.reapplied)
			}
			why := strings.Join(rep.ReconfiguredWhy, "; ")
			if (tc.why == "") != (why == "") || !strings.Contains(why, tc.why) {
				t.Errorf("why %q, want it to say %q", why, tc.why)
			}
			notes := strings.Join(rep.Notes, "\n")
			if (tc.note == "") != (notes == "") || !strings.Contains(notes, tc.note) {
				t.Errorf("notes %q, want %q", rep.Notes, tc.note)
			}
		})
	}
}

// A networkd that cannot describe its links (no Describe method) is still
// reconfigured below the bound, by the kernel's index from netpanel's
// model, and the report says networkd could not be asked.
func TestReconfigureWithoutDescribe(t *testing.T) {
	f := &fakeNetworkd{noDescribe: true, index: map[string]int32{"a0": 2, "c0": 3},
		running: map[string]string{"a0": "10-a0.network", "c0": "10-c0.network"},
		loaded:  map[string]string{"a0": "10-a0.network", "c0": "05-c0.network"}}
	store := model.NewStore()
	store.Update(func(a *model.Applier) {
		a.Link(model.Link{Index: 2, Name: "a0"}, false)
		a.Link(model.Link{Index: 3, Name: "c0"}, false)
	})
	r := &Runner{Daemon: f, Store: store, Version: networkd.Target{Version: 247, How: "systemd-networkd --version"}}
	rep := &Report{Prediction: networkd.Prediction{Reconfigured: []string{"c0"}}}
	r.afterReload(context.Background(), rep, map[string]string{"c0": "05-c0.network"})
	if !slices.Equal(f.calls, []string{"c0"}) || !slices.Equal(rep.Reconfigured, []string{"c0"}) || f.running["c0"] != "05-c0.network" {
		t.Errorf("reconfigured %q (reported %q), c0 runs on %s", f.calls, rep.Reconfigured, f.running["c0"])
	}
	if notes := strings.Join(rep.Notes, "\n"); !strings.Contains(notes, "Unknown method Describe") || len(rep.Reapplied) > 0 {
		t.Errorf("notes %q, reapplied %q", rep.Notes, rep.Reapplied)
	}
}
