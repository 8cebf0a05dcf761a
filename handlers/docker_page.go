package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/linkkind"
	"github.com/netpanel/netpanel/netops/plan/dockernet"
	"github.com/netpanel/netpanel/views"
)

// serve answers GET /docker: the bridges and networks there are, the
// conflicts, a proposal for the choices in the query and the checklist.
func (p *dockerPage) serve(w http.ResponseWriter, r *http.Request) {
	f := readDockerForm(r.URL.Query())
	vm := views.DockerVM{Meta: p.meta(r, "docker")}
	ctx, cancel := context.WithTimeout(r.Context(), app.EngineTimeout)
	defer cancel()
	p.fill(&vm, f, p.state(ctx, f))
	status := http.StatusOK
	if len(f.formErrors) > 0 {
		status = http.StatusBadRequest
	}
	p.render(w, r, status, views.DockerPage(vm))
}

// fill puts the state and the proposal into vm.
func (p *dockerPage) fill(vm *views.DockerVM, f dockerForm, s app.DockerState) {
	vm.Form = views.DockerFormVM{
		Ranges: f.raw.Get("ranges"), Prefer: f.raw.Get("prefer"), Bridge: f.Bridge,
		Bits: strconv.Itoa(f.Bits), Uplink: f.Uplink, FixedCIDR: f.raw.Get("fixedcidr"),
	}
	vm.Hidden = f.hidden()
	vm.DaemonPath, vm.DaemonJSON, vm.DaemonErr, vm.APIErr = s.DaemonPath, string(s.Daemon), s.DaemonErr, s.APIErr
	vm.APIRead = s.In.NetworksRead
	// The state the searches read (frozen by state), so the page shows one
	// read of it. Only the bridges' addresses are formatted: a render
	// follows each change, and the host may have many addresses elsewhere.
	var st dockernet.Source = p.store
	if s.In.State != nil {
		st = s.In.State
	}
	bridges := map[int32]int{} // link index: its place in vm.Bridges
	for _, l := range st.Links() {
		if l.Kind == linkkind.Bridge && (l.Name == "docker0" || strings.HasPrefix(l.Name, "br-") || l.Name == f.Bridge || (s.In.Daemon != nil && l.Name == s.In.Daemon.Bridge)) {
			bridges[l.Index] = len(vm.Bridges)
			vm.Bridges = append(vm.Bridges, views.DockerBridge{Name: l.Name})
		}
	}
	if len(bridges) > 0 {
		addrs := make([][]string, len(vm.Bridges))
		for _, a := range st.Addrs() {
			if i, ok := bridges[a.LinkIndex]; ok {
				addrs[i] = append(addrs[i], a.Prefix.String())
			}
		}
		for i, as := range addrs {
			vm.Bridges[i].Addrs = strings.Join(as, " ")
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

// live re-renders the conflicts and the checklist on netlink events. The
// hub runs it off its own goroutine; ctx carries its deadline.
func (p *dockerPage) live(ctx context.Context, q url.Values) ([]Fragment, error) {
	f := readDockerForm(q)
	var vm views.DockerVM
	p.fill(&vm, f, p.state(ctx, f))
	return fragments(block("docker-checklist", views.DockerChecklist(vm)), block("docker-conflicts", views.DockerConflicts(vm)))
}
