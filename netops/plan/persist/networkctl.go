package persist

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
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

// LinkState is how far networkd got with one link, as `networkctl list`
// shows it.
type LinkState struct {
	Index int32
	Name  string
	// State is networkd's setup state: pending, initialized, configuring,
	// configured, unmanaged, failed or linger.
	State string
	// NetworkFile is the .network file networkd applies to the link, ""
	// for none.
	NetworkFile string
}

// Settled reports whether networkd is done with the link, for good or
// bad.
func (l LinkState) Settled() bool {
	switch l.State {
	case "pending", "initialized", "configuring":
		return false
	}
	return true
}

// NetworkdLinks is what a try asks of networkd beyond a reload: where each
// link stands. (A try runs Systemd.Reconfigure only where networkd's
// version or its answer needs it: see trial.ReloadReconfiguresFrom.)
type NetworkdLinks interface {
	Links(ctx context.Context) ([]LinkState, error)
}

// Systemd is the networkd of netpanel's namespace, reached over the D-Bus
// system bus with busctl and networkctl (both in the systemd package), as
// an admin reaches it. None of the commands gets anything from the user
// but link indexes.
type Systemd struct {
	// Bus is the system bus's address (DBUS_SYSTEM_BUS_ADDRESS); "" for
	// the system's own, /run/dbus/system_bus_socket.
	Bus string
	// Enter, when set, runs every command through it, for a networkd
	// serving another network namespace than netpanel's (networkctl
	// refuses to talk to a networkd of another namespace):
	// "nsenter --net=/run/netns/NAME --".
	Enter []string
}

// networkdName is networkd's well-known name on the bus.
const networkdName = "org.freedesktop.network1"

func (s Systemd) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	argv := append(append(append([]string(nil), s.Enter...), name), args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	if s.Bus != "" {
		cmd.Env = append(os.Environ(), "DBUS_SYSTEM_BUS_ADDRESS="+s.Bus)
	}
	return cmd
}

// Status asks the bus whether networkd owns its name. It asks rather than
// calls networkd: a call would start a stopped networkd through D-Bus
// activation, and the admin who stopped it should be told, not overruled.
func (s Systemd) Status(ctx context.Context) Status {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := s.command(ctx, "busctl", "call", "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
		"NameHasOwner", "s", networkdName).CombinedOutput()
	answer := strings.TrimSpace(string(out))
	switch {
	case err != nil:
		return Status{Text: "the D-Bus system bus cannot be asked whether systemd-networkd runs (busctl: " + firstLine(answer, err) + ")"}
	case answer == "b true":
		return Status{Active: true, Text: "active"}
	case answer == "b false":
		return Status{Text: "systemd-networkd is not running (nothing owns " + networkdName + " on the system bus)"}
	}
	return Status{Text: "unexpected answer from busctl: " + answer}
}

// Reload runs `networkctl reload`.
func (s Systemd) Reload(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := s.command(ctx, "networkctl", "reload").CombinedOutput()
	return string(out), err
}

// Reconfigure runs `networkctl reconfigure INDEX`. It names the link by
// index: networkctl then need not resolve a name, and a rename cannot
// make it reconfigure another link. It re-applies the file networkd has
// loaded (it reads no file again); a try runs it after a reload only on a
// networkd older than trial.ReloadReconfiguresFrom, or of unknown
// version, and for a link networkd still runs on another file.
func (s Systemd) Reconfigure(ctx context.Context, index int32) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := s.command(ctx, "networkctl", "reconfigure", strconv.Itoa(int(index))).CombinedOutput()
	return string(out), err
}

// Links asks networkd for its view of every link (the Describe method
// `networkctl status --json` prints).
func (s Systemd) Links(ctx context.Context) ([]LinkState, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := s.command(ctx, "busctl", "--json=short", "call", networkdName, "/org/freedesktop/network1",
		networkdName+".Manager", "Describe").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("asking systemd-networkd for its links: %s", firstLine(string(ee.Stderr), err))
		}
		return nil, fmt.Errorf("asking systemd-networkd for its links: %w", err)
	}
	return ParseDescribe(out)
}

// ParseDescribe reads busctl's JSON answer to Manager.Describe: a string
// holding networkd's JSON description.
func ParseDescribe(out []byte) ([]LinkState, error) {
	var reply struct {
		Data []string `json:"data"`
	}
	if err := json.Unmarshal(out, &reply); err != nil || len(reply.Data) != 1 {
		return nil, fmt.Errorf("unexpected answer from busctl: %.200q", out)
	}
	var desc struct {
		Interfaces []struct {
			Index               int32
			Name                string
			AdministrativeState string
			NetworkFile         string
		}
	}
	if err := json.Unmarshal([]byte(reply.Data[0]), &desc); err != nil {
		return nil, fmt.Errorf("unexpected description from systemd-networkd: %w", err)
	}
	out2 := make([]LinkState, 0, len(desc.Interfaces))
	for _, l := range desc.Interfaces {
		out2 = append(out2, LinkState{Index: l.Index, Name: l.Name, State: l.AdministrativeState, NetworkFile: l.NetworkFile})
	}
	return out2, nil
}

// firstLine is a command's first line of output, or its error.
func firstLine(out string, err error) string {
	if l, _, _ := strings.Cut(strings.TrimSpace(out), "\n"); l != "" {
		return l
	}
	return err.Error()
}

var (
	_ Networkd      = Systemd{}
	_ NetworkdLinks = Systemd{}
)
