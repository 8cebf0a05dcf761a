package iproute

import (
	"github.com/netpanel/netpanel/netops/linkkind"
	"github.com/netpanel/netpanel/netops/model"
)

// LinkInfoJSON is `ip -d -j link`'s linkinfo object.
type LinkInfoJSON struct {
	InfoKind      string  `json:"info_kind,omitempty"`
	InfoData      *Object `json:"info_data,omitempty"`
	InfoSlaveKind string  `json:"info_slave_kind,omitempty"`
	InfoSlaveData *Object `json:"info_slave_data,omitempty"`
}

// linkInfo builds linkinfo from the kernel's IFLA_LINKINFO; the link's
// kind prints its IFLA_INFO_DATA, and a port's master kind its
// IFLA_INFO_SLAVE_DATA (ip's "bridge_slave"), as iproute2's print_opt for
// that kind does. A kind without a printer (veth, ifb) shows only its
// info_kind, as ip does.
func linkInfo(d *model.LinkDetails, n Names) *LinkInfoJSON {
	if d == nil || (d.InfoKind == "" && d.InfoSlaveKind == "") {
		return nil
	}
	j := &LinkInfoJSON{InfoKind: d.InfoKind, InfoSlaveKind: d.InfoSlaveKind}
	if k := linkkind.Lookup(d.InfoKind); k.Info != nil && d.InfoKind != "" && d.InfoData != nil {
		j.InfoData = object(k.Info(linkkind.ParseAttrs(d.InfoData), n))
	}
	if k := linkkind.Lookup(d.InfoSlaveKind); k.PortInfo != nil && d.InfoSlaveKind != "" && d.InfoSlaveData != nil {
		j.InfoSlaveData = object(k.PortInfo(linkkind.ParseAttrs(d.InfoSlaveData), n))
	}
	return j
}

func object(fs []linkkind.InfoField) *Object {
	o := &Object{}
	for _, f := range fs {
		o.Set(f.Key, f.Value)
	}
	return o
}
