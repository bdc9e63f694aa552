package app

import (
	"context"
	"strconv"
	"time"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/monitor"
	"github.com/ferry-ml/ferry/internal/monitor/report"
)

// servedModel is the model version an endpoint's stable variant serves,
// for the monitor's prediction drift (monitor.Drift.Model). Its
// predictions are the endpoint's answers (probabilities, not margins).
func (a *App) servedModel(ctx context.Context, endpoint string) (monitor.ServedModel, error) {
	e, err := a.serving.Endpoint(ctx, endpoint)
	if err != nil {
		return monitor.ServedModel{}, err
	}
	v := e.Stable
	if v == nil || v.Loaded == nil {
		return monitor.ServedModel{}, errdefs.Unavailable("Endpoint '%s' has no stable version loaded", endpoint)
	}
	names := make([]string, len(v.Sig.Inputs))
	for i, f := range v.Sig.Inputs {
		names[i] = f.Name
		if names[i] == "" {
			names[i] = "f" + strconv.Itoa(i) // as the prediction log names them
		}
	}
	return monitor.ServedModel{Model: v.Model, Version: v.Version, Features: names, Outputs: v.Sig.Outputs,
		Predict: func(ctx context.Context, x []float64, rows int, out []float64) error {
			return v.Predict(ctx, x, rows, out, false)
		}}, nil
}

// driftReports answers the API's drift reports from the app's monitor
// (built after the API surface).
type driftReports struct{ a *App }

func (r driftReports) Report(ctx context.Context, endpoint string, from, to time.Time) (report.Report, error) {
	return r.a.drift.Report(ctx, endpoint, from, to)
}
