package ipjson

import (
	"strings"
	"testing"
)

func decode(t *testing.T, s string) []any {
	t.Helper()
	v, err := Decode([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCompare(t *testing.T) {
	spec := Spec{Name: "links", Sorted: []string{"addr_info"}, Allow: Allow{
		"stats64.rx.bytes":            Rising,
		"addr_info.valid_life_time":   Falling,
		"linkinfo.info_data.gc_timer": Anyhow,
	}}
	const ip1 = `[{"ifname":"a","mtu":1500,"stats64":{"rx":{"bytes":10}},"addr_info":[{"local":"10.0.0.1","valid_life_time":100},{"local":"10.0.0.2","valid_life_time":50}],"linkinfo":{"info_data":{"gc_timer":1.5}}},{"ifname":"b","mtu":9000}]`
	const ip2 = `[{"ifname":"a","mtu":1500,"stats64":{"rx":{"bytes":30}},"addr_info":[{"local":"10.0.0.1","valid_life_time":98},{"local":"10.0.0.2","valid_life_time":48}],"linkinfo":{"info_data":{"gc_timer":290.1}}},{"ifname":"b","mtu":9000}]`
	for name, c := range map[string]struct {
		api  string
		want []string // substrings of the differences, in order; none for a match
	}{
		"values between the two reads and lists in another order match": {
			api: `[{"ifname":"b","mtu":9000},{"ifname":"a","mtu":1500,"stats64":{"rx":{"bytes":20}},"addr_info":[{"local":"10.0.0.2","valid_life_time":49},{"local":"10.0.0.1","valid_life_time":99}],"linkinfo":{"info_data":{"gc_timer":7.0}}}]`,
		},
		"a counter outside the two reads is a difference": {
			api:  `[{"ifname":"a","mtu":1500,"stats64":{"rx":{"bytes":31}},"addr_info":[{"local":"10.0.0.1","valid_life_time":99},{"local":"10.0.0.2","valid_life_time":49}],"linkinfo":{"info_data":{"gc_timer":1}}},{"ifname":"b","mtu":9000}]`,
			want: []string{"stats64.rx.bytes: netpanel prints 31, ip 10 before and 30 after"},
		},
		"a lifetime that does not count down is a difference": {
			api:  `[{"ifname":"a","mtu":1500,"stats64":{"rx":{"bytes":20}},"addr_info":[{"local":"10.0.0.1","valid_life_time":100},{"local":"10.0.0.2","valid_life_time":51}],"linkinfo":{"info_data":{"gc_timer":1}}},{"ifname":"b","mtu":9000}]`,
			want: []string{"addr_info.valid_life_time: netpanel prints 51, ip 50 before and 48 after"},
		},
		"a missing key, an extra key and a wrong value are differences": {
			api:  `[{"ifname":"a","mtu":1500,"stats64":{"rx":{"bytes":20}},"addr_info":[{"local":"10.0.0.1","valid_life_time":99},{"local":"10.0.0.2","valid_life_time":49}]},{"ifname":"b","mtu":9001,"kind":"veth"}]`,
			want: []string{"links[ifname=a]: linkinfo: ip prints", "links[ifname=b]: kind: netpanel prints \"veth\", ip does not", "links[ifname=b]: mtu: ip prints 9000, netpanel 9001"},
		},
		"an object only one side has is a difference": {
			api:  `[{"ifname":"a","mtu":1500,"stats64":{"rx":{"bytes":20}},"addr_info":[{"local":"10.0.0.1","valid_life_time":99},{"local":"10.0.0.2","valid_life_time":49}],"linkinfo":{"info_data":{"gc_timer":1}}},{"ifname":"c","mtu":9000}]`,
			want: []string{"only in ip:        {\"ifname\":\"b\"", "only in netpanel:  {\"ifname\":\"c\""},
		},
		"a wrong value in an object with a moving key is a difference": {
			api:  `[{"ifname":"a","mtu":1400,"stats64":{"rx":{"bytes":20}},"addr_info":[{"local":"10.0.0.1","valid_life_time":99},{"local":"10.0.0.2","valid_life_time":49}],"linkinfo":{"info_data":{"gc_timer":7.0}}},{"ifname":"b","mtu":9000}]`,
			want: []string{"links[ifname=a]: mtu: ip prints 1500, netpanel 1400"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			got := Compare(spec, decode(t, ip1), decode(t, c.api), decode(t, ip2))
			if len(c.want) == 0 && len(got) > 0 {
				t.Fatalf("differences where none are:\n%s", strings.Join(got, "\n"))
			}
			all := strings.Join(got, "\n")
			for _, w := range c.want {
				if !strings.Contains(all, w) {
					t.Fatalf("want a difference containing %q, got:\n%s", w, all)
				}
			}
		})
	}
}

func TestCompareOrderedListsKeepTheirOrder(t *testing.T) {
	spec := Spec{Name: "rules", Ordered: true}
	ip := decode(t, `[{"priority":0,"table":"local"},{"priority":1,"table":"main"}]`)
	api := decode(t, `[{"priority":1,"table":"main"},{"priority":0,"table":"local"}]`)
	if got := Compare(spec, ip, api, ip); len(got) == 0 {
		t.Fatal("rules in another order compared equal")
	}
	got := Compare(spec, ip, decode(t, `[{"priority":0,"table":"local"},{"priority":1,"table":"main","nop":null}]`), ip)
	if len(got) != 1 || !strings.Contains(got[0], "nop: netpanel prints null, ip does not") {
		t.Fatalf("got %q", got)
	}
}
