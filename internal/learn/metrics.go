package learn

import (
	"math"
	"slices"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// The metrics below reproduce scikit-learn 1.2's functions of the same
// name on the same inputs (to rounding, ~1e-15): labels are class indices
// as float64, scores are probabilities. Every function returns an
// InvalidArgument error on mismatched lengths, empty input or an input on
// which scikit-learn raises.

func checkPair(yTrue, other []float64, what string) error {
	if len(yTrue) == 0 {
		return errdefs.InvalidArgument("%s: no samples", what)
	}
	if len(other) != len(yTrue) {
		return errdefs.InvalidArgument("%s: %d labels but %d predictions", what, len(yTrue), len(other))
	}
	return nil
}

// Accuracy is accuracy_score: the fraction of exact matches.
func Accuracy(yTrue, yPred []float64) (float64, error) {
	if err := checkPair(yTrue, yPred, "accuracy"); err != nil {
		return 0, err
	}
	n := 0
	for i := range yTrue {
		if yTrue[i] == yPred[i] {
			n++
		}
	}
	return float64(n) / float64(len(yTrue)), nil
}

// prf is precision, recall and F1 of one label with scikit-learn's
// zero_division=0 rule and its F formula.
func prf(tp, predicted, actual float64) (p, r, f float64) {
	if predicted > 0 {
		p = tp / predicted
	}
	if actual > 0 {
		r = tp / actual
	}
	denom := p + r
	if denom == 0 {
		denom = 1
	}
	return p, r, 2 * p * r / denom
}

// BinaryPRF returns precision_score, recall_score and f1_score of class 1
// (average="binary"). An undefined ratio is 0, as scikit-learn's default
// zero_division gives (with a warning there).
func BinaryPRF(yTrue, yPred []float64) (precision, recall, f1 float64, err error) {
	if err := checkPair(yTrue, yPred, "precision/recall"); err != nil {
		return 0, 0, 0, err
	}
	var tp, pred, act float64
	for i := range yTrue {
		t, p := yTrue[i] == 1, yPred[i] == 1
		if t && p {
			tp++
		}
		if p {
			pred++
		}
		if t {
			act++
		}
	}
	precision, recall, f1 = prf(tp, pred, act)
	return precision, recall, f1, nil
}

// MacroPRF returns precision_score, recall_score and f1_score with
// average="macro": the unweighted mean over the labels present in yTrue
// or yPred of each label's precision, recall and F1.
func MacroPRF(yTrue, yPred []float64) (precision, recall, f1 float64, err error) {
	if err := checkPair(yTrue, yPred, "precision/recall"); err != nil {
		return 0, 0, 0, err
	}
	labels := slices.Concat(yTrue, yPred)
	slices.Sort(labels)
	labels = slices.Compact(labels)
	tp := make(map[float64]float64, len(labels))
	pred := make(map[float64]float64, len(labels))
	act := make(map[float64]float64, len(labels))
	for i := range yTrue {
		if yTrue[i] == yPred[i] {
			tp[yTrue[i]]++
		}
		pred[yPred[i]]++
		act[yTrue[i]]++
	}
	for _, l := range labels {
		p, r, f := prf(tp[l], pred[l], act[l])
		precision += p
		recall += r
		f1 += f
	}
	n := float64(len(labels))
	return precision / n, recall / n, f1 / n, nil
}

// clfCurve is scikit-learn's _binary_clf_curve: for each distinct score,
// highest first, the false and true positives at or above it.
func clfCurve(yTrue, score []float64) (fps, tps []float64, err error) {
	order := make([]int, len(score))
	for i := range order {
		order[i] = i
		if math.IsNaN(score[i]) {
			return nil, nil, errdefs.InvalidArgument("score of row %d is NaN", i)
		}
		if yTrue[i] != 0 && yTrue[i] != 1 {
			return nil, nil, errdefs.InvalidArgument("label of row %d is %v, want 0 or 1", i, yTrue[i])
		}
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case score[a] > score[b]:
			return -1
		case score[a] < score[b]:
			return 1
		}
		return 0
	})
	var tp float64
	for k, i := range order {
		tp += yTrue[i]
		if k == len(order)-1 || score[order[k+1]] != score[i] {
			tps = append(tps, tp)
			fps = append(fps, float64(k+1)-tp)
		}
	}
	return fps, tps, nil
}

// ROCAUC is roc_auc_score for binary labels (0/1) and scores of class 1:
// the trapezoidal area under the ROC curve, tied scores forming one point
// (so a tie counts half). It is an error when yTrue holds one class only.
func ROCAUC(yTrue, score []float64) (float64, error) {
	if err := checkPair(yTrue, score, "roc_auc"); err != nil {
		return 0, err
	}
	fps, tps, err := clfCurve(yTrue, score)
	if err != nil {
		return 0, err
	}
	// roc_curve(drop_intermediate=True): keep the ends and the corners.
	var fx, ty []float64
	for i := range fps {
		if i == 0 || i == len(fps)-1 ||
			fps[i-1]-2*fps[i]+fps[i+1] != 0 || tps[i-1]-2*tps[i]+tps[i+1] != 0 {
			fx = append(fx, fps[i])
			ty = append(ty, tps[i])
		}
	}
	fx = append([]float64{0}, fx...)
	ty = append([]float64{0}, ty...)
	P, N := ty[len(ty)-1], fx[len(fx)-1]
	if P == 0 || N == 0 {
		return 0, errdefs.InvalidArgument("roc_auc: only one class present in y_true; ROC AUC is not defined")
	}
	var area float64
	for i := 1; i < len(fx); i++ {
		x0, x1 := fx[i-1]/N, fx[i]/N
		y0, y1 := ty[i-1]/P, ty[i]/P
		area += (x1 - x0) * (y1 + y0) / 2
	}
	return area, nil
}

// AveragePrecision is average_precision_score for binary labels and
// scores of class 1: Σ (R_n − R_{n−1}) P_n over the distinct thresholds.
// It is an error when yTrue has no positive.
func AveragePrecision(yTrue, score []float64) (float64, error) {
	if err := checkPair(yTrue, score, "average_precision"); err != nil {
		return 0, err
	}
	fps, tps, err := clfCurve(yTrue, score)
	if err != nil {
		return 0, err
	}
	P := tps[len(tps)-1]
	if P == 0 {
		return 0, errdefs.InvalidArgument("average_precision: no positive sample in y_true")
	}
	var ap, prevR float64
	for i := range tps {
		r := tps[i] / P
		var p float64
		if ps := tps[i] + fps[i]; ps != 0 {
			p = tps[i] / ps
		}
		ap += (r - prevR) * p
		prevR = r
	}
	return ap, nil
}

// ovr applies a binary ranking metric to each class against the rest and
// returns the unweighted mean. score holds k values per row.
func ovr(yTrue, score []float64, k int, what string, metric func(y, s []float64) (float64, error)) (float64, error) {
	n := len(yTrue)
	if n == 0 {
		return 0, errdefs.InvalidArgument("%s: no samples", what)
	}
	if k < 2 || len(score) != n*k {
		return 0, errdefs.InvalidArgument("%s: want %d rows × %d class scores, got %d values", what, n, k, len(score))
	}
	seen := make([]bool, k)
	for i, v := range yTrue {
		if v < 0 || v >= float64(k) || v != math.Trunc(v) {
			return 0, errdefs.InvalidArgument("%s: label of row %d is %v, want a class index below %d", what, i, v, k)
		}
		seen[int(v)] = true
	}
	if slices.Contains(seen, false) {
		return 0, errdefs.InvalidArgument("%s: y_true does not hold every one of the %d classes", what, k)
	}
	yc := make([]float64, n)
	sc := make([]float64, n)
	var sum float64
	for c := range k {
		for i := range n {
			yc[i] = 0
			if yTrue[i] == float64(c) {
				yc[i] = 1
			}
			sc[i] = score[i*k+c]
		}
		m, err := metric(yc, sc)
		if err != nil {
			return 0, err
		}
		sum += m
	}
	return sum / float64(k), nil
}

// ROCAUCOvR is roc_auc_score(multi_class="ovr", average="macro"): score
// holds k class probabilities per row, each row summing to 1, and yTrue
// must hold every class.
func ROCAUCOvR(yTrue, score []float64, k int) (float64, error) {
	for i := 0; k > 0 && i+k <= len(score); i += k {
		var s float64
		for _, v := range score[i : i+k] {
			s += v
		}
		if math.Abs(s-1) > 1e-5+1e-8 { // numpy.allclose(1, sum)
			return 0, errdefs.InvalidArgument("roc_auc: the class probabilities of row %d sum to %v, not 1", i/k, s)
		}
	}
	return ovr(yTrue, score, k, "roc_auc", ROCAUC)
}

// AveragePrecisionOvR is the macro average of AveragePrecision of each
// class against the rest, as average_precision_score gives on
// label_binarize(yTrue) (scikit-learn 1.3 does this for multiclass
// targets itself; 1.2 needs the binarized labels).
func AveragePrecisionOvR(yTrue, score []float64, k int) (float64, error) {
	return ovr(yTrue, score, k, "average_precision", AveragePrecision)
}

// LogLossEps is the clipping bound of LogLoss: scikit-learn 1.2's default
// eps="auto", numpy.finfo(float64).eps. (Before 1.2 the default was 1e-15.)
const LogLossEps = 0x1p-52

// LogLoss is log_loss with labels=range(k): prob holds, per row, the
// probability of class 1 when k == 2 and len(prob) == len(yTrue), or k
// class probabilities. Probabilities are clipped to [eps, 1−eps] with eps
// = LogLossEps and each row renormalised to sum to 1, as scikit-learn does.
func LogLoss(yTrue, prob []float64, k int) (float64, error) {
	n := len(yTrue)
	if n == 0 {
		return 0, errdefs.InvalidArgument("log_loss: no samples")
	}
	if k < 2 {
		return 0, errdefs.InvalidArgument("log_loss: needs at least 2 classes, got %d", k)
	}
	binary := k == 2 && len(prob) == n
	if !binary && len(prob) != n*k {
		return 0, errdefs.InvalidArgument("log_loss: want %d rows × %d probabilities, got %d values", n, k, len(prob))
	}
	row := make([]float64, k)
	var total float64
	for i, y := range yTrue {
		if y < 0 || y >= float64(k) || y != math.Trunc(y) {
			return 0, errdefs.InvalidArgument("log_loss: label of row %d is %v, want a class index below %d", i, y, k)
		}
		if binary {
			p := clip(prob[i])
			row[0], row[1] = 1-p, p
		} else {
			for c := range k {
				row[c] = clip(prob[i*k+c])
			}
		}
		var s float64
		for _, v := range row {
			if math.IsNaN(v) {
				return 0, errdefs.InvalidArgument("log_loss: probability of row %d is NaN", i)
			}
			s += v
		}
		total += -math.Log(row[int(y)] / s)
	}
	return total / float64(n), nil
}

func clip(p float64) float64 { return min(max(p, LogLossEps), 1-LogLossEps) }

// RMSE is the square root of mean_squared_error.
func RMSE(yTrue, yPred []float64) (float64, error) {
	if err := checkPair(yTrue, yPred, "rmse"); err != nil {
		return 0, err
	}
	var s float64
	for i := range yTrue {
		d := yTrue[i] - yPred[i]
		s += d * d
	}
	return math.Sqrt(s / float64(len(yTrue))), nil
}

// MAE is mean_absolute_error.
func MAE(yTrue, yPred []float64) (float64, error) {
	if err := checkPair(yTrue, yPred, "mae"); err != nil {
		return 0, err
	}
	var s float64
	for i := range yTrue {
		s += math.Abs(yTrue[i] - yPred[i])
	}
	return s / float64(len(yTrue)), nil
}

// R2 is r2_score: 1 − SS_res/SS_tot; with constant yTrue it is 1 for a
// perfect prediction and 0 otherwise (force_finite=True).
func R2(yTrue, yPred []float64) (float64, error) {
	if err := checkPair(yTrue, yPred, "r2"); err != nil {
		return 0, err
	}
	var mean float64
	for _, v := range yTrue {
		mean += v
	}
	mean /= float64(len(yTrue))
	var res, tot float64
	for i := range yTrue {
		d := yTrue[i] - yPred[i]
		res += d * d
		e := yTrue[i] - mean
		tot += e * e
	}
	switch {
	case tot != 0:
		return 1 - res/tot, nil
	case res == 0:
		return 1, nil
	}
	return 0, nil
}
