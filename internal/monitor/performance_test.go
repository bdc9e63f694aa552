package monitor

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-ml/ferry/internal/concept"
	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/modelrt"
	"github.com/ferry-ml/ferry/internal/predlog"
)

// memLog is an in-memory prediction log with predlog.Store's query
// semantics (time then request id order, Since/Until/Version/After/Limit).
type memLog struct {
	mu   sync.Mutex
	rows []predlog.Logged
}

func (m *memLog) add(l predlog.Logged) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rows = append(m.rows, l)
}

func (m *memLog) feedback(endpoint, id string, truth []float64, at int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.rows {
		if m.rows[i].Endpoint == endpoint && m.rows[i].RequestID == id {
			m.rows[i].Truth, m.rows[i].FeedbackTime = truth, at
		}
	}
}

func (m *memLog) ListPredictions(_ context.Context, q predlog.Query) ([]predlog.Logged, error) {
	if q.Limit <= 0 {
		return nil, errdefs.InvalidArgument("limit")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	rows := slices.Clone(m.rows)
	slices.SortFunc(rows, func(a, b predlog.Logged) int {
		return cmp.Or(cmp.Compare(a.Time, b.Time), cmp.Compare(a.RequestID, b.RequestID))
	})
	var out []predlog.Logged
	for _, r := range rows {
		switch {
		case r.Endpoint != q.Endpoint, r.Time < q.Since, q.Until != 0 && r.Time >= q.Until,
			q.Version != 0 && r.Version != q.Version, q.WithFeedbackOnly && r.Truth == nil:
			continue
		case !q.After.IsZero() && (r.Time < q.After.Time || r.Time == q.After.Time && r.RequestID <= q.After.RequestID):
			continue
		}
		out = append(out, r)
	}
	if q.Newest {
		return out[max(len(out)-q.Limit, 0):], nil
	}
	return out[:min(len(out), q.Limit)], nil
}

type memStore struct {
	mu     sync.Mutex
	points []Point
}

func (s *memStore) AppendPoints(_ context.Context, p []Point) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.points = append(s.points, p...)
	return nil
}
func (s *memStore) QueryPoints(context.Context, Query) ([]Point, error)      { return nil, nil }
func (s *memStore) DeletePointsBefore(context.Context, int64) (int64, error) { return 0, nil }

type fixedEndpoints []string

func (e fixedEndpoints) MonitoredEndpoints(context.Context) ([]string, error) { return e, nil }

// taskMap says each (model, version)'s signature; others are not loaded.
type taskMap map[string]modelrt.Signature

func (t taskMap) Signature(_ context.Context, endpoint, model string, version int64) (modelrt.Signature, error) {
	if s, ok := t[fmt.Sprintf("%s/%s/%d", endpoint, model, version)]; ok {
		return s, nil
	}
	return modelrt.Signature{}, errdefs.NotFound("not loaded")
}

// find returns the value of the one point of a series with the given
// extra labels, and whether there is one.
func find(t *testing.T, points []Point, series string, labels map[string]string) (float64, bool) {
	t.Helper()
	var got []float64
	for _, p := range points {
		if p.Series != series {
			continue
		}
		ok := true
		for k, v := range labels {
			if p.Labels[k] != v {
				ok = false
			}
		}
		if ok {
			got = append(got, p.Value)
		}
	}
	switch len(got) {
	case 0:
		return 0, false
	case 1:
		return got[0], true
	}
	t.Fatalf("%d points of %s %v", len(got), series, labels)
	return 0, false
}

func close(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }

type goldenRequest struct {
	ID           string    `json:"id"`
	Time         int64     `json:"time"`
	Rows         int       `json:"rows"`
	Preds        []float64 `json:"preds"`
	Truth        []float64 `json:"truth"`
	FeedbackTime int64     `json:"feedback_time"`
}

type goldenCase struct {
	Name     string          `json:"name"`
	Task     modelrt.Task    `json:"task"`
	Outputs  int             `json:"outputs"`
	Requests []goldenRequest `json:"requests"`
	Expected struct {
		LabelledRows  int                `json:"labelled_rows"`
		InvalidLabels int                `json:"invalid_labels"`
		Metrics       map[string]float64 `json:"metrics"`
	} `json:"expected"`
}

// The window's metrics equal scikit-learn's on the valid labelled rows
// (testdata/gen_performance_golden.py); feedback that cannot be scored is
// counted, not measured, and rows older than the window are left out.
func TestPerformanceGolden(t *testing.T) {
	b, err := os.ReadFile("testdata/performance_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Now      int64        `json:"now"`
		WindowMs int64        `json:"window_ms"`
		Cases    []goldenCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &golden); err != nil {
		t.Fatal(err)
	}
	for _, c := range golden.Cases {
		t.Run(c.Name, func(t *testing.T) {
			log := &memLog{}
			for _, r := range c.Requests {
				log.add(predlog.Logged{Record: predlog.Record{RequestID: r.ID, Endpoint: "e", Model: "m", Version: 2,
					Time: r.Time, Rows: r.Rows, Outputs: c.Outputs, Predictions: r.Preds},
					Truth: r.Truth, FeedbackTime: r.FeedbackTime})
			}
			store := &memStore{}
			p := &Performance{Log: log, Store: store, Endpoints: fixedEndpoints{"e"},
				Tasks:  taskMap{"e/m/2": {Task: c.Task, Outputs: c.Outputs}},
				Window: time.Duration(golden.WindowMs) * time.Millisecond,
				Now:    func() time.Time { return time.UnixMilli(golden.Now) }}
			points, err := p.CheckAll(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(store.points) != len(points) {
				t.Fatalf("stored %d points, returned %d", len(store.points), len(points))
			}
			labels := map[string]string{"endpoint": "e", "model": "m", "version": "2"}
			for name, want := range c.Expected.Metrics {
				got, ok := find(t, points, name, labels)
				if !ok || !close(got, want) {
					t.Errorf("%s = %v (recorded %t), scikit-learn %v", name, got, ok, want)
				}
			}
			if got, _ := find(t, points, SeriesLabelledRows, labels); int(got) != c.Expected.LabelledRows {
				t.Errorf("labelled_rows = %v, want %d", got, c.Expected.LabelledRows)
			}
			if got, _ := find(t, points, SeriesInvalidLabels, labels); int(got) != c.Expected.InvalidLabels {
				t.Errorf("invalid_labels = %v, want %d", got, c.Expected.InvalidLabels)
			}
			for _, pt := range points {
				if pt.Time != golden.Now || pt.Labels["endpoint"] != "e" || pt.Labels["version"] != "2" {
					t.Errorf("point %+v", pt)
				}
			}
			latest := p.Latest("e")
			if len(latest) != 1 {
				t.Fatalf("latest: %+v", latest)
			}
			v := latest[0]
			if v.State != StateOK || v.Task != string(c.Task) || v.LabelledRows != c.Expected.LabelledRows ||
				v.InvalidLabels != c.Expected.InvalidLabels || v.InvalidReason == "" || len(v.Metrics) != len(c.Expected.Metrics) ||
				v.WindowStart != golden.Now-golden.WindowMs || v.WindowEnd != golden.Now {
				t.Errorf("latest: %+v", v)
			}
			for name, want := range c.Expected.Metrics {
				if !close(v.Metrics[name], want) {
					t.Errorf("latest %s = %v, want %v", name, v.Metrics[name], want)
				}
			}
			// The detectors saw every valid labelled row of the window once,
			// and see nothing more on the next check.
			for range 2 {
				for _, d := range p.Latest("e")[0].Detectors {
					if d.Rows != c.Expected.LabelledRows {
						t.Errorf("%s fed %d rows, want %d", d.Detector, d.Rows, c.Expected.LabelledRows)
					}
				}
				if _, err := p.Check(context.Background(), "e"); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := json.Marshal(p.Latest("e")); err != nil {
				t.Fatal(err) // no NaN reaches the API
			}
		})
	}
}

// binaryStream logs n one-row requests of a binary classifier from time
// t0, one a second; the prediction is wrong with probability errRate.
// Feedback arrives for all of them, after delay.
func binaryStream(log *memLog, rng *rand.Rand, prefix string, t0 int64, n int, errRate float64, delay int64) {
	for i := range n {
		p := 0.2 + 0.6*rng.Float64()
		cls := 0.0
		if p >= 0.5 {
			cls = 1
		}
		truth := cls
		if rng.Float64() < errRate {
			truth = 1 - cls
		}
		tm := t0 + int64(i)*1000
		log.add(predlog.Logged{Record: predlog.Record{RequestID: fmt.Sprintf("%s%05d", prefix, i), Endpoint: "e",
			Model: "m", Version: 1, Time: tm, Rows: 1, Outputs: 1, Predictions: []float64{p}},
			Truth: []float64{truth}, FeedbackTime: tm + delay})
	}
}

// The detectors read each labelled row once, in the order its feedback
// arrived, across checks: a stable error rate raises no drift, a jump of
// the error rate does, exactly when river's detectors fed the same stream
// do.
func TestPerformanceDetectors(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	log := &memLog{}
	t0 := int64(1_700_000_000_000)
	binaryStream(log, rng, "a", t0, 600, 0.2, 0)
	binaryStream(log, rng, "b", t0+600_000, 600, 0.7, 0)
	// Withhold the feedback of a stretch of the shifted part; it arrives
	// late, after later requests' feedback.
	late := map[string][]float64{}
	log.mu.Lock()
	for i := range log.rows {
		if r := &log.rows[i]; r.RequestID >= "b00100" && r.RequestID < "b00150" {
			late[r.RequestID] = r.Truth
			r.Truth, r.FeedbackTime = nil, 0
		}
	}
	log.mu.Unlock()
	now := t0
	store := &memStore{}
	p := &Performance{Log: log, Store: store, Endpoints: fixedEndpoints{"e"},
		Tasks: taskMap{"e/m/1": {Task: modelrt.Binary, Outputs: 1}}, Window: 24 * time.Hour,
		Now: func() time.Time { return time.UnixMilli(now) }}
	// The independent replay: river-equivalent detectors fed in feedback
	// order.
	ddm, _ := concept.NewDDM(concept.DDMConfig{})
	adwin, _ := concept.NewADWIN(concept.ADWINConfig{})
	ph, _ := concept.NewPageHinkley(concept.PageHinkleyConfig{})
	replayed := 0
	replay := func(upTo int64) (ddmDrift, adwinDrift, phDrift bool) {
		rows, _ := log.ListPredictions(context.Background(), predlog.Query{Endpoint: "e", Limit: 1 << 20})
		var fresh []predlog.Logged
		for _, r := range rows {
			if r.Truth != nil && r.FeedbackTime < upTo {
				fresh = append(fresh, r)
			}
		}
		slices.SortStableFunc(fresh, func(a, b predlog.Logged) int {
			return cmp.Or(cmp.Compare(a.FeedbackTime, b.FeedbackTime), cmp.Compare(a.Time, b.Time), cmp.Compare(a.RequestID, b.RequestID))
		})
		for _, r := range fresh[replayed:] {
			wrong := (r.Predictions[0] >= 0.5) != (r.Truth[0] == 1)
			x := 0.0
			if wrong {
				x = 1
			}
			if _, d := ddm.Update(wrong); d {
				ddmDrift = true
			}
			adwinDrift = adwin.Update(x) || adwinDrift
			phDrift = ph.Update(x) || phDrift
		}
		replayed = len(fresh)
		return
	}
	// The log's feedback times are the prediction times; check every
	// 100 s of it so that each check reads ~100 newly labelled rows.
	var firstDrift, lastDrift = map[string]int64{}, map[string]int64{}
	for step := int64(1); step <= 13; step++ {
		now = t0 + step*100_000
		if step == 11 { // the withheld feedback arrives now
			for id, truth := range late {
				log.feedback("e", id, truth, now-1)
			}
		}
		// Only feedback that arrived before now is visible.
		visible := &memLog{}
		log.mu.Lock()
		for _, r := range log.rows {
			if r.FeedbackTime >= now {
				r.Truth, r.FeedbackTime = nil, 0
			}
			if r.Time < now {
				visible.rows = append(visible.rows, r)
			}
		}
		log.mu.Unlock()
		p.Log = visible
		points, err := p.Check(context.Background(), "e")
		if err != nil {
			t.Fatal(err)
		}
		dd, ad, pd := replay(now)
		want := map[string]bool{DetectorDDM: dd, DetectorADWIN: ad, DetectorPageHinkley: pd}
		for _, d := range p.Latest("e")[0].Detectors {
			if d.State != StateOK {
				t.Fatalf("step %d: %+v", step, d)
			}
			got, ok := find(t, points, SeriesConceptDrift, map[string]string{"detector": d.Detector})
			if !ok || (got == 1) != want[d.Detector] || d.Drift != want[d.Detector] {
				t.Errorf("step %d: %s drift %v (point %t), replay %t", step, d.Detector, d.Drift, ok, want[d.Detector])
			}
			if d.Drift {
				if _, seen := firstDrift[d.Detector]; !seen {
					firstDrift[d.Detector] = now
				}
				lastDrift[d.Detector] = now
			}
			if d.Rows != replayed {
				t.Errorf("step %d: %s fed %d rows, replay %d", step, d.Detector, d.Rows, replayed)
			}
		}
		if _, ok := find(t, points, SeriesDDMWarning, nil); !ok {
			t.Errorf("step %d: no ddm_warning", step)
		}
	}
	if replayed != 1200 {
		t.Fatalf("replayed %d rows", replayed)
	}
	// Both detectors flag the jump of the error rate; ADWIN raises no
	// alarm on the stable part (DDM, as river's, may: it is sensitive to
	// its first rows' error rate).
	shift := t0 + 600_000
	for _, d := range []string{DetectorDDM, DetectorADWIN} {
		if at, ok := lastDrift[d]; !ok || at <= shift {
			t.Errorf("%s: last drift at %v (shift at %d)", d, at, shift)
		}
	}
	if at, ok := firstDrift[DetectorADWIN]; !ok || at <= shift {
		t.Errorf("adwin: first drift at %v (shift at %d)", at, shift)
	}
}

// CBPE estimates the window's unlabelled rows once enough labelled rows
// of both classes calibrate it, equal to concept's estimator fitted on
// the same reference; before, it records nothing and says so.
func TestPerformanceCBPE(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	log := &memLog{}
	t0 := int64(1_700_000_000_000)
	binaryStream(log, rng, "a", t0, 150, 0.2, 5)
	// Unlabelled traffic.
	var scores []float64
	for i := range 80 {
		p := rng.Float64()
		scores = append(scores, p)
		log.add(predlog.Logged{Record: predlog.Record{RequestID: fmt.Sprintf("u%03d", i), Endpoint: "e", Model: "m",
			Version: 1, Time: t0 + 200_000 + int64(i), Rows: 1, Outputs: 1, Predictions: []float64{p}}})
	}
	now := t0 + 300_000
	p := &Performance{Log: log, Store: &memStore{}, Endpoints: fixedEndpoints{"e"},
		Tasks: taskMap{"e/m/1": {Task: modelrt.Binary, Outputs: 1}}, MinReference: 200,
		Now: func() time.Time { return time.UnixMilli(now) }}
	points, err := p.Check(context.Background(), "e")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := find(t, points, SeriesEstimatedAccuracy, nil); ok {
		t.Fatal("estimated with 150 labelled rows of the 200 needed")
	}
	if e := p.Latest("e")[0].Estimated; e == nil || e.State != StateNotEnoughData || e.ReferenceRows != 150 || e.Rows != 80 {
		t.Fatalf("estimate: %+v", e)
	}
	p.MinReference = 100
	points, err = p.Check(context.Background(), "e")
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := log.ListPredictions(context.Background(), predlog.Query{Endpoint: "e", Limit: 1000})
	var refS []float64
	var refL []bool
	slices.SortStableFunc(rows, func(a, b predlog.Logged) int { return cmp.Compare(a.FeedbackTime, b.FeedbackTime) })
	for _, r := range rows {
		if r.Truth != nil {
			refS, refL = append(refS, r.Predictions[0]), append(refL, r.Truth[0] == 1)
		}
	}
	c, err := concept.FitCBPE(refS, refL, concept.CBPEConfig{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := c.Estimate(scores, nil)
	if err != nil {
		t.Fatal(err)
	}
	for series, w := range map[string]float64{SeriesEstimatedAccuracy: want.Accuracy, SeriesEstimatedROCAUC: want.ROCAUC,
		SeriesEstimatedF1: want.F1, SeriesEstimatedPrecision: want.Precision, SeriesEstimatedRecall: want.Recall} {
		if got, ok := find(t, points, series, nil); !ok || !close(got, w) {
			t.Errorf("%s = %v (recorded %t), want %v", series, got, ok, w)
		}
	}
	if e := p.Latest("e")[0].Estimated; e.State != StateOK || e.ReferenceRows != 150 || e.Rows != 80 || e.Calibrated != c.Calibrated() {
		t.Errorf("estimate: %+v", e)
	}
}

// Windows without traffic, without labels, with labels that cannot be
// scored, or of a version whose task is unknown record no metric and say
// why; nothing panics and nothing alarms.
func TestPerformanceNotEnoughData(t *testing.T) {
	ctx := context.Background()
	t0 := int64(1_700_000_000_000)
	now := t0
	log := &memLog{}
	store := &memStore{}
	p := &Performance{Log: log, Store: store, Endpoints: fixedEndpoints{"e"},
		Tasks: taskMap{"e/m/1": {Task: modelrt.Binary, Outputs: 1}, "e/m/3": {Task: modelrt.Multiclass, Outputs: 3},
			"e/m/4": {Task: modelrt.Ranking, Outputs: 1}},
		Now: func() time.Time { return time.UnixMilli(now) }}
	// No traffic at all.
	if points, err := p.CheckAll(ctx); err != nil || len(points) != 0 || len(p.Latest("e")) != 0 {
		t.Fatalf("no traffic: %v %v %v", points, err, p.Latest("e"))
	}
	add := func(id string, version int64, outputs int, preds, truth []float64) {
		log.add(predlog.Logged{Record: predlog.Record{RequestID: id, Endpoint: "e", Model: "m", Version: version,
			Time: now - 1000, Rows: len(preds) / outputs, Outputs: outputs, Predictions: preds},
			Truth: truth, FeedbackTime: now - 500})
	}
	now += 60_000
	add("a", 1, 1, []float64{0.9}, nil)                    // no label yet
	add("b", 1, 1, []float64{0.2, 0.7}, []float64{0.5, 3}) // labels of the wrong type
	add("c", 1, 1, []float64{0.4}, []float64{1, 0})        // two labels for one row
	add("d", 1, 1, []float64{2.5}, []float64{1})           // a raw margin, not a probability
	add("e", 2, 1, []float64{3.2}, []float64{1})           // a version not loaded
	add("f", 3, 3, []float64{0.2, 0.3, 0.5}, []float64{3}) // class 3 of 3
	add("g", 4, 1, []float64{0.1}, []float64{1})           // ranking
	points, err := p.Check(ctx, "e")
	if err != nil {
		t.Fatal(err)
	}
	for _, pt := range points {
		switch pt.Series {
		case SeriesLabelledRows:
			if pt.Value != 0 {
				t.Errorf("%+v", pt)
			}
		case SeriesInvalidLabels:
			want := map[string]float64{"1": 4, "3": 1}[pt.Labels["version"]]
			if pt.Value != want {
				t.Errorf("%+v, want %v", pt, want)
			}
		default:
			t.Errorf("unexpected point %+v", pt)
		}
	}
	latest := p.Latest("e")
	if len(latest) != 4 {
		t.Fatalf("%+v", latest)
	}
	wantState := map[int64]string{1: StateNotEnoughData, 2: StateUnknownTask, 3: StateNotEnoughData, 4: StateUnsupportedTask}
	for _, v := range latest {
		if v.State != wantState[v.Version] || v.Reason == "" || len(v.Metrics) != 0 {
			t.Errorf("version %d: %+v", v.Version, v)
		}
		for _, d := range v.Detectors {
			if d.State != StateNotEnoughData || d.Rows != 0 {
				t.Errorf("version %d: %+v", v.Version, d)
			}
		}
	}
	if v := latest[0]; v.Rows != 5 || v.InvalidLabels != 4 || v.Estimated == nil || v.Estimated.State != StateNotEnoughData {
		t.Errorf("version 1: %+v %+v", v, v.Estimated)
	}
	if _, err := json.Marshal(latest); err != nil {
		t.Fatal(err)
	}
	// An hour later the window is empty: nothing recorded, the state says so.
	now += 2 * time.Hour.Milliseconds()
	points, err = p.CheckAll(ctx)
	if err != nil || len(points) != 0 {
		t.Fatalf("empty window: %v %v", points, err)
	}
	for _, v := range p.Latest("e") {
		if v.State != StateNotEnoughData || v.Reason != "no traffic in the window" || v.Rows != 0 {
			t.Errorf("%+v", v)
		}
	}
	// An endpoint no longer deployed is forgotten.
	p.Endpoints = fixedEndpoints{}
	if _, err := p.CheckAll(ctx); err != nil || len(p.Latest("e")) != 0 {
		t.Fatalf("%v %v", err, p.Latest("e"))
	}
}

// A regression's absolute errors feed Page-Hinkley only.
func TestPerformanceRegressionDetector(t *testing.T) {
	log := &memLog{}
	t0 := int64(1_700_000_000_000)
	for i := range 100 {
		errAbs := 0.5
		if i >= 50 {
			errAbs = 200 // the model broke
		}
		log.add(predlog.Logged{Record: predlog.Record{RequestID: fmt.Sprintf("r%03d", i), Endpoint: "e", Model: "m",
			Version: 1, Time: t0 + int64(i), Rows: 1, Outputs: 1, Predictions: []float64{10}},
			Truth: []float64{10 + errAbs}, FeedbackTime: t0 + int64(i)})
	}
	p := &Performance{Log: log, Store: &memStore{}, Endpoints: fixedEndpoints{"e"},
		Tasks: taskMap{"e/m/1": {Task: modelrt.Regression, Outputs: 1}},
		Now:   func() time.Time { return time.UnixMilli(t0 + 1000) }}
	points, err := p.Check(context.Background(), "e")
	if err != nil {
		t.Fatal(err)
	}
	ds := p.Latest("e")[0].Detectors
	if len(ds) != 1 || ds[0].Detector != DetectorPageHinkley || ds[0].Stream != "absolute_error" || !ds[0].Drift || ds[0].Rows != 100 {
		t.Fatalf("%+v", ds)
	}
	if v, ok := find(t, points, SeriesConceptDrift, map[string]string{"detector": DetectorPageHinkley}); !ok || v != 1 {
		t.Fatalf("concept_drift %v %t", v, ok)
	}
	if v, _ := find(t, points, SeriesMAE, nil); !close(v, (50*0.5+50*200)/100.0) {
		t.Fatalf("mae %v", v)
	}
}

// A version without traffic is kept (saying "no traffic") for two
// windows after the last window that had its rows, then forgotten; one
// with traffic again is not.
func TestPerformanceExpiresIdleVersions(t *testing.T) {
	ctx := context.Background()
	t0 := int64(1_700_000_000_000)
	hour := time.Hour.Milliseconds()
	for _, tc := range []struct {
		name  string
		after int64 // since the check that saw the traffic
		again bool  // traffic again just before the later check
		kept  bool
	}{
		{"one window", hour, false, true},
		{"two windows", 2 * hour, false, true},
		{"just over two windows", 2*hour + 1, false, false},
		{"five windows", 5 * hour, false, false},
		{"five windows, traffic again", 5 * hour, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := t0
			log := &memLog{}
			add := func(id string, version int64) {
				log.add(predlog.Logged{Record: predlog.Record{RequestID: id, Endpoint: "e", Model: "m", Version: version,
					Time: now - 1000, Rows: 1, Outputs: 1, Predictions: []float64{0.9}}, Truth: []float64{1}, FeedbackTime: now - 500})
			}
			add("a", 1)
			p := &Performance{Log: log, Store: &memStore{}, Endpoints: fixedEndpoints{"e"}, Window: time.Hour,
				Tasks: taskMap{"e/m/1": {Task: modelrt.Binary, Outputs: 1}, "e/m/2": {Task: modelrt.Binary, Outputs: 1}},
				Now:   func() time.Time { return time.UnixMilli(now) }}
			if _, err := p.CheckAll(ctx); err != nil || len(p.Latest("e")) != 1 {
				t.Fatalf("%v %+v", err, p.Latest("e"))
			}
			// Hourly checks with version 2's traffic only, then the last.
			for at := t0 + hour; at < t0+tc.after; at += hour {
				now = at
				add(fmt.Sprintf("b%d", at), 2)
				if _, err := p.CheckAll(ctx); err != nil {
					t.Fatal(err)
				}
			}
			now = t0 + tc.after
			add("c", 2)
			if tc.again {
				add("d", 1)
			}
			if _, err := p.CheckAll(ctx); err != nil {
				t.Fatal(err)
			}
			var v1 *VersionPerformance
			for _, v := range p.Latest("e") {
				if v.Version == 1 {
					v1 = &v
				}
			}
			if (v1 != nil) != tc.kept {
				t.Fatalf("version 1 kept %t, want %t: %+v", v1 != nil, tc.kept, p.Latest("e"))
			}
			if v1 != nil && !tc.again && v1.Reason != "no traffic in the window" {
				t.Fatalf("version 1: %+v", v1)
			}
		})
	}
}

// failingTasks fails (not with NotFound) for the versions in fail.
type failingTasks struct {
	taskMap
	fail map[int64]error
}

func (f failingTasks) Signature(ctx context.Context, endpoint, model string, version int64) (modelrt.Signature, error) {
	if err := f.fail[version]; err != nil {
		return modelrt.Signature{}, err
	}
	return f.taskMap.Signature(ctx, endpoint, model, version)
}

// A version that fails is logged and says so; the others are measured,
// recorded and fed as usual, and the failed one is measured once it no
// longer fails.
func TestPerformanceVersionErrorKeepsOthers(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(5, 6))
	log := &memLog{}
	t0 := int64(1_700_000_000_000)
	binaryStream(log, rng, "a", t0, 50, 0.2, 0)
	binaryStream(log, rng, "b", t0, 40, 0.2, 0)
	log.mu.Lock()
	for i := range log.rows {
		if log.rows[i].RequestID[0] == 'b' {
			log.rows[i].Version = 2
		}
	}
	log.mu.Unlock()
	tasks := failingTasks{taskMap: taskMap{"e/m/1": {Task: modelrt.Binary, Outputs: 1}, "e/m/2": {Task: modelrt.Binary, Outputs: 1}},
		fail: map[int64]error{2: errors.New("runtime unreachable")}}
	store := &memStore{}
	var logs strings.Builder
	p := &Performance{Log: log, Store: store, Endpoints: fixedEndpoints{"e"}, Tasks: tasks,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Now:    func() time.Time { return time.UnixMilli(t0 + 100_000) }}
	points, err := p.Check(ctx, "e")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := find(t, points, SeriesAccuracy, map[string]string{"version": "1"}); !ok || len(store.points) != len(points) {
		t.Fatalf("version 1 not recorded: %d points, %d stored", len(points), len(store.points))
	}
	if _, ok := find(t, points, SeriesAccuracy, map[string]string{"version": "2"}); ok {
		t.Fatal("version 2 recorded")
	}
	latest := p.Latest("e")
	if len(latest) != 2 || latest[0].State != StateOK || latest[0].Detectors[0].Rows != 50 {
		t.Fatalf("version 1: %+v", latest)
	}
	if v := latest[1]; v.State != StateError || !strings.Contains(v.Reason, "runtime unreachable") || v.Rows != 40 {
		t.Fatalf("version 2: %+v", v)
	}
	if !strings.Contains(logs.String(), "runtime unreachable") {
		t.Fatalf("not logged: %s", logs.String())
	}
	// It recovers; version 1's rows are not fed again.
	delete(tasks.fail, 2)
	points, err = p.Check(ctx, "e")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := find(t, points, SeriesAccuracy, map[string]string{"version": "2"}); !ok {
		t.Fatal("version 2 not recorded once it no longer fails")
	}
	latest = p.Latest("e")
	if latest[0].Detectors[0].Rows != 50 || latest[1].State != StateOK || latest[1].Detectors[0].Rows != 40 {
		t.Fatalf("%+v", latest)
	}
}

// lockProbe calls probe (which takes p.mu) from Tasks and the store, and
// says whether it waited: Check must hold no lock while it calls them.
type lockProbe struct {
	taskMap
	memStore
	probe   func()
	blocked chan string
}

func (l *lockProbe) try(what string) {
	done := make(chan struct{}, 1) // close is the test's float comparison here
	go func() {
		l.probe()
		done <- struct{}{}
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		l.blocked <- what
	}
}

func (l *lockProbe) Signature(ctx context.Context, endpoint, model string, version int64) (modelrt.Signature, error) {
	l.try("Tasks.Signature")
	return l.taskMap.Signature(ctx, endpoint, model, version)
}

func (l *lockProbe) AppendPoints(ctx context.Context, p []Point) error {
	l.try("Store.AppendPoints")
	return l.memStore.AppendPoints(ctx, p)
}

func TestPerformanceCallsOutsideTheLock(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	log := &memLog{}
	t0 := int64(1_700_000_000_000)
	binaryStream(log, rng, "a", t0, 20, 0.2, 0)
	probe := &lockProbe{taskMap: taskMap{"e/m/1": {Task: modelrt.Binary, Outputs: 1}}, blocked: make(chan string, 2)}
	p := &Performance{Log: log, Store: probe, Endpoints: fixedEndpoints{"e"}, Tasks: probe,
		Now: func() time.Time { return time.UnixMilli(t0 + 100_000) }}
	probe.probe = func() { p.Latest("e") }
	if _, err := p.Check(context.Background(), "e"); err != nil {
		t.Fatal(err)
	}
	for len(probe.blocked) > 0 {
		t.Errorf("%s is called under the lock", <-probe.blocked)
	}
	if len(probe.points) == 0 {
		t.Fatal("nothing recorded")
	}
}

// A regression's error that overflows is not a number Page-Hinkley can
// read: the row is invalid, neither measured nor fed.
func TestPerformanceRegressionNonFiniteError(t *testing.T) {
	log := &memLog{}
	t0 := int64(1_700_000_000_000)
	for i, tc := range []struct{ pred, truth float64 }{{10, 11}, {-1e308, 1e308}, {1e308, -1e308}, {3, 3}} {
		log.add(predlog.Logged{Record: predlog.Record{RequestID: fmt.Sprintf("r%d", i), Endpoint: "e", Model: "m",
			Version: 1, Time: t0 + int64(i), Rows: 1, Outputs: 1, Predictions: []float64{tc.pred}},
			Truth: []float64{tc.truth}, FeedbackTime: t0 + int64(i)})
	}
	p := &Performance{Log: log, Store: &memStore{}, Endpoints: fixedEndpoints{"e"},
		Tasks: taskMap{"e/m/1": {Task: modelrt.Regression, Outputs: 1}},
		Now:   func() time.Time { return time.UnixMilli(t0 + 1000) }}
	points, err := p.Check(context.Background(), "e")
	if err != nil {
		t.Fatal(err)
	}
	v := p.Latest("e")[0]
	if v.LabelledRows != 2 || v.InvalidLabels != 2 || !strings.Contains(v.InvalidReason, "not a finite number") || v.Detectors[0].Rows != 2 {
		t.Fatalf("%+v", v)
	}
	if mae, ok := find(t, points, SeriesMAE, nil); !ok || mae != 0.5 {
		t.Fatalf("mae %v %t", mae, ok)
	}
}
