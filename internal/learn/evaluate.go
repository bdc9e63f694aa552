package learn

import (
	"github.com/ferry-ml/ferry/internal/errdefs"
)

// Metric names, as scikit-learn and MLflow users know them.
const (
	MetricAccuracy  = "accuracy"
	MetricPrecision = "precision"
	MetricRecall    = "recall"
	MetricF1        = "f1"
	MetricROCAUC    = "roc_auc"
	MetricPRAUC     = "pr_auc"
	MetricLogLoss   = "log_loss"
	MetricRMSE      = "rmse"
	MetricMAE       = "mae"
	MetricR2        = "r2"
)

// Evaluate scores a model's output on labelled rows and names each metric:
//
//   - Regression: out holds one prediction per row; rmse, mae, r2.
//   - Binary: out holds P(class 1) per row; the predicted class is 1 when
//     P > 0.5 (as scikit-learn's predict). accuracy, precision, recall, f1
//     (of class 1), roc_auc, pr_auc (average precision), log_loss.
//   - Multiclass: out holds k = len(out)/len(yTrue) probabilities per row;
//     the predicted class is the first most probable. accuracy, macro
//     precision, recall and f1, roc_auc (one-vs-rest macro), pr_auc
//     (one-vs-rest macro average precision), log_loss.
//
// roc_auc and pr_auc are left out when yTrue lacks a class they need (a
// test set with one class only), as they are not defined there.
func Evaluate(task Task, yTrue, out []float64) (map[string]float64, error) {
	n := len(yTrue)
	if n == 0 {
		return nil, errdefs.InvalidArgument("evaluate: no samples")
	}
	m := map[string]float64{}
	put := func(name string) func(float64, error) error {
		return func(v float64, err error) error {
			if err == nil {
				m[name] = v
			}
			return err
		}
	}
	switch task {
	case Regression:
		rmse, err := RMSE(yTrue, out)
		if err != nil {
			return nil, err
		}
		m[MetricRMSE] = rmse
		mae, _ := MAE(yTrue, out)
		r2, _ := R2(yTrue, out)
		m[MetricMAE], m[MetricR2] = mae, r2
		return m, nil
	case Binary:
		if len(out) != n {
			return nil, errdefs.InvalidArgument("evaluate: %d labels but %d probabilities", n, len(out))
		}
		pred := make([]float64, n)
		for i, p := range out {
			if p > 0.5 {
				pred[i] = 1
			}
		}
		if err := put(MetricLogLoss)(LogLoss(yTrue, out, 2)); err != nil {
			return nil, err
		}
		acc, _ := Accuracy(yTrue, pred)
		p, r, f, _ := BinaryPRF(yTrue, pred)
		m[MetricAccuracy], m[MetricPrecision], m[MetricRecall], m[MetricF1] = acc, p, r, f
		_ = put(MetricROCAUC)(ROCAUC(yTrue, out))
		_ = put(MetricPRAUC)(AveragePrecision(yTrue, out))
		return m, nil
	case Multiclass:
		if len(out)%n != 0 || len(out)/n < 2 {
			return nil, errdefs.InvalidArgument("evaluate: %d probabilities are not k ≥ 2 per row for %d rows", len(out), n)
		}
		k := len(out) / n
		if err := put(MetricLogLoss)(LogLoss(yTrue, out, k)); err != nil {
			return nil, err
		}
		pred := make([]float64, n)
		for i := range n {
			best := 0
			for c := 1; c < k; c++ {
				if out[i*k+c] > out[i*k+best] {
					best = c
				}
			}
			pred[i] = float64(best)
		}
		acc, _ := Accuracy(yTrue, pred)
		p, r, f, _ := MacroPRF(yTrue, pred)
		m[MetricAccuracy], m[MetricPrecision], m[MetricRecall], m[MetricF1] = acc, p, r, f
		_ = put(MetricROCAUC)(ROCAUCOvR(yTrue, out, k))
		_ = put(MetricPRAUC)(AveragePrecisionOvR(yTrue, out, k))
		return m, nil
	}
	return nil, errdefs.InvalidArgument("evaluate: unsupported task %q", task)
}
