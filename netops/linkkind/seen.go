package linkkind

import "github.com/netpanel/netpanel/netops/model"

// Kinds netpanel shows but does not create: what udev reports for them
// (networkd's Type= match), and whether networkd could create them (a
// dummy's .netdev has no section of its own). A kind that netpanel learns
// to create moves to a file of its own.
func init() {
	empty := func(model.Link, Links) (*Netdev, error) { return &Netdev{}, nil }
	register(&Kind{Name: "dummy", DevType: "", Netdev: empty})
	register(&Kind{Name: "ipvlan", DevType: ""})
	for _, name := range []string{"bond", "vlan", "wireguard", "geneve", "macsec"} {
		register(&Kind{Name: name, DevType: name})
	}
	for _, name := range []string{"tun", "ifb"} {
		register(&Kind{Name: name, DevType: Unknown})
	}
}
