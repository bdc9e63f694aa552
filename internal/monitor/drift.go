package monitor

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/ferry-ml/ferry/internal/drift"
	"github.com/ferry-ml/ferry/internal/predlog"
)

// Drift series, labelled by endpoint (and feature).
const (
	SeriesDriftShare   = "drift_share"         // share of features drifted in the window
	SeriesDatasetDrift = "dataset_drift"       // 1 when the share reaches the drift share, else 0
	SeriesFeatureDrift = "feature_drift"       // 1 when the feature drifted, else 0 (label feature)
	SeriesFeatureScore = "feature_drift_score" // the test's p-value or distance (labels feature, test)
)

// Reference is the data an endpoint's traffic is compared with: a
// dataset version (the model's training data or a set uploaded for the
// purpose).
type Reference struct {
	Endpoint string `json:"endpoint"`
	Dataset  string `json:"dataset"`
	Version  int64  `json:"version"`
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

// Drift compares each endpoint's recent logged inputs with its
// reference, feature by feature, with Evidently's default tests, and
// records the results as series.
type Drift struct {
	Refs  References
	Log   Predictions
	Files DatasetFiles
	Store Store
	// Window is how many of the latest logged rows are compared (default
	// 1000); DriftShare the share of drifted features that makes the
	// dataset drift (default 0.5).
	Window     int
	DriftShare float64
	Now        func() time.Time
	Logger     *slog.Logger

	mu    sync.Mutex
	cache map[Reference]map[string][]float64 // reference columns by name
}

// ErrNoReference is an endpoint without a reference.
var ErrNoReference = errors.New("monitor: no reference for the endpoint")

// Check computes the drift of one endpoint now and returns the points it
// recorded; a window without enough traffic records nothing and says so
// (drift.ErrNotEnoughData).
func (d *Drift) Check(ctx context.Context, endpoint string) ([]Point, error) {
	ref, err := d.Refs.GetReference(ctx, endpoint)
	if err != nil {
		return nil, err
	}
	cols, err := d.reference(ctx, ref)
	if err != nil {
		return nil, err
	}
	window := d.Window
	if window <= 0 {
		window = 1000
	}
	now := d.now()
	// The latest rows: walk the log from a day back, keeping the last
	// window rows.
	q := predlog.Query{Endpoint: endpoint, Since: now.Add(-24 * time.Hour).UnixMilli(), Limit: predlog.MaxLimit}
	var rows []predlog.Logged
	for {
		page, err := d.Log.ListPredictions(ctx, q)
		if err != nil {
			return nil, err
		}
		rows = append(rows, page...)
		if len(rows) > 4*window {
			rows = rows[len(rows)-window:]
		}
		if len(page) < q.Limit {
			break
		}
		last := page[len(page)-1]
		q.After = predlog.Cursor{Time: last.Time, RequestID: last.RequestID}
	}
	current := map[string][]float64{}
	n := 0
	for i := len(rows) - 1; i >= 0 && n < window; i-- {
		r := rows[i]
		for row := 0; row < r.Rows && n < window; row++ {
			for j, name := range r.FeatureNames {
				if j < r.Features {
					current[name] = append(current[name], r.Inputs[row*r.Features+j])
				}
			}
			n++
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("endpoint %s: %w", endpoint, drift.ErrNotEnoughData)
	}
	ms := now.UnixMilli()
	var results []drift.Result
	var points []Point
	for name, refCol := range cols {
		cur, ok := current[name]
		if !ok {
			continue // a reference column the model does not read (the target)
		}
		res, err := drift.Column(refCol, cur, drift.Options{Kind: drift.KindNumerical})
		if errors.Is(err, drift.ErrNotEnoughData) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("feature %s: %w", name, err)
		}
		results = append(results, res)
		labels := map[string]string{"endpoint": endpoint, "feature": name}
		drifted := 0.0
		if res.Drifted {
			drifted = 1
		}
		points = append(points, Point{Series: SeriesFeatureDrift, Labels: labels, Time: ms, Value: drifted})
		if score := res.Score(); !math.IsInf(score, 0) && !math.IsNaN(score) {
			points = append(points, Point{Series: SeriesFeatureScore, Time: ms, Value: score,
				Labels: map[string]string{"endpoint": endpoint, "feature": name, "test": string(res.Test)}})
		}
	}
	if len(results) == 0 {
		return nil, fmt.Errorf("endpoint %s: no feature of the reference is in the logged inputs: %w", endpoint, drift.ErrNotEnoughData)
	}
	datasetDrift, share := drift.Dataset(results, d.DriftShare)
	labels := map[string]string{"endpoint": endpoint}
	dd := 0.0
	if datasetDrift {
		dd = 1
	}
	points = append(points, Point{Series: SeriesDriftShare, Labels: labels, Time: ms, Value: share},
		Point{Series: SeriesDatasetDrift, Labels: labels, Time: ms, Value: dd})
	if err := d.Store.AppendPoints(ctx, points); err != nil {
		return nil, err
	}
	return points, nil
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
