package dockernet

import (
	"errors"
	"strings"
	"testing"
)

func TestMergeDaemonJSON(t *testing.T) {
	plan := Plan{Bridge: "docker-br0", Subnet: pfx("172.16.0.0/24"), Address: pfx("172.16.0.1/24"),
		Pools: []Pool{{pfx("172.16.0.0/16"), 24}}}
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty file gets bridge and pools", "", `{
  "bridge": "docker-br0",
  "default-address-pools": [
    {
      "base": "172.16.0.0/16",
      "size": 24
    }
  ]
}
`},
		{"unknown keys keep their values and order and bip is removed",
			`{"log-driver":"journald","bip":"172.17.0.1/16","zeta":{"b":1,"a":[1,2]},"bridge":"old","alpha":true}`, `{
  "log-driver": "journald",
  "zeta": {
    "b": 1,
    "a": [
      1,
      2
    ]
  },
  "bridge": "docker-br0",
  "alpha": true,
  "default-address-pools": [
    {
      "base": "172.16.0.0/16",
      "size": 24
    }
  ]
}
`},
		{"a fixed-cidr outside the new subnet is removed, one inside kept",
			`{"fixed-cidr":"172.17.0.0/24","fixed-cidr-v6":"fd00::/64"}`, `{
  "fixed-cidr-v6": "fd00::/64",
  "bridge": "docker-br0",
  "default-address-pools": [
    {
      "base": "172.16.0.0/16",
      "size": 24
    }
  ]
}
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MergeDaemonJSON([]byte(tc.in), plan)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tc.want)
			}
			again, err := MergeDaemonJSON(got, plan)
			if err != nil || string(again) != string(got) {
				t.Fatalf("merging twice changed the output:\n%s", again)
			}
		})
	}
}

func TestParseDaemonConfig(t *testing.T) {
	c, err := ParseDaemonConfig([]byte(`{"bip": "172.31.250.1/24", "bridge": "", "fixed-cidr": "172.31.250.0/25",
 "default-address-pools": [{"base": "10.213.0.0/16", "size": 24}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.BIP.String() != "172.31.250.1/24" || c.FixedCIDR.String() != "172.31.250.0/25" || len(c.Pools) != 1 || c.Pools[0] != (Pool{pfx("10.213.0.0/16"), 24}) {
		t.Fatalf("parsed %+v", c)
	}
	for _, tc := range []struct{ name, in, want string }{
		{"bad JSON reports line and column", "{\n  \"bip\": \"172.17.0.1/16\",\n  \"bridge\" \"x\"\n}", "daemon.json:3:12: "},
		{"a trailing comma reports its position", "{\"a\": 1,}", "daemon.json:1:9: "},
		{"a wrongly typed bip is named", "{\n \"bip\": 5\n}", `daemon.json:2:9: "bip" must be a string`},
		{"a bad pool size is named", `{"default-address-pools":[{"base":"10.0.0.0/16","size":8}]}`, `"default-address-pools": size 8 does not fit base 10.0.0.0/16`},
		{"a top-level array is refused", `[1]`, "the top level must be a JSON object"},
		{"duplicate keys are refused", "{\"bip\":\"\",\n \"bip\":\"\"}", `daemon.json:2:2: key "bip" appears twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseDaemonConfig([]byte(tc.in))
			var de *DaemonConfigError
			if !errors.As(err, &de) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
