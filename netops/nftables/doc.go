// Package nftables is netpanel's model of a namespace's nftables ruleset,
// read over netlink (no nft binary at run time) and kept live from the
// NFNLGRP_NFTABLES notifications.
//
// The model holds what the kernel holds: tables, chains, rules as lists of
// kernel expressions, sets with their elements and named objects. Decompile
// turns a rule's expressions back into statements the way nft's
// netlink_delinearize does ("ip daddr 10.0.0.1 udp dport 1194 meta mark set
// 0x00000020"); Text and JSON print them as `nft list ruleset` and
// `nft -j list ruleset` do. An expression or a sequence netpanel does not
// understand is never dropped or guessed: it is kept as an Unsupported
// statement and printed as "[unsupported expr: NAME]", so a page and the
// tracer can say so.
//
// Expressions are decoded with github.com/google/nftables/expr, but only
// after checking that the kernel sent no attribute that package would
// silently ignore (a bitwise shift, say); such an expression stays
// unsupported rather than decoded wrongly.
package nftables
