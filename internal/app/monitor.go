package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/ferry-ml/ferry/internal/alert"
	"github.com/ferry-ml/ferry/internal/api/middleware"
	"github.com/ferry-ml/ferry/internal/audit"
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
	tmp, err := os.CreateTemp("", "ferry-reference-*.parquet")
	if err != nil {
		return nil, err
	}
	n, err := io.Copy(tmp, rc)
	if err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, err
	}
	pr, pw := io.Pipe()
	go func() {
		err := dataset.ParquetToCSV(ctx, tmp, n, pw)
		tmp.Close()
		os.Remove(tmp.Name())
		pw.CloseWithError(err)
	}()
	return pr, nil
}

// openAlerts reads the alert rules file (alert_rules), if any: the
// engine records its history in the store, starts pipelines for pipeline
// channels and is given the stored silences.
func openAlerts(ctx context.Context, path string, a *App) (*alert.Engine, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("alert_rules: %w", err)
	}
	cfg, err := alert.ParseRules(b)
	if err != nil {
		return nil, fmt.Errorf("alert_rules %s: %w", path, err)
	}
	e, err := alert.New(cfg, alert.Options{Logger: a.log, History: a.store, Trigger: a.triggerPipeline})
	if err != nil {
		return nil, err
	}
	silences, err := a.store.ListSilences(ctx)
	if err != nil {
		return nil, errors.Join(err, e.Close(ctx))
	}
	for _, s := range silences {
		if err := e.AddSilence(s); err != nil {
			return nil, errors.Join(err, e.Close(ctx))
		}
	}
	return e, nil
}

// triggerPipeline starts a run of a registered pipeline for a firing
// alert group (a pipeline channel): the registered parameters, overridden
// by the channel's. The start is in the audit trail, by the alert.
func (a *App) triggerPipeline(ctx context.Context, req alert.TriggerRequest) (string, error) {
	ps, err := a.store.ListPipelines(ctx)
	if err != nil {
		return "", err
	}
	i := slices.IndexFunc(ps, func(p pipeline.Registered) bool { return p.Name == req.Pipeline })
	if i < 0 {
		return "", errdefs.NotFound("No registered pipeline named '%s' (ferry pipeline register).", req.Pipeline)
	}
	p := ps[i]
	params := maps.Clone(p.Params)
	if params == nil {
		params = map[string]string{}
	}
	maps.Copy(params, req.Params)
	actor := "alert:" + req.Rule
	nctx, notes := audit.WithNotes(ctx, actor)
	run, err := a.pipelines.Submit(nctx, p.Spec, p.Workdir, params)
	status := http.StatusOK
	if err != nil {
		status = middleware.StatusOf(err)
	}
	base := audit.Event{Actor: actor, Action: "alert.trigger_pipeline", Resource: req.Group, Status: status}
	if aerr := a.audit.Append(ctx, audit.RequestEvents(base, notes.Changes())...); aerr != nil {
		a.log.Error("audit failed", "action", "alert.trigger_pipeline", "error", aerr.Error())
	}
	if err != nil {
		return "", err
	}
	a.log.Info("pipeline started by an alert", "pipeline", p.Name, "run", run.ID, "rule", req.Rule, "group", req.Group)
	return pipeline.RunURI(run.ID), nil
}

// alertService is the alerting the API exposes: the engine's state, the
// stored history, silences kept in the store and in force in the engine.
type alertService struct {
	e     *alert.Engine
	store alertStore
}

type alertStore interface {
	alert.HistoryReader
	PutSilence(ctx context.Context, s alert.Silence) error
	DeleteSilence(ctx context.Context, id string) error
	ListSilences(ctx context.Context) ([]alert.Silence, error)
}

func (s alertService) Rules() []alert.Rule   { return s.e.Rules() }
func (s alertService) Active() []alert.Alert { return s.e.Alerts() }
func (s alertService) History(ctx context.Context, q alert.HistoryQuery) ([]alert.Event, error) {
	return s.store.ListAlertEvents(ctx, q)
}
func (s alertService) Silences(ctx context.Context) ([]alert.Silence, error) {
	return s.store.ListSilences(ctx)
}
func (s alertService) AddSilence(ctx context.Context, sl alert.Silence) error {
	if err := s.store.PutSilence(ctx, sl); err != nil {
		return err
	}
	return s.e.AddSilence(sl)
}
func (s alertService) RemoveSilence(ctx context.Context, id string) error {
	if err := s.store.DeleteSilence(ctx, id); err != nil {
		return err
	}
	if err := s.e.RemoveSilence(id); err != nil && !errors.Is(err, errdefs.ErrNotFound) {
		return err
	}
	return nil
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
	if a.alerts == nil {
		return nil
	}
	samples := make([]alert.Sample, len(points))
	for i, p := range points {
		samples[i] = alert.Sample{Series: p.Series, Labels: p.Labels, Value: p.Value, Time: time.UnixMilli(p.Time)}
	}
	return a.alerts.Evaluate(ctx, now, samples)
}

// Alerts returns the alert engine (nil without alert_rules).
func (a *App) Alerts() *alert.Engine { return a.alerts }

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
