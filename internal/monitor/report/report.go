// Package report is the drift report of one endpoint — what `ferry
// monitor report` writes and GET /api/v1/endpoints/{e}/monitor/report
// answers: the reference and the current window, each feature's (and the
// prediction's) drift test, statistic, p-value and verdict, histograms of
// reference and current over shared bins, and the drift score over time.
// It holds the document's types, its histograms and its self-contained
// HTML rendering; it imports no other Ferry package, so the command-line
// client renders the HTML of the JSON the server sent.
package report

import (
	"math"
	"sort"
)

// Report is an endpoint's drift report.
type Report struct {
	Endpoint string `json:"endpoint"`
	// Generated is when the report was made, Unix milliseconds.
	Generated int64     `json:"generated"`
	Reference Reference `json:"reference"`
	Current   Window    `json:"current"`
	// DriftShare is the share of drifted features; DatasetDrift says
	// whether it reached DriftShareThreshold (Evidently's dataset drift:
	// features only, never the prediction).
	DriftShare          float64 `json:"drift_share"`
	DriftShareThreshold float64 `json:"drift_share_threshold"`
	DatasetDrift        bool    `json:"dataset_drift"`
	// Features are the compared features, by name.
	Features []Column `json:"features"`
	// Prediction is the drift of the model's predictions; nil when the
	// server could not compute it (PredictionError says why).
	Prediction      *Column `json:"prediction"`
	PredictionError string  `json:"prediction_error,omitempty"`
	// OverTime is the time range of the over-time series (Unix ms,
	// [From, To)).
	OverTime           Range       `json:"over_time"`
	DriftShareOverTime []TimePoint `json:"drift_share_over_time"`
	// Settings are the endpoint's effective drift settings.
	Settings Settings `json:"settings"`
	// FeaturesMissingInReference are logged features the reference has
	// no numeric column for: they are not tested. ReferenceColumnsNotServed
	// are reference columns no logged request carries (a target, or a
	// column the model does not read).
	FeaturesMissingInReference []string `json:"features_missing_in_reference"`
	ReferenceColumnsNotServed  []string `json:"reference_columns_not_served"`
	// FeaturesNotTested are features of both the reference and the window
	// left out of the comparison, with the reason (no finite value on one
	// side: not enough data).
	FeaturesNotTested []NotTested `json:"features_not_tested"`
	// Versions is the drift of each model version's rows when the window
	// holds several versions (a canary or an A/B test); empty otherwise.
	// A version with too few rows is left out.
	Versions []VersionDrift `json:"versions"`
}

// Settings are the drift settings a report was made with.
type Settings struct {
	// StatTest is the test asked for; empty is Evidently's default
	// selection per feature.
	StatTest string `json:"stattest"`
	// Threshold is the asked test's threshold (0 with the default
	// selection: each feature's test has its own).
	Threshold  float64 `json:"threshold"`
	DriftShare float64 `json:"drift_share"`
	// WindowRows is the count window, or a time window's row cap;
	// Window the time window (a Go duration, empty for a count window).
	WindowRows int    `json:"window_rows"`
	Window     string `json:"window,omitempty"`
}

// VersionDrift is the drift of the window's rows one model version
// answered.
type VersionDrift struct {
	Model        string          `json:"model"`
	Version      int64           `json:"version"`
	Rows         int             `json:"rows"`
	DriftShare   float64         `json:"drift_share"`
	DatasetDrift bool            `json:"dataset_drift"`
	Features     []VersionColumn `json:"features"`
}

// VersionColumn is one feature's verdict for a model version.
type VersionColumn struct {
	Name      string   `json:"name"`
	Test      string   `json:"test"`
	Score     *float64 `json:"score"`
	Threshold float64  `json:"threshold"`
	Drifted   bool     `json:"drifted"`
	NCur      int      `json:"n_cur"`
}

// NotTested is a feature left out of the comparison, and why.
type NotTested struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// Reference is the dataset version the traffic is compared with.
type Reference struct {
	Dataset string `json:"dataset"`
	Version int64  `json:"version"`
	Rows    int    `json:"rows"`
}

// Window is the current data: the latest logged rows, and the times of
// the oldest and newest request they came from (Unix ms).
type Window struct {
	Rows int   `json:"rows"`
	From int64 `json:"from"`
	To   int64 `json:"to"`
}

// Range is a time range, Unix milliseconds, [From, To).
type Range struct {
	From int64 `json:"from"`
	To   int64 `json:"to"`
}

// Column is one feature's (or the prediction's) drift.
type Column struct {
	Name string `json:"name"`
	// Kind is "num" or "cat" (Evidently's column types).
	Kind string `json:"kind"`
	// Test is the drift test (ks, chisquare, z, wasserstein,
	// jensenshannon, psi); Statistic its statistic or distance (null when
	// not finite); PValue the p-value of p-value tests, null for
	// distances; Score the value compared with Threshold.
	Test      string   `json:"test"`
	Statistic *float64 `json:"statistic"`
	PValue    *float64 `json:"p_value"`
	Score     *float64 `json:"score"`
	Threshold float64  `json:"threshold"`
	Drifted   bool     `json:"drifted"`
	// NRef and NCur are the finite values compared.
	NRef int `json:"n_ref"`
	NCur int `json:"n_cur"`
	// Model and Version name the model version whose predictions were
	// compared (the prediction only).
	Model   string `json:"model,omitempty"`
	Version int64  `json:"version,omitempty"`
	// Output says what of the predictions was compared (the prediction
	// only): "output 0" or "argmax class".
	Output    string      `json:"output,omitempty"`
	Histogram Histogram   `json:"histogram"`
	OverTime  []TimePoint `json:"over_time"`
}

// Histogram counts reference and current values over shared bins:
// equal-width bins over the combined finite range for numerical columns
// (Edges, bins+1 values; a bin holds [lo, hi), the last [lo, hi]), one
// bin per value for categorical ones (Categories). NaN and ±Inf — which
// the tests drop — are counted as missing.
type Histogram struct {
	Edges            []float64 `json:"edges,omitempty"`
	Categories       []float64 `json:"categories,omitempty"`
	Reference        []int     `json:"reference"`
	Current          []int     `json:"current"`
	ReferenceMissing int       `json:"reference_missing"`
	CurrentMissing   int       `json:"current_missing"`
}

// TimePoint is a recorded score (or share) at a time (Unix ms), with the
// test that made it.
type TimePoint struct {
	Time  int64   `json:"time"`
	Value float64 `json:"value"`
	Test  string  `json:"test,omitempty"`
}

// DefaultBins is the number of bins of a numerical histogram.
const DefaultBins = 20

// MaxCategories bounds a categorical histogram's bins; the rarest values
// beyond it are not drawn.
const MaxCategories = 50

// NumericHistogram counts ref and cur over bins equal-width bins spanning
// the finite values of both (numpy.histogram's bins: [lo, hi) each, the
// last closed; a single value v spans [v-0.5, v+0.5]). Without any finite
// value it has no bins.
func NumericHistogram(ref, cur []float64, bins int) Histogram {
	if bins <= 0 {
		bins = DefaultBins
	}
	h := Histogram{Reference: []int{}, Current: []int{}}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, xs := range [][]float64{ref, cur} {
		for _, x := range xs {
			if IsFinite(x) {
				lo, hi = math.Min(lo, x), math.Max(hi, x)
			}
		}
	}
	if lo > hi {
		h.ReferenceMissing, h.CurrentMissing = len(ref), len(cur)
		return h
	}
	if lo == hi {
		lo, hi = lo-0.5, hi+0.5
	}
	h.Edges = make([]float64, bins+1)
	for i := range h.Edges {
		t := float64(i) / float64(bins)
		h.Edges[i] = lo*(1-t) + hi*t // no overflow for wide ranges
	}
	h.Edges[0], h.Edges[bins] = lo, hi
	count := func(xs []float64) ([]int, int) {
		c := make([]int, bins)
		missing := 0
		for _, x := range xs {
			if !IsFinite(x) {
				missing++
				continue
			}
			c[bin(h.Edges, x)]++
		}
		return c, missing
	}
	h.Reference, h.ReferenceMissing = count(ref)
	h.Current, h.CurrentMissing = count(cur)
	return h
}

// bin finds x's bin among edges (x within [edges[0], edges[last]]).
func bin(edges []float64, x float64) int {
	n := len(edges) - 1
	lo, hi := edges[0], edges[n]
	// Halves keep the width finite for ranges near ±MaxFloat64.
	i := int(math.Floor((x/2 - lo/2) / (hi/2 - lo/2) * float64(n)))
	i = max(0, min(i, n-1))
	for i > 0 && x < edges[i] {
		i--
	}
	for i < n-1 && x >= edges[i+1] {
		i++
	}
	return i
}

// CategoricalHistogram counts each distinct finite value of ref and cur
// (category codes), in ascending order, keeping the MaxCategories most
// frequent ones.
func CategoricalHistogram(ref, cur []float64) Histogram {
	h := Histogram{Reference: []int{}, Current: []int{}}
	type counts struct{ ref, cur int }
	byValue := map[float64]*counts{}
	get := func(x float64) *counts {
		c := byValue[x]
		if c == nil {
			c = &counts{}
			byValue[x] = c
		}
		return c
	}
	for _, x := range ref {
		if !IsFinite(x) {
			h.ReferenceMissing++
			continue
		}
		get(x).ref++
	}
	for _, x := range cur {
		if !IsFinite(x) {
			h.CurrentMissing++
			continue
		}
		get(x).cur++
	}
	values := make([]float64, 0, len(byValue))
	for v := range byValue {
		values = append(values, v)
	}
	if len(values) > MaxCategories {
		sort.Slice(values, func(i, j int) bool {
			a, b := byValue[values[i]], byValue[values[j]]
			if a.ref+a.cur != b.ref+b.cur {
				return a.ref+a.cur > b.ref+b.cur
			}
			return values[i] < values[j]
		})
		values = values[:MaxCategories]
	}
	sort.Float64s(values)
	for _, v := range values {
		h.Categories = append(h.Categories, v)
		h.Reference = append(h.Reference, byValue[v].ref)
		h.Current = append(h.Current, byValue[v].cur)
	}
	return h
}

// Thin keeps at most n points of a series, evenly spaced, always with the
// last one.
func Thin(points []TimePoint, n int) []TimePoint {
	if n <= 0 || len(points) <= n {
		return points
	}
	if n == 1 {
		return points[len(points)-1:]
	}
	out := make([]TimePoint, 0, n)
	step := float64(len(points)-1) / float64(n-1)
	for i := range n {
		out = append(out, points[int(math.Round(float64(i)*step))])
	}
	return out
}

// Finite returns &x, or nil when x is NaN or ±Inf (JSON has no words for
// them).
func Finite(x float64) *float64 {
	if !IsFinite(x) {
		return nil
	}
	return &x
}

// IsFinite says whether x is neither NaN nor ±Inf.
func IsFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
