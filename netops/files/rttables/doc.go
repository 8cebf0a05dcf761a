// Package rttables reads routing table names the way iproute2 does, so the
// panel shows "table wan" wherever `ip route` would.
//
// Names come from rt_tables files: one "NUMBER NAME" pair per line, '#'
// comments and blank lines ignored, NUMBER decimal or 0x-prefixed hex.
// iproute2 always knows 253 "default", 254 "main" and 255 "local"; every
// other name, including the customary 0 "unspec", comes from the files.
// Table 252 (the kernel's RT_TABLE_COMPAT) has no name and prints as "252".
//
// A [Tables] value is an immutable snapshot, safe for concurrent use. [Load]
// builds one from configuration directories, and [Watch] rebuilds it when
// the files change.
package rttables
