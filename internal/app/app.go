// Package app wires Ferry together: it opens the stores the configuration
// names, builds the domain services and the HTTP surfaces over them, and
// runs the server until its context ends, draining in-flight requests.
// It is the only package that knows every concrete implementation.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ferry-ml/ferry/internal/alert"
	apiinference "github.com/ferry-ml/ferry/internal/api/inference"
	"github.com/ferry-ml/ferry/internal/api/middleware"
	"github.com/ferry-ml/ferry/internal/api/mlflow"
	v1 "github.com/ferry-ml/ferry/internal/api/v1"
	"github.com/ferry-ml/ferry/internal/audit"
	"github.com/ferry-ml/ferry/internal/blob"
	"github.com/ferry-ml/ferry/internal/blob/fs"
	"github.com/ferry-ml/ferry/internal/config"
	"github.com/ferry-ml/ferry/internal/dataset"
	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/governance"
	"github.com/ferry-ml/ferry/internal/lineage"
	"github.com/ferry-ml/ferry/internal/monitor"
	"github.com/ferry-ml/ferry/internal/pipeline"
	"github.com/ferry-ml/ferry/internal/pipeline/ops"
	"github.com/ferry-ml/ferry/internal/predlog"
	"github.com/ferry-ml/ferry/internal/registry"
	"github.com/ferry-ml/ferry/internal/serving"
	"github.com/ferry-ml/ferry/internal/store/postgres"
	"github.com/ferry-ml/ferry/internal/store/sqlite"
	"github.com/ferry-ml/ferry/internal/store/sqlstore"
	"github.com/ferry-ml/ferry/internal/tracking"
)

// Version is Ferry's version, set at build time with
// -ldflags "-X github.com/ferry-ml/ferry/internal/app.Version=...".
var Version = "0.1.0-dev"

// App is a wired Ferry server.
type App struct {
	cfg        config.Config
	log        *slog.Logger
	store      *sqlstore.Store
	artifacts  blob.Store
	audit      *audit.Log
	tracking   *tracking.Service
	registry   *registry.Service
	governance *governance.Service
	serving    *serving.Service
	predlog    *predlog.Logger
	pipelines  *pipeline.Queue
	scheduler  *pipeline.Scheduler
	traffic    *monitor.Traffic
	drift      *monitor.Drift
	perf       *monitor.Performance
	alerts     *alerting
	tick       *lastTick // the last monitor tick's points, for /metrics
	handler    http.Handler
}

// New opens storage and builds the services and HTTP handler.
func New(ctx context.Context, cfg config.Config, log *slog.Logger) (*App, error) {
	a := &App{cfg: cfg, log: log}
	var err error
	switch {
	case cfg.DB == "":
		a.store, err = sqlite.Open(ctx, cfg.SQLitePath(), sqlite.Options{Synchronous: cfg.SQLiteSync})
	default:
		a.store, err = postgres.Open(ctx, cfg.DB, cfg.DBMaxConns)
	}
	if err != nil {
		return nil, err
	}
	fsStore, err := fs.New(cfg.ArtifactsPath())
	if err != nil {
		a.store.Close()
		return nil, fmt.Errorf("artifacts: %w", err)
	}
	a.artifacts = fsStore
	if a.audit, err = openAudit(cfg, a.store, log); err != nil {
		a.Close()
		return nil, err
	}
	a.tracking = tracking.NewService(a.store, a.artifacts, tracking.Options{ArtifactRoot: tracking.ArtifactScheme})
	if err := a.tracking.Init(ctx); err != nil {
		a.Close()
		return nil, fmt.Errorf("init tracking: %w", err)
	}
	a.registry = registry.NewService(a.store, a.tracking, registry.Options{AllowSelfApproval: cfg.SelfApproval})
	graph := lineage.New(
		lineage.TrackingSource{Runs: a.tracking, Datasets: a.store},
		lineage.RegistrySource{Versions: a.registry},
	)
	a.governance, err = governance.New(a.registry, a.store, a.tracking, governance.Options{
		PolicyFile: cfg.PolicyFile, Artifacts: a.artifacts, Lineage: graph, History: a.audit, Logger: log,
	})
	if err != nil {
		a.Close()
		return nil, err
	}
	a.registry.SetGate(a.governance)
	maxRate := float64(cfg.PredictionMaxRate)
	if maxRate == 0 {
		maxRate = -1 // no bound
	}
	a.predlog = predlog.New(a.store, predlog.Options{SampleRate: cfg.PredictionSampleRate, MaxRate: maxRate, Logger: log})
	predictions := predlog.NewService(a.store)
	loader := serving.RuntimeLoader{Native: serving.ArtifactLoader{Artifacts: a.artifacts}, Artifacts: a.artifacts,
		WorkDir: filepath.Join(cfg.DataDir, "runtimes"), Logger: log}
	a.serving = serving.New(a.store, a.registry, loader,
		serving.Options{Gate: a.governance, Audit: a.audit, Outcomes: outcomes{predictions}, Logger: log, Tick: cfg.RolloutTick})
	if err := a.serving.Start(ctx); err != nil {
		a.Close()
		return nil, err
	}
	graph.Add(serving.LineageSource{Service: a.serving})
	graph.Add(pipeline.LineageSource{Store: a.store})
	graph.Add(alert.LineageSource{History: a.store, Subjects: alertSubjects})

	router := middleware.NewRouter(middleware.RouterConfig{Logger: log, MaxBodyBytes: cfg.MaxBodyBytes,
		Auditor: auditor{log: a.audit, sync: a.store.Sync}})
	mlflow.New(a.tracking, a.artifacts, mlflow.Options{Logger: log, MaxBodyBytes: cfg.MaxBodyBytes,
		Registry: a.registry}).Register(router)
	// Submitted runs are checked against every operation a worker offers.
	a.pipelines = &pipeline.Queue{Store: a.store, Ops: ops.WithServer(ops.Learning(), nil)}
	a.scheduler = &pipeline.Scheduler{Store: a.store, Queue: a.pipelines, Log: log}
	datasets := &dataset.Versions{Store: a.store, Now: func() int64 { return time.Now().UnixMilli() },
		Open: func(ctx context.Context, source string) (io.ReadCloser, error) {
			key, ok := tracking.ArtifactKey(source)
			if !ok {
				return nil, errdefs.InvalidArgument("A dataset's source must be in this server's artifact store (mlflow-artifacts:/...), got %q.", source)
			}
			rc, _, err := a.artifacts.Get(ctx, key)
			return rc, err
		},
		OnAdded: func(ctx context.Context, v dataset.Version) { a.scheduler.DatasetAdded(ctx, v.Name) },
	}
	a.alerts = &alerting{a: a, file: cfg.AlertRules}
	a.tick = &lastTick{alerts: a.alerts}
	if err := a.alerts.open(ctx); err != nil {
		a.Close()
		return nil, err
	}
	a.perf = &monitor.Performance{Window: cfg.PerformanceWindow, Log: a.store, Endpoints: servedVersions{a.serving}, Tasks: servedVersions{a.serving},
		Store: a.store, Logger: log}
	v1.New(v1.Options{Performance: a.perf, Alerts: a.alerts, Registry: a.registry, Governance: a.governance, Lineage: graph, Audit: a.audit,
		Serving: a.serving, Predictions: predictions, Datasets: datasets, Logger: log,
		Pipelines: a.pipelines, Scheduler: a.scheduler, Monitor: a.store, References: references{a}, DriftSettings: a.store,
		Reports: driftReports{a},
	}).Register(router)
	metrics, err := a.registerMetrics(router)
	if err != nil {
		a.Close()
		return nil, err
	}
	// monitor_interval 0 turns monitoring off: no traffic windows on the
	// request path, no ticks.
	var traffic apiinference.Traffic
	if cfg.MonitorInterval > 0 {
		a.traffic = monitor.NewTraffic(nil)
		traffic = a.traffic
	}
	a.drift = &monitor.Drift{Refs: references{a}, Settings: a.store, Log: a.store, Files: datasetFiles{a}, Store: a.store, Logger: log,
		Model: a.servedModel}
	apiinference.New(a.serving, Version, apiinference.Options{Logger: log, Metrics: metrics, Predictions: a.predlog,
		Traffic: traffic}).Register(router)
	a.handler = middleware.Chain(
		middleware.RequestIDs(),
		middleware.AccessLog(log),
		middleware.Recover(log, nil),
	)(router)
	return a, nil
}

// Handler is the whole HTTP surface.
func (a *App) Handler() http.Handler { return a.handler }

// ReloadPolicy reads the global policy file again, on behalf of actor
// (a signal, say); on error the policy in force stays. The attempt is
// appended to the audit trail either way.
func (a *App) ReloadPolicy(ctx context.Context, actor string) error {
	return a.auditAs(ctx, actor, "reload_policy", governance.GlobalPolicyResource, a.governance.ReloadPolicy)
}

// auditAs runs f on behalf of actor outside any request and appends the
// attempt to the audit trail either way: one event per change f noted,
// or one for the action itself.
func (a *App) auditAs(ctx context.Context, actor, action, resource string, f func(context.Context) error) error {
	nctx, notes := audit.WithNotes(ctx, actor)
	err := f(nctx)
	status := http.StatusOK
	if err != nil {
		status = middleware.StatusOf(err)
	}
	base := audit.Event{Actor: actor, Action: action, Resource: resource, Status: status}
	if aerr := a.audit.Append(ctx, audit.RequestEvents(base, notes.Changes())...); aerr != nil {
		a.log.Error("audit failed", "action", action, "error", aerr.Error())
	}
	return err
}

// Close stops serving, writes the buffered prediction log and releases
// storage.
func (a *App) Close() error {
	var err error
	if a.serving != nil {
		err = a.serving.Close()
	}
	if a.alerts != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = errors.Join(err, a.alerts.close(ctx))
		cancel()
	}
	if a.predlog != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = errors.Join(err, a.predlog.Close(ctx))
		cancel()
	}
	if a.audit != nil {
		err = errors.Join(err, a.audit.Close())
	}
	err = errors.Join(err, a.store.Close())
	if c, ok := a.artifacts.(io.Closer); ok {
		err = errors.Join(err, c.Close())
	}
	return err
}

// Serve answers on ln until ctx ends, then stops accepting, waits up to
// the shutdown timeout for in-flight requests and returns. Writes are
// committed before they are acknowledged, so a drained shutdown loses
// nothing that a client was told had succeeded.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: a.cfg.ReadHeaderTimeout,
		IdleTimeout:       a.cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	stopExecutor := a.StartExecutor(context.WithoutCancel(ctx), "http://"+ln.Addr().String())
	defer stopExecutor()
	go a.scheduler.Run(ctx)
	if a.cfg.MonitorInterval > 0 {
		go a.runMonitor(ctx)
	}
	// Monitored points, the alert history and ended silences are kept
	// monitor_retention.
	prune := func(ctx context.Context, before int64) (int64, error) {
		n, err := a.store.DeletePointsBefore(ctx, before)
		if err != nil {
			return n, err
		}
		m, err := a.store.DeleteAlertEventsBefore(ctx, before)
		if err != nil {
			return n + m, err
		}
		k, err := a.store.DeleteSilencesEndedBefore(ctx, before)
		return n + m + k, err
	}
	go monitor.Retention(ctx, prune, a.cfg.MonitorRetention, time.Hour, time.Now, func(n int64, err error) {
		if err != nil {
			a.log.Error("monitor: retention", "error", err.Error())
			return
		}
		a.log.Info("monitor: pruned old points and alert events", "deleted", n)
	})
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.log.Info("shutting down: draining in-flight requests", "timeout", a.cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if e := <-errc; e != nil && !errors.Is(e, http.ErrServerClosed) {
		err = errors.Join(err, e)
	}
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	a.log.Info("stopped")
	return nil
}

// reloadOnHUP reloads the global policy file on SIGHUP; a file that does
// not parse is logged with its line and column and the policy in force
// stays.
func reloadOnHUP(ctx context.Context, a *App, log *slog.Logger) (stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-ch:
				if err := a.ReloadPolicy(ctx, "signal:SIGHUP"); err != nil {
					log.Error("policy reload refused; the previous policy stays in force", "error", err.Error())
				}
			case <-ctx.Done():
				return
			case <-done:
				return
			}
		}
	}()
	return func() { signal.Stop(ch); close(done) }
}

// NewLogger builds the process logger from the configuration.
func NewLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// RunServer loads nothing itself: it starts a configured server on
// cfg.Addr, logs where it listens and serves until ctx ends.
func RunServer(ctx context.Context, cfg config.Config, stderr io.Writer) error {
	log := NewLogger(cfg, stderr)
	start := time.Now()
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	a, err := New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	storeName := "sqlite " + cfg.SQLitePath()
	if cfg.DB != "" {
		storeName = "postgres"
	}
	log.Info("ferry listening", "url", "http://"+ln.Addr().String(), "version", Version,
		"store", storeName, "artifacts", cfg.ArtifactsPath(), "dev", cfg.Dev,
		"startup_ms", time.Since(start).Milliseconds())
	stopHUP := reloadOnHUP(ctx, a, log)
	defer stopHUP()
	if cfg.Dev {
		fmt.Fprintf(stderr, "\nFerry dev server: data in %s (throwaway)\n  export MLFLOW_TRACKING_URI=http://%s\n\n",
			cfg.DataDir, strings.Replace(ln.Addr().String(), "127.0.0.1", "localhost", 1))
	}
	return a.Serve(ctx, ln)
}
