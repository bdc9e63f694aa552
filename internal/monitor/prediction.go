package monitor

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/ferry-ml/ferry/internal/drift"
)

// predictBatch bounds the rows of one reference prediction call.
const predictBatch = 1024

// predictionDrift compares the served model's predictions on the
// reference's rows with its logged predictions in the window, as
// Evidently compares a prediction column: a single output (a regression's
// value, a binary classifier's probability, a score) as a numerical
// column, several outputs (class probabilities) as the categorical argmax
// class. Only window rows answered by the served version (same model,
// version and number of outputs) count; without any, it returns nil and
// no error.
func (d *Drift) predictionDrift(ctx context.Context, endpoint string, ref Reference, cols map[string][]float64, window []windowRow) (*columnDrift, error) {
	sm, err := d.Model(ctx, endpoint)
	if err != nil {
		return nil, fmt.Errorf("the served model: %w", err)
	}
	if sm.Outputs < 1 || sm.Predict == nil {
		return nil, fmt.Errorf("model %s version %d: nothing to predict with (%d outputs)", sm.Model, sm.Version, sm.Outputs)
	}
	var cur []float64
	for _, w := range window {
		r := w.rec
		if r.Model != sm.Model || r.Version != sm.Version || r.Outputs != sm.Outputs || len(r.Predictions) < (w.row+1)*r.Outputs {
			continue
		}
		cur = append(cur, reduceOutputs(r.Predictions[w.row*r.Outputs:(w.row+1)*r.Outputs]))
	}
	if len(cur) == 0 {
		d.logger().Debug("monitor: no logged prediction of the served version in the window",
			"endpoint", endpoint, "model", sm.Model, "version", sm.Version)
		return nil, nil
	}
	refPred, err := d.referencePredictions(ctx, ref, cols, sm)
	if err != nil {
		return nil, err
	}
	kind, output := drift.KindNumerical, "output 0"
	if sm.Outputs > 1 {
		kind, output = drift.KindCategorical, "argmax class"
	}
	res, err := drift.Column(refPred, cur, drift.Options{Kind: kind})
	if errors.Is(err, drift.ErrNotEnoughData) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("prediction: %w", err)
	}
	return &columnDrift{name: "prediction", kind: kind, ref: refPred, cur: cur, res: res,
		model: sm.Model, version: sm.Version, output: output}, nil
}

// referencePredictions returns (once per reference and model version) the
// model's predictions on the reference's rows, reduced to one column.
func (d *Drift) referencePredictions(ctx context.Context, ref Reference, cols map[string][]float64, sm ServedModel) ([]float64, error) {
	key := predictionKey{Dataset: ref.Dataset, Version: ref.Version, Model: sm.Model, ModelV: sm.Version}
	d.mu.Lock()
	cached, ok := d.predCache[key]
	d.mu.Unlock()
	if ok {
		return cached, nil
	}
	// Predicting runs outside the lock: a slow runtime delays this
	// endpoint only. Two concurrent misses compute the same values.
	inputs := make([][]float64, len(sm.Features))
	rows := -1
	for j, name := range sm.Features {
		col, ok := cols[name]
		if !ok {
			return nil, fmt.Errorf("reference %s@%d has no numeric column %q, which model %s version %d reads",
				ref.Dataset, ref.Version, name, sm.Model, sm.Version)
		}
		inputs[j] = col
		rows = len(col)
	}
	if rows <= 0 {
		return nil, fmt.Errorf("reference %s@%d: no rows to predict", ref.Dataset, ref.Version)
	}
	nf := len(sm.Features)
	out := make([]float64, 0, rows)
	x := make([]float64, min(rows, predictBatch)*nf)
	y := make([]float64, min(rows, predictBatch)*sm.Outputs)
	for start := 0; start < rows; start += predictBatch {
		n := min(predictBatch, rows-start)
		for i := range n {
			for j := range nf {
				x[i*nf+j] = inputs[j][start+i]
			}
		}
		if err := sm.Predict(ctx, x[:n*nf], n, y[:n*sm.Outputs]); err != nil {
			return nil, fmt.Errorf("model %s version %d on reference %s@%d: %w", sm.Model, sm.Version, ref.Dataset, ref.Version, err)
		}
		for i := range n {
			out = append(out, reduceOutputs(y[i*sm.Outputs:(i+1)*sm.Outputs]))
		}
	}
	d.mu.Lock()
	if d.predCache == nil {
		d.predCache = map[predictionKey][]float64{}
	}
	d.predCache[key] = out
	d.mu.Unlock()
	return out, nil
}

// reduceOutputs is a row's compared value: its only output, or the index
// of its largest (the predicted class; NaN when every output is NaN).
func reduceOutputs(outs []float64) float64 {
	if len(outs) == 1 {
		return outs[0]
	}
	best, arg := math.Inf(-1), math.NaN()
	for i, v := range outs {
		if v > best {
			best, arg = v, float64(i)
		}
	}
	return arg
}
