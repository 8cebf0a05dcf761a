package handlers

import (
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/plan/dockernet"
	"github.com/netpanel/netpanel/views"
)

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

// err joins the form's errors into one (each still a field error), or is
// nil.
func (f dockerForm) err() error { return errors.Join(f.formErrors...) }

func (f dockerForm) hidden() []views.HiddenField {
	var out []views.HiddenField
	for _, k := range []string{"ranges", "prefer", "bridge", "bits", "uplink", "fixedcidr"} {
		if v := f.raw.Get(k); v != "" {
			out = append(out, views.HiddenField{Name: k, Value: v})
		}
	}
	return out
}

// dockerChoice reads a preview or save form.
func dockerChoice(r *http.Request) (dockerForm, error) {
	if err := r.ParseForm(); err != nil {
		return dockerForm{}, errors.New("the form could not be read")
	}
	f := readDockerForm(r.PostForm)
	return f, f.err()
}
