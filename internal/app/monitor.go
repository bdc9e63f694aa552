package app

import (
	"context"
	"io"
	"time"

	"github.com/ferry-ml/ferry/internal/alert"
	"github.com/ferry-ml/ferry/internal/dataset"
	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/monitor"
	"github.com/ferry-ml/ferry/internal/pipeline"
	"github.com/ferry-ml/ferry/internal/serving"
	"github.com/ferry-ml/ferry/internal/tracking"
)

// datasetFiles opens dataset versions of the artifact store as CSV (the
// monitor's references).
type datasetFiles struct{ a *App }

func (f datasetFiles) OpenCSV(ctx context.Context, name string, version int64) (io.ReadCloser, error) {
	v, err := f.a.store.GetDatasetVersion(ctx, name, version)
	if err != nil {
		return nil, err
	}
	key, ok := tracking.ArtifactKey(v.Source)
	if !ok {
		return nil, errdefs.InvalidArgument("dataset %s version %d is outside the artifact store", name, version)
	}
	rc, _, err := f.a.artifacts.Get(ctx, key)
	if err != nil || v.Format != "parquet" {
		return rc, err
	}
	defer rc.Close()
	return dataset.ParquetStreamToCSV(ctx, rc)
}

// triggerPipeline starts a run of a registered pipeline for a firing
// alert group (a pipeline channel): the registered parameters, overridden
// by the channel's. The start is in the audit trail, by the alert.
func (a *App) triggerPipeline(ctx context.Context, req alert.TriggerRequest) (string, error) {
	// Once per firing episode, across restarts too: a run started for the
	// group since its last resolution is enough.
	evs, err := a.store.ListAlertEvents(ctx, alert.HistoryQuery{Group: req.Group, Kind: alert.EventNotification, Limit: alert.MaxHistoryLimit})
	if err != nil {
		return "", err
	}
	for _, e := range evs { // newest first
		if e.Status == alert.StatusResolved {
			break
		}
		if e.Target != "" {
			a.log.Info("pipeline not started again: this firing episode started one", "pipeline", req.Pipeline, "run", e.Target, "group", req.Group)
			return "", nil
		}
	}
	var run pipeline.RunRecord
	err = a.auditAs(ctx, "alert:"+req.Rule, "alert.trigger_pipeline", req.Group, func(ctx context.Context) (err error) {
		run, err = a.scheduler.Start(ctx, req.Pipeline, req.Params)
		return err
	})
	if err != nil {
		return "", err
	}
	a.log.Info("pipeline started by an alert", "pipeline", req.Pipeline, "run", run.ID, "rule", req.Rule, "group", req.Group)
	return pipeline.RunURI(run.ID), nil
}

// alertSubjects names the lineage nodes an alert group's labels refer to.
func alertSubjects(labels map[string]string) []string {
	if e, ok := labels["endpoint"]; ok && serving.ValidateEndpoint(e) == nil {
		return []string{serving.URI(e)}
	}
	return nil
}

// MonitorTick records the system series of the traffic since the last
// tick, checks every endpoint's drift against its reference, measures
// each served version against its ground truth (monitor.Performance), and
// evaluates the alert rules over the points just recorded (the server
// ticks every monitor_interval).
func (a *App) MonitorTick(ctx context.Context, now time.Time) error {
	var points []monitor.Point
	if a.traffic != nil {
		points = a.traffic.Sample()
	}
	if len(points) > 0 {
		if err := a.store.AppendPoints(ctx, points); err != nil {
			return err
		}
	}
	t0 := time.Now()
	drifts, err := a.drift.CheckAll(ctx)
	if err != nil {
		return err
	}
	points = append(points, drifts...)
	t1 := time.Now()
	perf, err := a.perf.CheckAll(ctx)
	if err != nil {
		return err
	}
	points = append(points, perf...)
	a.log.Debug("monitor tick", "points", len(points), "drift_ms", t1.Sub(t0).Milliseconds(),
		"performance_ms", time.Since(t1).Milliseconds())
	a.tick.set(points)
	e := a.alerts.engine()
	if e == nil {
		return nil
	}
	samples := make([]alert.Sample, len(points))
	for i, p := range points {
		samples[i] = alert.Sample{Series: p.Series, Labels: p.Labels, Value: p.Value, Time: time.UnixMilli(p.Time)}
	}
	return e.Evaluate(ctx, now, samples)
}

// Alerts returns the alert engine in force (nil without rules).
func (a *App) Alerts() *alert.Engine { return a.alerts.engine() }

// runMonitor ticks until ctx ends.
func (a *App) runMonitor(ctx context.Context) {
	t := time.NewTicker(a.cfg.MonitorInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if err := a.MonitorTick(context.WithoutCancel(ctx), now); err != nil {
				a.log.Error("monitor", "error", err.Error())
			}
		}
	}
}

var _ monitor.DatasetFiles = datasetFiles{}
