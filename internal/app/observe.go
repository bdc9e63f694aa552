package app

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	apiinference "github.com/ferry-ml/ferry/internal/api/inference"
	"github.com/ferry-ml/ferry/internal/api/middleware"
	"github.com/ferry-ml/ferry/internal/predlog"
	"github.com/ferry-ml/ferry/internal/serving"
)

// registerMetrics builds this server's Prometheus registry — the Go
// runtime and process, the inference surface, the prediction log — and
// serves it at GET /metrics.
func (a *App) registerMetrics(r *middleware.Router) (*apiinference.Metrics, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, err
	}
	if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, err
	}
	for _, c := range []struct {
		result string
		read   func(predlog.Stats) uint64
	}{
		{"logged", func(s predlog.Stats) uint64 { return s.Logged }},
		{"dropped", func(s predlog.Stats) uint64 { return s.Dropped }},
		{"failed", func(s predlog.Stats) uint64 { return s.Failed }},
		{"limited", func(s predlog.Stats) uint64 { return s.Limited }},
	} {
		read := c.read
		err := reg.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "ferry_prediction_log_records_total",
			Help:        "Prediction records by what became of them: written, dropped on a full buffer, failed, or sampled out to keep within prediction_log_max_rate.",
			ConstLabels: prometheus.Labels{"result": c.result}}, func() float64 { return float64(read(a.predlog.Stats())) }))
		if err != nil {
			return nil, err
		}
	}
	if err := reg.Register(a.tick); err != nil {
		return nil, err
	}
	m, err := apiinference.NewMetrics(reg, a.serving)
	if err != nil {
		return nil, err
	}
	r.Handle("GET /metrics", middleware.Read, promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: nil}))
	return m, nil
}

// outcomes reads the A/B analysis's logged predictions that have ground
// truth from the prediction log.
type outcomes struct{ log *predlog.Service }

// maxOutcomes bounds the predictions one A/B report reads.
const maxOutcomes = 1_000_000

func (o outcomes) Outcomes(ctx context.Context, endpoint string, since int64) ([]serving.Outcome, error) {
	var out []serving.Outcome
	q := predlog.Query{Endpoint: endpoint, Since: since, WithFeedbackOnly: true, Limit: predlog.MaxLimit}
	for len(out) < maxOutcomes {
		page, err := o.log.Predictions(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, p := range page.Predictions {
			out = append(out, serving.Outcome{Ref: serving.Ref{Model: p.Model, Version: p.Version},
				Predictions: p.Predictions, Outputs: p.Outputs, Truth: p.Truth})
		}
		if page.Next == (predlog.Cursor{}) {
			break
		}
		q.After = page.Next
	}
	return out, nil
}
