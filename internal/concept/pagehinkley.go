package concept

import (
	"math"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// PHMode selects which direction of mean change Page-Hinkley monitors.
type PHMode string

// Page-Hinkley modes, as in river.
const (
	PHBoth PHMode = "both"
	PHUp   PHMode = "up"
	PHDown PHMode = "down"
)

// PageHinkleyConfig holds Page-Hinkley parameters. Zero values take river's
// defaults (min_instances=30, delta=0.005, threshold=50, alpha=1-0.0001,
// mode="both").
type PageHinkleyConfig struct {
	MinInstances int
	Delta        float64
	Threshold    float64
	Alpha        float64
	Mode         PHMode
}

// PageHinkley is the two-sided Page-Hinkley test of river.drift.PageHinkley
// for real-valued streams. It has no warning zone.
type PageHinkley struct {
	cfg PageHinkleyConfig

	n, mean                  float64
	sumIncrease, sumDecrease float64
	minIncrease, maxDecrease float64
	drift                    bool
}

// NewPageHinkley returns a Page-Hinkley detector.
func NewPageHinkley(cfg PageHinkleyConfig) (*PageHinkley, error) {
	if cfg.MinInstances == 0 {
		cfg.MinInstances = 30
	}
	if cfg.Delta == 0 {
		cfg.Delta = 0.005
	}
	if cfg.Threshold == 0 {
		cfg.Threshold = 50
	}
	if cfg.Alpha == 0 {
		cfg.Alpha = 1 - 0.0001
	}
	if cfg.Mode == "" {
		cfg.Mode = PHBoth
	}
	switch cfg.Mode {
	case PHBoth, PHUp, PHDown:
	default:
		return nil, errdefs.InvalidArgument("page-hinkley: invalid mode %q (valid: up, down, both)", cfg.Mode)
	}
	if cfg.MinInstances < 0 || !finite(cfg.Delta) || cfg.Delta < 0 || !finite(cfg.Threshold) || cfg.Threshold <= 0 || !finite(cfg.Alpha) || cfg.Alpha <= 0 || cfg.Alpha > 1 {
		return nil, errdefs.InvalidArgument("page-hinkley: invalid parameters %+v", cfg)
	}
	p := &PageHinkley{cfg: cfg}
	p.reset()
	return p, nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// Config returns the effective configuration.
func (p *PageHinkley) Config() PageHinkleyConfig { return p.cfg }

func (p *PageHinkley) reset() {
	p.n, p.mean = 0, 0
	p.sumIncrease, p.sumDecrease = 0, 0
	p.minIncrease = math.Inf(1)
	p.maxDecrease = -1 // river initialises _max_decrease to -1, not -inf.
	p.drift = false
}

// Update feeds one value and reports whether a drift was detected. The state
// is reset at the start of the update after a drift, as in river. Non-finite
// values are ignored and return false.
func (p *PageHinkley) Update(x float64) bool {
	if !finite(x) {
		return false
	}
	if p.drift {
		p.reset()
	}
	p.n++
	p.mean += (1 / p.n) * (x - p.mean)
	dev := x - p.mean

	p.sumIncrease = p.cfg.Alpha*p.sumIncrease + dev - p.cfg.Delta
	p.sumDecrease = p.cfg.Alpha*p.sumDecrease + dev + p.cfg.Delta
	if p.sumIncrease < p.minIncrease {
		p.minIncrease = p.sumIncrease
	}
	if p.sumDecrease > p.maxDecrease {
		p.maxDecrease = p.sumDecrease
	}
	if p.n >= float64(p.cfg.MinInstances) {
		up := p.sumIncrease - p.minIncrease
		down := p.maxDecrease - p.sumDecrease
		switch p.cfg.Mode {
		case PHUp:
			p.drift = up > p.cfg.Threshold
		case PHDown:
			p.drift = down > p.cfg.Threshold
		default:
			p.drift = up > p.cfg.Threshold || down > p.cfg.Threshold
		}
	}
	return p.drift
}

// Drift reports whether the last update detected a drift.
func (p *PageHinkley) Drift() bool { return p.drift }

// Mean is the running mean since the last reset.
func (p *PageHinkley) Mean() float64 { return p.mean }
