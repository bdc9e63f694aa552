package serving

import (
	"context"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferry-ml/ferry/internal/modelrt"
)

// shadowQueue bounds the mirrored requests waiting for the candidate;
// beyond it they are dropped (and counted), never waited for.
const shadowQueue = 1024

// shadowTimeout bounds one mirrored prediction.
const shadowTimeout = 10 * time.Second

// shadow mirrors a share of an endpoint's requests to the candidate on
// its own goroutines, after the stable version has answered, and
// compares the answers.
type shadow struct {
	candidate *Variant
	threshold uint64
	jobs      chan mirrorJob
	stop      context.CancelFunc

	mirrored, dropped, compared, agreed, failed, rows, incomparable atomic.Int64

	mu            sync.Mutex
	sumAbsDiff    float64
	sumStableMs   float64
	sumCandidateM float64
	timed         int64
}

type mirrorJob struct {
	x      []float64
	rows   int
	stable []float64
	took   time.Duration
}

// startShadow starts the mirror of candidate at weight percent.
func startShadow(candidate *Variant, weight int) *shadow {
	ctx, cancel := context.WithCancel(context.Background())
	s := &shadow{candidate: candidate, threshold: uint64(weight) * 100, jobs: make(chan mirrorJob, shadowQueue), stop: cancel}
	for range max(1, runtime.GOMAXPROCS(0)/2) {
		go s.work(ctx)
	}
	return s
}

// mirror hands a request the stable version answered (x, its rows, the
// stable's outputs and latency) to the candidate, when the request falls
// in the mirrored share and the queue has room. The slices must not be
// changed afterwards.
func (s *shadow) mirror(x []float64, rows int, stable []float64, took time.Duration) {
	if rand.Uint64()%10000 >= s.threshold {
		return
	}
	select {
	case s.jobs <- mirrorJob{x: x, rows: rows, stable: stable, took: took}:
		s.mirrored.Add(1)
	default:
		s.dropped.Add(1)
	}
}

func (s *shadow) work(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-s.jobs:
			s.run(ctx, j)
		}
	}
}

func (s *shadow) run(ctx context.Context, j mirrorJob) {
	sig := s.candidate.Sig
	out := make([]float64, j.rows*sig.Outputs)
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, shadowTimeout)
	err := predict(ctx, s.candidate.Runtime, j.x, j.rows, out, false)
	cancel()
	took := time.Since(start)
	if err != nil {
		s.failed.Add(1)
		s.candidate.Window.Observe(took, true, nil, 0)
		return
	}
	s.candidate.Window.Observe(took, false, out, sig.Outputs)
	s.compared.Add(1)
	if len(j.stable) != len(out) {
		s.incomparable.Add(1)
		return
	}
	agreed, diff := compareRows(sig, j.stable, out, j.rows)
	s.rows.Add(int64(j.rows))
	s.agreed.Add(int64(agreed))
	s.mu.Lock()
	s.sumAbsDiff += diff
	s.sumStableMs += float64(j.took.Nanoseconds()) / 1e6
	s.sumCandidateM += float64(took.Nanoseconds()) / 1e6
	s.timed++
	s.mu.Unlock()
}

// compareRows counts the rows on which two answers agree — the same
// class for classifiers (0.5 threshold for binary, arg max for
// multiclass), within 1% (absolute below 1) for other tasks — and sums
// the absolute differences of all outputs.
func compareRows(sig modelrt.Signature, a, b []float64, rows int) (agreed int, absDiff float64) {
	k := sig.Outputs
	for i := range rows {
		ra, rb := a[i*k:(i+1)*k], b[i*k:(i+1)*k]
		for j := range ra {
			absDiff += math.Abs(ra[j] - rb[j])
		}
		var same bool
		switch {
		case sig.Task == modelrt.Binary && k == 1:
			same = (ra[0] >= 0.5) == (rb[0] >= 0.5)
		case sig.Task == modelrt.Multiclass:
			same = argmax(ra) == argmax(rb)
		default:
			same = true
			for j := range ra {
				if math.Abs(ra[j]-rb[j]) > 0.01*math.Max(1, math.Abs(ra[j])) {
					same = false
				}
			}
		}
		if same {
			agreed++
		}
	}
	return agreed, absDiff
}

func argmax(v []float64) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// ShadowReport compares a shadow candidate with the stable version.
type ShadowReport struct {
	Mirrored int64 `json:"mirrored"`
	// Dropped requests found the mirror queue full.
	Dropped int64 `json:"dropped"`
	// Compared requests got an answer from the candidate; Failed did not.
	Compared     int64 `json:"compared"`
	Failed       int64 `json:"failed"`
	Incomparable int64 `json:"incomparable,omitempty"`
	Rows         int64 `json:"rows"`
	// AgreementRate is the share of compared rows on which the answers
	// agree.
	AgreementRate float64 `json:"agreement_rate"`
	// MeanAbsDiff is the mean absolute difference of the outputs.
	MeanAbsDiff float64 `json:"mean_abs_diff"`
	// LatencyDeltaMs is the candidate's mean latency minus the stable's.
	LatencyDeltaMs float64 `json:"latency_delta_ms"`
}

func (s *shadow) report(outputs int) ShadowReport {
	r := ShadowReport{Mirrored: s.mirrored.Load(), Dropped: s.dropped.Load(), Compared: s.compared.Load(),
		Failed: s.failed.Load(), Incomparable: s.incomparable.Load(), Rows: s.rows.Load()}
	if r.Rows > 0 {
		r.AgreementRate = float64(s.agreed.Load()) / float64(r.Rows)
	}
	s.mu.Lock()
	if r.Rows > 0 && outputs > 0 {
		r.MeanAbsDiff = s.sumAbsDiff / float64(r.Rows*int64(outputs))
	}
	if s.timed > 0 {
		r.LatencyDeltaMs = (s.sumCandidateM - s.sumStableMs) / float64(s.timed)
	}
	s.mu.Unlock()
	return r
}

// ContextModel is a runtime whose predictions take a context (an
// external runtime): it is cancelled with the request.
type ContextModel interface {
	PredictContext(ctx context.Context, x []float64, rows int, out []float64, raw bool) error
}

// predict runs a prediction, with ctx when the runtime takes one.
func predict(ctx context.Context, m modelrt.Model, x []float64, rows int, out []float64, raw bool) error {
	if cm, ok := m.(ContextModel); ok {
		return cm.PredictContext(ctx, x, rows, out, raw)
	}
	return m.Predict(x, rows, out, raw)
}

// Predict runs a prediction of v for a request.
func (v *Variant) Predict(ctx context.Context, x []float64, rows int, out []float64, raw bool) error {
	return predict(ctx, v.Runtime, x, rows, out, raw)
}
