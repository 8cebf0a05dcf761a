package dockernet

import (
	"net/netip"
	"path"

	"github.com/netpanel/netpanel/netops/files/networkd"
	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/linkkind"
)

// File names and places of the generated setup.
const (
	filePrefix    = "10-"
	UnmanagedFile = "20-docker-unmanaged.network"
	DaemonFile    = "docker/daemon.json" // key in Setup.Files
	NetworkDir    = "/etc/systemd/network"
	DaemonPath    = "/etc/docker/daemon.json"
)

// Dirs are where the setup's files go on this host: the directory of the
// .network and .netdev files (--networkd-dir) and daemon.json's path
// (under --docker-dir). The order of work names them.
type Dirs struct {
	Network string
	Daemon  string
}

// DefaultDirs are the places systemd-networkd and Docker read by default.
var DefaultDirs = Dirs{Network: NetworkDir, Daemon: DaemonPath}

// Setup is what an administrator applies to move Docker onto the plan.
type Setup struct {
	// Files maps a name relative to Dirs.Network to its content;
	// DaemonFile is Dirs.Daemon.
	Files networkd.Files
	// Commands apply Files in order, assuming they were saved under their
	// names in the current directory.
	Commands []string
	// IPCommands do by hand what networkd does with the bridge's files.
	IPCommands []string
}

// Generate renders the plan: the bridge's .netdev and .network (address,
// no Gateway=: a gateway there would add a second default route into
// Docker's bridge), the uplink's .network when the plan has one, a
// .network that leaves Docker's br-* and veth* links to Docker, and
// daemonJSON merged with the plan (see MergeDaemonJSON). networkd applies
// the first file in lexical order that matches a link, so the bridge's and
// the uplink's files (10-) come before the unmanaged patterns (20-). The
// commands install the files into dirs.
func Generate(p Plan, daemonJSON []byte, dirs Dirs) (*Setup, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	merged, err := MergeDaemonJSON(daemonJSON, p)
	if err != nil {
		return nil, err
	}
	yes := true
	files := networkd.Files{}
	base := filePrefix + p.Bridge
	netdev := networkd.NetDevFile{
		NetDev: networkd.NetDev{Name: p.Bridge, Kind: linkkind.Bridge},
		Bridge: &networkd.Bridge{},
	}
	files[base+".netdev"] = netdev.MarshalWithHeader(networkd.Header)
	brMatch, err := networkd.NameMatch(p.Bridge)
	if err != nil {
		return nil, err
	}
	brNet := networkd.NetworkFile{
		Match: brMatch,
		Link:  networkd.Link{Extra: []networkd.Option{{Key: "RequiredForOnline", Value: "no"}}},
		Network: networkd.Network{
			Address:                 []netip.Prefix{p.Address},
			ConfigureWithoutCarrier: &yes,
			LinkLocalAddressing:     "no",
		},
	}
	files[base+".network"] = brNet.MarshalWithHeader(networkd.Header)
	if u := p.Uplink; u != nil {
		if err := ValidLinkName(u.Name); err != nil {
			return nil, err
		}
		upMatch, err := networkd.NameMatch(u.Name)
		if err != nil {
			return nil, err
		}
		up := networkd.NetworkFile{Match: upMatch}
		if u.DHCP {
			up.Network.DHCP = "yes"
		} else {
			up.Network.Address = u.Addresses
			if u.Gateway.IsValid() {
				up.Network.Gateway = []netip.Addr{u.Gateway}
			}
		}
		files[filePrefix+u.Name+".network"] = up.MarshalWithHeader(networkd.Header)
	}
	unmanaged := networkd.NetworkFile{
		Match: networkd.Match{Name: []string{"br-*", "veth*"}},
		Link:  networkd.Link{Unmanaged: &yes},
	}
	files[UnmanagedFile] = unmanaged.MarshalWithHeader(networkd.Header)
	files[DaemonFile] = merged

	// With "bridge" set, Docker neither uses nor removes docker0, which
	// keeps its old subnet and route: remove it while Docker is stopped.
	s := &Setup{Files: files, Commands: []string{"systemctl stop docker", "if ip link show docker0 >/dev/null 2>&1; then ip link del docker0; fi"}}
	for _, name := range files.Paths() {
		dst := path.Join(dirs.Network, name)
		if name == DaemonFile {
			dst = dirs.Daemon
		}
		s.Commands = append(s.Commands, "install -D -m 0644 "+name+" "+iproute.Quote(dst))
	}
	s.Commands = append(s.Commands, "networkctl reload", "systemctl start docker")
	s.IPCommands = []string{
		"ip link add " + p.Bridge + " type bridge",
		"ip addr add " + p.Address.String() + " dev " + p.Bridge,
		"ip link set " + p.Bridge + " up",
	}
	return s, nil
}
