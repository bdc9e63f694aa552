package monitor_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-ml/ferry/internal/drift"
	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/monitor"
	"github.com/ferry-ml/ferry/internal/monitor/report"
	"github.com/ferry-ml/ferry/internal/predlog"
)

// driftEnv is a monitor.Drift over in-memory references, log, files and
// points, with a fake served model: y = w·x (one output) or, with
// classes, one-hot-ish class scores.
type driftEnv struct {
	d       *monitor.Drift
	refCSV  string
	logged  []predlog.Logged
	points  []monitor.Point
	mu      sync.Mutex
	calls   int // reference predictions
	failErr error
	outputs int
	now     time.Time
	read    int             // logged requests handed out
	queries []monitor.Query // points queried
}

func (e *driftEnv) SetReference(context.Context, monitor.Reference) error { return nil }
func (e *driftEnv) GetReference(_ context.Context, endpoint string) (monitor.Reference, error) {
	if endpoint != "ep" {
		return monitor.Reference{}, fmt.Errorf("%w: %w", monitor.ErrNoReference, errdefs.NotFound("Endpoint '%s' has no reference dataset", endpoint))
	}
	return monitor.Reference{Endpoint: "ep", Dataset: "ref", Version: 1}, nil
}
func (e *driftEnv) ListReferences(ctx context.Context) ([]monitor.Reference, error) {
	r, _ := e.GetReference(ctx, "ep")
	return []monitor.Reference{r}, nil
}
func (e *driftEnv) ListPredictions(_ context.Context, q predlog.Query) ([]predlog.Logged, error) {
	var out []predlog.Logged
	logged := slices.Clone(e.logged)
	slices.SortStableFunc(logged, func(a, b predlog.Logged) int {
		return cmp.Or(cmp.Compare(a.Time, b.Time), cmp.Compare(a.RequestID, b.RequestID))
	})
	for _, l := range logged {
		if l.Endpoint == q.Endpoint && l.Time >= q.Since && (q.Until == 0 || l.Time < q.Until) && (q.After.IsZero() || l.Time > q.After.Time ||
			(l.Time == q.After.Time && l.RequestID > q.After.RequestID)) {
			out = append(out, l)
		}
	}
	if q.Newest {
		out = out[max(len(out)-q.Limit, 0):]
	} else {
		out = out[:min(len(out), q.Limit)]
	}
	e.read += len(out)
	return out, nil
}
func (e *driftEnv) OpenCSV(context.Context, string, int64) (io.ReadCloser, error) {
	return io.NopCloser(strings.NewReader(e.refCSV)), nil
}
func (e *driftEnv) AppendPoints(_ context.Context, p []monitor.Point) error {
	e.points = append(e.points, p...)
	return nil
}
func (e *driftEnv) QueryPoints(_ context.Context, q monitor.Query) ([]monitor.Point, error) {
	e.queries = append(e.queries, q)
	var out []monitor.Point
	for _, p := range e.points {
		match := p.Series == q.Series && p.Time >= q.From && (q.To == 0 || p.Time < q.To)
		for k, v := range q.Labels {
			match = match && p.Labels[k] == v
		}
		if match {
			out = append(out, p)
		}
	}
	if q.Limit > 0 && q.Newest {
		out = out[max(len(out)-q.Limit, 0):]
	} else if q.Limit > 0 {
		out = out[:min(len(out), q.Limit)]
	}
	return out, nil
}
func (e *driftEnv) DeletePointsBefore(context.Context, int64) (int64, error) { return 0, nil }

// predict is the fake model: a + 2b (+ class scores when outputs > 1:
// class k scores -(a+2b-k)²).
func (e *driftEnv) predict(x []float64, rows int, out []float64) {
	for i := range rows {
		y := x[i*2] + 2*x[i*2+1]
		if e.outputs == 1 {
			out[i] = y
			continue
		}
		for k := range e.outputs {
			out[i*e.outputs+k] = -(y - float64(k)) * (y - float64(k))
		}
	}
}

func (e *driftEnv) model(_ context.Context, endpoint string) (monitor.ServedModel, error) {
	if e.failErr != nil {
		return monitor.ServedModel{}, e.failErr
	}
	return monitor.ServedModel{Model: "m", Version: 3, Features: []string{"a", "b"}, Outputs: e.outputs,
		Predict: func(_ context.Context, x []float64, rows int, out []float64) error {
			e.mu.Lock()
			e.calls++
			e.mu.Unlock()
			e.predict(x, rows, out)
			return nil
		}}, nil
}

// newDriftEnv has a reference of n rows (a ~ N(0,1), b ~ U(0,1), and a
// target column the model does not read) and logs m current rows of one
// row per request (a shifted by shift), answered by model m version 3.
func newDriftEnv(t *testing.T, n, m int, shift float64, outputs int) *driftEnv {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	e := &driftEnv{outputs: outputs, now: time.UnixMilli(1_700_000_000_000)}
	var b strings.Builder
	b.WriteString("a,b,target\n")
	for range n {
		fmt.Fprintf(&b, "%s,%s,%d\n", strconv.FormatFloat(rng.NormFloat64(), 'g', -1, 64),
			strconv.FormatFloat(rng.Float64(), 'g', -1, 64), rng.IntN(2))
	}
	e.refCSV = b.String()
	for i := range m {
		x := []float64{rng.NormFloat64() + shift, rng.Float64()}
		if i == 0 {
			x[1] = math.NaN() // a missing value
		}
		out := make([]float64, outputs)
		e.predict(x, 1, out)
		e.logged = append(e.logged, predlog.Logged{Record: predlog.Record{RequestID: fmt.Sprintf("r%05d", i), Endpoint: "ep",
			Model: "m", Version: 3, Time: e.now.UnixMilli() - int64(m-i)*1000, Rows: 1, Features: 2, Outputs: outputs,
			Inputs: x, Predictions: out, FeatureNames: []string{"a", "b"}}})
	}
	e.d = &monitor.Drift{Refs: e, Log: e, Files: e, Store: e, Model: e.model, Now: func() time.Time { return e.now }}
	return e
}

// relog stands for a different prediction log: the log is append-only,
// so a test that rewrites logged rows needs a Drift that has not read
// them yet (it keeps each endpoint's last window).
func (e *driftEnv) relog() {
	o := e.d
	e.d = &monitor.Drift{Refs: o.Refs, Log: o.Log, Files: o.Files, Store: o.Store, Model: o.Model, Settings: o.Settings,
		Window: o.Window, DriftShare: o.DriftShare, Now: o.Now, Logger: o.Logger}
}

func pointOf(points []monitor.Point, series string, labels map[string]string) (monitor.Point, bool) {
	for _, p := range points {
		ok := p.Series == series
		for k, v := range labels {
			ok = ok && p.Labels[k] == v
		}
		if ok {
			return p, true
		}
	}
	return monitor.Point{}, false
}

// refColumns parses the fixture's reference CSV independently.
func refColumns(t *testing.T, csv string) (a, b []float64) {
	t.Helper()
	for i, line := range strings.Split(strings.TrimSpace(csv), "\n") {
		if i == 0 {
			continue
		}
		f := strings.Split(line, ",")
		x, _ := strconv.ParseFloat(f[0], 64)
		y, _ := strconv.ParseFloat(f[1], 64)
		a, b = append(a, x), append(b, y)
	}
	return a, b
}

func TestPredictionDriftRecorded(t *testing.T) {
	e := newDriftEnv(t, 400, 300, 1.5, 1)
	points, err := e.d.Check(context.Background(), "ep")
	if err != nil {
		t.Fatal(err)
	}
	// The prediction is compared as drift.Column does with the model's
	// predictions on the reference's rows.
	ra, rb := refColumns(t, e.refCSV)
	refPred := make([]float64, len(ra))
	for i := range ra {
		refPred[i] = ra[i] + 2*rb[i]
	}
	var curPred []float64
	for _, l := range e.logged {
		curPred = append(curPred, l.Predictions[0])
	}
	want, err := drift.Column(refPred, curPred, drift.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, ok := pointOf(points, monitor.SeriesPredictionDrift, map[string]string{"endpoint": "ep"})
	if !ok || p.Value != 1 || !want.Drifted {
		t.Fatalf("prediction_drift %v %v (want drifted %v)", p, ok, want.Drifted)
	}
	s, ok := pointOf(points, monitor.SeriesPredictionScore, map[string]string{"endpoint": "ep", "test": string(want.Test)})
	if !ok || s.Value != want.Score() {
		t.Fatalf("prediction_drift_score %v, want %v (%s)", s, want.Score(), want.Test)
	}
	// Features only in the drift share: a drifted, b did not → 1/2.
	share, _ := pointOf(points, monitor.SeriesDriftShare, map[string]string{"endpoint": "ep"})
	if share.Value != 0.5 {
		t.Fatalf("drift_share %v, want 0.5 (features a, b; not the prediction)", share.Value)
	}
	if _, ok := pointOf(points, monitor.SeriesFeatureDrift, map[string]string{"feature": "prediction"}); ok {
		t.Fatal("the prediction is recorded as a feature")
	}
	// A second check reuses the reference predictions.
	if _, err := e.d.Check(context.Background(), "ep"); err != nil {
		t.Fatal(err)
	}
	if e.calls != 1 {
		t.Fatalf("reference predicted %d times, want once (400 rows, one batch)", e.calls)
	}
}

func TestPredictionDriftMulticlassArgmax(t *testing.T) {
	e := newDriftEnv(t, 300, 200, 2, 3)
	points, err := e.d.Check(context.Background(), "ep")
	if err != nil {
		t.Fatal(err)
	}
	argmax := func(y float64) float64 { // the nearest class in 0..2
		return math.Max(0, math.Min(2, math.Round(y)))
	}
	ra, rb := refColumns(t, e.refCSV)
	var refC, curC []float64
	for i := range ra {
		refC = append(refC, argmax(ra[i]+2*rb[i]))
	}
	for _, l := range e.logged {
		y := l.Inputs[0] + 2*l.Inputs[1]
		if math.IsNaN(y) {
			curC = append(curC, math.NaN())
			continue
		}
		curC = append(curC, argmax(y))
	}
	want, err := drift.Column(refC, curC, drift.Options{Kind: drift.KindCategorical})
	if err != nil {
		t.Fatal(err)
	}
	if want.Test != drift.TestChiSquare {
		t.Fatalf("fixture: test %s, want chisquare over 3 classes", want.Test)
	}
	s, ok := pointOf(points, monitor.SeriesPredictionScore, map[string]string{"test": "chisquare"})
	if !ok || s.Value != want.Score() {
		t.Fatalf("prediction_drift_score %v %v, want %v", s, ok, want.Score())
	}
}

func TestPredictionDriftFailureKeepsFeatures(t *testing.T) {
	e := newDriftEnv(t, 200, 100, 0, 1)
	e.failErr = errors.New("runtime gone")
	points, err := e.d.Check(context.Background(), "ep")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := pointOf(points, monitor.SeriesPredictionDrift, nil); ok {
		t.Fatal("prediction drift recorded without a model")
	}
	if _, ok := pointOf(points, monitor.SeriesFeatureDrift, map[string]string{"feature": "a"}); !ok {
		t.Fatal("feature drift missing")
	}
	// No Model at all: the same, silently.
	e.d.Model = nil
	if points, err = e.d.Check(context.Background(), "ep"); err != nil || len(points) == 0 {
		t.Fatal(points, err)
	}
	// Logged predictions of another version do not count.
	e.failErr, e.d.Model = nil, e.model
	for i := range e.logged {
		e.logged[i].Version = 2
	}
	e.relog()
	points, _ = e.d.Check(context.Background(), "ep")
	if _, ok := pointOf(points, monitor.SeriesPredictionDrift, nil); ok {
		t.Fatal("predictions of version 2 compared with version 3's")
	}
}

func TestReport(t *testing.T) {
	e := newDriftEnv(t, 400, 300, 1.5, 1)
	ctx := context.Background()
	// Two recorded checks before the report, one of them out of range
	// (the traffic is older than both: a check sees the rows logged
	// before it).
	for i := range e.logged {
		e.logged[i].Time -= 2 * time.Hour.Milliseconds()
	}
	e.now = e.now.Add(-time.Hour)
	if _, err := e.d.Check(ctx, "ep"); err != nil {
		t.Fatal(err)
	}
	e.now = e.now.Add(time.Hour)
	if _, err := e.d.Check(ctx, "ep"); err != nil {
		t.Fatal(err)
	}
	before := len(e.points)
	e.queries = nil
	r, err := e.d.Report(ctx, "ep", e.now.Add(-30*time.Minute), e.now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(e.points) != before {
		t.Fatal("the report recorded points")
	}
	// Each series is read once, its newest points.
	var queried []string
	for _, q := range e.queries {
		queried = append(queried, q.Series)
		if !q.Newest || q.Limit != monitor.MaxQueryPoints || len(q.Labels) != 1 || q.Labels["endpoint"] != "ep" {
			t.Errorf("query %+v", q)
		}
	}
	if want := []string{monitor.SeriesDriftShare, monitor.SeriesFeatureScore, monitor.SeriesPredictionScore}; !slices.Equal(queried, want) {
		t.Errorf("queried %v, want each series once: %v", queried, want)
	}
	if r.Endpoint != "ep" || r.Reference != (report.Reference{Dataset: "ref", Version: 1, Rows: 400}) ||
		r.Current.Rows != 300 || r.Current.From != e.logged[0].Time || r.Current.To != e.logged[299].Time {
		t.Fatalf("header: %+v %+v %+v", r.Endpoint, r.Reference, r.Current)
	}
	if len(r.Features) != 2 || r.Features[0].Name != "a" || r.Features[1].Name != "b" || r.DriftShare != 0.5 {
		t.Fatalf("features: %+v share %v", r.Features, r.DriftShare)
	}
	ra, rb := refColumns(t, e.refCSV)
	for i, ref := range [][]float64{ra, rb} {
		f := r.Features[i]
		var cur []float64
		for _, l := range e.logged {
			cur = append(cur, l.Inputs[i])
		}
		want, _ := drift.Column(ref, cur, drift.Options{})
		if f.Test != string(want.Test) || *f.Statistic != want.Statistic || f.PValue == nil || *f.PValue != *want.PValue ||
			f.Drifted != want.Drifted || f.Threshold != want.Threshold {
			t.Errorf("%s: %+v, want %+v", f.Name, f, want)
		}
		// Histogram: 20 equal-width bins over the combined range.
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, x := range append(append([]float64(nil), ref...), cur...) {
			if !math.IsNaN(x) {
				lo, hi = math.Min(lo, x), math.Max(hi, x)
			}
		}
		h := f.Histogram
		if len(h.Edges) != 21 || h.Edges[0] != lo || h.Edges[20] != hi || len(h.Reference) != 20 || len(h.Current) != 20 {
			t.Fatalf("%s: edges %v", f.Name, h.Edges)
		}
		count := func(xs []float64) ([]int, int) {
			c := make([]int, 20)
			missing := 0
			for _, x := range xs {
				if math.IsNaN(x) {
					missing++
					continue
				}
				k := 0
				for k < 19 && x >= h.Edges[k+1] {
					k++
				}
				c[k]++
			}
			return c, missing
		}
		wr, wrm := count(ref)
		wc, wcm := count(cur)
		if fmt.Sprint(wr) != fmt.Sprint(h.Reference) || fmt.Sprint(wc) != fmt.Sprint(h.Current) || wrm != h.ReferenceMissing || wcm != h.CurrentMissing {
			t.Errorf("%s: histogram %v/%v missing %d/%d, want %v/%v %d/%d", f.Name, h.Reference, h.Current,
				h.ReferenceMissing, h.CurrentMissing, wr, wc, wrm, wcm)
		}
		// Over time: the one check in range.
		if len(f.OverTime) != 1 || f.OverTime[0].Time != e.now.UnixMilli() || f.OverTime[0].Test != string(want.Test) {
			t.Errorf("%s over time: %+v", f.Name, f.OverTime)
		}
	}
	if r.Features[1].Histogram.CurrentMissing != 1 {
		t.Errorf("b's missing value: %+v", r.Features[1].Histogram)
	}
	if p := r.Prediction; p == nil || p.Model != "m" || p.Version != 3 || !p.Drifted || len(p.OverTime) != 1 || p.Kind != "num" {
		t.Fatalf("prediction: %+v (%s)", p, r.PredictionError)
	}
	if len(r.DriftShareOverTime) != 1 || r.DriftShareOverTime[0].Value != 0.5 {
		t.Errorf("drift share over time: %+v", r.DriftShareOverTime)
	}

	// Errors: no reference, no traffic, a reversed range.
	if _, err := e.d.Report(ctx, "other", time.Time{}, time.Time{}); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("no reference: %v", err)
	}
	if _, err := e.d.Report(ctx, "ep", e.now, e.now.Add(-time.Hour)); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("reversed range: %v", err)
	}
	e.logged = nil
	e.relog()
	_, err = e.d.Report(ctx, "ep", time.Time{}, time.Time{})
	if !errors.Is(err, drift.ErrNotEnoughData) || !errors.Is(err, errdefs.ErrConflict) || !strings.Contains(err.Error(), "not enough data") {
		t.Errorf("no traffic: %v", err)
	}
	if _, err := e.d.Check(ctx, "ep"); !errors.Is(err, drift.ErrNotEnoughData) {
		t.Errorf("check without traffic: %v", err)
	}
}

// multiRow regroups the fixture's one-row requests into requests of k
// rows, a second apart, ending where they did.
func multiRow(e *driftEnv, k int) {
	var out []predlog.Logged
	for i := 0; i+k <= len(e.logged); i += k {
		r := e.logged[i]
		r.Inputs, r.Predictions = nil, nil
		for _, l := range e.logged[i : i+k] {
			r.Inputs = append(r.Inputs, l.Inputs...)
			r.Predictions = append(r.Predictions, l.Predictions...)
		}
		r.Rows = k
		out = append(out, r)
	}
	for i := range out {
		out[i].Time = e.now.UnixMilli() - int64(len(out)-i)*1000
	}
	e.logged = out
}

// checkLikeFresh checks the endpoint with e.d and with a Drift that has
// not read the log yet, and fails unless they record the same.
func checkLikeFresh(t *testing.T, e *driftEnv, window int, step int) {
	t.Helper()
	ctx := context.Background()
	got, err := e.d.Check(ctx, "ep")
	if err != nil {
		t.Fatal(err)
	}
	read := e.read
	fresh := &monitor.Drift{Refs: e, Log: e, Files: e, Store: e, Model: e.model, Window: window, Now: func() time.Time { return e.now }}
	want, err := fresh.Check(ctx, "ep")
	if err != nil {
		t.Fatal(err)
	}
	e.read = read
	if len(got) != len(want) {
		t.Fatalf("step %d: %d points, a fresh read %d", step, len(got), len(want))
	}
	for i := range want {
		if got[i].Series != want[i].Series || got[i].Value != want[i].Value {
			t.Fatalf("step %d: point %d %+v, a fresh read %+v", step, i, got[i], want[i])
		}
	}
}

// The window is kept between checks: the next check reads only what was
// logged since (and lateLog, a minute, before), and finds what a check
// reading the whole window finds — also once the window has moved past
// old rows, and with requests of several rows (of which it keeps only
// those the window's rows come from).
func TestDriftWindowIsIncremental(t *testing.T) {
	for _, tc := range []struct {
		name        string
		rowsPerReq  int
		loggedRows  int
		windowRows  int
		firstReads  int // requests
		maxReadStep int
	}{
		{"one row per request", 1, 300, 200, 200, 100},
		{"three rows per request", 3, 900, 200, 200, 100},
		{"five rows per request, a partial one", 5, 1500, 203, 203, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			e := newDriftEnv(t, 400, tc.loggedRows, 1.5, 1)
			multiRow(e, tc.rowsPerReq)
			e.d.Window = tc.windowRows
			if _, err := e.d.Check(ctx, "ep"); err != nil {
				t.Fatal(err)
			}
			if e.read != tc.firstReads {
				t.Fatalf("first check read %d requests, want %d", e.read, tc.firstReads)
			}
			for step := range 3 {
				// Five more requests, a second apart, drawn from the current rows.
				for i := range 5 {
					r := e.logged[len(e.logged)-50+i]
					r.RequestID = fmt.Sprintf("s%d-%d", step, i)
					r.Time = e.now.UnixMilli() + int64(i+1)*1000
					e.logged = append(e.logged, r)
				}
				e.now = e.now.Add(5 * time.Second)
				e.read = 0
				checkLikeFresh(t, e, tc.windowRows, step)
				// A minute of overlap at a request a second: ~65 requests,
				// far fewer than the window's.
				if e.read > tc.maxReadStep {
					t.Fatalf("step %d: an incremental check read %d requests", step, e.read)
				}
			}
		})
	}
}

// A request stored late — its time before the end of the previous check,
// written after it — is in the next check's window, as in a fresh read,
// as long as it is at most lateLog (a minute) late.
func TestDriftWindowFindsLateRows(t *testing.T) {
	for _, late := range []time.Duration{time.Second, 9 * time.Second, 20 * time.Second, 50 * time.Second} {
		t.Run(late.String(), func(t *testing.T) {
			ctx := context.Background()
			e := newDriftEnv(t, 400, 300, 1.5, 1)
			e.d.Window = 200
			if _, err := e.d.Check(ctx, "ep"); err != nil {
				t.Fatal(err)
			}
			// A late request with a value far out of the others' range.
			r := e.logged[len(e.logged)-1]
			r.RequestID, r.Time = "late", e.now.Add(-late).UnixMilli()
			r.Inputs = []float64{1e6, 0.5}
			e.logged = append(e.logged, r)
			e.now = e.now.Add(5 * time.Second)
			checkLikeFresh(t, e, 200, 0)
			rep, err := e.d.Report(ctx, "ep", time.Time{}, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if h := rep.Features[0].Histogram; rep.Features[0].Name != "a" || h.Edges[len(h.Edges)-1] != 1e6 {
				t.Fatalf("the late request is not in the window: %s's edges %v", rep.Features[0].Name, h.Edges)
			}
		})
	}
}
