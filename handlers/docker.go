package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/plan/dockernet"
	"github.com/netpanel/netpanel/netops/plan/persist"
	"github.com/netpanel/netpanel/views"
)

// DockerSetup plans, saves and restarts Docker's bridge setup
// (*app.Docker).
type DockerSetup interface {
	State(ctx context.Context, ranges []netip.Prefix) app.DockerState
	Preview(ctx context.Context, c app.DockerChoice, takeOver []string) (*persist.Preview, error)
	Save(ctx context.Context, id app.Identity, c app.DockerChoice, takeOver []string, digest string) (persist.Result, error)
	CanRestart() bool
	Restart(ctx context.Context, id app.Identity) (string, error)
}

// dockerForm is what the admin chose on the Docker page; it travels in
// the query string of GET /docker and in the preview and save forms.
type dockerForm struct {
	app.DockerChoice
	raw        url.Values
	formErrors []error // *app.FieldError each
}

func parsePrefixes(field, label, s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		p, err := netip.ParsePrefix(w)
		if err != nil {
			return nil, app.BadField(field, label, "%q is not an address range like 10.20.0.0/16", w)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// readDockerForm parses the choices; errors name the field.
func readDockerForm(q url.Values) dockerForm {
	f := dockerForm{raw: q, DockerChoice: app.DockerChoice{Bridge: strings.TrimSpace(q.Get("bridge")), Bits: 24}}
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
			f.formErrors = append(f.formErrors, app.BadField("bits", "subnet size", "%q is not a prefix length between 8 and 30", b))
		} else {
			f.Bits = n
		}
	}
	f.Uplink = q.Get("uplink") == "on"
	if s := strings.TrimSpace(q.Get("fixedcidr")); s != "" {
		p, err := netip.ParsePrefix(s)
		if err != nil || !p.Addr().Is4() {
			f.formErrors = append(f.formErrors, app.BadField("fixedcidr", "fixed-cidr", "%q is not an IPv4 range", s))
		} else {
			f.FixedCIDR = p.Masked()
		}
	}
	return f
}

// err joins the form's errors into one, or is nil.
func (f dockerForm) err() error {
	if len(f.formErrors) == 0 {
		return nil
	}
	msgs := make([]string, len(f.formErrors))
	for i, e := range f.formErrors {
		msgs[i] = e.Error()
	}
	return errors.New(strings.Join(msgs, "; "))
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

// dockerState reads what the page shows and, when the form is valid,
// proposes a plan for it.
func (h *Handlers) dockerState(ctx context.Context, f dockerForm) app.DockerState {
	s := h.d.Docker.State(ctx, f.Ranges)
	if s.PlanErr = f.err(); s.PlanErr == nil {
		s.Propose(f.DockerChoice)
	}
	return s
}

// Docker serves GET /docker.
func (h *Handlers) Docker(w http.ResponseWriter, r *http.Request) {
	f := readDockerForm(r.URL.Query())
	vm := views.DockerVM{Meta: h.meta(identity(r), "docker", "Docker bridge", []views.Cmd{
		{IP: "ip -d link show type bridge", Old: "brctl show"},
		{IP: "ip route show table all", Old: "route -n"},
		{IP: "docker network inspect bridge"},
	})}
	if h.d.Docker == nil {
		vm.Error = "saving is not configured"
		h.render(w, r, http.StatusOK, views.DockerPage(vm))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), app.EngineTimeout)
	defer cancel()
	h.fillDockerVM(&vm, f, h.dockerState(ctx, f))
	status := http.StatusOK
	if len(f.formErrors) > 0 {
		status = http.StatusBadRequest
	}
	h.render(w, r, status, views.DockerPage(vm))
}

func (h *Handlers) fillDockerVM(vm *views.DockerVM, f dockerForm, s app.DockerState) {
	vm.Form = views.DockerFormVM{
		Ranges: f.raw.Get("ranges"), Prefer: f.raw.Get("prefer"), Bridge: f.Bridge,
		Bits: strconv.Itoa(f.Bits), Uplink: f.Uplink, FixedCIDR: f.raw.Get("fixedcidr"),
	}
	vm.Hidden = f.hidden()
	vm.DaemonPath, vm.DaemonJSON, vm.DaemonErr, vm.APIErr = s.DaemonPath, string(s.Daemon), s.DaemonErr, s.APIErr
	vm.APIRead = s.In.NetworksRead
	addrs := map[int32][]string{}
	for _, a := range h.d.Store.Addrs() {
		addrs[a.LinkIndex] = append(addrs[a.LinkIndex], a.Prefix.String())
	}
	for _, l := range h.d.Store.Links() {
		if l.Kind == "bridge" && (l.Name == "docker0" || strings.HasPrefix(l.Name, "br-") || l.Name == f.Bridge || (s.In.Daemon != nil && l.Name == s.In.Daemon.Bridge)) {
			vm.Bridges = append(vm.Bridges, views.DockerBridge{Name: l.Name, Addrs: strings.Join(addrs[l.Index], " ")})
		}
	}
	for _, n := range s.In.Networks {
		var subnets []string
		for _, c := range n.IPAM {
			subnets = append(subnets, c.Subnet.String())
		}
		vm.Networks = append(vm.Networks, views.DockerNetwork{Name: n.Name, Driver: n.Driver, Bridge: n.Bridge, Subnets: strings.Join(subnets, " ")})
	}
	for _, c := range dockernet.FindConflicts(s.In) {
		vm.Conflicts = append(vm.Conflicts, c.Text)
	}
	if s.PlanErr != nil {
		vm.PlanErr = s.PlanErr.Error()
		errs := f.formErrors
		if app.FieldOf(s.PlanErr) != "" {
			errs = []error{s.PlanErr}
		}
		for _, e := range errs {
			if fe, ok := errors.AsType[*app.FieldError](e); ok {
				vm.PlanFields = append(vm.PlanFields, views.FieldMsg{Field: fe.Field, Label: fe.Label, Msg: fe.Msg})
			}
		}
	} else {
		vm.Plan = planVM(s.Plan)
		vm.Commands, vm.IPCommands = s.Setup.Commands, s.Setup.IPCommands
		vm.Files = s.Setup.Files.Paths()
	}
	vm.Checks, vm.CheckAgainst = dockerChecks(s)
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

func dockerChecks(s app.DockerState) ([]views.CheckRow, string) {
	p, against, ok := s.CheckPlan()
	if !ok {
		return nil, ""
	}
	var rows []views.CheckRow
	for _, c := range dockernet.Checklist(s.In, p) {
		rows = append(rows, views.CheckRow{OK: c.OK, Text: c.Text, Command: c.Command})
	}
	for _, st := range dockernet.StaleAddrs(s.In.State, p) {
		rows = append(rows, views.CheckRow{Text: "Stale address " + st.Addr.String() + " on " + p.Bridge + ".", Command: st.Command,
			Stale: st.Addr.String(), Dev: p.Bridge})
	}
	return rows, against
}

// dockerLive re-renders the conflicts and the checklist on netlink events.
// The hub runs it off its own goroutine; ctx carries its deadline.
func (h *Handlers) dockerLive(ctx context.Context, q url.Values) ([]Fragment, error) {
	if h.d.Docker == nil {
		return nil, nil
	}
	f := readDockerForm(q)
	var vm views.DockerVM
	h.fillDockerVM(&vm, f, h.dockerState(ctx, f))
	return fragments("", "docker-checklist", views.DockerChecklist(vm), "docker-conflicts", views.DockerConflicts(vm))
}

// dockerChoice reads a preview or save form.
func dockerChoice(r *http.Request) (dockerForm, error) {
	if err := r.ParseForm(); err != nil {
		return dockerForm{}, errors.New("the form could not be read")
	}
	f := readDockerForm(r.PostForm)
	return f, f.err()
}

// DockerPreview serves POST /docker/preview: the diff of the Docker setup.
func (h *Handlers) DockerPreview(w http.ResponseWriter, r *http.Request) {
	if h.d.Docker == nil {
		h.render(w, r, http.StatusForbidden, views.NetworkdPreview(views.NetworkdPreviewVM{Error: "saving is not configured"}))
		return
	}
	f, err := dockerChoice(r)
	var p *persist.Preview
	if err == nil {
		p, err = h.d.Docker.Preview(r.Context(), f.DockerChoice, r.PostForm["takeover"])
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
	if h.d.Docker == nil {
		h.render(w, r, http.StatusForbidden, views.SaveResult(views.SaveResultVM{Error: "saving is not configured"}))
		return
	}
	f, err := dockerChoice(r)
	var res persist.Result
	if err == nil {
		res, err = h.d.Docker.Save(r.Context(), identity(r), f.DockerChoice, r.PostForm["takeover"], r.PostForm.Get("digest"))
	}
	h.renderResult(w, r, res, err)
	if err == nil {
		h.render(w, r, http.StatusOK, views.DockerRestart(h.d.Docker.CanRestart()))
	}
}

// DockerRestart serves POST /docker/restart, after the admin confirmed.
func (h *Handlers) DockerRestart(w http.ResponseWriter, r *http.Request) {
	if h.d.Docker == nil || !h.d.Docker.CanRestart() {
		h.render(w, r, http.StatusConflict, views.SaveResult(views.SaveResultVM{Error: app.ErrCannotRestart.Error()}))
		return
	}
	out, err := h.d.Docker.Restart(r.Context(), identity(r))
	if err != nil {
		h.render(w, r, http.StatusBadGateway, views.SaveResult(views.SaveResultVM{Error: "systemctl restart docker failed: " + err.Error() + " " + out}))
		return
	}
	h.render(w, r, http.StatusOK, views.DockerRestarted(strings.TrimSpace(out)))
}
