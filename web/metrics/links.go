package metrics

import (
	"github.com/netpanel/netpanel/netops/model"
	"github.com/prometheus/client_golang/prometheus"
)

// The per-link families under node_exporter's names, labels and help, so
// a dashboard or an alert written for node_exporter reads netpanel's the
// same way (TestLinkMetricsMatchNodeExporter compares them with the real
// node_exporter in a namespace). Only quantities netpanel has exactly are
// given: the netdev counters and the netclass gauges netlink carries;
// sysfs-only ones (speed, duplex, carrier changes) are not.

// netdevCounter is one node_network_*_total counter: its value is the
// /proc/net/dev column node_exporter reads, which for some columns sums
// several of the kernel's counters (net/core/net-procfs.c).
type netdevCounter struct {
	name  string // receive_bytes, as node_exporter calls it
	value func(s *model.LinkStats) uint64
}

var netdevCounters = []netdevCounter{
	{"receive_bytes", func(s *model.LinkStats) uint64 { return s.RxBytes }},
	{"receive_packets", func(s *model.LinkStats) uint64 { return s.RxPackets }},
	{"receive_errs", func(s *model.LinkStats) uint64 { return s.RxErrors }},
	{"receive_drop", func(s *model.LinkStats) uint64 { return s.RxDropped + s.RxMissedErrors }},
	{"receive_fifo", func(s *model.LinkStats) uint64 { return s.RxFIFOErrors }},
	{"receive_frame", func(s *model.LinkStats) uint64 {
		return s.RxLengthErrors + s.RxOverErrors + s.RxCRCErrors + s.RxFrameErrors
	}},
	{"receive_compressed", func(s *model.LinkStats) uint64 { return s.RxCompressed }},
	{"receive_multicast", func(s *model.LinkStats) uint64 { return s.Multicast }},
	{"receive_nohandler", func(s *model.LinkStats) uint64 { return s.RxNoHandler }},
	{"transmit_bytes", func(s *model.LinkStats) uint64 { return s.TxBytes }},
	{"transmit_packets", func(s *model.LinkStats) uint64 { return s.TxPackets }},
	{"transmit_errs", func(s *model.LinkStats) uint64 { return s.TxErrors }},
	{"transmit_drop", func(s *model.LinkStats) uint64 { return s.TxDropped }},
	{"transmit_fifo", func(s *model.LinkStats) uint64 { return s.TxFIFOErrors }},
	{"transmit_colls", func(s *model.LinkStats) uint64 { return s.Collisions }},
	{"transmit_carrier", func(s *model.LinkStats) uint64 {
		return s.TxCarrierErrors + s.TxAbortedErrors + s.TxWindowErrors + s.TxHeartbeatErrors
	}},
	{"transmit_compressed", func(s *model.LinkStats) uint64 { return s.TxCompressed }},
}

// netclassGauge is one node_network_* gauge node_exporter reads from
// /sys/class/net, where netlink carries the same value.
type netclassGauge struct {
	name, help string
	value      func(l *model.Link) float64
}

var netclassGauges = []netclassGauge{
	{"up", "Value is 1 if operstate is 'up', 0 otherwise.", func(l *model.Link) float64 {
		if l.OperState == "UP" {
			return 1
		}
		return 0
	}},
	{"mtu_bytes", "Network device property: mtu_bytes", func(l *model.Link) float64 { return float64(l.MTU) }},
	{"transmit_queue_length", "Network device property: transmit_queue_length", func(l *model.Link) float64 { return float64(l.TxQLen) }},
	{"iface_id", "Network device property: iface_id", func(l *model.Link) float64 { return float64(l.Index) }},
	{"net_dev_group", "Network device property: net_dev_group", func(l *model.Link) float64 { return float64(l.Group) }},
	{"iface_link_mode", "Network device property: iface_link_mode", func(l *model.Link) float64 { return float64(l.LinkMode) }},
}

// linkDescs are the descriptions of the per-link families, in the order
// of netdevCounters then netclassGauges.
type linkDescs struct {
	counters []*prometheus.Desc
	gauges   []*prometheus.Desc
}

func newLinkDescs() linkDescs {
	var d linkDescs
	device := []string{"device"}
	for _, c := range netdevCounters {
		d.counters = append(d.counters, prometheus.NewDesc("node_network_"+c.name+"_total",
			"Network device statistic "+c.name+".", device, nil))
	}
	for _, g := range netclassGauges {
		d.gauges = append(d.gauges, prometheus.NewDesc("node_network_"+g.name, g.help, device, nil))
	}
	return d
}

func (d linkDescs) describe(ch chan<- *prometheus.Desc) {
	for _, x := range d.counters {
		ch <- x
	}
	for _, x := range d.gauges {
		ch <- x
	}
}

// collect sends every link's counters and gauges.
func (d linkDescs) collect(ch chan<- prometheus.Metric, links []model.Link) {
	for i := range links {
		l := &links[i]
		for j, c := range netdevCounters {
			ch <- prometheus.MustNewConstMetric(d.counters[j], prometheus.CounterValue, float64(c.value(&l.Stats)), l.Name)
		}
		for j, g := range netclassGauges {
			ch <- prometheus.MustNewConstMetric(d.gauges[j], prometheus.GaugeValue, g.value(l), l.Name)
		}
	}
}
