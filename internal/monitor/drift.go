package monitor

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ferry-ml/ferry/internal/drift"
	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/monitor/report"
	"github.com/ferry-ml/ferry/internal/predlog"
)

// Drift series, labelled by endpoint (and feature).
const (
	SeriesDriftShare      = "drift_share"            // share of features drifted in the window
	SeriesDatasetDrift    = "dataset_drift"          // 1 when the share reaches the drift share, else 0
	SeriesFeatureDrift    = "feature_drift"          // 1 when the feature drifted, else 0 (label feature)
	SeriesFeatureScore    = "feature_drift_score"    // the test's p-value or distance (labels feature, test)
	SeriesPredictionDrift = "prediction_drift"       // 1 when the model's predictions drifted, else 0
	SeriesPredictionScore = "prediction_drift_score" // the prediction test's p-value or distance (label test)

	// The same per model version while a window holds several (labels
	// model and version too): their own series, so that a rule over the
	// endpoint's series never sees them.
	SeriesVersionDriftShare   = "version_drift_share"
	SeriesVersionDatasetDrift = "version_dataset_drift"
	SeriesVersionFeatureDrift = "version_feature_drift"
	SeriesVersionFeatureScore = "version_feature_drift_score"
)

// Reference is the data an endpoint's traffic is compared with: a
// dataset version (the model's training data or a set uploaded for the
// purpose).
type Reference struct {
	Endpoint string `json:"endpoint"`
	Dataset  string `json:"dataset"`
	Version  int64  `json:"version"`
	// Model is set when the reference is the training data of the model
	// version the endpoint serves (models:/NAME/VERSION) rather than a
	// dataset set for the endpoint.
	Model string `json:"model,omitempty"`
}

// References keeps each endpoint's reference.
type References interface {
	SetReference(ctx context.Context, r Reference) error
	GetReference(ctx context.Context, endpoint string) (Reference, error)
	ListReferences(ctx context.Context) ([]Reference, error)
}

// Predictions reads the prediction log (predlog.Store).
type Predictions interface {
	ListPredictions(ctx context.Context, q predlog.Query) ([]predlog.Logged, error)
}

// DatasetFiles opens a dataset version's rows as CSV.
type DatasetFiles interface {
	OpenCSV(ctx context.Context, name string, version int64) (io.ReadCloser, error)
}

// ServedModel is the model version an endpoint serves (its stable
// variant) and a way to predict with it: prediction drift compares its
// predictions on the reference's rows with the logged ones.
type ServedModel struct {
	Model   string
	Version int64
	// Features names the inputs, in the order Predict reads them.
	Features []string
	// Outputs is the number of values per row Predict writes.
	Outputs int
	// Predict writes rows × Outputs predictions, as the endpoint answers
	// them (probabilities, not margins), of x (rows × len(Features),
	// row-major, NaN missing) into out.
	Predict func(ctx context.Context, x []float64, rows int, out []float64) error
}

// Drift compares each endpoint's recent logged inputs with its
// reference, feature by feature, with Evidently's default tests, and
// records the results as series. With Model set it also compares the
// model's predictions: the served version's predictions on the
// reference's rows (computed once per reference and model version) with
// its logged predictions in the window.
type Drift struct {
	Refs  References
	Log   Predictions
	Files DatasetFiles
	Store Store
	// Model returns the model an endpoint serves; nil leaves prediction
	// drift out. Its errors are logged, never fatal to feature drift.
	Model func(ctx context.Context, endpoint string) (ServedModel, error)
	// Settings are the endpoints' drift settings (test, threshold, drift
	// share, window); nil, or an endpoint without settings, is the
	// defaults below.
	Settings SettingsStore
	// Window is how many of the latest logged rows are compared when an
	// endpoint sets no window (default DefaultWindowRows); DriftShare the
	// share of drifted features that makes the dataset drift when an
	// endpoint sets none (default 0.5).
	Window     int
	DriftShare float64
	Now        func() time.Time
	Logger     *slog.Logger

	mu        sync.Mutex
	cache     map[Reference]map[string][]float64 // reference columns by name
	predCache map[predictionKey][]float64        // reference predictions, reduced to one column
	// warned is the last unmatched-columns warning logged per endpoint and
	// reference, so the tick warns once, not every tick.
	warned map[Reference]string

	// windows keeps each endpoint's last window so that the next check
	// reads only what was logged since (under winMu).
	winMu   sync.Mutex
	windows map[string]*windowCache
}

// windowCache is the window of an endpoint's last check: the newest
// requests logged in [start, end) whose rows add up to size (at most size
// requests), oldest first.
type windowCache struct {
	start, end int64
	size       int
	rows       []predlog.Logged
}

// lateLog is how long after its time a request may reach the prediction
// log: a request is logged with the time it started, the logger flushes
// its batch up to a second later (predlog.DefaultFlushInterval) and one
// batch write may take up to 30 s, so a row can be stored well over 10 s
// after its time. An incremental read goes back this far before the end
// of the previous one, so no late row is missed.
const lateLog = time.Minute

// MinVersionRows is the fewest window rows a model version must have
// answered for its own drift to be recorded when the window holds
// several versions (a canary or an A/B test); fewer records nothing for
// that version (not enough data).
const MinVersionRows = 30

// predictionKey names the reference predictions of a model version.
type predictionKey struct {
	Dataset string
	Version int64
	Model   string
	ModelV  int64
}

// ErrNoReference is an endpoint without a reference.
var ErrNoReference = errors.New("monitor: no reference for the endpoint")

// notEnoughData is a window without traffic to compare:
// drift.ErrNotEnoughData, and a conflict with the endpoint's state (409)
// rather than a bad request.
type notEnoughData struct{ msg string }

func (e *notEnoughData) Error() string { return e.msg }

func (e *notEnoughData) Is(target error) bool {
	return target == drift.ErrNotEnoughData || target == errdefs.ErrConflict
}

func notEnoughDataf(format string, args ...any) error {
	return &notEnoughData{msg: fmt.Sprintf(format, args...) + ": " + drift.ErrNotEnoughData.Error()}
}

// Check computes the drift of one endpoint now and returns the points it
// recorded; a window without enough traffic records nothing and says so
// (drift.ErrNotEnoughData).
func (d *Drift) Check(ctx context.Context, endpoint string) ([]Point, error) {
	now := d.now()
	ev, err := d.evaluate(ctx, endpoint, now)
	if err != nil {
		return nil, err
	}
	points := ev.points(now.UnixMilli())
	if err := d.Store.AppendPoints(ctx, points); err != nil {
		return nil, err
	}
	return points, nil
}

// evaluation is one endpoint's drift at a time: what Check records and
// Report describes.
type evaluation struct {
	endpoint string
	ref      Reference
	refRows  int
	// rows of the window, and the times of its oldest and newest request
	rows     int
	from, to int64
	// features by name
	features     []columnDrift
	datasetDrift bool
	share        float64
	// prediction is nil when prediction drift was not computed (predErr
	// says why, unless Model is nil or the window has no prediction of
	// the served version).
	prediction *columnDrift
	predErr    error
	// settings are the effective drift settings.
	settings DriftSettings
	// missingInRef are logged features the reference lacks (not tested);
	// notServed reference columns no logged request carries (a target, or
	// a feature the model does not read). Both sorted.
	missingInRef, notServed []string
	// notTested are the features of both the reference and the window
	// left out for want of finite values on one side, by name.
	notTested []notTested
	// versions is the drift per model version when the window holds rows
	// of several versions (each with MinVersionRows rows at least).
	versions []versionDrift
}

// versionDrift is the drift of the window's rows one model version
// answered.
type versionDrift struct {
	model        string
	version      int64
	rows         int
	features     []columnDrift
	datasetDrift bool
	share        float64
}

// modelVersion names a model version of the window.
type modelVersion struct {
	model   string
	version int64
}

// columnDrift is one compared column with its values.
type columnDrift struct {
	name     string
	kind     drift.ColumnKind
	ref, cur []float64
	res      drift.Result
	// The prediction's model version and what of its outputs is compared.
	model   string
	version int64
	output  string
}

// notTested is a feature left out of the comparison, and why.
type notTested struct {
	name, reason string
}

// windowRow is one row of the window: a logged request and the row in it.
type windowRow struct {
	rec *predlog.Logged
	row int
}

// evaluate computes the drift of one endpoint's latest window at now,
// recording nothing.
func (d *Drift) evaluate(ctx context.Context, endpoint string, now time.Time) (*evaluation, error) {
	ref, err := d.Refs.GetReference(ctx, endpoint)
	if err != nil {
		return nil, err
	}
	settings, err := d.settings(ctx, endpoint)
	if err != nil {
		return nil, err
	}
	cols, err := d.reference(ctx, ref)
	if err != nil {
		return nil, err
	}
	window, err := d.window(ctx, endpoint, now, settings)
	if err != nil {
		return nil, err
	}
	if len(window) == 0 {
		return nil, notEnoughDataf("endpoint %s: no logged traffic %s", endpoint, settings.describe())
	}
	ev := &evaluation{endpoint: endpoint, ref: ref, rows: len(window), from: window[0].rec.Time, to: window[0].rec.Time,
		settings: settings}
	for _, col := range cols {
		ev.refRows = len(col)
	}
	current := columnsOf(window)
	for _, w := range window {
		ev.from, ev.to = min(ev.from, w.rec.Time), max(ev.to, w.rec.Time)
	}
	ev.missingInRef, ev.notServed = unmatched(cols, current)
	d.warnUnmatched(ref, ev)
	var results []drift.Result
	ev.features, results, ev.notTested, err = compareColumns(cols, current, settings)
	if err != nil {
		return nil, err
	}
	if len(results) == 0 {
		if len(ev.missingInRef) > 0 && len(ev.missingInRef) == len(current) {
			return nil, notEnoughDataf("endpoint %s: no logged feature (%s) is a numeric column of the reference %s@%d (%s)",
				endpoint, strings.Join(ev.missingInRef, ", "), ref.Dataset, ref.Version, strings.Join(ev.notServed, ", "))
		}
		if len(current) == 0 {
			return nil, notEnoughDataf("endpoint %s: the logged requests name no features", endpoint)
		}
		return nil, notEnoughDataf("endpoint %s: no feature of the reference has finite values in both the reference and the window", endpoint)
	}
	ev.datasetDrift, ev.share = drift.Dataset(results, settings.DriftShare)
	if ev.versions, err = d.versionDrift(cols, window, settings); err != nil {
		return nil, err
	}
	if d.Model != nil {
		ev.prediction, ev.predErr = d.predictionDrift(ctx, endpoint, ref, cols, window)
		if ev.predErr != nil {
			d.logger().Error("monitor: prediction drift", "endpoint", endpoint, "error", ev.predErr.Error())
		}
	}
	return ev, nil
}

// settings are an endpoint's effective drift settings.
func (d *Drift) settings(ctx context.Context, endpoint string) (DriftSettings, error) {
	s := DriftSettings{Endpoint: endpoint}
	if d.Settings != nil {
		var err error
		if s, err = d.Settings.GetDriftSettings(ctx, endpoint); err != nil {
			return DriftSettings{}, fmt.Errorf("endpoint %s: drift settings: %w", endpoint, err)
		}
		s.Endpoint = endpoint
	}
	if s.Window == 0 && s.WindowRows == 0 && d.Window > 0 {
		s.WindowRows = min(d.Window, MaxWindowRows)
	}
	if s.DriftShare == 0 && d.DriftShare > 0 && d.DriftShare <= 1 {
		s.DriftShare = d.DriftShare
	}
	return s.Effective(), nil
}

// columnsOf gathers the window's values by feature name.
func columnsOf(window []windowRow) map[string][]float64 {
	current := map[string][]float64{}
	for _, w := range window {
		r := w.rec
		for j, name := range r.FeatureNames {
			if j < r.Features {
				current[name] = append(current[name], r.Inputs[w.row*r.Features+j])
			}
		}
	}
	return current
}

// unmatched returns the logged features the reference lacks and the
// reference columns no logged row carries, sorted.
func unmatched(cols, current map[string][]float64) (missingInRef, notServed []string) {
	for name := range current {
		if _, ok := cols[name]; !ok {
			missingInRef = append(missingInRef, name)
		}
	}
	for name := range cols {
		if _, ok := current[name]; !ok {
			notServed = append(notServed, name)
		}
	}
	sort.Strings(missingInRef)
	sort.Strings(notServed)
	return missingInRef, notServed
}

// warnUnmatched logs, once per endpoint and reference (again when the
// set changes), the logged features the reference lacks: they are not
// tested.
func (d *Drift) warnUnmatched(ref Reference, ev *evaluation) {
	if len(ev.missingInRef) == 0 {
		return
	}
	key := Reference{Endpoint: ev.endpoint, Dataset: ref.Dataset, Version: ref.Version}
	sig := strings.Join(ev.missingInRef, "\x00")
	d.mu.Lock()
	if d.warned == nil {
		d.warned = map[Reference]string{}
	}
	seen := d.warned[key] == sig
	d.warned[key] = sig
	d.mu.Unlock()
	if !seen {
		d.logger().Warn("monitor: logged features missing in the reference are not tested for drift",
			"endpoint", ev.endpoint, "reference", fmt.Sprintf("%s@%d", ref.Dataset, ref.Version),
			"features_missing_in_reference", ev.missingInRef, "reference_columns_not_served", ev.notServed)
	}
}

// compareColumns tests every reference column the window carries, by
// name; a column without finite values on either side is skipped (not
// enough data) and returned among the features not tested.
func compareColumns(cols, current map[string][]float64, settings DriftSettings) ([]columnDrift, []drift.Result, []notTested, error) {
	names := make([]string, 0, len(cols))
	for name := range cols {
		if _, ok := current[name]; ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var (
		out     []columnDrift
		results []drift.Result
		skipped []notTested
	)
	for _, name := range names {
		cur := current[name]
		res, err := drift.Column(cols[name], cur, settings.options())
		if errors.Is(err, drift.ErrNotEnoughData) {
			skipped = append(skipped, notTested{name: name, reason: notEnoughReason(cols[name], cur)})
			continue
		}
		if err != nil {
			return nil, nil, nil, fmt.Errorf("feature %s: %w", name, err)
		}
		results = append(results, res)
		out = append(out, columnDrift{name: name, kind: drift.KindNumerical, ref: cols[name], cur: cur, res: res})
	}
	return out, results, skipped, nil
}

// notEnoughReason says which side of a column has no finite value.
func notEnoughReason(ref, cur []float64) string {
	hasFinite := func(xs []float64) bool {
		return slices.ContainsFunc(xs, report.IsFinite)
	}
	switch r, c := hasFinite(ref), hasFinite(cur); {
	case !r && !c:
		return "not enough data: no finite value in the reference or the window"
	case !r:
		return "not enough data: no finite value in the reference"
	case !c:
		return "not enough data: no finite value in the window"
	}
	return "not enough data"
}

// versionDrift compares the rows of each model version of the window
// separately when there are several; a version with fewer than
// MinVersionRows rows, or without a comparable feature, is left out.
func (d *Drift) versionDrift(cols map[string][]float64, window []windowRow, settings DriftSettings) ([]versionDrift, error) {
	byVersion := map[modelVersion][]windowRow{}
	for _, w := range window {
		k := modelVersion{w.rec.Model, w.rec.Version}
		byVersion[k] = append(byVersion[k], w)
	}
	if len(byVersion) < 2 {
		return nil, nil
	}
	keys := make([]modelVersion, 0, len(byVersion))
	for k := range byVersion {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].model != keys[j].model {
			return keys[i].model < keys[j].model
		}
		return keys[i].version < keys[j].version
	})
	var out []versionDrift
	for _, k := range keys {
		rows := byVersion[k]
		if len(rows) < MinVersionRows {
			continue
		}
		features, results, _, err := compareColumns(cols, columnsOf(rows), settings)
		if err != nil {
			return nil, fmt.Errorf("model %s version %d: %w", k.model, k.version, err)
		}
		if len(results) == 0 {
			continue
		}
		v := versionDrift{model: k.model, version: k.version, rows: len(rows), features: features}
		v.datasetDrift, v.share = drift.Dataset(results, settings.DriftShare)
		out = append(out, v)
	}
	return out, nil
}

// window returns the latest rows of an endpoint's log, newest first: a
// count window's newest WindowRows rows from a day back at most, or a
// time window's rows logged in [now-Window, now), its newest
// WindowRows (MaxWindowRows) at most.
func (d *Drift) window(ctx context.Context, endpoint string, now time.Time, s DriftSettings) ([]windowRow, error) {
	size := s.WindowRows
	if size <= 0 {
		size = DefaultWindowRows
	}
	// The latest requests holding size rows (every request holds a row
	// at least).
	start, end := now.Add(-countWindowLookback).UnixMilli(), now.UnixMilli()+1
	if s.Window > 0 {
		start, end = now.Add(-s.Window).UnixMilli(), now.UnixMilli()
	}
	rows, err := d.latestRows(ctx, endpoint, start, end, size)
	if err != nil {
		return nil, err
	}
	var out []windowRow
	for i := len(rows) - 1; i >= 0 && len(out) < size; i-- {
		for row := 0; row < rows[i].Rows && len(out) < size; row++ {
			out = append(out, windowRow{rec: &rows[i], row: row})
		}
	}
	return out, nil
}

// latestRows returns the newest requests logged in [start, end) whose
// rows add up to size (at most size requests), oldest first, computed
// incrementally: when the endpoint's previous
// window ends within this one, only the requests logged since (from
// lateLog before its end) are read — at most size of them — and the
// previous window's older requests are kept; otherwise, or when the new
// requests fill the window alone, it is read afresh in one query.
func (d *Drift) latestRows(ctx context.Context, endpoint string, start, end int64, size int) ([]predlog.Logged, error) {
	d.winMu.Lock()
	defer d.winMu.Unlock()
	c := d.windows[endpoint]
	if c == nil || c.size != size || c.end < start || c.end > end || c.start > start {
		rows, err := latest(ctx, d.Log, endpoint, false, start, end, size)
		if err != nil {
			return nil, err
		}
		rows = newestRows(rows, size)
		d.keepWindow(endpoint, &windowCache{start: start, end: end, size: size, rows: rows})
		return rows, nil
	}
	from := max(c.end-lateLog.Milliseconds(), start)
	fresh, err := latest(ctx, d.Log, endpoint, false, from, end, size)
	if err != nil {
		return nil, err
	}
	rows := fresh
	if len(fresh) < size {
		// The previous window's requests in [start, from), then the fresh
		// ones in [from, end): still oldest first.
		var kept []predlog.Logged
		for _, r := range c.rows {
			if r.Time >= start && r.Time < from {
				kept = append(kept, r)
			}
		}
		rows = append(kept, fresh...)
		rows = rows[max(len(rows)-size, 0):]
	}
	rows = newestRows(rows, size)
	d.keepWindow(endpoint, &windowCache{start: start, end: end, size: size, rows: rows})
	return rows, nil
}

// newestRows keeps the newest of requests (oldest first) whose rows add
// up to size: the window is made of them alone. A next incremental read
// still finds what a fresh one does: the older requests it keeps are the
// newest ones before its overlap, and the requests it reads since hold
// at least the rows the kept ones after that point did.
func newestRows(requests []predlog.Logged, size int) []predlog.Logged {
	n := 0
	for i := len(requests) - 1; i >= 0; i-- {
		n += requests[i].Rows
		if n >= size {
			return requests[i:]
		}
	}
	return requests
}

// forgetReferences drops what is kept of references no current one uses:
// reference columns, reference predictions and warnings (these per
// endpoint too).
func (d *Drift) forgetReferences(refs []Reference) {
	used := make(map[Reference]bool, 2*len(refs))
	for _, r := range refs {
		used[Reference{Dataset: r.Dataset, Version: r.Version}] = true
		used[Reference{Endpoint: r.Endpoint, Dataset: r.Dataset, Version: r.Version}] = true
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for k := range d.cache {
		if !used[k] {
			delete(d.cache, k)
		}
	}
	for k := range d.predCache {
		if !used[Reference{Dataset: k.Dataset, Version: k.Version}] {
			delete(d.predCache, k)
		}
	}
	for k := range d.warned {
		if !used[k] {
			delete(d.warned, k)
		}
	}
}

// forgetWindows drops the kept windows of endpoints no longer watched.
func (d *Drift) forgetWindows(refs []Reference) {
	watched := make(map[string]bool, len(refs))
	for _, r := range refs {
		watched[r.Endpoint] = true
	}
	d.winMu.Lock()
	defer d.winMu.Unlock()
	for e := range d.windows {
		if !watched[e] {
			delete(d.windows, e)
		}
	}
}

func (d *Drift) keepWindow(endpoint string, c *windowCache) {
	if d.windows == nil {
		d.windows = map[string]*windowCache{}
	}
	d.windows[endpoint] = c
}

// points are the series of an evaluation at ms.
func (ev *evaluation) points(ms int64) []Point {
	var points []Point
	for _, c := range ev.features {
		labels := map[string]string{"endpoint": ev.endpoint, "feature": c.name}
		points = append(points, Point{Series: SeriesFeatureDrift, Labels: labels, Time: ms, Value: boolValue(c.res.Drifted)})
		if score := c.res.Score(); report.IsFinite(score) {
			points = append(points, Point{Series: SeriesFeatureScore, Time: ms, Value: score,
				Labels: map[string]string{"endpoint": ev.endpoint, "feature": c.name, "test": string(c.res.Test)}})
		}
	}
	labels := map[string]string{"endpoint": ev.endpoint}
	points = append(points, Point{Series: SeriesDriftShare, Labels: labels, Time: ms, Value: ev.share},
		Point{Series: SeriesDatasetDrift, Labels: labels, Time: ms, Value: boolValue(ev.datasetDrift)})
	for _, v := range ev.versions {
		version := strconv.FormatInt(v.version, 10)
		for _, c := range v.features {
			labels := map[string]string{"endpoint": ev.endpoint, "feature": c.name, "model": v.model, "version": version}
			points = append(points, Point{Series: SeriesVersionFeatureDrift, Labels: labels, Time: ms, Value: boolValue(c.res.Drifted)})
			if score := c.res.Score(); report.IsFinite(score) {
				points = append(points, Point{Series: SeriesVersionFeatureScore, Time: ms, Value: score,
					Labels: map[string]string{"endpoint": ev.endpoint, "feature": c.name, "test": string(c.res.Test), "model": v.model, "version": version}})
			}
		}
		labels := map[string]string{"endpoint": ev.endpoint, "model": v.model, "version": version}
		points = append(points, Point{Series: SeriesVersionDriftShare, Labels: labels, Time: ms, Value: v.share},
			Point{Series: SeriesVersionDatasetDrift, Labels: labels, Time: ms, Value: boolValue(v.datasetDrift)})
	}
	if p := ev.prediction; p != nil {
		points = append(points, Point{Series: SeriesPredictionDrift, Labels: map[string]string{"endpoint": ev.endpoint}, Time: ms, Value: boolValue(p.res.Drifted)})
		if score := p.res.Score(); report.IsFinite(score) {
			points = append(points, Point{Series: SeriesPredictionScore, Time: ms, Value: score,
				Labels: map[string]string{"endpoint": ev.endpoint, "test": string(p.res.Test)}})
		}
	}
	return points
}

// CheckAll checks every endpoint with a reference; endpoints without
// enough traffic are skipped.
func (d *Drift) CheckAll(ctx context.Context) ([]Point, error) {
	refs, err := d.Refs.ListReferences(ctx)
	if err != nil {
		return nil, err
	}
	d.forgetWindows(refs)
	d.forgetReferences(refs)
	var all []Point
	for _, r := range refs {
		points, err := d.Check(ctx, r.Endpoint)
		if errors.Is(err, drift.ErrNotEnoughData) {
			continue
		}
		if err != nil {
			d.logger().Error("monitor: drift", "endpoint", r.Endpoint, "error", err.Error())
			continue
		}
		all = append(all, points...)
	}
	return all, nil
}

// reference reads (once) the numeric columns of a reference dataset.
func (d *Drift) reference(ctx context.Context, ref Reference) (map[string][]float64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	key := Reference{Dataset: ref.Dataset, Version: ref.Version}
	if cols, ok := d.cache[key]; ok {
		return cols, nil
	}
	rc, err := d.Files.OpenCSV(ctx, ref.Dataset, ref.Version)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	t, err := readColumns(rc)
	if err != nil {
		return nil, fmt.Errorf("reference %s@%d: %w", ref.Dataset, ref.Version, err)
	}
	if d.cache == nil {
		d.cache = map[Reference]map[string][]float64{}
	}
	d.cache[key] = t
	return t, nil
}

// readColumns reads the numeric columns of a CSV file with a header
// (a column with any text that is not a number is left out: the served
// models read numbers; an empty cell is missing).
func readColumns(r io.Reader) (map[string][]float64, error) {
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("reading the header: %w", err)
	}
	header = append([]string(nil), header...)
	cols := make([][]float64, len(header))
	numeric := make([]bool, len(header))
	for j := range numeric {
		numeric[j] = true
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		for j, cell := range rec {
			if !numeric[j] {
				continue
			}
			v := math.NaN()
			if cell != "" {
				if v, err = strconv.ParseFloat(cell, 64); err != nil {
					numeric[j], cols[j] = false, nil
					continue
				}
			}
			cols[j] = append(cols[j], v)
		}
	}
	out := map[string][]float64{}
	for j, name := range header {
		if numeric[j] {
			out[name] = cols[j]
		}
	}
	return out, nil
}

func (d *Drift) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Drift) logger() *slog.Logger {
	if d.Logger != nil {
		return d.Logger
	}
	return slog.Default()
}
