package trial

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/netpanel/netpanel/netops/plan/persist"
)

// ReloadReconfiguresFrom is the first systemd version whose `networkctl
// reload` netpanel trusts to configure again, by itself, every link whose
// .network is new, changed, removed or newly shadowed. Below it, or when
// the version is unknown, a try runs `networkctl reconfigure LINK` for
// each link it concerns after the reload (and after the rollback's).
//
// By design reload has reconfigured such links since it exists (v244:
// systemd PR #13452, the bus method calls link_reconfigure(link, false)
// for every link, which re-applies a link whose .network object is new;
// networkctl(1): "If a new, modified or removed .network file is found,
// then all interfaces which match the file are reconfigured", marked
// v244). What older networkd got wrong is noticing the change: before
// v246 a changed drop-in went unseen (systemd #15521, fixed by PR #16030),
// 247.4 still missed drop-in changes (#19576, "fixed by da46a1bc (v248)"),
// on 249.5 new addresses were applied neither by reload nor by reload +
// reconfigure (#21113, where the maintainer asks whether the file's mtime
// changed: networkd then compared mtimes), and on 249.7 reload kept an
// obsolete configuration (#23402, closed "already-fixed" without naming
// the release). The sources pin no version from which every report is
// fixed, so the bound is the first version netpanel proves:
// TestReloadAloneReappliesEveryChangedFile against the real networkd 252.
//
// A reconfigure does not read files again (networkctl(1), since PR
// #16880: "this does not reload .netdev or .network"): it re-applies what
// the reload loaded. It helps where the reload loaded the new file but
// left the link as it was; where networkd did not notice the change,
// afterReload's check of the file networkd applies says so.
const ReloadReconfiguresFrom = 252

// reloadNeedsReconfigure says whether a reload of r.Daemon must be
// followed by `networkctl reconfigure`, and why, for the page.
func (r *Runner) reloadNeedsReconfigure() (bool, string) {
	v := r.Version
	switch {
	case v.Version == 0 || v.Assumed:
		how := v.How
		if how == "" {
			how = "it was not asked"
		}
		return true, fmt.Sprintf("netpanel does not know systemd-networkd's version (%s), and networkd before %d may keep a link on its old configuration after a reload",
			how, ReloadReconfiguresFrom)
	case v.Version < ReloadReconfiguresFrom:
		return true, fmt.Sprintf("this host's systemd-networkd is %d, and networkd before %d may keep a link on its old configuration after a reload",
			v.Version, ReloadReconfiguresFrom)
	}
	return false, ""
}

// afterReload runs once networkd is done with the reload: below
// ReloadReconfiguresFrom it reconfigures every link the prediction says
// networkd configures again; then it asks networkd which .network it
// applies to each of those links (want: link -> file the files give it,
// "" for none). A link on another file than want is reconfigured once (if
// it was not just now) and checked again before the report says so.
func (r *Runner) afterReload(ctx context.Context, rep *Report, want map[string]string) {
	links := rep.Prediction.Reconfigured
	if run, why := r.reloadNeedsReconfigure(); run && len(links) > 0 {
		done, problems := r.reconfigure(ctx, links, nil)
		rep.Notes = append(rep.Notes, problems...)
		if len(done) > 0 {
			rep.Reconfigured = append(rep.Reconfigured, done...)
			rep.ReconfiguredWhy = append(rep.ReconfiguredWhy, why)
			if r.Version.Version == 0 || r.Version.Assumed {
				rep.Notes = append(rep.Notes, "netpanel ran networkctl reconfigure on "+strings.Join(done, ", ")+
					" after the reload to be safe: "+why+".")
			}
		}
	}
	states, wrong, err := r.wrongFiles(ctx, links, want)
	if err == nil {
		var retry []string
		for _, name := range wrong {
			if !slices.Contains(rep.Reconfigured, name) {
				retry = append(retry, name)
			}
		}
		if len(retry) > 0 {
			done, problems := r.reconfigure(ctx, retry, states)
			rep.Notes = append(rep.Notes, problems...)
			if len(done) > 0 {
				rep.Reconfigured = append(rep.Reconfigured, done...)
				rep.ReconfiguredWhy = append(rep.ReconfiguredWhy, "networkd applied another .network than the files give to "+
					strings.Join(done, ", ")+" after the reload")
				states, wrong, err = r.wrongFiles(ctx, links, want)
			}
		}
	}
	if err != nil {
		rep.Notes = append(rep.Notes, "netpanel could not ask networkd which files it applies: "+err.Error())
		return
	}
	for _, name := range links {
		st, ok := findState(states, name)
		switch {
		case !ok:
		case slices.Contains(wrong, name):
			rep.Notes = append(rep.Notes, fmt.Sprintf("networkd applies %s to %s, not %s as netpanel expected from the files (networkctl status %s)",
				orNone(st.NetworkFile), name, orNone(want[name]), name))
		default:
			rep.Reapplied = append(rep.Reapplied, name)
		}
	}
}

// wrongFiles asks networkd where each link stands and returns that with
// the links, of those named that networkd has, to which it applies
// another .network than want says.
func (r *Runner) wrongFiles(ctx context.Context, links []string, want map[string]string) ([]persist.LinkState, []string, error) {
	states, err := r.Daemon.Links(ctx)
	if err != nil {
		return nil, nil, err
	}
	var wrong []string
	for _, name := range links {
		st, ok := findState(states, name)
		if !ok {
			continue
		}
		if got := filepath.Base(st.NetworkFile); got != want[name] && !(st.NetworkFile == "" && want[name] == "") {
			wrong = append(wrong, name)
		}
	}
	return states, wrong, nil
}

// reconfigure runs `networkctl reconfigure` for each link named that
// exists, by its index (a rename cannot make it reconfigure another
// link), waits until networkd is done with them, and returns the links it
// ran it for and what went wrong. A reconfigure drops and re-adds the
// link's addresses: it is run only where needed. The index is networkd's;
// when networkd cannot describe its links it is the kernel's, from the
// model: Manager.Describe is newer than the releases this is for (a 247-era
// networkd-manager-bus.c offers Reload and ReconfigureLink, no Describe).
// states is what networkd said of its links just now, nil to ask it.
func (r *Runner) reconfigure(ctx context.Context, links []string, states []persist.LinkState) (done, problems []string) {
	var err error
	if states == nil {
		states, err = r.Daemon.Links(ctx)
	}
	index := func(name string) (int32, bool) {
		if err == nil {
			st, ok := findState(states, name)
			return st.Index, ok
		}
		if r.Store == nil {
			return 0, false
		}
		l, ok := r.Store.LinkByName(name)
		return l.Index, ok
	}
	for _, name := range links {
		idx, ok := index(name)
		if !ok {
			continue
		}
		if out, err := r.Daemon.Reconfigure(ctx, idx); err != nil {
			problems = append(problems, fmt.Sprintf("networkctl reconfigure %s: %v %s", name, err, strings.TrimSpace(out)))
			continue
		}
		done = append(done, name)
	}
	if len(done) > 0 {
		problems = append(problems, r.settle(ctx, done)...)
	}
	return done, problems
}

func orNone(file string) string {
	if file == "" {
		return "no .network"
	}
	return filepath.Base(file)
}
