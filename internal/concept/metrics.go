package concept

import (
	"math"
	"sort"
)

// Metrics are binary-classification metrics, realized (from labels) or
// expected (CBPE). Ratios whose denominator is zero are 0, as in NannyML's
// estimators. ROCAUC is NaN when undefined.
type Metrics struct {
	N                  int     `json:"n"`
	TP, FP, FN, TN     float64 `json:"-"`
	Accuracy           float64 `json:"accuracy"`
	Precision          float64 `json:"precision"`
	Recall             float64 `json:"recall"`
	Specificity        float64 `json:"specificity"`
	F1                 float64 `json:"f1"`
	ROCAUC             float64 `json:"roc_auc"`
	ExpectedPositivity float64 `json:"positive_rate"` // (TP+FN)/N
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func fromConfusion(n int, tp, fp, fn, tn float64) Metrics {
	return Metrics{
		N: n, TP: tp, FP: fp, FN: fn, TN: tn,
		Accuracy:           ratio(tp+tn, float64(n)),
		Precision:          ratio(tp, tp+fp),
		Recall:             ratio(tp, tp+fn),
		Specificity:        ratio(tn, tn+fp),
		F1:                 ratio(tp, tp+0.5*(fp+fn)),
		ExpectedPositivity: ratio(tp+fn, float64(n)),
	}
}

// Realized computes metrics from true labels. ROC AUC is the Mann-Whitney
// statistic with ties counted one half (equal to scikit-learn's
// roc_auc_score); NaN when only one class is present.
func Realized(scores []float64, preds, labels []bool) Metrics {
	var tp, fp, fn, tn float64
	for i := range labels {
		switch {
		case preds[i] && labels[i]:
			tp++
		case preds[i]:
			fp++
		case labels[i]:
			fn++
		default:
			tn++
		}
	}
	m := fromConfusion(len(labels), tp, fp, fn, tn)
	m.ROCAUC = rocAUC(scores, labels)
	return m
}

func rocAUC(scores []float64, labels []bool) float64 {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	var rankSumPos, nPos float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			j++
		}
		avgRank := float64(i+j+1) / 2 // ranks are 1-based: i+1..j
		for k := i; k < j; k++ {
			if labels[idx[k]] {
				rankSumPos += avgRank
				nPos++
			}
		}
		i = j
	}
	nNeg := float64(len(labels)) - nPos
	if nPos == 0 || nNeg == 0 {
		return math.NaN()
	}
	return (rankSumPos - nPos*(nPos+1)/2) / (nPos * nNeg)
}
