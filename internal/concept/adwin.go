package concept

import (
	"math"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// ADWINConfig holds ADWIN parameters. Zero values take river's defaults
// (delta=0.002, clock=32, max_buckets=5, min_window_length=5,
// grace_period=10).
type ADWINConfig struct {
	Delta           float64
	Clock           int
	MaxBuckets      int
	MinWindowLength int
	GracePeriod     int
}

// ADWIN is the adaptive-windowing change detector of Bifet & Gavaldà (SDM
// 2007, ADWIN2 with exponential-histogram buckets), following river's
// AdaptiveWindowing (adwin_c.pyx) arithmetic. Every Clock updates it tries
// the cut points between buckets and drops the oldest bucket while
// |μ₀−μ₁| > ε_cut. As in river.drift.ADWIN, the whole window is reset at the
// start of the update that follows a detection.
type ADWIN struct {
	cfg ADWINConfig
	w   adaptiveWindow
	// drift reports whether the last Update detected a change.
	drift bool
}

// histRow is one row of the exponential histogram: up to MaxBuckets+1
// buckets of size 2^row, oldest first.
type histRow struct {
	total    []float64
	variance []float64
}

type adaptiveWindow struct {
	rows                   []histRow // rows[0] holds single elements; the last row holds the oldest data.
	total, variance, width float64
	tick                   int
	detections             int
}

// NewADWIN returns an ADWIN detector.
func NewADWIN(cfg ADWINConfig) (*ADWIN, error) {
	if cfg.Delta == 0 {
		cfg.Delta = 0.002
	}
	if cfg.Clock == 0 {
		cfg.Clock = 32
	}
	if cfg.MaxBuckets == 0 {
		cfg.MaxBuckets = 5
	}
	if cfg.MinWindowLength == 0 {
		cfg.MinWindowLength = 5
	}
	if cfg.GracePeriod == 0 {
		cfg.GracePeriod = 10
	}
	if !(cfg.Delta > 0 && cfg.Delta < 1) {
		return nil, errdefs.InvalidArgument("adwin: delta must be in (0,1), got %v", cfg.Delta)
	}
	if cfg.Clock < 1 || cfg.MaxBuckets < 2 || cfg.MinWindowLength < 1 || cfg.GracePeriod < 0 {
		return nil, errdefs.InvalidArgument("adwin: invalid parameters clock=%d max_buckets=%d min_window_length=%d grace_period=%d (need clock>=1, max_buckets>=2, min_window_length>=1, grace_period>=0)",
			cfg.Clock, cfg.MaxBuckets, cfg.MinWindowLength, cfg.GracePeriod)
	}
	a := &ADWIN{cfg: cfg}
	a.reset()
	return a, nil
}

// Config returns the effective configuration.
func (a *ADWIN) Config() ADWINConfig { return a.cfg }

func (a *ADWIN) reset() {
	a.w = adaptiveWindow{rows: []histRow{{}}}
}

// Update adds x to the window and reports whether a change was detected.
// Non-finite values are ignored (they would poison the window's sums) and
// return false.
func (a *ADWIN) Update(x float64) bool {
	if !finite(x) {
		return false
	}
	if a.drift {
		a.reset()
	}
	a.insert(x)
	a.drift = a.detect()
	if a.drift {
		a.w.detections++
	}
	return a.drift
}

// Drift reports whether the last update detected a change.
func (a *ADWIN) Drift() bool { return a.drift }

// Width is the number of elements currently in the window.
func (a *ADWIN) Width() int { return int(a.w.width) }

// Estimation is the mean of the window (0 when empty).
func (a *ADWIN) Estimation() float64 {
	if a.w.width == 0 {
		return 0
	}
	return a.w.total / a.w.width
}

// Variance is the sum of squared deviations within the window (river's
// "variance" property, not divided by the width).
func (a *ADWIN) Variance() float64 { return a.w.variance }

// Total is the sum of the window's elements.
func (a *ADWIN) Total() float64 { return a.w.total }

func bucketSize(row int) float64 { return math.Pow(2, float64(row)) }

func (a *ADWIN) insert(value float64) {
	w := &a.w
	w.rows[0].total = append(w.rows[0].total, value)
	w.rows[0].variance = append(w.rows[0].variance, 0)
	w.width++
	inc := 0.0
	if w.width > 1 {
		d := value - w.total/(w.width-1)
		inc = (w.width - 1) * d * d / w.width
	}
	w.variance += inc
	w.total += value
	a.compress()
}

// compress merges the two oldest buckets of a row into the next row whenever
// a row holds MaxBuckets+1 buckets, cascading upwards.
func (a *ADWIN) compress() {
	w := &a.w
	for idx := 0; idx < len(w.rows); idx++ {
		row := &w.rows[idx]
		if len(row.total) != a.cfg.MaxBuckets+1 {
			return
		}
		if idx+1 == len(w.rows) {
			w.rows = append(w.rows, histRow{})
			row = &w.rows[idx]
		}
		n := bucketSize(idx)
		mu1, mu2 := row.total[0]/n, row.total[1]/n
		t12 := row.total[0] + row.total[1]
		v12 := row.variance[0] + row.variance[1] + n*n*(mu1-mu2)*(mu1-mu2)/(n+n)
		next := &w.rows[idx+1]
		next.total = append(next.total, t12)
		next.variance = append(next.variance, v12)
		row.total = append(row.total[:0], row.total[2:]...)
		row.variance = append(row.variance[:0], row.variance[2:]...)
		if len(next.total) <= a.cfg.MaxBuckets {
			return
		}
	}
}

// deleteOldest drops the oldest bucket (from the last row) and returns its size.
func (a *ADWIN) deleteOldest() float64 {
	w := &a.w
	last := len(w.rows) - 1
	row := &w.rows[last]
	n := bucketSize(last)
	u := row.total[0]
	mu := u / n
	v := row.variance[0]
	w.width -= n
	w.total -= u
	if w.width > 0 {
		muW := w.total / w.width
		w.variance -= v + n*w.width*(mu-muW)*(mu-muW)/(n+w.width)
	} else {
		w.total, w.variance = 0, 0
	}
	row.total = append(row.total[:0], row.total[1:]...)
	row.variance = append(row.variance[:0], row.variance[1:]...)
	if len(row.total) == 0 && last > 0 {
		w.rows = w.rows[:last]
	}
	return n
}

// detect runs river's cut search. Note river's quirk, kept for fidelity: in
// each row the newest bucket is not used as a cut point (k < len-1).
func (a *ADWIN) detect() bool {
	w := &a.w
	change := false
	w.tick++
	if w.tick%a.cfg.Clock != 0 || !(w.width > float64(a.cfg.GracePeriod)) {
		return false
	}
	mwl := float64(a.cfg.MinWindowLength)
	for reduce := true; reduce; {
		reduce = false
		n0, n1, u0, u1 := 0.0, w.width, 0.0, w.total
	rows:
		for idx := len(w.rows) - 1; idx >= 0; idx-- {
			row := &w.rows[idx]
			size := bucketSize(idx)
			for k := 0; k < len(row.total)-1; k++ {
				n0 += size
				n1 -= size
				u0 += row.total[k]
				u1 -= row.total[k]
				dm := u0/n0 - u1/n1
				if n1 >= mwl && n0 >= mwl && a.cut(n0, n1, dm) {
					reduce, change = true, true
					if w.width > 0 {
						a.deleteOldest()
						break rows
					}
				}
			}
		}
		if w.width <= 0 {
			break
		}
	}
	return change
}

// cut evaluates river's bound: δ′ = ln(2·ln(W)/δ),
// m⁻¹ = 1/(n₀−mwl+1) + 1/(n₁−mwl+1),
// ε = √(2·m⁻¹·(σ²_W/W)·δ′) + (2/3)·δ′·m⁻¹, cut when |μ₀−μ₁| > ε.
func (a *ADWIN) cut(n0, n1, deltaMean float64) bool {
	w := &a.w
	mwl := float64(a.cfg.MinWindowLength)
	deltaPrime := math.Log(2 * math.Log(w.width) / a.cfg.Delta)
	mRecip := 1/(n0-mwl+1) + 1/(n1-mwl+1)
	eps := math.Sqrt(2*mRecip*(w.variance/w.width)*deltaPrime) + 2.0/3.0*deltaPrime*mRecip
	return math.Abs(deltaMean) > eps
}
