// Package dockernet finds where Docker's bridge networks collide with the
// host's routes, addresses and the administrator's LAN/VPN ranges, explains
// each collision in one sentence, proposes a bridge and address pools that
// collide with nothing, and generates the systemd-networkd files and the
// merged daemon.json that set it up (issue #6).
//
// Docker gives docker0 172.17.0.0/16 and new networks /16s from 172.17-31
// and /20s from 192.168.0.0/16. Docker only avoids routes of the main table
// that exist when it allocates; a VPN that comes up later, or a route in a
// policy-routing table, silently loses to the more specific bridge route.
//
// Everything here is pure logic over the netops model, except Client, which
// reads Docker's networks from the Engine API.
package dockernet
