package monitor_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ferry-ml/ferry/internal/drift"
	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/monitor"
	"github.com/ferry-ml/ferry/internal/monitor/report"
)

// fakeSettings is a monitor.SettingsStore of one endpoint's settings.
type fakeSettings struct{ s monitor.DriftSettings }

func (f *fakeSettings) SetDriftSettings(_ context.Context, s monitor.DriftSettings) error {
	f.s = s
	return nil
}

func (f *fakeSettings) GetDriftSettings(_ context.Context, endpoint string) (monitor.DriftSettings, error) {
	s := f.s
	s.Endpoint = endpoint
	return s, nil
}

// loggedColumn is feature j of the fixture's logged rows.
func loggedColumn(e *driftEnv, j int) []float64 {
	var cur []float64
	for _, l := range e.logged {
		cur = append(cur, l.Inputs[j])
	}
	return cur
}

func TestDriftSettingsTestAndThresholds(t *testing.T) {
	ctx := context.Background()
	e := newDriftEnv(t, 400, 300, 0.3, 1)
	ra, rb := refColumns(t, e.refCSV)
	wantA, err := drift.Column(ra, loggedColumn(e, 0), drift.Options{Test: drift.TestPSI})
	if err != nil {
		t.Fatal(err)
	}
	wantB, err := drift.Column(rb, loggedColumn(e, 1), drift.Options{Test: drift.TestPSI})
	if err != nil {
		t.Fatal(err)
	}
	if !(wantB.Statistic < wantA.Statistic) {
		t.Fatalf("fixture: psi a %v, b %v", wantA.Statistic, wantB.Statistic)
	}
	// A threshold between b's and a's PSI drifts a only.
	mid := (wantA.Statistic + wantB.Statistic) / 2
	for _, tc := range []struct {
		name                string
		settings            monitor.DriftSettings
		driftA, driftB      bool
		threshold, share    float64
		datasetDrift        bool
		wantShareOfFeatures float64
	}{
		{"psi default threshold", monitor.DriftSettings{StatTest: "psi"}, wantA.Statistic >= 0.1, wantB.Statistic >= 0.1, 0.1, 0.5,
			(wantA.Statistic >= 0.1) || (wantB.Statistic >= 0.1), float64(btoi(wantA.Statistic >= 0.1)+btoi(wantB.Statistic >= 0.1)) / 2},
		{"psi high threshold", monitor.DriftSettings{StatTest: "psi", Threshold: 100}, false, false, 100, 0.5, false, 0},
		{"psi tiny threshold", monitor.DriftSettings{StatTest: "psi", Threshold: 1e-9}, true, true, 1e-9, 0.5, true, 1},
		{"psi mid threshold, share 0.5", monitor.DriftSettings{StatTest: "psi", Threshold: mid}, true, false, mid, 0.5, true, 0.5},
		{"psi mid threshold, share 0.6", monitor.DriftSettings{StatTest: "psi", Threshold: mid, DriftShare: 0.6}, true, false, mid, 0.6, false, 0.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.points = nil
			e.d.Settings = &fakeSettings{s: tc.settings}
			points, err := e.d.Check(ctx, "ep")
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []struct {
				name    string
				want    drift.Result
				drifted bool
			}{{"a", wantA, tc.driftA}, {"b", wantB, tc.driftB}} {
				score, ok := pointOf(points, monitor.SeriesFeatureScore, map[string]string{"endpoint": "ep", "feature": f.name, "test": "psi"})
				if !ok || score.Value != f.want.Statistic {
					t.Errorf("%s psi = %+v, want %v (internal/drift)", f.name, score, f.want.Statistic)
				}
				p, _ := pointOf(points, monitor.SeriesFeatureDrift, map[string]string{"endpoint": "ep", "feature": f.name})
				if (p.Value == 1) != f.drifted {
					t.Errorf("%s drifted = %v, want %v", f.name, p.Value, f.drifted)
				}
			}
			share, _ := pointOf(points, monitor.SeriesDriftShare, map[string]string{"endpoint": "ep"})
			ds, _ := pointOf(points, monitor.SeriesDatasetDrift, map[string]string{"endpoint": "ep"})
			if share.Value != tc.wantShareOfFeatures || (ds.Value == 1) != tc.datasetDrift {
				t.Errorf("share %v dataset drift %v, want %v %v", share.Value, ds.Value, tc.wantShareOfFeatures, tc.datasetDrift)
			}
			r, err := e.d.Report(ctx, "ep", time.Time{}, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if r.Settings.StatTest != "psi" || r.Settings.Threshold != tc.threshold || r.DriftShareThreshold != tc.share ||
				r.Features[0].Test != "psi" || r.Features[0].Threshold != tc.threshold || r.Features[0].PValue != nil {
				t.Errorf("report settings %+v, threshold %v, feature %+v", r.Settings, r.DriftShareThreshold, r.Features[0])
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestDriftTimeWindow(t *testing.T) {
	ctx := context.Background()
	e := newDriftEnv(t, 400, 300, 1.5, 1)
	// A request at now itself is outside [now-window, now).
	last := e.logged[len(e.logged)-1]
	last.RequestID, last.Time = "r-now", e.now.UnixMilli()
	e.logged = append(e.logged, last)
	for _, tc := range []struct {
		name     string
		settings monitor.DriftSettings
		rows     int
		from     int64
	}{
		// Logged at now-300s … now-1s, one row a second.
		{"100s", monitor.DriftSettings{Window: 100 * time.Second}, 100, e.now.UnixMilli() - 100_000},
		{"10s", monitor.DriftSettings{Window: 10 * time.Second}, 10, e.now.UnixMilli() - 10_000},
		{"count 50", monitor.DriftSettings{WindowRows: 50}, 50, e.now.UnixMilli() - 49_000},
		{"count default", monitor.DriftSettings{}, 301, e.now.UnixMilli() - 300_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.d.Settings = &fakeSettings{s: tc.settings}
			r, err := e.d.Report(ctx, "ep", time.Time{}, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if r.Current.Rows != tc.rows || r.Current.From != tc.from || r.Features[0].NCur != tc.rows {
				t.Fatalf("window %+v (n_cur %d), want %d rows from %d", r.Current, r.Features[0].NCur, tc.rows, tc.from)
			}
			if tc.settings.Window > 0 && (r.Current.To >= e.now.UnixMilli() || r.Settings.Window != tc.settings.Window.String() ||
				r.Settings.WindowRows != monitor.MaxWindowRows) {
				t.Fatalf("time window: %+v settings %+v", r.Current, r.Settings)
			}
		})
	}
	// A time window without traffic in range: not enough data.
	e.d.Settings = &fakeSettings{s: monitor.DriftSettings{Window: time.Second}}
	e.now = e.now.Add(time.Hour)
	if _, err := e.d.Check(ctx, "ep"); !errors.Is(err, drift.ErrNotEnoughData) || !strings.Contains(err.Error(), "last 1s") {
		t.Fatalf("empty time window: %v", err)
	}
}

func TestDriftPerVersion(t *testing.T) {
	ctx := context.Background()
	e := newDriftEnv(t, 400, 300, 1.5, 1)
	// The newest 100 rows come from a canary, version 4; 20 from a third
	// version (too few to be measured on its own).
	for i := 180; i < 300; i++ {
		e.logged[i].Version = 4
		if i >= 280 {
			e.logged[i].Version = 5
		}
	}
	points, err := e.d.Check(ctx, "ep")
	if err != nil {
		t.Fatal(err)
	}
	ra, _ := refColumns(t, e.refCSV)
	for _, v := range []struct {
		version  string
		from, to int
	}{{"3", 0, 180}, {"4", 180, 280}} {
		labels := map[string]string{"endpoint": "ep", "model": "m", "version": v.version}
		if _, ok := pointOf(points, monitor.SeriesVersionDriftShare, labels); !ok {
			t.Errorf("no version_drift_share for version %s", v.version)
		}
		if _, ok := pointOf(points, monitor.SeriesVersionDatasetDrift, labels); !ok {
			t.Errorf("no version_dataset_drift for version %s", v.version)
		}
		want, _ := drift.Column(ra, loggedColumn(e, 0)[v.from:v.to], drift.Options{})
		score, ok := pointOf(points, monitor.SeriesVersionFeatureScore, map[string]string{"endpoint": "ep", "model": "m", "version": v.version, "feature": "a"})
		if !ok || score.Value != want.Score() {
			t.Errorf("version %s: a's score %+v, want %v", v.version, score, want.Score())
		}
	}
	if _, ok := pointOf(points, monitor.SeriesVersionDriftShare, map[string]string{"version": "5"}); ok {
		t.Error("version 5 has 20 rows: not enough data, nothing recorded")
	}
	// The endpoint's own series are unchanged: one, labelled by the
	// endpoint only, over the whole window.
	n := 0
	for _, p := range points {
		if p.Series == monitor.SeriesDriftShare {
			n++
			if len(p.Labels) != 1 {
				t.Errorf("endpoint drift_share labels %v", p.Labels)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d endpoint-level drift_share points", n)
	}
	r, err := e.d.Report(ctx, "ep", e.now.Add(-time.Hour), e.now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Versions) != 2 || r.Versions[0].Version != 3 || r.Versions[0].Rows != 180 || r.Versions[1].Rows != 100 {
		t.Fatalf("report versions %+v", r.Versions)
	}
	if page, err := report.HTML(r); err != nil || !strings.Contains(string(page), "m version 4") {
		t.Fatalf("html: %v", err)
	}
	// The over-time series are the endpoint's, not the versions'.
	if len(r.DriftShareOverTime) != 1 || len(r.Features[0].OverTime) != 1 {
		t.Fatalf("over time: %+v %+v", r.DriftShareOverTime, r.Features[0].OverTime)
	}
	// One version only: no per-version series.
	for i := range e.logged {
		e.logged[i].Version = 3
	}
	e.relog()
	points, err = e.d.Check(ctx, "ep")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := pointOf(points, monitor.SeriesVersionDriftShare, map[string]string{"version": "3"}); ok {
		t.Error("a single-version window recorded per-version drift")
	}
}

func TestDriftFeaturesMissingInReference(t *testing.T) {
	ctx := context.Background()
	e := newDriftEnv(t, 400, 300, 1.5, 1)
	var logs bytes.Buffer
	e.d.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	// Every request also logs a feature "c" the reference lacks.
	for i := range e.logged {
		l := &e.logged[i]
		l.Inputs = append(l.Inputs, 7)
		l.Features, l.FeatureNames = 3, []string{"a", "b", "c"}
	}
	for range 3 {
		if _, err := e.d.Check(ctx, "ep"); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(logs.String(), "missing in the reference"); n != 1 {
		t.Fatalf("%d warnings over 3 ticks, want 1:\n%s", n, logs.String())
	}
	r, err := e.d.Report(ctx, "ep", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.FeaturesMissingInReference, []string{"c"}) || !slices.Equal(r.ReferenceColumnsNotServed, []string{"target"}) ||
		len(r.Features) != 2 {
		t.Fatalf("missing %v, not served %v, features %d", r.FeaturesMissingInReference, r.ReferenceColumnsNotServed, len(r.Features))
	}
	if page, err := report.HTML(r); err != nil || !strings.Contains(string(page), "logged features missing in the reference:</span> c") {
		t.Fatalf("html: %v", err)
	}
	// No logged feature in the reference: not enough data, said clearly.
	for i := range e.logged {
		e.logged[i].FeatureNames = []string{"x", "y", "z"}
	}
	e.relog()
	_, err = e.d.Check(ctx, "ep")
	if !errors.Is(err, drift.ErrNotEnoughData) || !errors.Is(err, errdefs.ErrConflict) ||
		!strings.Contains(err.Error(), "no logged feature (x, y, z) is a numeric column of the reference ref@1 (a, b, target)") {
		t.Fatalf("no common feature: %v", err)
	}
	if n := strings.Count(logs.String(), "missing in the reference"); n != 2 {
		t.Fatalf("a new set of missing features warns again: %d warnings", n)
	}
}

func TestDriftSettingsValidate(t *testing.T) {
	for _, tc := range []struct {
		s     monitor.DriftSettings
		field string // "" is valid
	}{
		{monitor.DriftSettings{}, ""},
		{monitor.DriftSettings{StatTest: "psi", Threshold: 0.2, DriftShare: 1, WindowRows: 100_000}, ""},
		{monitor.DriftSettings{Window: time.Hour}, ""},
		{monitor.DriftSettings{Window: time.Hour, WindowRows: monitor.MaxWindowRows}, ""}, // the effective settings round-trip
		{monitor.DriftSettings{StatTest: "mannw"}, "'stattest'"},
		{monitor.DriftSettings{Threshold: -1}, "'threshold'"},
		{monitor.DriftSettings{StatTest: "ks", Threshold: 2}, "'threshold'"},
		// The default selection compares p-values for small references.
		{monitor.DriftSettings{Threshold: 1}, ""},
		{monitor.DriftSettings{Threshold: 1.5}, "the threshold must be in (0, 1]"},
		{monitor.DriftSettings{StatTest: "wasserstein", Threshold: 1.5}, ""},
		{monitor.DriftSettings{StatTest: "psi", Threshold: 2}, ""},
		{monitor.DriftSettings{DriftShare: 1.01}, "'drift_share'"},
		{monitor.DriftSettings{DriftShare: -0.5}, "'drift_share'"},
		{monitor.DriftSettings{WindowRows: monitor.MaxWindowRows + 1}, "'window_rows'"},
		{monitor.DriftSettings{Window: 31 * 24 * time.Hour}, "'window'"},
		{monitor.DriftSettings{Window: time.Millisecond}, "'window'"},
		{monitor.DriftSettings{Window: time.Hour, WindowRows: 10}, "'window' and 'window_rows'"},
	} {
		err := tc.s.Validate()
		if tc.field == "" {
			if err != nil {
				t.Errorf("%+v: %v", tc.s, err)
			}
			continue
		}
		if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%+v: %v, want an invalid argument naming %s", tc.s, err, tc.field)
		}
	}
	if err := (monitor.DriftSettings{StatTest: "mannw"}).Validate(); !strings.Contains(err.Error(), "ks, chisquare, z, wasserstein, jensenshannon, psi") {
		t.Errorf("unknown test lists the valid ones: %v", err)
	}
	eff := monitor.DriftSettings{StatTest: "ks"}.Effective()
	if eff.Threshold != 0.05 || eff.DriftShare != 0.5 || eff.WindowRows != monitor.DefaultWindowRows {
		t.Errorf("effective %+v", eff)
	}
}

// A feature without a finite value on one side is not tested, and the
// report says so rather than dropping it silently.
func TestDriftReportFeaturesNotTested(t *testing.T) {
	ctx := context.Background()
	e := newDriftEnv(t, 400, 300, 1.5, 1)
	for i := range e.logged {
		e.logged[i].Inputs[1] = math.NaN() // b is never logged
	}
	r, err := e.d.Report(ctx, "ep", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	want := []report.NotTested{{Name: "b", Reason: "not enough data: no finite value in the window"}}
	if len(r.Features) != 1 || r.Features[0].Name != "a" || !slices.Equal(r.FeaturesNotTested, want) {
		t.Fatalf("features %d, not tested %+v", len(r.Features), r.FeaturesNotTested)
	}
	if page, err := report.HTML(r); err != nil || !strings.Contains(string(page), "b (not enough data: no finite value in the window)") {
		t.Fatalf("html: %v", err)
	}
	e.relog()
	e.logged = e.logged[:0]
	newer := newDriftEnv(t, 400, 300, 1.5, 1)
	e.logged = newer.logged
	if r, err = e.d.Report(ctx, "ep", time.Time{}, time.Time{}); err != nil || r.FeaturesNotTested == nil || len(r.FeaturesNotTested) != 0 {
		t.Fatalf("all tested: %+v %v", r.FeaturesNotTested, err)
	}
}
