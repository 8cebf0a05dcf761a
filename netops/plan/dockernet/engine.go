package dockernet

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"time"
)

// DefaultSocket is where dockerd listens by default.
const DefaultSocket = "/var/run/docker.sock"

// bridgeNameOption is the network option that names a bridge network's
// Linux bridge.
const bridgeNameOption = "com.docker.network.bridge.name"

// Network is one Docker network as the Engine API reports it.
type Network struct {
	Name   string
	ID     string
	Driver string
	// Bridge is the Linux bridge of a "bridge" driver network: the
	// com.docker.network.bridge.name option, else Docker's br-<id[:12]>.
	Bridge string
	IPAM   []IPAMConfig
}

// IPAMConfig is one subnet of a network; Gateway may be invalid.
type IPAMConfig struct {
	Subnet  netip.Prefix
	Gateway netip.Addr
}

// Client reads from the Docker Engine API over its unix socket. It only
// reads; netpanel never changes Docker through the API.
type Client struct {
	socket string
	hc     *http.Client
}

// NewClient returns a client for the socket at path ("" means
// DefaultSocket). A request ends at its context's deadline, or after
// defaultTimeout when the context has none: a hung dockerd must not hang
// a page.
func NewClient(path string) *Client {
	if path == "" {
		path = DefaultSocket
	}
	d := &net.Dialer{Timeout: 2 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "unix", path)
		},
		MaxIdleConns:    2,
		IdleConnTimeout: 30 * time.Second,
	}
	return &Client{socket: path, hc: &http.Client{Transport: tr}}
}

// Socket returns the socket path.
func (c *Client) Socket() string { return c.socket }

type apiNetwork struct {
	Name    string            `json:"Name"`
	ID      string            `json:"Id"`
	Driver  string            `json:"Driver"`
	Options map[string]string `json:"Options"`
	IPAM    struct {
		Config []struct {
			Subnet  string `json:"Subnet"`
			Gateway string `json:"Gateway"`
		} `json:"Config"`
	} `json:"IPAM"`
}

// Networks lists Docker's networks (GET /v1.41/networks). Subnets or
// gateways Docker reports in a form netip cannot parse are skipped.
func (c *Client) Networks(ctx context.Context) ([]Network, error) {
	var raw []apiNetwork
	if err := c.get(ctx, "/v1.41/networks", &raw); err != nil {
		return nil, err
	}
	out := make([]Network, 0, len(raw))
	for _, r := range raw {
		n := Network{Name: r.Name, ID: r.ID, Driver: r.Driver, Bridge: r.Options[bridgeNameOption]}
		if n.Bridge == "" && n.Driver == "bridge" && len(r.ID) >= 12 {
			n.Bridge = "br-" + r.ID[:12]
		}
		for _, cf := range r.IPAM.Config {
			p, err := netip.ParsePrefix(cf.Subnet)
			if err != nil {
				continue
			}
			gw, _ := netip.ParseAddr(cf.Gateway)
			n.IPAM = append(n.IPAM, IPAMConfig{Subnet: p.Masked(), Gateway: gw})
		}
		out = append(out, n)
	}
	return out, nil
}

// defaultTimeout bounds a request whose context has no deadline.
const defaultTimeout = 8 * time.Second

func (c *Client) get(ctx context.Context, path string, v any) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultTimeout)
		defer cancel()
	}
	// The host part is ignored: DialContext always dials the socket.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://docker"+path, nil)
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("Docker Engine API not reachable at unix://%s: %w", c.socket, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("reading %s from the Docker Engine API at unix://%s: %w", path, c.socket, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(body, &e)
		return fmt.Errorf("Docker Engine API at unix://%s answered GET %s with %s: %s", c.socket, path, resp.Status, e.Message)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("decoding GET %s from the Docker Engine API at unix://%s: %w", path, c.socket, err)
	}
	return nil
}
