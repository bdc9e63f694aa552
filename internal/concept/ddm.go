package concept

import (
	"fmt"
	"math"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// DDMConfig holds the parameters of the Drift Detection Method.
// Zero values take river's defaults.
type DDMConfig struct {
	// WarmStart is the number of samples that must be seen before a warning
	// or drift can be signalled (river: warm_start=30; test is n > WarmStart).
	WarmStart int
	// WarningThreshold is the multiple of s_min for the warning zone (2.0).
	WarningThreshold float64
	// DriftThreshold is the multiple of s_min for a drift (3.0).
	DriftThreshold float64
}

// DDM is the Drift Detection Method of Gama et al. (SBIA 2004) for a stream
// of bits where 1 means an error. It mirrors river.drift.binary.DDM.
type DDM struct {
	cfg DDMConfig

	n              float64
	mean           float64
	pMin, sMin     float64
	psMin          float64
	warning, drift bool
}

// NewDDM returns a DDM. Zero fields in cfg take river's defaults.
func NewDDM(cfg DDMConfig) (*DDM, error) {
	if cfg.WarmStart == 0 {
		cfg.WarmStart = 30
	}
	if cfg.WarningThreshold == 0 {
		cfg.WarningThreshold = 2.0
	}
	if cfg.DriftThreshold == 0 {
		cfg.DriftThreshold = 3.0
	}
	if cfg.WarmStart < 0 {
		return nil, errdefs.InvalidArgument("ddm: warm_start must be >= 0, got %d", cfg.WarmStart)
	}
	if !(cfg.WarningThreshold > 0) || !(cfg.DriftThreshold > 0) || math.IsInf(cfg.WarningThreshold, 0) || math.IsInf(cfg.DriftThreshold, 0) {
		return nil, errdefs.InvalidArgument("ddm: thresholds must be positive and finite, got warning=%v drift=%v", cfg.WarningThreshold, cfg.DriftThreshold)
	}
	d := &DDM{cfg: cfg}
	d.reset()
	return d, nil
}

// Config returns the effective configuration.
func (d *DDM) Config() DDMConfig { return d.cfg }

func (d *DDM) reset() {
	d.n, d.mean = 0, 0
	d.pMin, d.sMin, d.psMin = math.Inf(1), math.Inf(1), math.Inf(1)
	d.warning, d.drift = false, false
}

// Update feeds one observation (true = error) and reports whether the
// detector is in the warning zone and whether a drift was detected. As in
// river, the state is reset at the start of the update that follows a drift.
func (d *DDM) Update(isError bool) (warning, drift bool) {
	if d.drift {
		d.reset()
	}
	x := 0.0
	if isError {
		x = 1
	}
	// river stats.Mean: n += 1; mean += (w / n) * (x - mean), w = 1.
	d.n++
	d.mean += (1 / d.n) * (x - d.mean)
	p := d.mean
	s := math.Sqrt(p * (1 - p) / d.n)

	if d.n > float64(d.cfg.WarmStart) {
		if p+s <= d.psMin {
			d.pMin, d.sMin = p, s
			d.psMin = d.pMin + d.sMin
		}
		d.warning = p+s > d.pMin+d.cfg.WarningThreshold*d.sMin
		if p+s > d.pMin+d.cfg.DriftThreshold*d.sMin {
			d.drift = true
			d.warning = false
		}
	}
	return d.warning, d.drift
}

// Warning reports whether the last update was in the warning zone.
func (d *DDM) Warning() bool { return d.warning }

// Drift reports whether the last update detected a drift.
func (d *DDM) Drift() bool { return d.drift }

// ErrorRate is the running error rate since the last reset.
func (d *DDM) ErrorRate() float64 { return d.mean }

// N is the number of observations since the last reset.
func (d *DDM) N() int { return int(d.n) }

// String describes the detector state.
func (d *DDM) String() string {
	return fmt.Sprintf("DDM(n=%d p=%.4f warning=%t drift=%t)", int(d.n), d.mean, d.warning, d.drift)
}
