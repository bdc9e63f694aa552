package serving

import (
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// latencyBuckets are the upper bounds, in microseconds, of the window
// histogram: 10 per decade from 10 µs to 100 s, so a quantile read from
// it is within about 26% of the true value.
var latencyBuckets = func() []float64 {
	var b []float64
	for v := 10.0; v <= 1e8; v *= math.Pow(10, 0.1) {
		b = append(b, v)
	}
	return b
}()

// reservoirSize bounds the predictions a window keeps for the shift
// analysis.
const reservoirSize = 2048

// Window counts what one variant did since the window began: requests
// that reached the model, how many failed there, their latencies and a
// uniform sample of the predictions. It is updated on the request path
// with atomics (and a short lock for the sample) and read by the
// rollout analysis.
type Window struct {
	Started  time.Time
	requests atomic.Int64
	errors   atomic.Int64
	buckets  []atomic.Int64 // len(latencyBuckets)+1; the last is overflow
	sumMicro atomic.Int64

	mu     sync.Mutex
	seen   int64
	sample []float64
	sum    float64 // of the first output of every row seen
}

// NewWindow starts an empty window at now.
func NewWindow(now time.Time) *Window { return newWindow(now) }

func newWindow(now time.Time) *Window {
	return &Window{Started: now, buckets: make([]atomic.Int64, len(latencyBuckets)+1)}
}

// Observe records one request that reached the model: its latency,
// whether the model failed, and its outputs (k per row; nil when it
// failed), of which the window keeps the first of each row.
func (w *Window) Observe(latency time.Duration, failed bool, out []float64, k int) {
	w.requests.Add(1)
	if failed {
		w.errors.Add(1)
	}
	us := float64(latency.Nanoseconds()) / 1e3
	w.sumMicro.Add(int64(us))
	i := searchBucket(us)
	w.buckets[i].Add(1)
	if len(out) == 0 || k <= 0 {
		return
	}
	w.mu.Lock()
	for i := 0; i+k <= len(out); i += k {
		v := out[i]
		w.sum += v
		w.seen++
		if len(w.sample) < reservoirSize {
			w.sample = append(w.sample, v)
		} else if j := rand.Int64N(w.seen); j < reservoirSize {
			w.sample[j] = v
		}
	}
	w.mu.Unlock()
}

func searchBucket(us float64) int {
	lo, hi := 0, len(latencyBuckets)
	for lo < hi {
		m := (lo + hi) / 2
		if latencyBuckets[m] < us {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// WindowStats is a window read at one moment.
type WindowStats struct {
	Requests  int64   `json:"requests"`
	Errors    int64   `json:"errors"`
	ErrorRate float64 `json:"error_rate"`
	P50Ms     float64 `json:"p50_ms"`
	P99Ms     float64 `json:"p99_ms"`
	MeanMs    float64 `json:"mean_ms"`
	// MeanPrediction is the mean of the first output over the rows
	// predicted; Predictions counts those rows.
	MeanPrediction float64 `json:"mean_prediction"`
	Predictions    int64   `json:"predictions"`
	SinceMs        int64   `json:"since"`
	sample         []float64
}

// Stats reads the window.
func (w *Window) Stats() WindowStats {
	s := WindowStats{Requests: w.requests.Load(), Errors: w.errors.Load(), SinceMs: w.Started.UnixMilli()}
	counts := make([]int64, len(w.buckets))
	var total int64
	for i := range w.buckets {
		counts[i] = w.buckets[i].Load()
		total += counts[i]
	}
	if s.Requests > 0 {
		s.ErrorRate = float64(s.Errors) / float64(s.Requests)
		s.MeanMs = float64(w.sumMicro.Load()) / float64(s.Requests) / 1e3
	}
	s.P50Ms = quantileMs(counts, total, 0.50)
	s.P99Ms = quantileMs(counts, total, 0.99)
	w.mu.Lock()
	s.Predictions = w.seen
	if w.seen > 0 {
		s.MeanPrediction = w.sum / float64(w.seen)
	}
	s.sample = append([]float64(nil), w.sample...)
	w.mu.Unlock()
	return s
}

// quantileMs reads quantile q off the histogram: the upper bound of the
// bucket holding it (conservative for latency limits), in milliseconds; beyond the last
// bucket, its bound.
func quantileMs(counts []int64, total int64, q float64) float64 {
	if total == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(total)))
	var acc int64
	for i, c := range counts {
		acc += c
		if acc >= rank {
			return latencyBuckets[min(i, len(latencyBuckets)-1)] / 1e3
		}
	}
	return latencyBuckets[len(latencyBuckets)-1] / 1e3
}
