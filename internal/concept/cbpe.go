package concept

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// CalibrationMode says whether CBPE calibrates scores on the reference set.
type CalibrationMode string

// Calibration modes.
const (
	// CalibrateAuto applies NannyML's needs_calibration rule (see FitCBPE).
	CalibrateAuto CalibrationMode = "auto"
	// CalibrateAlways always fits the isotonic calibrator.
	CalibrateAlways CalibrationMode = "always"
	// CalibrateNever treats the scores as calibrated probabilities.
	CalibrateNever CalibrationMode = "never"
)

// CBPEConfig configures confidence-based performance estimation.
type CBPEConfig struct {
	// Threshold turns scores into predictions when the caller passes none
	// (prediction = score >= Threshold). Default 0.5.
	Threshold float64
	// Calibration defaults to CalibrateAuto.
	Calibration CalibrationMode
}

// CBPE estimates binary-classifier performance on unlabelled data from the
// model's scores, after calibrating them on a labelled reference set.
type CBPE struct {
	cfg CBPEConfig
	cal *Isotonic // nil: scores used as-is
}

// FitCBPE fits the estimator on reference scores (in [0,1]) and labels.
//
// With CalibrateAuto the isotonic calibrator is kept when NannyML's rule says
// calibration helps: not when the labels have one class, not when the
// reference ROC AUC exceeds 0.999; otherwise 10 stratified shuffle splits
// (10% test, fixed seed) fit the calibrator on the train part and compare the
// expected calibration error (10 equal-count bins) of the pooled test scores
// before and after calibration. NannyML uses scikit-learn's
// StratifiedShuffleSplit(random_state=42); the splits here are drawn from a
// fixed PCG seed instead, so a borderline decision can differ.
func FitCBPE(scores []float64, labels []bool, cfg CBPEConfig) (*CBPE, error) {
	if cfg.Threshold == 0 {
		cfg.Threshold = 0.5
	}
	if cfg.Calibration == "" {
		cfg.Calibration = CalibrateAuto
	}
	switch cfg.Calibration {
	case CalibrateAuto, CalibrateAlways, CalibrateNever:
	default:
		return nil, errdefs.InvalidArgument("cbpe: invalid calibration mode %q (valid: auto, always, never)", cfg.Calibration)
	}
	if !(cfg.Threshold > 0 && cfg.Threshold < 1) {
		return nil, errdefs.InvalidArgument("cbpe: threshold must be in (0,1), got %v", cfg.Threshold)
	}
	if len(scores) != len(labels) {
		return nil, errdefs.InvalidArgument("cbpe: %d scores but %d labels", len(scores), len(labels))
	}
	if len(scores) == 0 {
		return nil, errdefs.InvalidArgument("cbpe: empty reference set")
	}
	if err := checkProbabilities(scores); err != nil {
		return nil, err
	}
	c := &CBPE{cfg: cfg}
	if cfg.Calibration == CalibrateNever {
		return c, nil
	}
	y := make([]float64, len(labels))
	for i, l := range labels {
		if l {
			y[i] = 1
		}
	}
	if cfg.Calibration == CalibrateAuto && !needsCalibration(scores, labels) {
		return c, nil
	}
	cal, err := FitIsotonic(scores, y, nil)
	if err != nil {
		return nil, err
	}
	c.cal = cal
	return c, nil
}

func checkProbabilities(p []float64) error {
	for i, v := range p {
		if !(v >= 0 && v <= 1) {
			return errdefs.InvalidArgument("cbpe: score %d is %v, want a probability in [0,1]", i, v)
		}
	}
	return nil
}

// Calibrated reports whether an isotonic calibrator is in use.
func (c *CBPE) Calibrated() bool { return c.cal != nil }

// Config returns the effective configuration.
func (c *CBPE) Config() CBPEConfig { return c.cfg }

// Calibrate maps scores to calibrated probabilities.
func (c *CBPE) Calibrate(scores []float64) []float64 {
	out := make([]float64, len(scores))
	for i, s := range scores {
		out[i] = s
		if c.cal != nil {
			out[i] = c.cal.Predict(s)
		}
	}
	return out
}

// Estimate returns the expected metrics of an unlabelled window. preds are
// the model's predicted classes; nil derives them as score >= Threshold.
func (c *CBPE) Estimate(scores []float64, preds []bool) (Metrics, error) {
	if len(scores) == 0 {
		return Metrics{}, errdefs.InvalidArgument("cbpe: empty window")
	}
	if preds != nil && len(preds) != len(scores) {
		return Metrics{}, errdefs.InvalidArgument("cbpe: %d scores but %d predictions", len(scores), len(preds))
	}
	if err := checkProbabilities(scores); err != nil {
		return Metrics{}, err
	}
	if preds == nil {
		preds = make([]bool, len(scores))
		for i, s := range scores {
			preds[i] = s >= c.cfg.Threshold
		}
	}
	return EstimateCalibrated(c.Calibrate(scores), scores, preds)
}

// EstimateCalibrated computes NannyML's CBPE estimates from calibrated
// probabilities p (P(y=1)), the uncalibrated scores (used only to rank for
// ROC AUC) and predictions. All slices must have equal length.
//
// E[TP]=Σ_{ŷ=1} p, E[FP]=Σ_{ŷ=1} (1−p), E[FN]=Σ_{ŷ=0} p, E[TN]=Σ_{ŷ=0} (1−p);
// accuracy, precision, recall, specificity and F1 follow from them. ROC AUC
// follows nannyml estimate_roc_auc: order by uncalibrated score descending,
// expected TPs = cumsum(p), FPs = rank − TPs, both rounded to 5 decimals,
// normalised by their totals and integrated with the trapezoid rule.
func EstimateCalibrated(p, scores []float64, preds []bool) (Metrics, error) {
	if len(p) == 0 || len(scores) != len(p) || len(preds) != len(p) {
		return Metrics{}, errdefs.InvalidArgument("cbpe: need equal, non-zero lengths: p=%d scores=%d preds=%d", len(p), len(scores), len(preds))
	}
	if err := checkProbabilities(p); err != nil {
		return Metrics{}, err
	}
	for i, s := range scores {
		if math.IsNaN(s) {
			return Metrics{}, errdefs.InvalidArgument("cbpe: score %d is NaN", i)
		}
	}
	var tp, fp, fn, tn float64
	for i := range p {
		if preds[i] {
			tp += p[i]
			fp += 1 - p[i]
		} else {
			fn += p[i]
			tn += 1 - p[i]
		}
	}
	m := fromConfusion(len(p), tp, fp, fn, tn)
	m.ROCAUC = estimateROCAUC(p, scores)
	return m, nil
}

func estimateROCAUC(p, scores []float64) float64 {
	n := len(p)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	// np.argsort(...)[::-1]: ascending (stable here), then reversed.
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	slices.Reverse(idx)
	tps := make([]float64, n+1)
	fps := make([]float64, n+1)
	cum := 0.0
	for k, i := range idx {
		cum += p[i]
		tps[k+1] = cum
		fps[k+1] = float64(k+1) - cum
	}
	for k := range tps {
		tps[k] = round5(tps[k])
		fps[k] = round5(fps[k])
	}
	tT, fT := tps[n], fps[n]
	if tT == 0 || fT == 0 {
		return math.NaN()
	}
	area := 0.0
	for k := 1; k <= n; k++ {
		area += (fps[k]/fT - fps[k-1]/fT) * (tps[k]/tT + tps[k-1]/tT) / 2
	}
	return area
}

func round5(x float64) float64 { return math.RoundToEven(x*1e5) / 1e5 }

// needsCalibration implements NannyML's calibration check (see FitCBPE).
func needsCalibration(scores []float64, labels []bool) bool {
	var pos, neg []int
	for i, l := range labels {
		if l {
			pos = append(pos, i)
		} else {
			neg = append(neg, i)
		}
	}
	if len(pos) == 0 || len(neg) == 0 {
		return false
	}
	if rocAUC(scores, labels) > 0.999 {
		return false
	}
	nTest := func(n int) int { return max(1, int(math.Round(0.1*float64(n)))) }
	if len(pos) < 2 || len(neg) < 2 || len(scores) < 20 {
		return false
	}
	r := rand.New(rand.NewPCG(42, 42))
	var yTest []bool
	var before, after []float64
	for range 10 {
		var train, test []int
		for _, class := range [][]int{pos, neg} {
			perm := slices.Clone(class)
			r.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
			k := nTest(len(perm))
			test = append(test, perm[:k]...)
			train = append(train, perm[k:]...)
		}
		xs := make([]float64, len(train))
		ys := make([]float64, len(train))
		for j, i := range train {
			xs[j] = scores[i]
			if labels[i] {
				ys[j] = 1
			}
		}
		cal, err := FitIsotonic(xs, ys, nil)
		if err != nil {
			return false
		}
		for _, i := range test {
			yTest = append(yTest, labels[i])
			before = append(before, scores[i])
			after = append(after, cal.Predict(scores[i]))
		}
	}
	return ece(yTest, before, 10) > ece(yTest, after, 10)
}

// ece is NannyML's expected calibration error: sort by probability, split
// into bin_count equal-count bins (the last absorbs the remainder), and sum
// weight·|mean(p) − mean(y)|.
func ece(y []bool, p []float64, bins int) float64 {
	n := len(p)
	if n <= 2*bins {
		bins = n / 2
	}
	if bins < 1 || n < 2 {
		return 0
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] < p[idx[b]] })
	// Edges as in nannyml _get_bin_index_edges: range(0, n+1, width) with
	// the last edge replaced by n (so there can be more than `bins` bins).
	width := n / bins
	var edges []int
	for e := 0; e <= n; e += width {
		edges = append(edges, e)
	}
	edges[len(edges)-1] = n
	total := 0.0
	for b := 0; b+1 < len(edges); b++ {
		lo, hi := edges[b], edges[b+1]
		var sp, sy float64
		for _, i := range idx[lo:hi] {
			sp += p[i]
			if y[i] {
				sy++
			}
		}
		cnt := float64(hi - lo)
		total += cnt / float64(n) * math.Abs(sp/cnt-sy/cnt)
	}
	return total
}
