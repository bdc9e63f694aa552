package serving

import (
	"context"
	"errors"

	"github.com/ferry-ml/ferry/internal/modelrt"
	"github.com/ferry-ml/ferry/internal/modelrt/remote"
	"github.com/ferry-ml/ferry/internal/stats"
)

// Outcome is one logged prediction with its ground truth, as the A/B
// analysis reads it.
type Outcome struct {
	Ref
	// Predictions holds Outputs values per row; Truth one value per row.
	Predictions []float64
	Outputs     int
	Truth       []float64
}

// Outcomes reads the predictions an endpoint logged since a time (unix
// ms) that have ground truth (the prediction log).
type Outcomes interface {
	Outcomes(ctx context.Context, endpoint string, since int64) ([]Outcome, error)
}

// VariantReport is what one variant did in the current window.
type VariantReport struct {
	Role string `json:"role"`
	Ref
	WindowStats
}

// OutcomeReport compares the variants of an A/B split on ground truth:
// accuracy (classifiers; the truth is the class index) with a pooled
// two-proportion z-test, or mean absolute error (other tasks) with
// Welch's t-test on the absolute errors.
type OutcomeReport struct {
	Metric      string  `json:"metric"`
	Test        string  `json:"test"`
	Stable      float64 `json:"stable"`
	Candidate   float64 `json:"candidate"`
	StableN     int     `json:"stable_n"`
	CandidateN  int     `json:"candidate_n"`
	PValue      float64 `json:"p_value"`
	Significant bool    `json:"significant"`
	Note        string  `json:"note,omitempty"`
}

// Report is an endpoint's live state: the external runtimes behind it,
// what each variant did in the current window, the shadow's comparison
// and the A/B outcome.
type Report struct {
	Runtimes []RuntimeReport `json:"runtimes,omitempty"`
	Variants []VariantReport `json:"variants,omitempty"`
	Shadow   *ShadowReport   `json:"shadow,omitempty"`
	Outcome  *OutcomeReport  `json:"outcome,omitempty"`
}

// RuntimeReport is the state of an external runtime behind a variant.
type RuntimeReport struct {
	Role string `json:"role"`
	Ref
	State     string `json:"state"`
	Restarts  int    `json:"restarts"`
	LastError string `json:"last_error,omitempty"`
	PID       int    `json:"pid,omitempty"`
}

// supervised is an external runtime (remote.Model).
type supervised interface{ Status() remote.Status }

// Significance is the p-value under which an A/B difference is
// reported significant.
const Significance = 0.05

// Report returns the endpoint's live state; without a rollout it holds
// only the external runtimes.
func (s *Service) Report(ctx context.Context, endpoint string) (Report, error) {
	var rep Report
	e := (*s.endpoints.Load())[endpoint]
	if e == nil {
		return rep, nil
	}
	for _, v := range []*Variant{e.Stable, e.Candidate, e.Previous} {
		if v == nil {
			continue
		}
		if rt, ok := v.Runtime.(supervised); ok {
			st := rt.Status()
			role := v.Role
			if v == e.Previous {
				role = "previous"
			}
			rep.Runtimes = append(rep.Runtimes, RuntimeReport{Role: role, Ref: v.Ref, State: string(st.State),
				Restarts: st.Restarts, LastError: st.LastError, PID: st.PID})
		}
	}
	if !e.Rollout.Active() || e.Candidate == nil {
		return rep, nil
	}
	for _, v := range []*Variant{e.Stable, e.Candidate} {
		if v.Window != nil {
			rep.Variants = append(rep.Variants, VariantReport{Role: v.Role, Ref: v.Ref, WindowStats: v.Window.Stats()})
		}
	}
	if e.shadow != nil {
		r := e.shadow.report(e.Candidate.Sig.Outputs)
		rep.Shadow = &r
	}
	if e.Rollout.Strategy == StrategyAB && s.outcomes != nil {
		os, err := s.outcomes.Outcomes(ctx, endpoint, e.Rollout.StartedAt)
		if err != nil {
			return rep, err
		}
		rep.Outcome = compareOutcomes(e.Stable.Sig, e.Stable.Ref, e.Candidate.Ref, os)
	}
	return rep, nil
}

// compareOutcomes scores each variant's rows against their truth.
func compareOutcomes(sig modelrt.Signature, stable, cand Ref, os []Outcome) *OutcomeReport {
	classify := sig.Task == modelrt.Binary || sig.Task == modelrt.Multiclass
	var scores [2][]float64 // per row: 1/0 correct, or the absolute error
	for _, o := range os {
		side := -1
		switch o.Ref {
		case stable:
			side = 0
		case cand:
			side = 1
		}
		k := o.Outputs
		if side < 0 || k <= 0 || len(o.Predictions) != len(o.Truth)*k {
			continue
		}
		for i, t := range o.Truth {
			row := o.Predictions[i*k : (i+1)*k]
			switch {
			case !classify:
				d := row[0] - t
				if d < 0 {
					d = -d
				}
				scores[side] = append(scores[side], d)
			default:
				class := float64(argmax(row))
				if k == 1 {
					class = 0
					if row[0] >= 0.5 {
						class = 1
					}
				}
				ok := 0.0
				if class == t {
					ok = 1
				}
				scores[side] = append(scores[side], ok)
			}
		}
	}
	rep := &OutcomeReport{StableN: len(scores[0]), CandidateN: len(scores[1])}
	rep.Stable, rep.Candidate = mean(scores[0]), mean(scores[1])
	var res stats.Result
	var err error
	if classify {
		rep.Metric, rep.Test = "accuracy", "two-proportion z-test"
		res, err = stats.TwoProportionZTest(int(sum(scores[0])), len(scores[0]), int(sum(scores[1])), len(scores[1]))
	} else {
		rep.Metric, rep.Test = "mean_absolute_error", "Welch's t-test"
		res, err = stats.WelchTTest(scores[0], scores[1])
	}
	switch {
	case errors.Is(err, stats.ErrTooFewSamples):
		rep.PValue, rep.Note = 1, "too few outcomes with ground truth for a test"
	case err != nil:
		rep.PValue, rep.Note = 1, err.Error()
	default:
		rep.PValue = res.PValue
		if rep.PValue != rep.PValue { // NaN: no variance on either side
			rep.PValue, rep.Note = 1, "no variance in the outcomes"
		}
		rep.Significant = rep.PValue < Significance
	}
	return rep
}

func sum(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	return sum(v) / float64(len(v))
}
