package app

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ferry-ml/ferry/internal/alert"
	"github.com/ferry-ml/ferry/internal/dataset"
	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/monitor"
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

// openAlerts reads the alert rules file (alert_rules), if any.
func openAlerts(path string, a *App) (*alert.Engine, error) {
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
	return alert.New(cfg, alert.Options{Logger: a.log, History: alert.NewMemoryHistory(10000)})
}

// MonitorTick records the system series of the traffic since the last
// tick, checks every endpoint's drift against its reference, and
// evaluates the alert rules over the points just recorded (the server
// ticks every monitor_interval).
func (a *App) MonitorTick(ctx context.Context, now time.Time) error {
	points := a.traffic.Sample()
	if len(points) > 0 {
		if err := a.store.AppendPoints(ctx, points); err != nil {
			return err
		}
	}
	drifts, err := a.drift.CheckAll(ctx)
	if err != nil {
		return err
	}
	points = append(points, drifts...)
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
