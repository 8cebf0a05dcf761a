// Package trial applies networkd files as a try: it predicts what
// networkd will do with them, captures the live state they concern,
// writes them (with a backup), reloads networkd and waits until it is
// done, then compares what networkd did with the prediction. Its undo
// restores the files, reloads networkd again and reverts, with the change
// engine's inverses, what networkd leaves behind (a link no file manages
// any more keeps what it was given; a link a .netdev made stays).
//
// It is the body of a safeapply.Batch: the engine judges the client's
// path before and after and holds the try for confirmation.
package trial

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/netpanel/netpanel/netops/files/configfiles"
	"github.com/netpanel/netpanel/netops/files/networkd"
	"github.com/netpanel/netpanel/netops/kernel/change"
	"github.com/netpanel/netpanel/netops/kernel/safeapply"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/plan/persist"
)

// Daemon is the networkd a try reloads, asks where each link stands and,
// when its version needs it, reconfigures links of (persist.Systemd).
type Daemon interface {
	persist.Networkd
	persist.NetworkdLinks
	Reconfigure(ctx context.Context, index int32) (string, error)
}

// Runner runs tries in one namespace.
type Runner struct {
	Files *persist.Manager
	// Daemon is networkd; nil when netpanel does not reload it (the demo,
	// another namespace than the host's): files are written, not live.
	Daemon Daemon
	Store  *model.Store
	Target *change.Target
	// Sync returns once the model holds what the kernel acknowledged.
	Sync  func(context.Context) error
	Names func() change.Names
	// SettleTimeout bounds the wait for networkd to finish with the links
	// (30 s when 0).
	SettleTimeout time.Duration
	// Version is Daemon's version (persist.Options.Target): below
	// ReloadReconfiguresFrom, or unknown (zero or Assumed), a reload is
	// followed by `networkctl reconfigure` of the links concerned.
	Version networkd.Target
}

// Report is what a try did, for the page: the files, the reload, what
// networkd was expected to do and what it did.
type Report struct {
	Result     persist.Result
	Prediction networkd.Prediction
	// Live is false when networkd does not run: the files wait for its
	// start, and nothing was observed.
	Live bool
	// Observed is what changed on the links concerned after the reload;
	// Missing and Unexpected are where it differs from the prediction.
	Observed, Missing, Unexpected []networkd.Effect
	// Reapplied are the links networkd configured again with the
	// .network the files give them, as networkd reports it after the
	// reload.
	Reapplied []string
	// Reconfigured are the links netpanel ran `networkctl reconfigure`
	// for after the reload, and ReconfiguredWhy says why (one sentence
	// per reason).
	Reconfigured, ReconfiguredWhy []string
	Notes                         []string
}

// Run applies plan as a try: write writes it with a backup (and no
// reload). It returns what the engine needs (touches, undo) and the
// report. When it fails after writing, it has put the files back.
func (r *Runner) Run(ctx context.Context, plan *configfiles.Plan, write func() (persist.Result, error)) (safeapply.BatchResult, *Report, error) {
	rep := &Report{}
	cfg, err := r.Files.Config()
	if err != nil {
		return safeapply.BatchResult{}, rep, err
	}
	dc := r.Files.DaemonConf()
	pending, notes := persist.PendingOf(plan)
	rep.Notes = append(rep.Notes, notes...)
	_ = r.sync(ctx)
	rep.Prediction = networkd.Predict(cfg, pending, r.Store, dc)
	scope := change.Scope{Links: rep.Prediction.Links, Global: rep.Prediction.Rules}
	snapshot := change.Capture(r.Store, scope)

	res, err := write()
	rep.Result = res
	if err != nil {
		return safeapply.BatchResult{}, rep, err
	}
	if r.Daemon == nil {
		rep.Result.Reload = r.Files.Reload(ctx) // says why there is none
		return safeapply.BatchResult{Note: rep.Result.Reload.Skipped}, rep, nil
	}
	if st := r.Daemon.Status(ctx); !st.Active {
		rep.Result.Reload = persist.ReloadResult{Command: "networkctl reload",
			Skipped: "the files are written, but they are not live: " + st.Text + "; they take effect when systemd-networkd starts"}
		return safeapply.BatchResult{Note: rep.Result.Reload.Skipped}, rep, nil
	}
	rep.Live = true
	undo := r.undo(res.BackupID, snapshot, scope, rep.Prediction.Reconfigured)
	rep.Result.Reload = r.Files.Reload(ctx)
	if rep.Result.Reload.Err != "" {
		done, left := undo()
		return safeapply.BatchResult{Undone: done, LeftOver: left}, rep,
			fmt.Errorf("networkctl reload failed (%s); the files were put back", rep.Result.Reload.Err)
	}
	rep.Notes = append(rep.Notes, r.settle(ctx, scope.Links)...)
	r.afterReload(ctx, rep, networkd.EffectiveFiles(cfg, pending, r.Store))
	_ = r.sync(ctx)
	rep.Observed = networkd.Observe(snapshot, r.Store, scope.Links, scope.Global, dc)
	rep.Missing, rep.Unexpected = networkd.Compare(rep.Prediction.Effects, rep.Observed)
	return safeapply.BatchResult{Live: true, Touches: touches(rep), Undo: undo}, rep, nil
}

// undo is the rollback of a try that wrote backup backupID over snapshot;
// reconfigured are the links the try's files configure again, which the
// files put back configure again too.
func (r *Runner) undo(backupID string, snapshot *model.Store, scope change.Scope, reconfigured []string) safeapply.Undo {
	return func() (done, left []string) {
		ctx := context.Background()
		if backupID != "" {
			res, err := r.Files.WriteRestore(backupID)
			if err != nil {
				left = append(left, "putting the files back from backup "+backupID+": "+err.Error())
			}
			for _, f := range res.Written {
				done = append(done, "restored "+f)
			}
		}
		rl := r.Files.Reload(ctx)
		switch {
		case rl.Done:
			done = append(done, "networkctl reload")
			left = append(left, r.settle(ctx, scope.Links)...)
			if run, _ := r.reloadNeedsReconfigure(); run {
				names, l := r.reconfigure(ctx, reconfigured, nil)
				for _, n := range names {
					done = append(done, "networkctl reconfigure "+n)
				}
				left = append(left, l...)
			}
		case rl.Err != "":
			left = append(left, "networkctl reload: "+rl.Err)
		default:
			left = append(left, rl.Skipped)
		}
		_ = r.sync(ctx)
		d, l := r.revertOps(snapshot, scope)
		return append(done, d...), append(left, l...)
	}
}

func (r *Runner) sync(ctx context.Context) error {
	if r.Sync == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	return r.Sync(ctx)
}

// settle waits until networkd is done with every link named that exists
// (or appears: a .netdev makes it), and says which it is not done with
// after the timeout, or which ended failed.
func (r *Runner) settle(ctx context.Context, links []string) []string {
	timeout := r.SettleTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	deadline := time.Now().Add(timeout)
	for {
		states, err := r.Daemon.Links(ctx)
		if err != nil {
			return []string{"netpanel could not ask networkd how far it got: " + err.Error()}
		}
		var waiting, notes []string
		for _, name := range links {
			st, ok := findState(states, name)
			switch {
			case !ok:
				// Not there (yet): a link a .netdev makes appears a
				// moment after the reload; one that never exists is
				// not waited for past the timeout.
				waiting = append(waiting, name)
			case !st.Settled():
				waiting = append(waiting, name+" ("+st.State+")")
			case st.State == "failed":
				notes = append(notes, "networkd failed to configure "+name+" (networkctl status "+name+" says why)")
			}
		}
		if len(waiting) == 0 || time.Now().After(deadline) {
			if len(waiting) > 0 && !allAbsent(waiting, states) {
				notes = append(notes, fmt.Sprintf("networkd had not finished with %s after %v", strings.Join(waiting, ", "), timeout))
			}
			return notes
		}
		select {
		case <-ctx.Done():
			return append(notes, "stopped waiting for networkd: "+ctx.Err().Error())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func findState(states []persist.LinkState, name string) (persist.LinkState, bool) {
	for _, s := range states {
		if s.Name == name {
			return s, true
		}
	}
	return persist.LinkState{}, false
}

// allAbsent reports whether every waited-for link is simply not there: a
// link the prediction names that nothing creates is no failure to wait.
func allAbsent(waiting []string, states []persist.LinkState) bool {
	for _, w := range waiting {
		if _, ok := findState(states, strings.Fields(w)[0]); ok {
			return false
		}
	}
	return true
}

// touches are what the try changed and may change: each effect seen or
// expected, and each link networkd configures again.
func touches(rep *Report) []change.Touch {
	var out []change.Touch
	for _, e := range slices.Concat(rep.Prediction.Effects, rep.Observed) {
		switch e.Kind {
		case "address":
			out = append(out, change.Touch{Kind: model.KindAddr, Link: e.Link, Addr: e.Prefix})
		case "route":
			out = append(out, change.Touch{Kind: model.KindRoute, Link: e.Link, Dst: e.Prefix})
		case "rule":
			out = append(out, change.Touch{Kind: model.KindRule})
		case "link":
			out = append(out, change.Touch{Kind: model.KindLink, Link: e.Link})
		}
	}
	for _, l := range rep.Prediction.Reconfigured {
		out = append(out, change.Touch{Kind: model.KindLink, Link: l})
	}
	return out
}

// RunLive applies do, which changes live state by other means than files
// (a restart of Docker), as a try over scope: what changed there is
// observed, and the undo reverts it with the change engine's inverses.
func (r *Runner) RunLive(ctx context.Context, scope change.Scope, do func(context.Context) error) (safeapply.BatchResult, *Report, error) {
	rep := &Report{Live: true, Prediction: networkd.Prediction{Links: scope.Links, Rules: scope.Global}}
	_ = r.sync(ctx)
	snapshot := change.Capture(r.Store, scope)
	undo := r.revert(snapshot, scope)
	if err := do(ctx); err != nil {
		done, left := undo()
		return safeapply.BatchResult{Undone: done, LeftOver: left}, rep, err
	}
	_ = r.sync(ctx)
	rep.Observed = networkd.Observe(snapshot, r.Store, scope.Links, scope.Global, r.Files.DaemonConf())
	return safeapply.BatchResult{Live: true, Touches: touches(rep), Undo: undo}, rep, nil
}

// revert undoes, with the change engine's inverses, what changed within
// scope since snapshot.
func (r *Runner) revert(snapshot *model.Store, scope change.Scope) safeapply.Undo {
	return func() (done, left []string) {
		_ = r.sync(context.Background())
		return r.revertOps(snapshot, scope)
	}
}

func (r *Runner) revertOps(snapshot *model.Store, scope change.Scope) (done, left []string) {
	ops, cannot := change.Revert(snapshot, r.Store, scope)
	left = append(left, cannot...)
	u := change.NewUndo(r.Target, r.Store)
	names := r.Names()
	for _, op := range ops {
		if err := u.Apply(op); err != nil {
			left = append(left, op.Command(names)+": "+err.Error())
			continue
		}
		done = append(done, op.Command(names))
	}
	return done, left
}
