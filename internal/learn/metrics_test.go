package learn

import (
	"encoding/json"
	"errors"
	"maps"
	"math"
	"os"
	"slices"
	"testing"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

type goldenCase struct {
	Name  string             `json:"name"`
	Task  Task               `json:"task"`
	K     int                `json:"k"`
	Y     []float64          `json:"y"`
	Score []float64          `json:"score"`
	Want  map[string]float64 `json:"want"`
}

func loadGolden(t *testing.T) []goldenCase {
	t.Helper()
	raw, err := os.ReadFile("testdata/metrics_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Cases []goldenCase `json:"cases"`
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) < 10 {
		t.Fatalf("only %d golden cases", len(g.Cases))
	}
	return g.Cases
}

func close12(got, want float64) bool {
	return math.Abs(got-want) <= 1e-12*max(1, math.Abs(want))
}

// TestEvaluateMatchesSklearn compares every metric of Evaluate with
// scikit-learn 1.2's on the inputs of testdata/make_golden.py, and checks
// that Evaluate names exactly the metrics scikit-learn could compute.
func TestEvaluateMatchesSklearn(t *testing.T) {
	for _, c := range loadGolden(t) {
		t.Run(c.Name, func(t *testing.T) {
			got, err := Evaluate(c.Task, c.Y, c.Score)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(c.Want)); !slices.Equal(g, w) {
				t.Fatalf("metrics %v, want %v", g, w)
			}
			for name, want := range c.Want {
				if !close12(got[name], want) {
					t.Errorf("%s = %.17g, sklearn %.17g (diff %.3g)", name, got[name], want, got[name]-want)
				}
			}
		})
	}
}

// TestMetricFunctionsMatchSklearn calls the single-metric functions
// directly on the binary and regression goldens.
func TestMetricFunctionsMatchSklearn(t *testing.T) {
	for _, c := range loadGolden(t) {
		if c.Task != Binary || c.Want[MetricROCAUC] == 0 {
			continue
		}
		auc, err := ROCAUC(c.Y, c.Score)
		if err != nil || !close12(auc, c.Want[MetricROCAUC]) {
			t.Errorf("%s: ROCAUC = %v, %v; want %v", c.Name, auc, err, c.Want[MetricROCAUC])
		}
		ap, err := AveragePrecision(c.Y, c.Score)
		if err != nil || !close12(ap, c.Want[MetricPRAUC]) {
			t.Errorf("%s: AveragePrecision = %v, %v; want %v", c.Name, ap, err, c.Want[MetricPRAUC])
		}
		ll, err := LogLoss(c.Y, c.Score, 2)
		if err != nil || !close12(ll, c.Want[MetricLogLoss]) {
			t.Errorf("%s: LogLoss = %v, %v; want %v", c.Name, ll, err, c.Want[MetricLogLoss])
		}
	}
}

func TestMetricErrors(t *testing.T) {
	tests := []struct {
		name string
		err  func() error
	}{
		{"accuracy empty", func() error { _, err := Accuracy(nil, nil); return err }},
		{"accuracy lengths", func() error { _, err := Accuracy([]float64{1}, []float64{1, 0}); return err }},
		{"prf lengths", func() error { _, _, _, err := BinaryPRF([]float64{1}, nil); return err }},
		{"macro lengths", func() error { _, _, _, err := MacroPRF([]float64{1, 2}, []float64{1}); return err }},
		{"auc one class", func() error { _, err := ROCAUC([]float64{0, 0}, []float64{0.1, 0.2}); return err }},
		{"auc bad label", func() error { _, err := ROCAUC([]float64{0, 2}, []float64{0.1, 0.2}); return err }},
		{"auc NaN score", func() error { _, err := ROCAUC([]float64{0, 1}, []float64{math.NaN(), 0.2}); return err }},
		{"ap no positive", func() error { _, err := AveragePrecision([]float64{0, 0}, []float64{0.1, 0.2}); return err }},
		{"ovr rows not summing to 1", func() error {
			_, err := ROCAUCOvR([]float64{0, 1, 2}, []float64{.5, .5, .5, .2, .3, .5, .1, .1, .8}, 3)
			return err
		}},
		{"ovr missing class", func() error {
			_, err := ROCAUCOvR([]float64{0, 1, 1}, []float64{.5, .3, .2, .2, .3, .5, .1, .1, .8}, 3)
			return err
		}},
		{"ovr shape", func() error { _, err := AveragePrecisionOvR([]float64{0, 1}, []float64{1, 0, 0}, 3); return err }},
		{"logloss label out of range", func() error { _, err := LogLoss([]float64{0, 3}, []float64{.5, .5, .5, .5}, 2); return err }},
		{"logloss one class", func() error { _, err := LogLoss([]float64{0}, []float64{1}, 1); return err }},
		{"logloss NaN", func() error { _, err := LogLoss([]float64{0}, []float64{math.NaN()}, 2); return err }},
		{"rmse lengths", func() error { _, err := RMSE([]float64{1}, nil); return err }},
		{"mae empty", func() error { _, err := MAE(nil, nil); return err }},
		{"r2 lengths", func() error { _, err := R2([]float64{1, 2}, []float64{1}); return err }},
		{"evaluate task", func() error { _, err := Evaluate("ranking", []float64{1}, []float64{1}); return err }},
		{"evaluate multiclass shape", func() error { _, err := Evaluate(Multiclass, []float64{1, 0}, []float64{1, 0, 0}); return err }},
		{"evaluate binary label 2", func() error { _, err := Evaluate(Binary, []float64{2, 0}, []float64{.4, .6}); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.err(); !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Fatalf("error %v, want an InvalidArgument", err)
			}
		})
	}
}

// pairwiseAUC is the Mann–Whitney definition of ROC AUC: the share of
// (positive, negative) pairs ranked right, ties counting half.
func pairwiseAUC(y, s []float64) float64 {
	var num, pairs float64
	for i := range y {
		for j := range y {
			if y[i] == 1 && y[j] == 0 {
				pairs++
				switch {
				case s[i] > s[j]:
					num++
				case s[i] == s[j]:
					num += 0.5
				}
			}
		}
	}
	return num / pairs
}

// FuzzROCAUC checks ROCAUC against the pairwise definition on arbitrary
// labels and (heavily tied) scores.
func FuzzROCAUC(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7})
	f.Add([]byte{1, 1, 0, 1, 3, 3, 2, 2, 1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var y, s []float64
		for _, b := range data {
			y = append(y, float64(b&1))
			s = append(s, float64(b>>5)/7)
		}
		got, err := ROCAUC(y, s)
		if slices.Contains(y, 0) && slices.Contains(y, 1) {
			if err != nil {
				t.Fatal(err)
			}
			if want := pairwiseAUC(y, s); math.Abs(got-want) > 1e-12 {
				t.Fatalf("ROCAUC = %v, pairwise %v", got, want)
			}
		} else if err == nil {
			t.Fatal("no error with one class")
		}
	})
}
