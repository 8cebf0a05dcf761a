// Package trace follows one packet through the nftables chains on its
// path and through the route lookup, to answer "why does this packet to
// 1.1.1.1:53 leave through wan?".
//
// The chains run in the kernel's order: for a packet this host sends, the
// socket's route lookup, then the output hook's chains by priority (a
// chain of type route makes the kernel route the packet again when it
// changed the mark or an address), then postrouting; for a packet that
// arrives, ingress, prerouting, the route lookup, then input or forward
// and postrouting. Each rule is evaluated by interpreting its kernel
// expressions over a packet netpanel builds from the query (addresses,
// protocol, ports, interfaces, uid, marks, conntrack state), the way
// nft_do_chain does; statements are named as nft prints them. A value the
// query does not give (a TTL, a TCP flag, a set the packet path fills) is
// unknown: the match is "not evaluated: may match", and the trace follows
// both outcomes. Nothing is guessed silently: every assumption is listed.
//
// The route lookup is the kernel's own (lookup.Explain through a Router),
// with the mark the chains left.
package trace
