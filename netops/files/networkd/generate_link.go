package networkd

import (
	"fmt"
	"strings"

	"github.com/netpanel/netpanel/netops/linkkind"
	"github.com/netpanel/netpanel/netops/model"
)

// linkSettings writes what networkd sets on the link itself: its MTU and,
// for a link left down, ActivationPolicy=down (networkd brings every
// configured link up by default).
func (g *gen) linkSettings(l model.Link, nf *NetworkFile) {
	nf.Link.MTUBytes = l.MTU
	if l.Up() {
		return
	}
	if ok, why := g.target.knows("Link.ActivationPolicy", "down"); !ok {
		g.notice(Notice{Kind: "link", Link: l.Name, Text: l.Name + " is down",
			Reason: "networkd will bring it up: " + why})
		return
	}
	nf.Link.ActivationPolicy = "down"
}

// existsAtBoot reports whether networkd finds or makes l at boot: a
// physical link, or a virtual one Generate writes a .netdev for (a veth's
// end whose peer writes it counts). A tun, a Docker bridge's veth into a
// container or any kind networkd does not create appear only when their
// program makes them.
func existsAtBoot(l model.Link, nd *NetDevFile, byIndex map[int32]model.Link, selected map[int32]bool) bool {
	switch {
	case nd != nil:
		return true
	case linkkind.Of(&l).Physical:
		return l.LinkType != "loopback" && l.Name != "lo"
	case linkkind.Of(&l).Pair && l.LinkNetNsID < 0:
		_, ok := byIndex[l.ParentIndex]
		return ok && selected[l.ParentIndex]
	}
	return false
}

// header is the first lines of a .network file: Header, and where the
// file holds policy rules, why they are here, so the diff says it.
func (g *gen) header(link string) string {
	reasons := g.ruleOn.lines(link)
	if len(reasons) == 0 {
		return Header
	}
	var b strings.Builder
	b.WriteString(Header)
	b.WriteString("\n# Policy rules are global; networkd keeps them in one link's file.")
	for _, r := range reasons {
		fmt.Fprintf(&b, "\n# %s", r)
	}
	return b.String()
}
