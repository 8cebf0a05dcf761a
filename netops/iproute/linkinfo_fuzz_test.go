package iproute

import (
	"encoding/json"
	"testing"

	"github.com/netpanel/netpanel/netops/model"
)

// FuzzLinkInfo prints arbitrary IFLA_INFO_DATA as every kind netpanel
// decodes: the kernel's bytes must never make a printer panic or produce
// JSON that does not parse.
func FuzzLinkInfo(f *testing.F) {
	// A vxlan's id, port range and port; a bridge port's state and id.
	f.Add("vxlan", []byte{8, 0, 1, 0, 100, 0, 0, 0, 8, 0, 10, 0, 0, 0, 0, 0, 6, 0, 15, 0, 0x12, 0xb5, 0, 0})
	f.Add("bridge_slave", []byte{5, 0, 1, 0, 3, 0, 0, 0, 6, 0, 17, 0, 1, 0x80, 0, 0})
	f.Add("bridge", []byte{12, 0, 11, 0, 0x80, 0, 2, 0xac, 0x63, 3, 0xb0, 0x21})
	f.Add("macvlan", []byte{8, 0, 1, 0, 16, 0, 0, 0, 6, 0, 2, 0, 0, 0, 0, 0, 8, 0, 6, 0, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, kind string, data []byte) {
		l := model.Link{Index: 1, Name: "x", Details: &model.LinkDetails{InfoKind: kind, InfoData: data, InfoSlaveKind: "bridge", InfoSlaveData: data}}
		j := LinkWith(&l, noNames{}, LinkOpts{Details: true})
		b, err := json.Marshal(j)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("invalid JSON %s: %v", b, err)
		}
	})
}
