package dockernet

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"slices"
	"testing"
)

// daemonSeeds are daemon.json files as they are found on hosts.
var daemonSeeds = []string{
	``,
	"  \n",
	`{}`,
	`{"bip":"172.17.0.1/16"}`,
	`{"bridge":"docker-br0","fixed-cidr":"172.16.0.0/25"}`,
	`{
  "log-driver": "journald",
  "log-opts": {"tag": "{{.Name}}"},
  "bip": "172.26.0.1/16",
  "default-address-pools": [
    {"base": "172.80.0.0/16", "size": 24},
    {"base": "172.90.0.0/16", "size": 24}
  ],
  "dns": ["1.1.1.1", "9.9.9.9"],
  "ipv6": true,
  "fixed-cidr-v6": "fd00:d0c::/64",
  "registry-mirrors": ["https://mirror.gcr.io"],
  "storage-driver": "overlay2",
  "live-restore": true
}`,
	`{"data-root":"/srv/docker","iptables":false,"mtu":1400,"fixed-cidr":"10.99.0.0/24","bridge":""}`,
	`{"features":{"buildkit":true},"exec-opts":["native.cgroupdriver=systemd"],"insecure-registries":["10.0.0.5:5000"]}`,
	`{"default-address-pools":[{"base":"10.10.0.0/16","size":33}]}`,
	`{"bip":"not a prefix"}`,
	`{"a":1,"a":2}`,
	`{"a":1,"\u0061":2}`,
	`[1,2]`,
	`{"bip":"172.17.0.1/16",}`,
	`{"x":"\ud800","bip":""}`,
	`{"default-address-pools":null,"fixed-cidr":null}`,
}

func FuzzParseDaemonConfig(f *testing.F) {
	for _, s := range daemonSeeds {
		f.Add([]byte(s))
	}
	plans := []Plan{
		// fixed-cidr given: every key but bip survives.
		{Bridge: "docker-br0", Subnet: netip.MustParsePrefix("172.16.0.0/24"), Address: netip.MustParsePrefix("172.16.0.1/24"),
			FixedCIDR: netip.MustParsePrefix("172.16.0.0/25"), Pools: []Pool{{netip.MustParsePrefix("172.16.0.0/16"), 24}}},
		// no fixed-cidr and no pools: an outside fixed-cidr may go too.
		{Bridge: "br-lan", Subnet: netip.MustParsePrefix("10.99.0.0/24"), Address: netip.MustParsePrefix("10.99.0.1/24")},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseDaemonConfig(data)
		if err != nil {
			if c != nil {
				t.Fatalf("error %v with a config", err)
			}
			if _, merr := MergeDaemonJSON(data, plans[0]); merr == nil {
				t.Fatalf("ParseDaemonConfig fails (%v) but MergeDaemonJSON accepts %q", err, data)
			}
			return
		}
		keys := c.Keys()
		for _, p := range plans {
			out, err := MergeDaemonJSON(data, p)
			if err != nil {
				t.Fatalf("MergeDaemonJSON(%q): %v", data, err)
			}
			if !bytes.HasSuffix(out, []byte("}\n")) || !json.Valid(out) {
				t.Fatalf("output is not JSON ending in a newline:\n%s", out)
			}
			c2, err := ParseDaemonConfig(out)
			if err != nil {
				t.Fatalf("output of %q does not parse again: %v\n%s", data, err, out)
			}
			got := c2.Keys()
			for _, k := range keys {
				if k == "bip" {
					continue
				}
				if k == "fixed-cidr" && !p.FixedCIDR.IsValid() && c.FixedCIDR.IsValid() && !Contains(p.Subnet, c.FixedCIDR) {
					continue // documented: removed when it falls outside the new subnet
				}
				if !slices.Contains(got, k) {
					t.Fatalf("key %q of %q is lost:\n%s", k, data, out)
				}
			}
			if slices.Contains(got, "bip") {
				t.Fatalf("bip survives:\n%s", out)
			}
			if c2.Bridge != p.Bridge {
				t.Fatalf("bridge %q, want %q:\n%s", c2.Bridge, p.Bridge, out)
			}
			if p.FixedCIDR.IsValid() && c2.FixedCIDR != p.FixedCIDR {
				t.Fatalf("fixed-cidr %v, want %v", c2.FixedCIDR, p.FixedCIDR)
			}
			if len(p.Pools) > 0 && !slices.Equal(c2.Pools, p.Pools) {
				t.Fatalf("pools %v, want %v", c2.Pools, p.Pools)
			}
			// Merging is idempotent: merging the output again changes nothing.
			again, err := MergeDaemonJSON(out, p)
			if err != nil || !bytes.Equal(again, out) {
				t.Fatalf("second merge differs (%v):\n%s\n---\n%s", err, out, again)
			}
		}
	})
}
