package rttables

import "strconv"

// Entry is one table name: the ID the kernel uses and the name iproute2
// shows for it.
type Entry struct {
	ID   uint32
	Name string
	// Source says where the name was read, as "file:line", or "built-in".
	Source string
}

// BuiltinSource is the Source of the names iproute2 knows without files.
const BuiltinSource = "built-in"

// builtins are the names compiled into iproute2 (lib/rt_names.c): only
// default, main and local. "0 unspec" is a line of the shipped rt_tables
// file, not a built-in, so without that file `ip` prints table 0 as "0".
var builtins = []Entry{
	{ID: 253, Name: "default", Source: BuiltinSource},
	{ID: 254, Name: "main", Source: BuiltinSource},
	{ID: 255, Name: "local", Source: BuiltinSource},
}

// String formats the entry as an rt_tables line ("254 main").
func (e Entry) String() string {
	return strconv.FormatUint(uint64(e.ID), 10) + " " + e.Name
}
