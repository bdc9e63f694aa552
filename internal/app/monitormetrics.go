package app

import (
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ferry-ml/ferry/internal/monitor"
)

// lastTick exports the points the last monitor tick recorded as
// Prometheus gauges — ferry_monitor_<series>{labels} — so that a team
// that runs Prometheus and Alertmanager can scrape drift and performance
// beside the serving metrics, and the alert engine's pending and firing
// alerts as ferry_alerts{rule,state}.
type lastTick struct {
	alerts *alerting

	mu     sync.Mutex
	points []monitor.Point
}

// set keeps the points of a tick.
func (l *lastTick) set(points []monitor.Point) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.points = slices.Clone(points)
}

// Describe implements prometheus.Collector; it describes nothing, so
// the registry takes whatever Collect sends (the series vary).
func (l *lastTick) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector.
func (l *lastTick) Collect(ch chan<- prometheus.Metric) {
	l.mu.Lock()
	points := l.points
	l.mu.Unlock()
	descs := map[string]*prometheus.Desc{}
	names := map[string]string{} // metric → its label names, joined
	for _, p := range points {
		name := "ferry_monitor_" + p.Series
		keys := slices.Sorted(maps.Keys(p.Labels))
		joined := strings.Join(keys, ",")
		if prev, ok := names[name]; ok && prev != joined {
			continue // a family keeps one set of label names
		}
		d, ok := descs[name]
		if !ok {
			d = prometheus.NewDesc(name, "Ferry's monitored series "+p.Series+" at the last monitor tick (docs/monitoring.md).", keys, nil)
			descs[name], names[name] = d, joined
		}
		values := make([]string, len(keys))
		for i, k := range keys {
			values[i] = p.Labels[k]
		}
		if m, err := prometheus.NewConstMetric(d, prometheus.GaugeValue, p.Value, values...); err == nil {
			ch <- m
		}
	}
	e := l.alerts.engine()
	if e == nil {
		return
	}
	counts := map[[2]string]int{}
	for _, a := range e.Alerts() {
		counts[[2]string{a.Rule, string(a.State)}]++
	}
	d := prometheus.NewDesc("ferry_alerts", "Pending and firing alerts by rule and state.", []string{"rule", "state"}, nil)
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(n), k[0], k[1])
	}
}
