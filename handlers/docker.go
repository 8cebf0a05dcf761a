package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/netpanel/netpanel/netops/files/networkd"
	"github.com/netpanel/netpanel/netops/files/safefile"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/plan/dockernet"
	"github.com/netpanel/netpanel/netops/plan/persist"
	"github.com/netpanel/netpanel/views"
)

// Docker is what the Docker bridge page needs besides the live state.
type Docker struct {
	// Networks reads Docker's networks from the Engine API.
	Networks func(ctx context.Context) ([]dockernet.Network, error)
	// Restart restarts the Docker service; nil when netpanel cannot.
	Restart func(ctx context.Context) (string, error)
}

// dockerAPITimeout bounds the Engine API read of a page request; live
// renders get their deadline from the hub.
const dockerAPITimeout = 3 * time.Second

// dockerForm is what the admin chose on the Docker page; it travels in
// the query string of GET /docker and in the preview and save forms.
type dockerForm struct {
	Ranges     []netip.Prefix // LAN/VPN ranges that must stay reachable
	Prefer     []netip.Prefix // candidate ranges for the bridge and pool
	Bridge     string
	Bits       int
	Uplink     bool // also write the uplink's .network
	FixedCIDR  netip.Prefix
	raw        url.Values
	formErrors []error // *fieldError each
}

func parsePrefixes(field, label, s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		p, err := netip.ParsePrefix(w)
		if err != nil {
			return nil, badField(field, label, "%q is not an address range like 10.20.0.0/16", w)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// readDockerForm parses the choices; errors name the field.
func readDockerForm(q url.Values) dockerForm {
	f := dockerForm{raw: q, Bridge: strings.TrimSpace(q.Get("bridge")), Bits: 24}
	var err error
	if f.Ranges, err = parsePrefixes("ranges", "LAN/VPN ranges", q.Get("ranges")); err != nil {
		f.formErrors = append(f.formErrors, err)
	}
	if f.Prefer, err = parsePrefixes("prefer", "preferred ranges", q.Get("prefer")); err != nil {
		f.formErrors = append(f.formErrors, err)
	}
	if f.Bridge == "" {
		f.Bridge = dockernet.DefaultBridge
	}
	if b := strings.TrimSpace(q.Get("bits")); b != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(b, "/"))
		if err != nil || n < 8 || n > 30 {
			f.formErrors = append(f.formErrors, badField("bits", "subnet size", "%q is not a prefix length between 8 and 30", b))
		} else {
			f.Bits = n
		}
	}
	f.Uplink = q.Get("uplink") == "on"
	if s := strings.TrimSpace(q.Get("fixedcidr")); s != "" {
		p, err := netip.ParsePrefix(s)
		if err != nil || !p.Addr().Is4() {
			f.formErrors = append(f.formErrors, badField("fixedcidr", "fixed-cidr", "%q is not an IPv4 range", s))
		} else {
			f.FixedCIDR = p.Masked()
		}
	}
	return f
}

func (f dockerForm) hidden() []views.HiddenField {
	var out []views.HiddenField
	for _, k := range []string{"ranges", "prefer", "bridge", "bits", "uplink", "fixedcidr"} {
		if v := f.raw.Get(k); v != "" {
			out = append(out, views.HiddenField{Name: k, Value: v})
		}
	}
	return out
}

// dockerState is everything the page computes from the live state, the
// files on disk and Docker's API.
type dockerState struct {
	in         dockernet.Inputs
	daemonPath string
	daemon     []byte
	daemonErr  string
	apiErr     string
	plan       dockernet.Plan
	planErr    error
	setup      *dockernet.Setup
	configured dockernet.Plan // what the files on disk describe
	isConfig   bool
}

func (h *Handlers) daemonPath() string {
	return filepath.Join(h.d.Persist.Options().DockerDir, "daemon.json")
}

func (h *Handlers) dockerState(ctx context.Context, f dockerForm) dockerState {
	s := dockerState{daemonPath: h.daemonPath()}
	s.in = dockernet.Inputs{State: h.d.Store, Tables: h.d.Tables(), Ranges: f.Ranges}
	data, err := safefile.Read(s.daemonPath)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		s.daemonErr = err.Error()
	default:
		s.daemon = data
		if cfg, err := dockernet.ParseDaemonConfig(data); err != nil {
			s.daemonErr = err.Error()
		} else {
			s.in.Daemon = cfg
		}
	}
	if h.d.Docker.Networks != nil {
		if nets, err := h.d.Docker.Networks(ctx); err != nil {
			s.apiErr = err.Error()
		} else {
			s.in.Networks, s.in.NetworksRead = nets, true
		}
	}
	uplink := dockernet.DetectUplink(s.in)
	s.configured, s.isConfig = dockernet.Configured(s.in.Daemon, h.bridgeFileAddr(s.in.Daemon), uplink)
	if len(f.formErrors) > 0 {
		msgs := make([]string, len(f.formErrors))
		for i, e := range f.formErrors {
			msgs[i] = e.Error()
		}
		s.planErr = errors.New(strings.Join(msgs, "; "))
		return s
	}
	s.plan, s.planErr = dockernet.Propose(s.in, dockernet.Options{Bridge: f.Bridge, SubnetBits: f.Bits, Candidates: f.Prefer})
	if s.planErr != nil {
		return s
	}
	if f.FixedCIDR.IsValid() {
		if !dockernet.Contains(s.plan.Subnet, f.FixedCIDR) {
			s.planErr = badField("fixedcidr", "fixed-cidr", "%s is not inside the bridge subnet %s", f.FixedCIDR, s.plan.Subnet)
			return s
		}
		s.plan.FixedCIDR = f.FixedCIDR
	}
	if !f.Uplink {
		s.plan.Uplink = nil
	}
	s.setup, s.planErr = dockernet.Generate(s.plan, s.daemon)
	return s
}

// bridgeFileAddr is the address the .network file of daemon.json's
// bridge gives it, as networkd reads the files.
func (h *Handlers) bridgeFileAddr(d *dockernet.DaemonConfig) netip.Prefix {
	if d == nil || d.Bridge == "" {
		return netip.Prefix{}
	}
	opts := h.d.Persist.Options()
	cfg, err := networkd.Load(append([]string{opts.NetworkDir}, opts.SearchDirs...))
	if err != nil {
		return netip.Prefix{}
	}
	f, res := cfg.NetworkFor(model.Link{Name: d.Bridge, Kind: "bridge", LinkType: "ether"})
	if f == nil || f.Network == nil || res.State != networkd.Matched {
		return netip.Prefix{}
	}
	for _, a := range f.Network.Network.Address {
		if a.Addr().Is4() {
			return a
		}
	}
	for _, a := range f.Network.Addresses {
		if a.Address.Addr().Is4() {
			return a.Address
		}
	}
	return netip.Prefix{}
}

// checkPlan is the plan the checklist holds the live state to: the one on
// disk once daemon.json names a bridge, else the proposal.
func (s dockerState) checkPlan() (dockernet.Plan, string, bool) {
	if s.isConfig && s.configured.Address.IsValid() {
		return s.configured, "the configuration on disk", true
	}
	if s.planErr == nil {
		return s.plan, "the proposal (not saved yet)", true
	}
	return dockernet.Plan{}, "", false
}

// Docker serves GET /docker.
func (h *Handlers) Docker(w http.ResponseWriter, r *http.Request) {
	f := readDockerForm(r.URL.Query())
	vm := views.DockerVM{Meta: h.meta(identity(r), "docker", "Docker bridge", []views.Cmd{
		{IP: "ip -d link show type bridge", Old: "brctl show"},
		{IP: "ip route show table all", Old: "route -n"},
		{IP: "docker network inspect bridge"},
	})}
	if h.d.Persist == nil {
		vm.Error = "saving is not configured"
		h.render(w, r, http.StatusOK, views.DockerPage(vm))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), dockerAPITimeout)
	defer cancel()
	s := h.dockerState(ctx, f)
	h.fillDockerVM(&vm, f, s)
	status := http.StatusOK
	if len(f.formErrors) > 0 {
		status = http.StatusBadRequest
	}
	h.render(w, r, status, views.DockerPage(vm))
}

func (h *Handlers) fillDockerVM(vm *views.DockerVM, f dockerForm, s dockerState) {
	vm.Form = views.DockerFormVM{
		Ranges: f.raw.Get("ranges"), Prefer: f.raw.Get("prefer"), Bridge: f.Bridge,
		Bits: strconv.Itoa(f.Bits), Uplink: f.Uplink, FixedCIDR: f.raw.Get("fixedcidr"),
	}
	vm.Hidden = f.hidden()
	vm.DaemonPath, vm.DaemonJSON, vm.DaemonErr, vm.APIErr = s.daemonPath, string(s.daemon), s.daemonErr, s.apiErr
	vm.APIRead = s.in.NetworksRead
	addrs := map[int32][]string{}
	for _, a := range h.d.Store.Addrs() {
		addrs[a.LinkIndex] = append(addrs[a.LinkIndex], a.Prefix.String())
	}
	for _, l := range h.d.Store.Links() {
		if l.Kind == "bridge" && (l.Name == "docker0" || strings.HasPrefix(l.Name, "br-") || l.Name == f.Bridge || (s.in.Daemon != nil && l.Name == s.in.Daemon.Bridge)) {
			vm.Bridges = append(vm.Bridges, views.DockerBridge{Name: l.Name, Addrs: strings.Join(addrs[l.Index], " ")})
		}
	}
	for _, n := range s.in.Networks {
		var subnets []string
		for _, c := range n.IPAM {
			subnets = append(subnets, c.Subnet.String())
		}
		vm.Networks = append(vm.Networks, views.DockerNetwork{Name: n.Name, Driver: n.Driver, Bridge: n.Bridge, Subnets: strings.Join(subnets, " ")})
	}
	for _, c := range dockernet.FindConflicts(s.in) {
		vm.Conflicts = append(vm.Conflicts, c.Text)
	}
	if s.planErr != nil {
		vm.PlanErr = s.planErr.Error()
		errs := f.formErrors
		if errorField(s.planErr) != "" {
			errs = []error{s.planErr}
		}
		for _, e := range errs {
			if fe, ok := errors.AsType[*fieldError](e); ok {
				vm.PlanFields = append(vm.PlanFields, views.FieldMsg{Field: fe.field, Label: fe.label, Msg: fe.msg})
			}
		}
	} else {
		vm.Plan = planVM(s.plan)
		vm.Commands, vm.IPCommands = s.setup.Commands, s.setup.IPCommands
		vm.Files = s.setup.Files.Paths()
	}
	vm.Checks, vm.CheckAgainst = h.dockerChecks(s)
}

func planVM(p dockernet.Plan) views.DockerPlan {
	vp := views.DockerPlan{Bridge: p.Bridge, Subnet: p.Subnet.String(), Address: p.Address.String()}
	if p.FixedCIDR.IsValid() {
		vp.FixedCIDR = p.FixedCIDR.String()
	}
	for _, pool := range p.Pools {
		vp.Pools = append(vp.Pools, fmt.Sprintf("%s split into /%d", pool.Base, pool.Size))
	}
	if u := p.Uplink; u != nil {
		if u.DHCP {
			vp.Uplink = u.Name + " by DHCP"
		} else {
			var as []string
			for _, a := range u.Addresses {
				as = append(as, a.String())
			}
			vp.Uplink = fmt.Sprintf("%s with %s via %s", u.Name, strings.Join(as, " "), u.Gateway)
		}
	}
	return vp
}

func (h *Handlers) dockerChecks(s dockerState) ([]views.CheckRow, string) {
	p, against, ok := s.checkPlan()
	if !ok {
		return nil, ""
	}
	var rows []views.CheckRow
	for _, c := range dockernet.Checklist(s.in, p) {
		rows = append(rows, views.CheckRow{OK: c.OK, Text: c.Text, Command: c.Command})
	}
	for _, st := range dockernet.StaleAddrs(s.in.State, p) {
		rows = append(rows, views.CheckRow{Text: "Stale address " + st.Addr.String() + " on " + p.Bridge + ".", Command: st.Command,
			Stale: st.Addr.String(), Dev: p.Bridge})
	}
	return rows, against
}

// dockerLive re-renders the conflicts and the checklist on netlink events.
// The hub runs it off its own goroutine; ctx carries its deadline.
func (h *Handlers) dockerLive(ctx context.Context, q url.Values) ([]Fragment, error) {
	if h.d.Persist == nil {
		return nil, nil
	}
	f := readDockerForm(q)
	s := h.dockerState(ctx, f)
	var vm views.DockerVM
	h.fillDockerVM(&vm, f, s)
	return fragments("", "docker-checklist", views.DockerChecklist(vm), "docker-conflicts", views.DockerConflicts(vm))
}

// dockerFiles recomputes the files from a preview or save form.
func (h *Handlers) dockerFiles(r *http.Request) (map[string][]byte, dockerForm, error) {
	if err := r.ParseForm(); err != nil {
		return nil, dockerForm{}, errors.New("the form could not be read")
	}
	f := readDockerForm(r.PostForm)
	ctx, cancel := context.WithTimeout(r.Context(), dockerAPITimeout)
	defer cancel()
	s := h.dockerState(ctx, f)
	if s.daemonErr != "" {
		return nil, f, fmt.Errorf("%s cannot be merged: %s", s.daemonPath, s.daemonErr)
	}
	if s.planErr != nil {
		return nil, f, s.planErr
	}
	return s.setup.Files, f, nil
}

// DockerPreview serves POST /docker/preview: the diff of the Docker setup.
func (h *Handlers) DockerPreview(w http.ResponseWriter, r *http.Request) {
	if h.d.Persist == nil {
		h.render(w, r, http.StatusForbidden, views.NetworkdPreview(views.NetworkdPreviewVM{Error: "saving is not configured"}))
		return
	}
	files, f, err := h.dockerFiles(r)
	var p *persist.Preview
	if err == nil {
		p, err = h.d.Persist.PreviewFiles(files, r.PostForm["takeover"])
	}
	if err != nil {
		h.render(w, r, http.StatusBadRequest, views.NetworkdPreview(views.NetworkdPreviewVM{Error: err.Error()}))
		return
	}
	vm := previewVM(p)
	vm.Action, vm.Hidden = "/docker", f.hidden()
	h.render(w, r, http.StatusOK, views.NetworkdPreview(vm))
}

// DockerSave serves POST /docker/save: write the reviewed files and reload
// networkd; Docker itself is restarted only on a separate confirmation.
func (h *Handlers) DockerSave(w http.ResponseWriter, r *http.Request) {
	if h.d.Persist == nil {
		h.render(w, r, http.StatusForbidden, views.SaveResult(views.SaveResultVM{Error: "saving is not configured"}))
		return
	}
	files, _, err := h.dockerFiles(r)
	var res persist.Result
	if err == nil {
		res, err = h.d.Persist.SaveFiles(r.Context(), files, r.PostForm["takeover"], r.PostForm.Get("digest"))
	}
	h.auditFiles(r, "save the Docker bridge setup", res, err)
	h.renderResult(w, r, res, err)
	if err == nil {
		h.render(w, r, http.StatusOK, views.DockerRestart(h.d.Docker.Restart != nil))
	}
}

// DockerRestart serves POST /docker/restart, after the admin confirmed.
func (h *Handlers) DockerRestart(w http.ResponseWriter, r *http.Request) {
	if h.d.Docker.Restart == nil {
		h.render(w, r, http.StatusConflict, views.SaveResult(views.SaveResultVM{Error: "netpanel cannot restart Docker on this host; run: systemctl restart docker"}))
		return
	}
	out, err := h.d.Docker.Restart(r.Context())
	res := persist.Result{Written: []string{"systemctl restart docker"}}
	h.auditFiles(r, "restart Docker", res, err)
	if err != nil {
		h.render(w, r, http.StatusBadGateway, views.SaveResult(views.SaveResultVM{Error: "systemctl restart docker failed: " + err.Error() + " " + out}))
		return
	}
	h.render(w, r, http.StatusOK, views.DockerRestarted(strings.TrimSpace(out)))
}
