package serving

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ferry-ml/ferry/internal/modelrt"
)

func TestNewRollout(t *testing.T) {
	cand := Ref{Model: "m", Version: 2}
	for _, tc := range []struct {
		name     string
		strategy string
		opts     RolloutOptions
		want     string // error substring, or "" for success
		check    func(t *testing.T, r *Rollout)
	}{
		{"canary defaults", StrategyCanary, RolloutOptions{}, "", func(t *testing.T, r *Rollout) {
			if r.State != RolloutProgressing || r.Weight != 5 || len(r.Steps) != 5 || r.IntervalMs != 60000 ||
				r.Analysis.MaxErrorRate != 0.01 || r.Analysis.MaxLatencyRatio != 2 || r.Analysis.MinRequests != 10 {
				t.Fatalf("%+v", r)
			}
		}},
		{"canary ends at 100", StrategyCanary, RolloutOptions{Steps: []int{20, 60}, Interval: time.Second}, "", func(t *testing.T, r *Rollout) {
			if len(r.Steps) != 3 || r.Steps[2] != 100 || r.Weight != 20 || r.IntervalMs != 1000 {
				t.Fatalf("%+v", r)
			}
		}},
		{"steps decrease", StrategyCanary, RolloutOptions{Steps: []int{50, 10}}, "increasing", nil},
		{"step zero", StrategyCanary, RolloutOptions{Steps: []int{0, 100}}, "between 1 and 100", nil},
		{"step over 100", StrategyCanary, RolloutOptions{Steps: []int{101}}, "between 1 and 100", nil},
		{"interval too short", StrategyCanary, RolloutOptions{Interval: time.Millisecond}, "interval", nil},
		{"error rate over 1", StrategyCanary, RolloutOptions{Analysis: Analysis{MaxErrorRate: 2}}, "max_error_rate", nil},
		{"latency ratio under 1", StrategyCanary, RolloutOptions{Analysis: Analysis{MaxLatencyRatio: 0.5}}, "max_latency_ratio", nil},
		{"negative shift", StrategyCanary, RolloutOptions{Analysis: Analysis{MaxShift: -1}}, "must not be negative", nil},
		{"sticky on canary", StrategyCanary, RolloutOptions{Sticky: "header:x"}, "ab strategy only", nil},
		{"steps on ab", StrategyAB, RolloutOptions{Steps: []int{5}}, "canary strategy only", nil},
		{"ab default", StrategyAB, RolloutOptions{}, "", func(t *testing.T, r *Rollout) {
			if r.State != RolloutRunning || r.Weight != 50 {
				t.Fatalf("%+v", r)
			}
		}},
		{"shadow default", StrategyShadow, RolloutOptions{}, "", func(t *testing.T, r *Rollout) {
			if r.Weight != 100 {
				t.Fatalf("%+v", r)
			}
		}},
		{"ab weight", StrategyAB, RolloutOptions{Weight: 101}, "weight must be", nil},
		{"ab sticky header", StrategyAB, RolloutOptions{Sticky: "header:X-User"}, "", nil},
		{"ab sticky bad kind", StrategyAB, RolloutOptions{Sticky: "cookie:x"}, "sticky must be", nil},
		{"ab sticky no name", StrategyAB, RolloutOptions{Sticky: "field:"}, "sticky must be", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := newRollout(tc.strategy, cand, tc.opts, 1000)
			switch {
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want %q", err, tc.want)
			case tc.want == "" && err != nil:
				t.Fatal(err)
			case tc.check != nil:
				tc.check(t, r)
			}
		})
	}
}

func TestJudge(t *testing.T) {
	r := &Rollout{Step: 0, Weight: 10, Steps: []int{10, 100}, IntervalMs: 60000, StepStartedAt: 0,
		Analysis: Analysis{MaxErrorRate: 0.01, MaxLatencyRatio: 2, MinRequests: 10}}
	ok := WindowStats{Requests: 100, P99Ms: 1}
	for _, tc := range []struct {
		name          string
		mod           func(r *Rollout)
		cand, stable  WindowStats
		now           int64
		verdict, want string
	}{
		{"too few requests", nil, WindowStats{Requests: 9, Errors: 9, ErrorRate: 1}, ok, 1e9, VerdictWaiting, "9 of the 10"},
		{"errors fail at once", nil, WindowStats{Requests: 40, Errors: 2, ErrorRate: 0.05}, ok, 1, VerdictFailed, "error rate 5.00% (2 of 40 requests)"},
		{"error rate at the limit passes", nil, WindowStats{Requests: 100, Errors: 1, ErrorRate: 0.01, P99Ms: 1}, ok, 60000, VerdictPassed, ""},
		{"p99 limit", func(r *Rollout) { r.Analysis.MaxP99Ms = 5 }, WindowStats{Requests: 100, P99Ms: 6}, ok, 1, VerdictFailed, "above the limit of 5 ms"},
		{"p99 ratio", nil, WindowStats{Requests: 100, P99Ms: 3.1}, ok, 1, VerdictFailed, "2 × the stable version's 1 ms + 1 ms"},
		{"p99 within ratio", nil, WindowStats{Requests: 100, P99Ms: 2.9}, ok, 60000, VerdictPassed, ""},
		{"stable without traffic: no ratio", nil, WindowStats{Requests: 100, P99Ms: 30}, WindowStats{Requests: 3, P99Ms: 1}, 60000, VerdictPassed, ""},
		{"interval not over", nil, WindowStats{Requests: 100, P99Ms: 1}, ok, 59999, VerdictWaiting, "passing so far"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rr := *r
			if tc.mod != nil {
				tc.mod(&rr)
			}
			c := judge(&rr, tc.cand, tc.stable, tc.now)
			if c.Verdict != tc.verdict || !strings.Contains(c.Reason, tc.want) {
				t.Fatalf("verdict %s (%s), want %s with %q", c.Verdict, c.Reason, tc.verdict, tc.want)
			}
		})
	}
}

// The shift check compares the predictions' distributions.
func TestJudgeShift(t *testing.T) {
	r := &Rollout{Weight: 10, IntervalMs: 1, Analysis: Analysis{MaxErrorRate: 0.01, MaxLatencyRatio: 2, MinRequests: 10, MaxShift: 0.2}}
	same, shifted := newWindow(time.Now()), newWindow(time.Now())
	stable := newWindow(time.Now())
	for i := range 500 {
		v := float64(i%100) / 100
		stable.Observe(time.Microsecond, false, []float64{v}, 1)
		same.Observe(time.Microsecond, false, []float64{v}, 1)
		shifted.Observe(time.Microsecond, false, []float64{v/2 + 0.5}, 1)
	}
	if c := judge(r, same.Stats(), stable.Stats(), 10); c.Verdict != VerdictPassed || c.Shift > 0.01 {
		t.Fatalf("same distribution: %+v", c)
	}
	if c := judge(r, shifted.Stats(), stable.Stats(), 10); c.Verdict != VerdictFailed || !strings.Contains(c.Reason, "PSI") {
		t.Fatalf("shifted distribution: %+v", c)
	}
}

func TestWindow(t *testing.T) {
	w := newWindow(time.UnixMilli(5))
	for i := 1; i <= 100; i++ {
		w.Observe(time.Duration(i)*time.Millisecond, i%10 == 0, []float64{float64(i), -1, float64(i)}, 3)
	}
	s := w.Stats()
	if s.Requests != 100 || s.Errors != 10 || s.ErrorRate != 0.1 || s.Predictions != 100 || s.SinceMs != 5 {
		t.Fatalf("%+v", s)
	}
	if s.MeanPrediction != 50.5 {
		t.Fatalf("mean prediction %v", s.MeanPrediction)
	}
	// Quantiles are bucket bounds at most 26% above the true value.
	for _, q := range []struct{ got, want float64 }{{s.P50Ms, 50}, {s.P99Ms, 99}} {
		if q.got < q.want || q.got > q.want*1.26 {
			t.Fatalf("quantile %v for %v", q.got, q.want)
		}
	}
	if e := newWindow(time.Now()).Stats(); e.P99Ms != 0 || e.ErrorRate != 0 {
		t.Fatalf("empty window: %+v", e)
	}
}

func TestCompareRows(t *testing.T) {
	for _, tc := range []struct {
		sig  modelrt.Signature
		a, b []float64
		want int
	}{
		{modelrt.Signature{Task: modelrt.Binary, Outputs: 1}, []float64{0.2, 0.6, 0.5}, []float64{0.4, 0.4, 0.49}, 1},
		{modelrt.Signature{Task: modelrt.Multiclass, Outputs: 3}, []float64{0.1, 0.8, 0.1, 0.5, 0.3, 0.2}, []float64{0.2, 0.7, 0.1, 0.3, 0.5, 0.2}, 1},
		{modelrt.Signature{Task: modelrt.Regression, Outputs: 1}, []float64{100, 0.5, 3}, []float64{100.9, 1.2, 3}, 2},
	} {
		got, diff := compareRows(tc.sig, tc.a, tc.b, len(tc.a)/tc.sig.Outputs)
		var want float64
		for i := range tc.a {
			want += math.Abs(tc.a[i] - tc.b[i])
		}
		if got != tc.want || math.Abs(diff-want) > 1e-12 {
			t.Errorf("%v vs %v: agreed %d diff %v, want %d %v", tc.a, tc.b, got, diff, tc.want, want)
		}
	}
}

func TestCompareOutcomes(t *testing.T) {
	st, cand := Ref{Model: "m", Version: 1}, Ref{Model: "m", Version: 2}
	bin := modelrt.Signature{Task: modelrt.Binary, Outputs: 1}
	var os []Outcome
	// stable: 60 of 100 right; candidate: 80 of 100 right.
	for i := range 100 {
		os = append(os, Outcome{Ref: st, Outputs: 1, Predictions: []float64{0.9}, Truth: []float64{float64(btoi(i < 60))}})
		os = append(os, Outcome{Ref: cand, Outputs: 1, Predictions: []float64{0.1}, Truth: []float64{float64(btoi(i >= 80))}})
	}
	os = append(os, Outcome{Ref: Ref{Model: "other", Version: 1}, Outputs: 1, Predictions: []float64{1}, Truth: []float64{1}})
	rep := compareOutcomes(bin, st, cand, os)
	// scipy.stats.chi2_contingency([[60, 40], [80, 20]], correction=False)[1]
	const scipyP = 0.0020282311484520824
	if rep.StableN != 100 || rep.CandidateN != 100 || rep.Stable != 0.6 || rep.Candidate != 0.8 ||
		math.Abs(rep.PValue-scipyP) > 1e-9 || !rep.Significant || rep.Metric != "accuracy" {
		t.Fatalf("%+v", rep)
	}
	if rep := compareOutcomes(bin, st, cand, nil); rep.PValue != 1 || rep.Significant || rep.Note == "" {
		t.Fatalf("no outcomes: %+v", rep)
	}
	reg := modelrt.Signature{Task: modelrt.Regression, Outputs: 1}
	rep = compareOutcomes(reg, st, cand, []Outcome{
		{Ref: st, Outputs: 1, Predictions: []float64{1, 2, 3}, Truth: []float64{1.5, 2.5, 2}},
		{Ref: cand, Outputs: 1, Predictions: []float64{1, 2, 3}, Truth: []float64{1.1, 2.2, 2.9}},
	})
	// scipy.stats.ttest_ind([0.5, 0.5, 1], [0.1, 0.2, 0.1], equal_var=False).pvalue
	const scipyWelch = 0.08003357442747155
	if rep.Metric != "mean_absolute_error" || math.Abs(rep.Stable-2.0/3) > 1e-12 || math.Abs(rep.PValue-scipyWelch) > 1e-9 {
		t.Fatalf("%+v", rep)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
