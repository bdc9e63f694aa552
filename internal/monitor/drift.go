package monitor

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/ferry-ml/ferry/internal/drift"
	"github.com/ferry-ml/ferry/internal/errdefs"
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
	// Window is how many of the latest logged rows are compared (default
	// 1000); DriftShare the share of drifted features that makes the
	// dataset drift (default 0.5).
	Window     int
	DriftShare float64
	Now        func() time.Time
	Logger     *slog.Logger

	mu        sync.Mutex
	cache     map[Reference]map[string][]float64 // reference columns by name
	predCache map[predictionKey][]float64        // reference predictions, reduced to one column
}

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
	cols, err := d.reference(ctx, ref)
	if err != nil {
		return nil, err
	}
	window, err := d.window(ctx, endpoint, now)
	if err != nil {
		return nil, err
	}
	if len(window) == 0 {
		return nil, notEnoughDataf("endpoint %s: no logged traffic in the last 24 hours", endpoint)
	}
	ev := &evaluation{endpoint: endpoint, ref: ref, rows: len(window), from: window[0].rec.Time, to: window[0].rec.Time}
	current := map[string][]float64{}
	for _, w := range window {
		r := w.rec
		ev.from, ev.to = min(ev.from, r.Time), max(ev.to, r.Time)
		for j, name := range r.FeatureNames {
			if j < r.Features {
				current[name] = append(current[name], r.Inputs[w.row*r.Features+j])
			}
		}
	}
	names := make([]string, 0, len(cols))
	for name, col := range cols {
		names = append(names, name)
		ev.refRows = len(col)
	}
	sort.Strings(names)
	var results []drift.Result
	for _, name := range names {
		cur, ok := current[name]
		if !ok {
			continue // a reference column the model does not read (the target)
		}
		res, err := drift.Column(cols[name], cur, drift.Options{Kind: drift.KindNumerical})
		if errors.Is(err, drift.ErrNotEnoughData) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("feature %s: %w", name, err)
		}
		results = append(results, res)
		ev.features = append(ev.features, columnDrift{name: name, kind: drift.KindNumerical, ref: cols[name], cur: cur, res: res})
	}
	if len(results) == 0 {
		return nil, notEnoughDataf("endpoint %s: no feature of the reference is in the logged inputs", endpoint)
	}
	ev.datasetDrift, ev.share = drift.Dataset(results, d.DriftShare)
	if d.Model != nil {
		ev.prediction, ev.predErr = d.predictionDrift(ctx, endpoint, ref, cols, window)
		if ev.predErr != nil {
			d.logger().Error("monitor: prediction drift", "endpoint", endpoint, "error", ev.predErr.Error())
		}
	}
	return ev, nil
}

// window returns the latest rows of an endpoint's log (at most Window,
// from a day back), newest first.
func (d *Drift) window(ctx context.Context, endpoint string, now time.Time) ([]windowRow, error) {
	size := d.Window
	if size <= 0 {
		size = 1000
	}
	// The latest requests holding size rows, from a day back at most.
	// (Every request holds a row at least.)
	rows, err := latest(ctx, d.Log, endpoint, false, now.Add(-24*time.Hour).UnixMilli(), now.UnixMilli()+1, size)
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

// points are the series of an evaluation at ms.
func (ev *evaluation) points(ms int64) []Point {
	var points []Point
	for _, c := range ev.features {
		labels := map[string]string{"endpoint": ev.endpoint, "feature": c.name}
		points = append(points, Point{Series: SeriesFeatureDrift, Labels: labels, Time: ms, Value: driftIndicator(c.res.Drifted)})
		if score := c.res.Score(); !math.IsInf(score, 0) && !math.IsNaN(score) {
			points = append(points, Point{Series: SeriesFeatureScore, Time: ms, Value: score,
				Labels: map[string]string{"endpoint": ev.endpoint, "feature": c.name, "test": string(c.res.Test)}})
		}
	}
	labels := map[string]string{"endpoint": ev.endpoint}
	points = append(points, Point{Series: SeriesDriftShare, Labels: labels, Time: ms, Value: ev.share},
		Point{Series: SeriesDatasetDrift, Labels: labels, Time: ms, Value: driftIndicator(ev.datasetDrift)})
	if p := ev.prediction; p != nil {
		points = append(points, Point{Series: SeriesPredictionDrift, Labels: map[string]string{"endpoint": ev.endpoint}, Time: ms, Value: driftIndicator(p.res.Drifted)})
		if score := p.res.Score(); !math.IsInf(score, 0) && !math.IsNaN(score) {
			points = append(points, Point{Series: SeriesPredictionScore, Time: ms, Value: score,
				Labels: map[string]string{"endpoint": ev.endpoint, "test": string(p.res.Test)}})
		}
	}
	return points
}

func driftIndicator(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// CheckAll checks every endpoint with a reference; endpoints without
// enough traffic are skipped.
func (d *Drift) CheckAll(ctx context.Context) ([]Point, error) {
	refs, err := d.Refs.ListReferences(ctx)
	if err != nil {
		return nil, err
	}
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
