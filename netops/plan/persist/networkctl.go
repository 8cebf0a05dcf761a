package persist

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Status says whether networkd runs, and if not, why.
type Status struct {
	Active bool
	Text   string // "active", or why files are written but not loaded
}

// ReloadResult is what `networkctl reload` answered.
type ReloadResult struct {
	Done    bool   // networkctl ran and succeeded
	Command string // the command, for the admin to run by hand
	Output  string
	Err     string
	Skipped string // why no reload was attempted
}

// Networkd reports whether systemd-networkd runs and reloads it.
type Networkd interface {
	Status(ctx context.Context) Status
	Reload(ctx context.Context) (output string, err error)
}

// NetworkdStatus says whether a save reloads networkd here, and if not,
// why.
func (m *Manager) NetworkdStatus(ctx context.Context) Status { return m.status(ctx) }

func (m *Manager) status(ctx context.Context) Status {
	if m.opts.Networkd == nil {
		return Status{Text: "netpanel does not reload networkd for this target"}
	}
	return m.opts.Networkd.Status(ctx)
}

func (m *Manager) reload(ctx context.Context) ReloadResult {
	res := ReloadResult{Command: "networkctl reload"}
	st := m.status(ctx)
	if !st.Active {
		res.Skipped = "the files are written, but systemd-networkd is not active on this host (" + st.Text + "); they take effect when it starts"
		return res
	}
	out, err := m.opts.Networkd.Reload(ctx)
	res.Output = strings.TrimSpace(out)
	if err != nil {
		res.Err = err.Error()
		return res
	}
	res.Done = true
	return res
}

// Systemd is the host's networkd, reached with systemctl and networkctl.
// Neither command gets anything from the user.
type Systemd struct{}

// Status asks systemd whether systemd-networkd.service is active.
func (Systemd) Status(ctx context.Context) Status {
	if _, err := os.Stat("/run/systemd/system"); err != nil {
		return Status{Text: "this host was not booted with systemd"}
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "systemctl", "is-active", "systemd-networkd.service").Output()
	state := strings.TrimSpace(string(out))
	if err == nil && state == "active" {
		return Status{Active: true, Text: "active"}
	}
	var ee *exec.ExitError
	if state == "" && err != nil && !errors.As(err, &ee) {
		return Status{Text: "systemctl failed: " + err.Error()}
	}
	return Status{Text: "systemd-networkd.service is " + state}
}

// Reload runs `networkctl reload`.
func (Systemd) Reload(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "networkctl", "reload").CombinedOutput()
	return string(out), err
}
