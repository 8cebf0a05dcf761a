package iproute

import (
	"bytes"
	"encoding/json"
)

// Object is a JSON object whose keys keep the order they were set in, for
// the parts of `ip -j` whose keys depend on what the kernel sent (link
// kinds' info_data): printed in ip's order, so the two read alike.
type Object struct {
	keys []string
	vals []any
}

// Set adds or replaces a key.
func (o *Object) Set(k string, v any) {
	for i, kk := range o.keys {
		if kk == k {
			o.vals[i] = v
			return
		}
	}
	o.keys = append(o.keys, k)
	o.vals = append(o.vals, v)
}

// Get returns a key's value.
func (o *Object) Get(k string) (any, bool) {
	for i, kk := range o.keys {
		if kk == k {
			return o.vals[i], true
		}
	}
	return nil, false
}

// Len returns the number of keys.
func (o *Object) Len() int { return len(o.keys) }

// MarshalJSON prints the keys in order.
func (o Object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(o.vals[i])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
