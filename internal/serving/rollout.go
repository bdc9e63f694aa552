package serving

import (
	"fmt"
	"strings"
	"time"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// Strategies: how a deployment reaches an endpoint's traffic.
const (
	// StrategyDirect replaces what the endpoint serves at once.
	StrategyDirect = "direct"
	// StrategyBlueGreen loads and health-checks the new version, switches
	// all traffic to it at once and keeps the previous version loaded for
	// an instant rollback until it is promoted.
	StrategyBlueGreen = "blue-green"
	// StrategyCanary moves traffic to the candidate in weight steps, each
	// analysed against the stable version, and rolls back on failure.
	StrategyCanary = "canary"
	// StrategyShadow mirrors requests to the candidate off the request
	// path and compares its answers; clients only see the stable's.
	StrategyShadow = "shadow"
	// StrategyAB splits traffic by weight, sticky per key, and compares
	// the variants' metrics and, with ground truth, their outcomes.
	StrategyAB = "ab"
)

// Rollout states.
const (
	RolloutProgressing = "progressing" // a canary stepping through its weights
	RolloutRunning     = "running"     // a shadow or A/B experiment collecting
	RolloutPromoted    = "promoted"    // the candidate became the stable version
	RolloutRolledBack  = "rolled_back" // the candidate was dropped; Reason says why
)

// DefaultSteps returns a canary's default traffic weights, in percent.
func DefaultSteps() []int { return []int{5, 10, 25, 50, 100} }

// Defaults of a rollout's analysis and timing.
const (
	DefaultInterval        = time.Minute
	DefaultMaxErrorRate    = 0.01
	DefaultMaxLatencyRatio = 2.0
	DefaultMinRequests     = 10
	latencySlackMs         = 1.0
)

// Ref names a model version.
type Ref struct {
	Model   string `json:"model"`
	Version int64  `json:"version"`
}

// Analysis is what a canary step must show to pass. The candidate fails
// when, over the step, its error rate exceeds MaxErrorRate, its p99
// latency exceeds MaxLatencyRatio × the stable's p99 + 1 ms (or MaxP99Ms
// when set), or — when MaxShift is set — the population stability index
// of its predictions against the stable's exceeds MaxShift. A step is
// judged once the candidate has answered MinRequests requests.
type Analysis struct {
	MaxErrorRate    float64 `json:"max_error_rate"`
	MaxLatencyRatio float64 `json:"max_latency_ratio"`
	MaxP99Ms        float64 `json:"max_p99_ms,omitempty"`
	MaxShift        float64 `json:"max_shift,omitempty"`
	MinRequests     int64   `json:"min_requests"`
}

// Check is the analysis of one canary step at one moment.
type Check struct {
	Time      int64       `json:"time"`
	Step      int         `json:"step"`
	Weight    int         `json:"weight"`
	Candidate WindowStats `json:"candidate"`
	Stable    WindowStats `json:"stable"`
	// Shift is the PSI of the candidate's predictions against the
	// stable's (when MaxShift is set).
	Shift float64 `json:"shift,omitempty"`
	// Verdict is waiting, passed or failed; Reason says why.
	Verdict string `json:"verdict"`
	Reason  string `json:"reason,omitempty"`
}

// Rollout is a candidate version being rolled out at an endpoint (or
// the last one, once ended).
type Rollout struct {
	Strategy string `json:"strategy"`
	Ref
	State string `json:"state"`
	// Weight is the candidate's share of requests in percent: the
	// canary's current step, the A/B split, or the share of requests a
	// shadow mirrors.
	Weight int `json:"weight"`
	// Steps and Step are a canary's weights and the current index.
	Steps      []int    `json:"steps,omitempty"`
	Step       int      `json:"step"`
	IntervalMs int64    `json:"interval_ms,omitempty"`
	Analysis   Analysis `json:"analysis"`
	// Sticky keys an A/B split: "header:NAME" or "field:FEATURE" (the
	// first row's value); "" splits each request at random.
	Sticky        string `json:"sticky,omitempty"`
	StartedAt     int64  `json:"started_at"`
	StepStartedAt int64  `json:"step_started_at"`
	EndedAt       int64  `json:"ended_at,omitempty"`
	Reason        string `json:"reason,omitempty"`
	LastCheck     *Check `json:"last_check,omitempty"`
}

// Active says whether the rollout still routes traffic to a candidate.
func (r *Rollout) Active() bool {
	return r != nil && (r.State == RolloutProgressing || r.State == RolloutRunning)
}

// RolloutOptions shape a rollout; zero values take the defaults.
type RolloutOptions struct {
	Steps    []int         `json:"steps,omitempty"`
	Interval time.Duration `json:"-"`
	// Weight is the A/B candidate share (default 50) or the shadow
	// mirror share (default 100), in percent.
	Weight   int      `json:"weight,omitempty"`
	Sticky   string   `json:"sticky,omitempty"`
	Analysis Analysis `json:"analysis"`
}

// newRollout validates opts for strategy and returns the rollout of
// candidate, started at now (ms).
func newRollout(strategy string, candidate Ref, opts RolloutOptions, now int64) (*Rollout, error) {
	r := &Rollout{Strategy: strategy, Ref: candidate, StartedAt: now, StepStartedAt: now, Analysis: opts.Analysis}
	a := &r.Analysis
	if a.MaxErrorRate == 0 {
		a.MaxErrorRate = DefaultMaxErrorRate
	}
	if a.MaxLatencyRatio == 0 {
		a.MaxLatencyRatio = DefaultMaxLatencyRatio
	}
	if a.MinRequests == 0 {
		a.MinRequests = DefaultMinRequests
	}
	switch {
	case a.MaxErrorRate < 0 || a.MaxErrorRate > 1:
		return nil, errdefs.InvalidArgument("max_error_rate must be between 0 and 1, got %v.", a.MaxErrorRate)
	case a.MaxLatencyRatio < 1:
		return nil, errdefs.InvalidArgument("max_latency_ratio must be at least 1, got %v.", a.MaxLatencyRatio)
	case a.MaxP99Ms < 0 || a.MaxShift < 0:
		return nil, errdefs.InvalidArgument("max_p99_ms and max_shift must not be negative.")
	case a.MinRequests < 1 || a.MinRequests > 1_000_000:
		return nil, errdefs.InvalidArgument("min_requests must be between 1 and 1000000, got %d.", a.MinRequests)
	}
	if opts.Sticky != "" && strategy != StrategyAB {
		return nil, errdefs.InvalidArgument("sticky applies to the ab strategy only.")
	}
	if len(opts.Steps) > 0 && strategy != StrategyCanary {
		return nil, errdefs.InvalidArgument("steps apply to the canary strategy only.")
	}
	switch strategy {
	case StrategyCanary:
		r.State = RolloutProgressing
		r.Steps = opts.Steps
		if len(r.Steps) == 0 {
			r.Steps = DefaultSteps()
		}
		if len(r.Steps) > 100 {
			return nil, errdefs.InvalidArgument("A canary takes at most 100 steps.")
		}
		for i, w := range r.Steps {
			if w < 1 || w > 100 || (i > 0 && w <= r.Steps[i-1]) {
				return nil, errdefs.InvalidArgument("Canary steps must be increasing weights between 1 and 100, got %v.", r.Steps)
			}
		}
		if r.Steps[len(r.Steps)-1] != 100 {
			r.Steps = append(append([]int(nil), r.Steps...), 100)
		}
		r.Weight = r.Steps[0]
		iv := opts.Interval
		if iv == 0 {
			iv = DefaultInterval
		}
		if iv < 100*time.Millisecond || iv > 24*time.Hour {
			return nil, errdefs.InvalidArgument("The canary interval must be between 100ms and 24h, got %s.", iv)
		}
		r.IntervalMs = iv.Milliseconds()
	case StrategyShadow, StrategyAB:
		r.State = RolloutRunning
		r.Weight = opts.Weight
		if r.Weight == 0 {
			r.Weight = 100
			if strategy == StrategyAB {
				r.Weight = 50
			}
		}
		if r.Weight < 1 || r.Weight > 100 {
			return nil, errdefs.InvalidArgument("weight must be between 1 and 100, got %d.", r.Weight)
		}
		if opts.Sticky != "" {
			kind, name, ok := strings.Cut(opts.Sticky, ":")
			if !ok || (kind != "header" && kind != "field") || name == "" || len(name) > 256 {
				return nil, errdefs.InvalidArgument("sticky must be header:NAME or field:FEATURE, got %q.", opts.Sticky)
			}
			r.Sticky = opts.Sticky
		}
	default:
		return nil, fmt.Errorf("serving: %s is not a rollout strategy", strategy)
	}
	return r, nil
}

// ValidateStrategy checks a strategy name.
func ValidateStrategy(s string) error {
	switch s {
	case StrategyDirect, StrategyBlueGreen, StrategyCanary, StrategyShadow, StrategyAB:
		return nil
	}
	return errdefs.InvalidArgument("Unknown strategy '%s': use direct, blue-green, canary, shadow or ab.", s)
}
