package monitor

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferry-ml/ferry/internal/serving"
)

// System series, labelled by endpoint.
const (
	SeriesRPS        = "requests_per_second"
	SeriesErrorRate  = "error_rate"
	SeriesLatencyP50 = "latency_p50_ms"
	SeriesLatencyP99 = "latency_p99_ms"
)

// Traffic counts the prediction requests of each endpoint between
// samples (the inference surface reports each request to Observe).
type Traffic struct {
	endpoints sync.Map // name → *atomic.Pointer[serving.Window]
	now       func() time.Time
}

// NewTraffic returns an empty counter; now is its clock (nil: time.Now).
func NewTraffic(now func() time.Time) *Traffic {
	if now == nil {
		now = time.Now
	}
	return &Traffic{now: now}
}

// Observe counts one request; failed is a server-side failure (5xx).
func (t *Traffic) Observe(endpoint string, took time.Duration, failed bool) {
	v, ok := t.endpoints.Load(endpoint)
	if !ok {
		p := &atomic.Pointer[serving.Window]{}
		p.Store(serving.NewWindow(t.now()))
		v, _ = t.endpoints.LoadOrStore(endpoint, p)
	}
	v.(*atomic.Pointer[serving.Window]).Load().Observe(took, failed, nil, 0)
}

// Sample closes every endpoint's current window and returns its points:
// requests per second over the window, the error rate and the latency
// quantiles (endpoints without requests report 0 requests per second
// only: no rate or latency can be read from nothing).
func (t *Traffic) Sample() []Point {
	now := t.now()
	var points []Point
	t.endpoints.Range(func(k, v any) bool {
		endpoint := k.(string)
		w := v.(*atomic.Pointer[serving.Window]).Swap(serving.NewWindow(now))
		st := w.Stats()
		secs := now.Sub(w.Started).Seconds()
		labels := map[string]string{"endpoint": endpoint}
		ms := now.UnixMilli()
		rps := 0.0
		if secs > 0 {
			rps = float64(st.Requests) / secs
		}
		points = append(points, Point{Series: SeriesRPS, Labels: labels, Time: ms, Value: rps})
		if st.Requests > 0 {
			points = append(points,
				Point{Series: SeriesErrorRate, Labels: labels, Time: ms, Value: st.ErrorRate},
				Point{Series: SeriesLatencyP50, Labels: labels, Time: ms, Value: st.P50Ms},
				Point{Series: SeriesLatencyP99, Labels: labels, Time: ms, Value: st.P99Ms})
		}
		return true
	})
	return points
}
