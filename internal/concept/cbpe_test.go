package concept

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

type cbpeGolden struct {
	Isotonic []struct {
		Name  string    `json:"name"`
		X     []float64 `json:"x"`
		Y     []float64 `json:"y"`
		W     []float64 `json:"w"`
		Query []float64 `json:"query"`
		Pred  []float64 `json:"pred"`
	} `json:"isotonic"`
	CBPE []struct {
		Name                                         string    `json:"name"`
		PRaw                                         []float64 `json:"p"`
		ScoresRaw                                    []float64 `json:"scores"`
		YPred                                        []int     `json:"y_pred"`
		Labels                                       []int     `json:"labels"`
		Accuracy, Precision, Recall, Specificity, F1 float64
		ROCAUC                                       float64 `json:"roc_auc"`
		ECEScores                                    float64 `json:"ece_scores"`
		ECEP                                         float64 `json:"ece_p"`
	} `json:"cbpe"`
}

func loadCBPEGolden(t *testing.T) cbpeGolden {
	t.Helper()
	raw, err := os.ReadFile("testdata/cbpe_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g cbpeGolden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

// TestIsotonicMatchesSklearn compares PAV + interpolation with scikit-learn's
// IsotonicRegression(out_of_bounds="clip") on golden data.
func TestIsotonicMatchesSklearn(t *testing.T) {
	g := loadCBPEGolden(t)
	if len(g.Isotonic) != 4 {
		t.Fatalf("%d isotonic cases", len(g.Isotonic))
	}
	for _, c := range g.Isotonic {
		t.Run(c.Name, func(t *testing.T) {
			m, err := FitIsotonic(c.X, c.Y, c.W)
			if err != nil {
				t.Fatal(err)
			}
			for i, q := range c.Query {
				if got := m.Predict(q); math.Abs(got-c.Pred[i]) > 1e-12 {
					t.Errorf("predict(%v) = %v, sklearn %v", q, got, c.Pred[i])
				}
			}
		})
	}
}

// TestPAVTextbook: y = 1,3,2,4,3.5,5 pools (3,2)→2.5 and (4,3.5)→3.75.
func TestPAVTextbook(t *testing.T) {
	got := pav([]float64{1, 3, 2, 4, 3.5, 5}, []float64{1, 1, 1, 1, 1, 1})
	want := []float64{1, 2.5, 2.5, 3.75, 3.75, 5}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("pav = %v, want %v", got, want)
		}
	}
}

func TestCBPEFormulasMatchNannyMLTranscription(t *testing.T) {
	g := loadCBPEGolden(t)
	for _, c := range g.CBPE {
		t.Run(c.Name, func(t *testing.T) {
			preds := make([]bool, len(c.YPred))
			labels := make([]bool, len(c.Labels))
			for i := range preds {
				preds[i] = c.YPred[i] == 1
				labels[i] = c.Labels[i] == 1
			}
			m, err := EstimateCalibrated(c.PRaw, c.ScoresRaw, preds)
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range []struct {
				name      string
				got, want float64
			}{
				{"accuracy", m.Accuracy, c.Accuracy}, {"precision", m.Precision, c.Precision},
				{"recall", m.Recall, c.Recall}, {"specificity", m.Specificity, c.Specificity},
				{"f1", m.F1, c.F1}, {"roc_auc", m.ROCAUC, c.ROCAUC},
				{"ece(scores)", ece(labels, c.ScoresRaw, 10), c.ECEScores},
				{"ece(p)", ece(labels, c.PRaw, 10), c.ECEP},
			} {
				if math.Abs(x.got-x.want) > 1e-10 {
					t.Errorf("%s = %.15g, golden %.15g", x.name, x.got, x.want)
				}
			}
		})
	}
}

// beta23 draws Beta(2,3): the 2nd smallest of 4 uniforms.
func beta23(r *rand.Rand) float64 {
	u := [4]float64{r.Float64(), r.Float64(), r.Float64(), r.Float64()}
	for i := 1; i < 4; i++ {
		for j := i; j > 0 && u[j] < u[j-1]; j-- {
			u[j], u[j-1] = u[j-1], u[j]
		}
	}
	return u[1]
}

// TestCBPEWithinSamplingError: with p ~ Beta(2,3), y ~ Bernoulli(p), the
// estimates must match the realized metrics within sampling error. The
// tolerance is 4 standard deviations of the realized metric given p,
// measured by redrawing the labels 300 times for the same scores (for
// accuracy this is ≈ √(Σp(1−p))/n ≈ 0.006 at n=5000), plus 0.01 for the
// isotonic calibrator's own error where one is fitted on 5,000 reference rows.
func TestCBPEWithinSamplingError(t *testing.T) {
	const n = 5000
	tests := []struct {
		name    string
		distort func(float64) float64 // model score as a function of true p
		mode    CalibrationMode
		calSlop float64
	}{
		{"calibrated scores, no calibration", func(p float64) float64 { return p }, CalibrateNever, 0},
		{"miscalibrated scores, isotonic", func(p float64) float64 { return math.Sqrt(p) }, CalibrateAlways, 0.01},
		{"miscalibrated scores, auto", func(p float64) float64 { return math.Sqrt(p) }, CalibrateAuto, 0.01},
	}
	for ti, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(ti)+1, 99))
			draw := func() (p, s []float64, y []bool) {
				p, s, y = make([]float64, n), make([]float64, n), make([]bool, n)
				for i := range p {
					p[i] = beta23(r)
					s[i] = tc.distort(p[i])
					y[i] = r.Float64() < p[i]
				}
				return
			}
			_, refS, refY := draw()
			c, err := FitCBPE(refS, refY, CBPEConfig{Calibration: tc.mode})
			if err != nil {
				t.Fatal(err)
			}
			if tc.mode != CalibrateNever && !c.Calibrated() {
				t.Fatal("expected the calibrator to be used on miscalibrated scores")
			}
			p, s, y := draw()
			preds := make([]bool, n)
			for i := range preds {
				preds[i] = s[i] >= 0.5
			}
			est, err := c.Estimate(s, nil)
			if err != nil {
				t.Fatal(err)
			}
			real := Realized(s, preds, y)
			// Sampling sd of realized metrics given p.
			const reps = 300
			var sum, sq [3]float64
			yy := make([]bool, n)
			for range reps {
				for i := range yy {
					yy[i] = r.Float64() < p[i]
				}
				m := Realized(s, preds, yy)
				for k, v := range []float64{m.Accuracy, m.F1, m.ROCAUC} {
					sum[k] += v
					sq[k] += v * v
				}
			}
			for k, x := range []struct {
				name      string
				est, real float64
			}{{"accuracy", est.Accuracy, real.Accuracy}, {"f1", est.F1, real.F1}, {"roc_auc", est.ROCAUC, real.ROCAUC}} {
				mean := sum[k] / reps
				sd := math.Sqrt(sq[k]/reps - mean*mean)
				tol := 4*sd + tc.calSlop
				t.Logf("%s: estimated %.4f realized %.4f (sd %.4f, tol %.4f)", x.name, x.est, x.real, sd, tol)
				if math.Abs(x.est-x.real) > tol {
					t.Errorf("%s: |%.4f − %.4f| > %.4f", x.name, x.est, x.real, tol)
				}
			}
			if tc.mode == CalibrateAlways {
				// Without calibration the estimate is visibly off: the check
				// above can fail.
				raw, _ := FitCBPE(refS, refY, CBPEConfig{Calibration: CalibrateNever})
				bad, _ := raw.Estimate(s, nil)
				if math.Abs(bad.Accuracy-real.Accuracy) < 0.05 {
					t.Errorf("uncalibrated estimate %.4f unexpectedly close to realized %.4f", bad.Accuracy, real.Accuracy)
				}
			}
		})
	}
}

func TestCBPEAccuracyIsMeanMaxP(t *testing.T) {
	c, err := FitCBPE([]float64{0.1, 0.9}, []bool{false, true}, CBPEConfig{Calibration: CalibrateNever})
	if err != nil {
		t.Fatal(err)
	}
	// p = 0.2, 0.7, 0.5: ŷ = 0,1,1 → accuracy = (0.8 + 0.7 + 0.5)/3 = 2/3;
	// E[TP]=1.2, E[FP]=0.8, E[FN]=0.2 → precision 0.6, recall 6/7,
	// F1 = 1.2/(1.2+0.5) = 0.70588.
	m, err := c.Estimate([]float64{0.2, 0.7, 0.5}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range [][2]float64{{m.Accuracy, 2.0 / 3}, {m.Precision, 0.6}, {m.Recall, 6.0 / 7}, {m.F1, 1.2 / 1.7}} {
		if math.Abs(x[0]-x[1]) > 1e-12 {
			t.Fatalf("metrics %+v", m)
		}
	}
}

func TestCBPEInvalidInput(t *testing.T) {
	tests := []struct {
		name   string
		scores []float64
		labels []bool
		cfg    CBPEConfig
	}{
		{"empty", nil, nil, CBPEConfig{}},
		{"mismatch", []float64{0.5}, []bool{true, false}, CBPEConfig{}},
		{"nan", []float64{math.NaN()}, []bool{true}, CBPEConfig{}},
		{"out of range", []float64{1.5}, []bool{true}, CBPEConfig{}},
		{"mode", []float64{0.5}, []bool{true}, CBPEConfig{Calibration: "sometimes"}},
		{"threshold", []float64{0.5}, []bool{true}, CBPEConfig{Threshold: 1}},
	}
	for _, tc := range tests {
		if _, err := FitCBPE(tc.scores, tc.labels, tc.cfg); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("%s: err %v", tc.name, err)
		}
	}
	c, _ := FitCBPE([]float64{0.2, 0.8}, []bool{false, true}, CBPEConfig{})
	if c.Calibrated() {
		t.Error("perfectly separated reference (AUC 1) must not be calibrated")
	}
	if _, err := c.Estimate([]float64{0.2}, []bool{true, false}); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("estimate mismatch: %v", err)
	}
	if _, err := c.Estimate([]float64{-0.1}, nil); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("estimate range: %v", err)
	}
	if _, err := FitIsotonic([]float64{1}, []float64{math.Inf(1)}, nil); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("isotonic inf: %v", err)
	}
}
