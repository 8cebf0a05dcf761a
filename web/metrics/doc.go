// Package metrics exposes netpanel to Prometheus: per-link counters under
// node_exporter's names (so dashboards built for node_exporter carry
// over) and netpanel's own numbers: the model, its resyncs and events,
// live clients, changes waiting for confirmation and rollbacks, objects
// that would not survive a reboot, Docker conflicts, the last save.
//
// Everything is read when Prometheus scrapes, from numbers netpanel keeps
// anyway (a custom Collector): a scrape never walks the routing table.
// What does take a walk of every route, or files and Docker's socket, is
// counted off the scrape's path by app.Tally, the overview's counter, and
// read from it: the scrape and the overview show the same count.
package metrics
