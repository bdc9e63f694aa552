package inference

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ferry-ml/ferry/internal/serving"
)

// Metrics are the Prometheus series of the inference surface:
//
//	ferry_inference_requests_total{endpoint,model,version,code}
//	ferry_inference_request_duration_seconds{endpoint,model,version} (histogram)
//	ferry_inference_in_flight_requests{endpoint}
//	ferry_rollout_weight{endpoint,strategy,model,version}  the candidate's share, 0..100
//	ferry_rollout_state{endpoint,strategy,state}           1 for the rollout's state
//
// A request refused before it reached a model (unknown endpoint, bad
// body) counts with model and version "".
type Metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	inflight *prometheus.GaugeVec
	// series caches the per-variant children: label lookups hash their
	// values, which the hot path need not pay for each request.
	series sync.Map // seriesKey → *series
}

type seriesKey struct {
	endpoint, model string
	version         int64
}

type series struct {
	ok       prometheus.Counter
	latency  prometheus.Observer
	inflight prometheus.Gauge
}

// latencyBuckets suit in-process models (tens of microseconds) as well
// as external runtimes (up to seconds).
var latencyBuckets = []float64{25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 500e-3, 1, 2.5, 5, 10}

// NewMetrics registers the inference series, and a collector of the
// rollout state of svc's endpoints, with reg.
func NewMetrics(reg prometheus.Registerer, svc *serving.Service) (*Metrics, error) {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ferry_inference_requests_total",
			Help: "Prediction requests by endpoint, model version and HTTP status code."}, []string{"endpoint", "model", "version", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "ferry_inference_request_duration_seconds",
			Help: "Time from a prediction request's arrival to its answer.", Buckets: latencyBuckets}, []string{"endpoint", "model", "version"}),
		inflight: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ferry_inference_in_flight_requests",
			Help: "Prediction requests being answered."}, []string{"endpoint"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.latency, m.inflight, rolloutCollector{svc}} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Metrics) variant(endpoint string, v *serving.Variant) *series {
	k := seriesKey{endpoint: endpoint}
	if v != nil {
		k.model, k.version = v.Model, v.Version
	}
	if s, ok := m.series.Load(k); ok {
		return s.(*series)
	}
	version := ""
	if v != nil {
		version = strconv.FormatInt(v.Version, 10)
	}
	s := &series{ok: m.requests.WithLabelValues(endpoint, k.model, version, "200"),
		latency: m.latency.WithLabelValues(endpoint, k.model, version), inflight: m.inflight.WithLabelValues(endpoint)}
	actual, _ := m.series.LoadOrStore(k, s)
	return actual.(*series)
}

func (m *Metrics) begin(endpoint string) {
	m.variant(endpoint, nil).inflight.Inc()
}

func (m *Metrics) end(endpoint string, v *serving.Variant, code int, took time.Duration) {
	s := m.variant(endpoint, v)
	if code == 200 {
		s.ok.Inc()
	} else {
		k := seriesKey{endpoint: endpoint}
		version := ""
		if v != nil {
			k.model, version = v.Model, strconv.FormatInt(v.Version, 10)
		}
		m.requests.WithLabelValues(endpoint, k.model, version, strconv.Itoa(code)).Inc()
	}
	if v != nil {
		s.latency.Observe(took.Seconds())
	}
	m.variant(endpoint, nil).inflight.Dec()
}

// rolloutCollector reports the rollouts of the endpoints when scraped.
type rolloutCollector struct{ svc *serving.Service }

var (
	rolloutWeightDesc = prometheus.NewDesc("ferry_rollout_weight",
		"The share of an endpoint's requests, in percent, its rollout's candidate gets (canary, ab) or sees mirrored (shadow).",
		[]string{"endpoint", "strategy", "model", "version"}, nil)
	rolloutStateDesc = prometheus.NewDesc("ferry_rollout_state",
		"1 for the state of an endpoint's latest rollout (progressing, running, promoted, rolled_back).",
		[]string{"endpoint", "strategy", "state"}, nil)
)

func (rolloutCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- rolloutWeightDesc
	ch <- rolloutStateDesc
}

func (c rolloutCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ds, err := c.svc.Deployments(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(rolloutStateDesc, err)
		return
	}
	for _, d := range ds {
		r := d.Rollout
		if r == nil {
			continue
		}
		weight := 0.0
		if r.Active() {
			weight = float64(r.Weight)
		}
		ch <- prometheus.MustNewConstMetric(rolloutWeightDesc, prometheus.GaugeValue, weight, d.Endpoint, r.Strategy, r.Model, strconv.FormatInt(r.Version, 10))
		ch <- prometheus.MustNewConstMetric(rolloutStateDesc, prometheus.GaugeValue, 1, d.Endpoint, r.Strategy, r.State)
	}
}
