package dockernet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
)

// Pool is one entry of daemon.json's default-address-pools: Docker cuts
// networks of Size bits out of Base.
type Pool struct {
	Base netip.Prefix
	Size int
}

// DockerDefaultPools are the pools Docker uses when daemon.json sets none:
// 172.17.0.0/16 to 172.31.0.0/16, then 192.168.0.0/16 in /20s.
func DockerDefaultPools() []Pool {
	var out []Pool
	for i := 17; i <= 31; i++ {
		out = append(out, Pool{netip.PrefixFrom(netip.AddrFrom4([4]byte{172, byte(i), 0, 0}), 16), 16})
	}
	return append(out, Pool{netip.MustParsePrefix("192.168.0.0/16"), 20})
}

// DaemonConfig is what netpanel reads from /etc/docker/daemon.json, plus
// every key in file order so that Merge can write the others back as they
// were.
type DaemonConfig struct {
	Bridge      string       // "bridge": an existing bridge Docker uses instead of docker0
	BIP         netip.Prefix // "bip": docker0's address with its length (172.17.0.1/16)
	FixedCIDR   netip.Prefix // "fixed-cidr": the part of the bridge subnet containers get
	FixedCIDRv6 netip.Prefix // "fixed-cidr-v6"
	Pools       []Pool       // "default-address-pools"; nil when unset

	members []member
}

type member struct {
	key   string
	value json.RawMessage
}

// DaemonConfigError is a daemon.json that is not valid JSON or holds a
// value of the wrong shape; Line and Column are 1-based, 0 when unknown.
type DaemonConfigError struct {
	Line, Column int
	Msg          string
}

func (e *DaemonConfigError) Error() string {
	if e.Line == 0 {
		return "daemon.json: " + e.Msg
	}
	return fmt.Sprintf("daemon.json:%d:%d: %s", e.Line, e.Column, e.Msg)
}

// position turns a byte offset into a 1-based line and column.
func position(data []byte, off int64) (int, int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

// ParseDaemonConfig reads daemon.json. Absent or blank content is an empty
// configuration, as it is for dockerd.
func ParseDaemonConfig(data []byte) (*DaemonConfig, error) {
	c := &DaemonConfig{}
	if len(bytes.TrimSpace(data)) == 0 {
		return c, nil
	}
	var top any
	if err := json.Unmarshal(data, &top); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			// The offset is just past the offending byte.
			l, col := position(data, se.Offset-1)
			return nil, &DaemonConfigError{l, col, se.Error()}
		}
		return nil, &DaemonConfigError{Msg: err.Error()}
	}
	if _, ok := top.(map[string]any); !ok {
		return nil, &DaemonConfigError{1, 1, "the top level must be a JSON object {...}"}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil { // '{'
		return nil, &DaemonConfigError{Msg: err.Error()}
	}
	seen := map[string]bool{}
	for dec.More() {
		off := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return nil, &DaemonConfigError{Msg: err.Error()}
		}
		key := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, &DaemonConfigError{Msg: err.Error()}
		}
		if seen[key] {
			l, col := position(data, skipSpace(data, off))
			return nil, &DaemonConfigError{l, col, fmt.Sprintf("key %q appears twice", key)}
		}
		seen[key] = true
		c.members = append(c.members, member{key, raw})
		if err := c.set(key, raw); err != nil {
			l, col := position(data, valueStart(data, skipSpace(data, off)))
			return nil, &DaemonConfigError{l, col, err.Error()}
		}
	}
	if _, err := dec.Token(); err != nil && err != io.EOF { // '}'
		return nil, &DaemonConfigError{Msg: err.Error()}
	}
	return c, nil
}

// set decodes the keys netpanel understands.
func (c *DaemonConfig) set(key string, raw json.RawMessage) error {
	prefix := func(dst *netip.Prefix, example string) error {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return fmt.Errorf("%q must be a string like %q", key, example)
		}
		if s == "" {
			return nil
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return fmt.Errorf("%q: %q is not an address with a prefix length like %q", key, s, example)
		}
		*dst = p
		return nil
	}
	switch key {
	case "bridge":
		if err := json.Unmarshal(raw, &c.Bridge); err != nil {
			return fmt.Errorf("%q must be a string (an interface name)", key)
		}
	case "bip":
		return prefix(&c.BIP, "172.31.250.1/24")
	case "fixed-cidr":
		return prefix(&c.FixedCIDR, "172.31.250.0/25")
	case "fixed-cidr-v6":
		return prefix(&c.FixedCIDRv6, "fd00:d0c::/64")
	case "default-address-pools":
		var ps []struct {
			Base string `json:"base"`
			Size int    `json:"size"`
		}
		if err := json.Unmarshal(raw, &ps); err != nil {
			return fmt.Errorf("%q must be a list like [{\"base\": \"10.213.0.0/16\", \"size\": 24}]", key)
		}
		c.Pools = []Pool{}
		for _, p := range ps {
			b, err := netip.ParsePrefix(p.Base)
			if err != nil {
				return fmt.Errorf("%q: base %q is not a prefix like \"10.213.0.0/16\"", key, p.Base)
			}
			if p.Size < b.Bits() || p.Size > b.Addr().BitLen() {
				return fmt.Errorf("%q: size %d does not fit base %s", key, p.Size, b)
			}
			c.Pools = append(c.Pools, Pool{b.Masked(), p.Size})
		}
	}
	return nil
}

// Keys returns the top-level keys in file order.
func (c *DaemonConfig) Keys() []string {
	out := make([]string, len(c.members))
	for i, m := range c.members {
		out[i] = m.key
	}
	return out
}

// MergeDaemonJSON returns daemon.json content that makes Docker use the
// plan's bridge and pools: "bridge" is set, "default-address-pools" is set
// when the plan has pools, "fixed-cidr" is set to the plan's or removed
// when it would fall outside the new subnet, and "bip" is removed because
// dockerd refuses to start with both bip and bridge. Every other key keeps
// its place and value. Output is indented by two spaces and ends with a
// newline; it depends only on the input and the plan.
func MergeDaemonJSON(data []byte, p Plan) ([]byte, error) {
	c, err := ParseDaemonConfig(data)
	if err != nil {
		return nil, err
	}
	if p.Bridge == "" {
		return nil, errors.New("the plan names no bridge")
	}
	str := func(s string) json.RawMessage { b, _ := json.Marshal(s); return b }
	c.put("bridge", str(p.Bridge))
	c.remove("bip")
	switch {
	case p.FixedCIDR.IsValid():
		c.put("fixed-cidr", str(p.FixedCIDR.String()))
	case c.FixedCIDR.IsValid() && !Contains(p.Subnet, c.FixedCIDR):
		c.remove("fixed-cidr")
	}
	if len(p.Pools) > 0 {
		type jpool struct {
			Base string `json:"base"`
			Size int    `json:"size"`
		}
		ps := make([]jpool, len(p.Pools))
		for i, pl := range p.Pools {
			ps[i] = jpool{pl.Base.String(), pl.Size}
		}
		b, err := json.Marshal(ps)
		if err != nil {
			return nil, err
		}
		c.put("default-address-pools", b)
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, m := range c.members {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(str(m.key))
		buf.WriteByte(':')
		buf.Write(m.value)
	}
	buf.WriteByte('}')
	var out bytes.Buffer
	if err := json.Indent(&out, buf.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// put replaces a key's value in place or appends the key.
func (c *DaemonConfig) put(key string, v json.RawMessage) {
	for i := range c.members {
		if c.members[i].key == key {
			c.members[i].value = v
			return
		}
	}
	c.members = append(c.members, member{key, v})
}

func (c *DaemonConfig) remove(key string) {
	for i := range c.members {
		if c.members[i].key == key {
			c.members = append(c.members[:i], c.members[i+1:]...)
			return
		}
	}
}

// skipSpace returns the offset of the first byte at or after off that is
// neither JSON white space nor a comma.
func skipSpace(data []byte, off int64) int64 {
	for off < int64(len(data)) && bytes.IndexByte([]byte(" \t\r\n,"), data[off]) >= 0 {
		off++
	}
	return off
}

// valueStart returns the offset of the value after the key at off.
func valueStart(data []byte, off int64) int64 {
	if i := bytes.IndexByte(data[off:], ':'); i >= 0 {
		return skipSpace(data, off+int64(i)+1)
	}
	return off
}
