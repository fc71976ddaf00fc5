package federation

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics exports the peers' states in the Prometheus format.
type metrics struct {
	s *Syncer
}

var (
	descLink = prometheus.NewDesc("shieldwall_federation_peer_link",
		"1 for the peer's current link state (connected, degraded, cut, unknown).", []string{"peer", "state"}, nil)
	descLagObjects = prometheus.NewDesc("shieldwall_federation_peer_lag_objects",
		"Local object versions waiting to be pushed to the peer (counted up to the scan-ahead).", []string{"peer"}, nil)
	descLagSeconds = prometheus.NewDesc("shieldwall_federation_peer_lag_seconds",
		"How long the oldest version waiting for the peer has waited.", []string{"peer"}, nil)
	descBytes = prometheus.NewDesc("shieldwall_federation_peer_bytes_total",
		"Bytes on the wire with the peer (compressed).", []string{"peer", "direction"}, nil)
	descObjects = prometheus.NewDesc("shieldwall_federation_peer_objects_total",
		"Object versions by outcome: received from, sent to, denied to (policy), refused from the peer; not sent back to the peer they came from (no_echo); not relayed over a pruned relay tree (skipped).", []string{"peer", "outcome"}, nil)
	descFailures = prometheus.NewDesc("shieldwall_federation_peer_consecutive_failures",
		"Syncs with the peer that failed in a row.", []string{"peer"}, nil)
)

// Collector returns a prometheus.Collector of every peer's state, for the
// node's /metrics.
func (s *Syncer) Collector() prometheus.Collector { return metrics{s} }

func (m metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descLink, descLagObjects, descLagSeconds, descBytes, descObjects, descFailures} {
		ch <- d
	}
}

func (m metrics) Collect(ch chan<- prometheus.Metric) {
	for _, st := range m.s.States() {
		for _, l := range []string{LinkConnected, LinkDegraded, LinkCut, LinkUnknown} {
			v := 0.0
			if st.Link == l {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(descLink, prometheus.GaugeValue, v, st.Peer, l)
		}
		ch <- prometheus.MustNewConstMetric(descLagObjects, prometheus.GaugeValue, float64(st.LagObjects), st.Peer)
		ch <- prometheus.MustNewConstMetric(descLagSeconds, prometheus.GaugeValue, st.LagSeconds, st.Peer)
		ch <- prometheus.MustNewConstMetric(descBytes, prometheus.CounterValue, float64(st.BytesIn), st.Peer, "in")
		ch <- prometheus.MustNewConstMetric(descBytes, prometheus.CounterValue, float64(st.BytesOut), st.Peer, "out")
		for _, o := range []struct {
			name string
			v    int64
		}{{"received", st.Received}, {"sent", st.Sent}, {"denied", st.Denied}, {"refused", st.Refused},
			{"no_echo", st.NoEcho}, {"skipped", st.Skipped}} {
			ch <- prometheus.MustNewConstMetric(descObjects, prometheus.CounterValue, float64(o.v), st.Peer, o.name)
		}
		ch <- prometheus.MustNewConstMetric(descFailures, prometheus.GaugeValue, float64(st.ConsecutiveFailures), st.Peer)
	}
}
