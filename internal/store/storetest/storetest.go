// Package storetest is the conformance suite every implementation of the
// domain store interfaces must pass; each engine's tests call Run with a
// constructor for a fresh, empty store.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"
	"testing"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/filter"
	"github.com/ferry-ml/ferry/internal/tracking"
)

// Store is what the suite exercises.
type Store interface {
	tracking.Store
}

const root = "mlflow-artifacts:"

// Run runs the whole suite; newStore returns a fresh, empty store that
// is closed by the test's cleanup.
func Run(t *testing.T, newStore func(t *testing.T) Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s Store)
	}{
		{"DefaultExperiment", testDefaultExperiment},
		{"ExperimentCRUD", testExperimentCRUD},
		{"ExperimentLifecycleCascades", testExperimentLifecycle},
		{"SearchExperiments", testSearchExperiments},
		{"RunCRUD", testRunCRUD},
		{"LatestMetric", testLatestMetric},
		{"NonFiniteMetrics", testNonFiniteMetrics},
		{"ParamsImmutableAndBatchAtomic", testParamsImmutable},
		{"DeletedRunRefusesWrites", testDeletedRun},
		{"Tags", testTags},
		{"LogInputs", testLogInputs},
		{"SearchRunsFilter", testSearchRunsFilter},
		{"SearchRunsOrder", testSearchRunsOrder},
		{"SearchRunsPaging", testSearchRunsPaging},
		{"SearchRunsPagingAcrossMissingKeys", testSearchRunsPhasedPaging},
		{"MetricHistory", testMetricHistory},
		{"ConcurrentWriters", testConcurrentWriters},
		{"ConcurrentParamRace", testConcurrentParamRace},
		{"LargeBatch", testLargeBatch},
		{"ConcurrentWritersOfOneRow", testConcurrentRowWriters},
		{"ConcurrentDatasetInputs", testConcurrentInputs},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			if err := s.EnsureDefaultExperiment(context.Background(), root, 1); err != nil {
				t.Fatalf("EnsureDefaultExperiment: %v", err)
			}
			tc.fn(t, s)
		})
	}
	t.Run("ConcurrentStartersCreateDefault", func(t *testing.T) { testConcurrentDefault(t, newStore(t)) })
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("error = %v, want kind %v", err, kind)
	}
}

func newExperiment(t *testing.T, s Store, name string, created int64) string {
	t.Helper()
	id, err := s.CreateExperiment(context.Background(), tracking.Experiment{
		Name: name, LifecycleStage: tracking.StageActive, CreationTime: created, LastUpdateTime: created,
	}, root)
	must(t, err)
	return id
}

func newRun(t *testing.T, s Store, exp string, name string, start int64) string {
	t.Helper()
	id := tracking.NewRunID()
	must(t, s.CreateRun(context.Background(), tracking.Run{
		Info: tracking.RunInfo{RunID: id, RunName: name, ExperimentID: exp, UserID: "alice",
			Status: tracking.StatusRunning, StartTime: start, ArtifactURI: root + "/" + exp + "/" + id + "/artifacts",
			LifecycleStage: tracking.StageActive},
		Data: tracking.RunData{Tags: []tracking.Tag{{Key: tracking.TagRunName, Value: name}}},
	}))
	return id
}

func testDefaultExperiment(t *testing.T, s Store) {
	ctx := context.Background()
	must(t, s.EnsureDefaultExperiment(ctx, root, 2)) // idempotent
	e, err := s.GetExperiment(ctx, "0")
	must(t, err)
	if e.Name != "Default" || e.ArtifactLocation != "mlflow-artifacts:/0" || e.LifecycleStage != tracking.StageActive {
		t.Fatalf("default experiment = %+v", e)
	}
	e2, err := s.GetExperimentByName(ctx, "Default")
	must(t, err)
	if e2.ID != "0" {
		t.Fatalf("by name id = %q", e2.ID)
	}
	// New experiments are numbered after it.
	id := newExperiment(t, s, "first", 1)
	if id == "0" || id == "" {
		t.Fatalf("new experiment id = %q", id)
	}
}

func testExperimentCRUD(t *testing.T, s Store) {
	ctx := context.Background()
	id, err := s.CreateExperiment(ctx, tracking.Experiment{
		Name: "exp", CreationTime: 10, LastUpdateTime: 10,
		Tags: []tracking.Tag{{Key: "team", Value: "risk"}, {Key: "a", Value: "1"}},
	}, root)
	must(t, err)
	e, err := s.GetExperiment(ctx, id)
	must(t, err)
	if e.Name != "exp" || e.ArtifactLocation != "mlflow-artifacts:/"+id || e.CreationTime != 10 {
		t.Fatalf("got %+v", e)
	}
	if fmt.Sprint(e.Tags) != "[{a 1} {team risk}]" {
		t.Fatalf("tags = %v", e.Tags)
	}
	custom, err := s.CreateExperiment(ctx, tracking.Experiment{Name: "custom", ArtifactLocation: "s3://bucket/x"}, root)
	must(t, err)
	if c, _ := s.GetExperiment(ctx, custom); c.ArtifactLocation != "s3://bucket/x" {
		t.Fatalf("custom location = %q", c.ArtifactLocation)
	}

	_, err = s.CreateExperiment(ctx, tracking.Experiment{Name: "exp"}, root)
	wantErr(t, err, errdefs.ErrAlreadyExists)

	for _, bad := range []string{"999999", "abc", "-1", "1 OR 1=1"} {
		_, err = s.GetExperiment(ctx, bad)
		wantErr(t, err, errdefs.ErrNotFound)
	}
	_, err = s.GetExperimentByName(ctx, "nope")
	wantErr(t, err, errdefs.ErrNotFound)

	must(t, s.RenameExperiment(ctx, id, "renamed", 20))
	e, _ = s.GetExperiment(ctx, id)
	if e.Name != "renamed" || e.LastUpdateTime != 20 {
		t.Fatalf("after rename %+v", e)
	}
	wantErr(t, s.RenameExperiment(ctx, id, "custom", 21), errdefs.ErrAlreadyExists)
	wantErr(t, s.RenameExperiment(ctx, "424242", "x", 21), errdefs.ErrNotFound)

	must(t, s.SetExperimentTag(ctx, id, tracking.Tag{Key: "team", Value: "fraud"}))
	e, _ = s.GetExperiment(ctx, id)
	if fmt.Sprint(e.Tags) != "[{a 1} {team fraud}]" {
		t.Fatalf("tags after set = %v", e.Tags)
	}
	wantErr(t, s.SetExperimentTag(ctx, "424242", tracking.Tag{Key: "k", Value: "v"}), errdefs.ErrNotFound)

	// A deleted experiment keeps its name, refuses renames and tags.
	must(t, s.SetExperimentStage(ctx, id, tracking.StageDeleted, 30))
	_, err = s.CreateExperiment(ctx, tracking.Experiment{Name: "renamed"}, root)
	wantErr(t, err, errdefs.ErrAlreadyExists)
	wantErr(t, s.RenameExperiment(ctx, id, "other", 31), errdefs.ErrInvalidArgument)
	wantErr(t, s.SetExperimentTag(ctx, id, tracking.Tag{Key: "k", Value: "v"}), errdefs.ErrInvalidArgument)
	e, _ = s.GetExperimentByName(ctx, "renamed")
	if e.LifecycleStage != tracking.StageDeleted {
		t.Fatalf("stage = %q", e.LifecycleStage)
	}
}

func testExperimentLifecycle(t *testing.T, s Store) {
	ctx := context.Background()
	exp := newExperiment(t, s, "cascade", 1)
	r1 := newRun(t, s, exp, "one", 1)
	r2 := newRun(t, s, exp, "two", 2)
	must(t, s.SetRunStage(ctx, r2, tracking.StageDeleted, 5))
	must(t, s.SetExperimentStage(ctx, exp, tracking.StageDeleted, 10))
	for _, id := range []string{r1, r2} {
		r, err := s.GetRun(ctx, id)
		must(t, err)
		if r.Info.LifecycleStage != tracking.StageDeleted {
			t.Fatalf("run %s stage %q after experiment delete", id, r.Info.LifecycleStage)
		}
	}
	err := s.CreateRun(ctx, tracking.Run{Info: tracking.RunInfo{RunID: tracking.NewRunID(), ExperimentID: exp, Status: tracking.StatusRunning}})
	wantErr(t, err, errdefs.ErrInvalidArgument)
	must(t, s.SetExperimentStage(ctx, exp, tracking.StageActive, 20))
	for _, id := range []string{r1, r2} {
		r, _ := s.GetRun(ctx, id)
		if r.Info.LifecycleStage != tracking.StageActive {
			t.Fatalf("run %s stage %q after experiment restore", id, r.Info.LifecycleStage)
		}
	}
	wantErr(t, s.SetExperimentStage(ctx, "777777", tracking.StageDeleted, 1), errdefs.ErrNotFound)
}

func expNames(exps []tracking.Experiment) []string {
	var out []string
	for _, e := range exps {
		out = append(out, e.Name)
	}
	return out
}

func testSearchExperiments(t *testing.T, s Store) {
	ctx := context.Background()
	a := newExperiment(t, s, "alpha", 100)
	b := newExperiment(t, s, "Beta", 200)
	c := newExperiment(t, s, "gamma", 300)
	must(t, s.SetExperimentTag(ctx, a, tracking.Tag{Key: "team", Value: "risk"}))
	must(t, s.SetExperimentTag(ctx, b, tracking.Tag{Key: "team", Value: "Fraud"}))
	must(t, s.SetExperimentStage(ctx, c, tracking.StageDeleted, 400))
	active := []tracking.LifecycleStage{tracking.StageActive}
	all := []tracking.LifecycleStage{tracking.StageActive, tracking.StageDeleted}
	q := func(stages []tracking.LifecycleStage, f []filter.Clause, o []filter.Order, off, lim int) []string {
		t.Helper()
		exps, err := s.SearchExperiments(ctx, tracking.ExperimentQuery{Filter: f, OrderBy: o, Stages: stages, Offset: off, Limit: lim})
		must(t, err)
		return expNames(exps)
	}
	attr := func(key string, op filter.Op, v string) filter.Clause {
		return filter.Clause{Entity: filter.Attribute, Key: key, Op: op, Str: v}
	}
	cases := []struct {
		name   string
		stages []tracking.LifecycleStage
		filter []filter.Clause
		order  []filter.Order
		want   string
	}{
		{"default order is creation desc", active, nil, nil, "[Beta alpha Default]"},
		{"all stages", all, nil, nil, "[gamma Beta alpha Default]"},
		{"deleted only", []tracking.LifecycleStage{tracking.StageDeleted}, nil, nil, "[gamma]"},
		{"name =", all, []filter.Clause{attr("name", filter.Eq, "alpha")}, nil, "[alpha]"},
		{"name !=", active, []filter.Clause{attr("name", filter.Ne, "alpha")}, nil, "[Beta Default]"},
		{"name LIKE is case-sensitive", all, []filter.Clause{attr("name", filter.Like, "%eta")}, nil, "[Beta]"},
		{"name LIKE no match on case", all, []filter.Clause{attr("name", filter.Like, "beta")}, nil, "[]"},
		{"name ILIKE", all, []filter.Clause{attr("name", filter.ILike, "BETA")}, nil, "[Beta]"},
		{"creation_time >=", all, []filter.Clause{{Entity: filter.Attribute, Key: "creation_time", Op: filter.Ge, Numeric: true, Num: 200}}, nil, "[gamma Beta]"},
		{"tag =", active, []filter.Clause{{Entity: filter.Tag, Key: "team", Op: filter.Eq, Str: "risk"}}, nil, "[alpha]"},
		{"tag ILIKE", active, []filter.Clause{{Entity: filter.Tag, Key: "team", Op: filter.ILike, Str: "fr%"}}, nil, "[Beta]"},
		{"tag != skips untagged", active, []filter.Clause{{Entity: filter.Tag, Key: "team", Op: filter.Ne, Str: "risk"}}, nil, "[Beta]"},
		{"order by name asc", active, nil, []filter.Order{{Entity: filter.Attribute, Key: "name", Asc: true}}, "[Beta Default alpha]"},
		{"order by id desc", all, nil, []filter.Order{{Entity: filter.Attribute, Key: "experiment_id"}}, "[gamma Beta alpha Default]"},
		{"injection is a literal", all, []filter.Clause{attr("name", filter.Eq, "x' OR '1'='1")}, nil, "[]"},
	}
	for _, tc := range cases {
		if got := fmt.Sprint(q(tc.stages, tc.filter, tc.order, 0, 100)); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
	if got := fmt.Sprint(q(all, nil, nil, 1, 2)); got != "[Beta alpha]" {
		t.Errorf("offset/limit: got %s", got)
	}
}

func testRunCRUD(t *testing.T, s Store) {
	ctx := context.Background()
	exp := newExperiment(t, s, "runs", 1)
	id := newRun(t, s, exp, "first-run", 1000)
	r, err := s.GetRun(ctx, id)
	must(t, err)
	if r.Info.RunName != "first-run" || r.Info.ExperimentID != exp || r.Info.UserID != "alice" ||
		r.Info.Status != tracking.StatusRunning || r.Info.StartTime != 1000 || r.Info.EndTime != nil ||
		r.Info.LifecycleStage != tracking.StageActive {
		t.Fatalf("info = %+v", r.Info)
	}
	if fmt.Sprint(r.Data.Tags) != "[{mlflow.runName first-run}]" {
		t.Fatalf("tags = %v", r.Data.Tags)
	}
	_, err = s.GetRun(ctx, "0123456789abcdef0123456789abcdef")
	wantErr(t, err, errdefs.ErrNotFound)

	done := tracking.StatusFinished
	end := int64(2000)
	name := "renamed-run"
	info, err := s.UpdateRun(ctx, id, tracking.RunUpdate{Status: &done, EndTime: &end, RunName: &name})
	must(t, err)
	if info.Status != done || info.EndTime == nil || *info.EndTime != 2000 || info.RunName != name {
		t.Fatalf("updated info = %+v", info)
	}
	r, _ = s.GetRun(ctx, id)
	if fmt.Sprint(r.Data.Tags) != "[{mlflow.runName renamed-run}]" {
		t.Fatalf("run name tag not mirrored: %v", r.Data.Tags)
	}
	_, err = s.UpdateRun(ctx, "ffffffffffffffffffffffffffffffff", tracking.RunUpdate{Status: &done})
	wantErr(t, err, errdefs.ErrNotFound)

	must(t, s.SetRunStage(ctx, id, tracking.StageDeleted, 3000))
	r, _ = s.GetRun(ctx, id)
	if r.Info.LifecycleStage != tracking.StageDeleted {
		t.Fatalf("stage = %q", r.Info.LifecycleStage)
	}
	must(t, s.SetRunStage(ctx, id, tracking.StageActive, 3001))
	wantErr(t, s.SetRunStage(ctx, "ffffffffffffffffffffffffffffffff", tracking.StageDeleted, 1), errdefs.ErrNotFound)
	// A run in an unknown experiment is refused.
	err = s.CreateRun(ctx, tracking.Run{Info: tracking.RunInfo{RunID: tracking.NewRunID(), ExperimentID: "31337", Status: tracking.StatusRunning}})
	wantErr(t, err, errdefs.ErrNotFound)
}

func metric(key string, v float64, ts, step int64) tracking.Metric {
	return tracking.Metric{Key: key, Value: v, Timestamp: ts, Step: step}
}

func latest(t *testing.T, s Store, run, key string) tracking.Metric {
	t.Helper()
	r, err := s.GetRun(context.Background(), run)
	must(t, err)
	for _, m := range r.Data.Metrics {
		if m.Key == key {
			return m
		}
	}
	t.Fatalf("run has no metric %q", key)
	return tracking.Metric{}
}

func testLatestMetric(t *testing.T, s Store) {
	ctx := context.Background()
	run := newRun(t, s, "0", "m", 1)
	// latest = max of (step, timestamp, value), whatever the logging order
	steps := []tracking.Metric{
		metric("loss", 0.9, 100, 1),
		metric("loss", 0.5, 50, 3), // highest step wins even with an older timestamp
		metric("loss", 0.7, 10, 2),
		metric("loss", 0.4, 40, 3), // same step, older timestamp: loses
		metric("loss", 0.6, 50, 3), // same step and timestamp, higher value: wins
	}
	for _, m := range steps {
		must(t, s.LogBatch(ctx, run, []tracking.Metric{m}, nil, nil))
	}
	if got := latest(t, s, run, "loss"); got.Value != 0.6 || got.Step != 3 || got.Timestamp != 50 {
		t.Fatalf("latest = %+v", got)
	}
	// the same within one batch
	run2 := newRun(t, s, "0", "m2", 1)
	must(t, s.LogBatch(ctx, run2, steps, nil, nil))
	if got := latest(t, s, run2, "loss"); got.Value != 0.6 {
		t.Fatalf("batch latest = %+v", got)
	}
	// logging the identical value twice keeps one history entry
	must(t, s.LogBatch(ctx, run2, []tracking.Metric{steps[0]}, nil, nil))
	h, err := s.MetricHistory(ctx, run2, "loss")
	must(t, err)
	if len(h) != 5 {
		t.Fatalf("history has %d entries, want 5", len(h))
	}
}

func testNonFiniteMetrics(t *testing.T, s Store) {
	ctx := context.Background()
	run := newRun(t, s, "0", "nan", 1)
	must(t, s.LogBatch(ctx, run, []tracking.Metric{
		metric("n", math.NaN(), 1, 0), metric("p", math.Inf(1), 1, 0), metric("m", math.Inf(-1), 1, 0),
		metric("z", -0.0, 1, 0), metric("big", math.MaxFloat64, 1, 0), metric("tiny", math.SmallestNonzeroFloat64, 1, 0),
	}, nil, nil))
	if v := latest(t, s, run, "n").Value; !math.IsNaN(v) {
		t.Errorf("NaN came back as %v", v)
	}
	if v := latest(t, s, run, "p").Value; !math.IsInf(v, 1) {
		t.Errorf("+Inf came back as %v", v)
	}
	if v := latest(t, s, run, "m").Value; !math.IsInf(v, -1) {
		t.Errorf("-Inf came back as %v", v)
	}
	if v := latest(t, s, run, "big").Value; v != math.MaxFloat64 {
		t.Errorf("MaxFloat64 came back as %v", v)
	}
	if v := latest(t, s, run, "tiny").Value; v != math.SmallestNonzeroFloat64 {
		t.Errorf("smallest came back as %v", v)
	}
	h, err := s.MetricHistory(ctx, run, "n")
	must(t, err)
	if len(h) != 1 || !math.IsNaN(h[0].Value) {
		t.Errorf("NaN history = %v", h)
	}
}

func testParamsImmutable(t *testing.T, s Store) {
	ctx := context.Background()
	run := newRun(t, s, "0", "p", 1)
	must(t, s.LogBatch(ctx, run, nil, []tracking.Param{{Key: "lr", Value: "0.1"}}, nil))
	must(t, s.LogBatch(ctx, run, nil, []tracking.Param{{Key: "lr", Value: "0.1"}}, nil)) // same value: fine
	err := s.LogBatch(ctx, run,
		[]tracking.Metric{metric("acc", 0.9, 1, 0)},
		[]tracking.Param{{Key: "depth", Value: "3"}, {Key: "lr", Value: "0.2"}},
		[]tracking.Tag{{Key: "t", Value: "v"}})
	wantErr(t, err, errdefs.ErrInvalidArgument)
	want := "Changing param values is not allowed. Param with key='lr' was already logged with value='0.1' for run ID='" + run + "'. Attempted logging new value '0.2'."
	if err.Error() != want {
		t.Errorf("message = %q\nwant      %q", err.Error(), want)
	}
	r, _ := s.GetRun(ctx, run)
	if len(r.Data.Metrics) != 0 || len(r.Data.Params) != 1 || len(r.Data.Tags) != 1 {
		t.Fatalf("failed batch left writes behind: %+v", r.Data)
	}
}

func testDeletedRun(t *testing.T, s Store) {
	ctx := context.Background()
	run := newRun(t, s, "0", "d", 1)
	must(t, s.SetRunStage(ctx, run, tracking.StageDeleted, 2))
	checks := map[string]error{
		"LogBatch":  s.LogBatch(ctx, run, []tracking.Metric{metric("a", 1, 1, 0)}, nil, nil),
		"DeleteTag": s.DeleteTag(ctx, run, tracking.TagRunName),
		"UpdateTag": s.UpdateTag(ctx, run, "k", func(string, bool) (string, error) { return "v", nil }),
		"LogInputs": s.LogInputs(ctx, run, []tracking.DatasetInput{{Dataset: tracking.Dataset{Name: "d", Digest: "x", SourceType: "local", Source: "{}"}}}),
	}
	_, err := s.UpdateRun(ctx, run, tracking.RunUpdate{})
	checks["UpdateRun"] = err
	for name, err := range checks {
		if !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("%s on deleted run: %v", name, err)
		}
	}
	want := "The run " + run + " must be in the 'active' state. Current state is deleted."
	if checks["LogBatch"].Error() != want {
		t.Errorf("message %q", checks["LogBatch"])
	}
	wantErr(t, s.LogBatch(ctx, "ffffffffffffffffffffffffffffffff", []tracking.Metric{metric("a", 1, 1, 0)}, nil, nil), errdefs.ErrNotFound)
}

func testTags(t *testing.T, s Store) {
	ctx := context.Background()
	run := newRun(t, s, "0", "before", 1)
	must(t, s.LogBatch(ctx, run, nil, nil, []tracking.Tag{{Key: "a", Value: "1"}, {Key: "a", Value: "2"}, {Key: tracking.TagRunName, Value: "after"}}))
	r, _ := s.GetRun(ctx, run)
	if r.Info.RunName != "after" || fmt.Sprint(r.Data.Tags) != "[{a 2} {mlflow.runName after}]" {
		t.Fatalf("run = %+v %v", r.Info, r.Data.Tags)
	}
	must(t, s.DeleteTag(ctx, run, "a"))
	wantErr(t, s.DeleteTag(ctx, run, "a"), errdefs.ErrNotFound)
	calls := 0
	for i := 0; i < 3; i++ {
		must(t, s.UpdateTag(ctx, run, "hist", func(old string, found bool) (string, error) {
			if found != (calls > 0) {
				t.Errorf("call %d: found = %v", calls, found)
			}
			calls++
			return old + "x", nil
		}))
	}
	r, _ = s.GetRun(ctx, run)
	if fmt.Sprint(r.Data.Tags) != "[{hist xxx} {mlflow.runName after}]" {
		t.Fatalf("tags = %v", r.Data.Tags)
	}
	boom := errors.New("boom")
	if err := s.UpdateTag(ctx, run, "hist", func(string, bool) (string, error) { return "", boom }); !errors.Is(err, boom) {
		t.Fatalf("UpdateTag error = %v", err)
	}
}

func testLogInputs(t *testing.T, s Store) {
	ctx := context.Background()
	exp := newExperiment(t, s, "data", 1)
	r1 := newRun(t, s, exp, "r1", 1)
	r2 := newRun(t, s, exp, "r2", 2)
	train := tracking.Dataset{Name: "credit", Digest: "abc123", SourceType: "local", Source: `{"uri":"/d.csv"}`, Schema: `{"mlflow_colspec":[]}`, Profile: `{"num_rows":10}`}
	in := tracking.DatasetInput{Tags: []tracking.Tag{{Key: tracking.TagDatasetContext, Value: "training"}}, Dataset: train}
	must(t, s.LogInputs(ctx, r1, []tracking.DatasetInput{in}))
	must(t, s.LogInputs(ctx, r1, []tracking.DatasetInput{in})) // again: no duplicate
	eval := in
	eval.Tags = []tracking.Tag{{Key: tracking.TagDatasetContext, Value: "eval"}}
	must(t, s.LogInputs(ctx, r2, []tracking.DatasetInput{eval}))
	run, _ := s.GetRun(ctx, r1)
	if len(run.Inputs) != 1 || run.Inputs[0].Dataset != train || fmt.Sprint(run.Inputs[0].Tags) != "[{mlflow.data.context training}]" {
		t.Fatalf("inputs = %+v", run.Inputs)
	}
	run, _ = s.GetRun(ctx, r2)
	if len(run.Inputs) != 1 || fmt.Sprint(run.Inputs[0].Tags) != "[{mlflow.data.context eval}]" {
		t.Fatalf("r2 inputs = %+v", run.Inputs)
	}
}

func runNames(runs []tracking.Run) []string {
	out := []string{}
	for _, r := range runs {
		out = append(out, r.Info.RunName)
	}
	return out
}

func searchNames(t *testing.T, s Store, q tracking.RunQuery) string {
	t.Helper()
	if q.Limit == 0 {
		q.Limit = 1000
	}
	if q.Stages == nil {
		q.Stages = []tracking.LifecycleStage{tracking.StageActive}
	}
	runs, err := s.SearchRuns(context.Background(), q)
	must(t, err)
	return fmt.Sprint(runNames(runs))
}

// seedSearch makes four runs in a fresh experiment:
//
//	a: acc=0.9 loss=NaN  lr=0.1 model=XGB     status FINISHED start 100, input train
//	b: acc=0.7 loss=0.3  lr=0.2 model=xgb     status RUNNING  start 200
//	c: acc=0.8           lr=0.1 model=linear  status FAILED   start 300, input eval
//	d: (nothing)                              status RUNNING  start 300 (deleted unless kept)
func seedSearch(t *testing.T, s Store) (exp string, ids map[string]string) {
	ctx := context.Background()
	exp = newExperiment(t, s, "search", 1)
	ids = map[string]string{}
	for _, r := range []struct {
		name  string
		start int64
	}{{"a", 100}, {"b", 200}, {"c", 300}, {"d", 300}} {
		ids[r.name] = newRun(t, s, exp, r.name, r.start)
	}
	log := func(name string, ms []tracking.Metric, ps []tracking.Param, tags []tracking.Tag) {
		must(t, s.LogBatch(ctx, ids[name], ms, ps, tags))
	}
	log("a", []tracking.Metric{metric("acc", 0.9, 1, 0), metric("loss", math.NaN(), 1, 0)}, []tracking.Param{{Key: "lr", Value: "0.1"}}, []tracking.Tag{{Key: "model", Value: "XGB"}})
	log("b", []tracking.Metric{metric("acc", 0.7, 1, 0), metric("loss", 0.3, 1, 0)}, []tracking.Param{{Key: "lr", Value: "0.2"}}, []tracking.Tag{{Key: "model", Value: "xgb"}})
	log("c", []tracking.Metric{metric("acc", 0.8, 1, 0)}, []tracking.Param{{Key: "lr", Value: "0.1"}}, []tracking.Tag{{Key: "model", Value: "linear"}})
	fin, failed := tracking.StatusFinished, tracking.StatusFailed
	end := int64(150)
	_, err := s.UpdateRun(ctx, ids["a"], tracking.RunUpdate{Status: &fin, EndTime: &end})
	must(t, err)
	_, err = s.UpdateRun(ctx, ids["c"], tracking.RunUpdate{Status: &failed})
	must(t, err)
	ds := tracking.Dataset{Name: "credit", Digest: "d1", SourceType: "local", Source: "{}"}
	must(t, s.LogInputs(ctx, ids["a"], []tracking.DatasetInput{{Tags: []tracking.Tag{{Key: tracking.TagDatasetContext, Value: "training"}}, Dataset: ds}}))
	ds2 := ds
	ds2.Name, ds2.Digest = "holdout", "d2"
	must(t, s.LogInputs(ctx, ids["c"], []tracking.DatasetInput{{Tags: []tracking.Tag{{Key: tracking.TagDatasetContext, Value: "eval"}}, Dataset: ds2}}))
	return exp, ids
}

func testSearchRunsFilter(t *testing.T, s Store) {
	exp, ids := seedSearch(t, s)
	must(t, s.SetRunStage(context.Background(), ids["d"], tracking.StageDeleted, 1))
	num := func(e filter.Entity, key string, op filter.Op, v float64) filter.Clause {
		return filter.Clause{Entity: e, Key: key, Op: op, Numeric: true, Num: v}
	}
	str := func(e filter.Entity, key string, op filter.Op, v string) filter.Clause {
		return filter.Clause{Entity: e, Key: key, Op: op, Str: v}
	}
	order := []filter.Order{{Entity: filter.Attribute, Key: "run_name", Asc: true}}
	cases := []struct {
		name   string
		clause []filter.Clause
		want   string
	}{
		{"no filter", nil, "[a b c]"},
		{"metric >", []filter.Clause{num(filter.Metric, "acc", filter.Gt, 0.75)}, "[a c]"},
		{"metric >=", []filter.Clause{num(filter.Metric, "acc", filter.Ge, 0.8)}, "[a c]"},
		{"metric <", []filter.Clause{num(filter.Metric, "acc", filter.Lt, 0.8)}, "[b]"},
		{"metric <=", []filter.Clause{num(filter.Metric, "acc", filter.Le, 0.8)}, "[b c]"},
		{"metric =", []filter.Clause{num(filter.Metric, "acc", filter.Eq, 0.9)}, "[a]"},
		{"metric != keeps NaN, skips missing", []filter.Clause{num(filter.Metric, "loss", filter.Ne, 0.3)}, "[a]"},
		{"NaN never compares >", []filter.Clause{num(filter.Metric, "loss", filter.Gt, -1)}, "[b]"},
		{"param =", []filter.Clause{str(filter.Param, "lr", filter.Eq, "0.1")}, "[a c]"},
		{"param != skips runs without it", []filter.Clause{str(filter.Param, "lr", filter.Ne, "0.1")}, "[b]"},
		{"tag LIKE is case-sensitive", []filter.Clause{str(filter.Tag, "model", filter.Like, "xg%")}, "[b]"},
		{"tag ILIKE", []filter.Clause{str(filter.Tag, "model", filter.ILike, "xg%")}, "[a b]"},
		{"tag LIKE underscore", []filter.Clause{str(filter.Tag, "model", filter.Like, "_gb")}, "[b]"},
		{"two clauses AND", []filter.Clause{str(filter.Param, "lr", filter.Eq, "0.1"), num(filter.Metric, "acc", filter.Lt, 0.85)}, "[c]"},
		{"same key twice", []filter.Clause{num(filter.Metric, "acc", filter.Gt, 0.7), num(filter.Metric, "acc", filter.Lt, 0.9)}, "[c]"},
		{"attribute status", []filter.Clause{str(filter.Attribute, "status", filter.Eq, "RUNNING")}, "[b]"},
		{"attribute run_name LIKE", []filter.Clause{str(filter.Attribute, "run_name", filter.Like, "%b%")}, "[b]"},
		{"attribute run_name ILIKE", []filter.Clause{str(filter.Attribute, "run_name", filter.ILike, "C")}, "[c]"},
		{"attribute start_time", []filter.Clause{num(filter.Attribute, "start_time", filter.Ge, 200)}, "[b c]"},
		{"attribute end_time skips unset", []filter.Clause{num(filter.Attribute, "end_time", filter.Gt, 0)}, "[a]"},
		{"attribute user_id", []filter.Clause{str(filter.Attribute, "user_id", filter.Eq, "alice")}, "[a b c]"},
		{"run_id IN", []filter.Clause{{Entity: filter.Attribute, Key: "run_id", Op: filter.In, List: []string{ids["a"], ids["c"], "zzz"}}}, "[a c]"},
		{"run_id NOT IN", []filter.Clause{{Entity: filter.Attribute, Key: "run_id", Op: filter.NotIn, List: []string{ids["a"]}}}, "[b c]"},
		{"dataset name", []filter.Clause{str(filter.Dataset, "name", filter.Eq, "credit")}, "[a]"},
		{"dataset digest IN", []filter.Clause{{Entity: filter.Dataset, Key: "digest", Op: filter.In, List: []string{"d1", "d2"}}}, "[a c]"},
		{"dataset context", []filter.Clause{str(filter.Dataset, "context", filter.Eq, "eval")}, "[c]"},
		{"dataset name ILIKE", []filter.Clause{str(filter.Dataset, "name", filter.ILike, "HOLD%")}, "[c]"},
		{"injection is a literal", []filter.Clause{str(filter.Param, "lr", filter.Eq, "0.1' OR '1'='1")}, "[]"},
		{"quoted key with spaces", []filter.Clause{str(filter.Tag, "no such key", filter.Eq, "x")}, "[]"},
	}
	for _, tc := range cases {
		got := searchNames(t, s, tracking.RunQuery{ExperimentIDs: []string{exp}, Filter: tc.clause, OrderBy: order})
		if got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
	if got := searchNames(t, s, tracking.RunQuery{ExperimentIDs: []string{exp}, OrderBy: order, Stages: []tracking.LifecycleStage{tracking.StageDeleted}}); got != "[d]" {
		t.Errorf("deleted only: %s", got)
	}
	if got := searchNames(t, s, tracking.RunQuery{ExperimentIDs: []string{exp, "0", "nonsense"}, OrderBy: order, Stages: []tracking.LifecycleStage{tracking.StageActive, tracking.StageDeleted}}); got != "[a b c d]" {
		t.Errorf("all: %s", got)
	}
}

func testSearchRunsOrder(t *testing.T, s Store) {
	exp, _ := seedSearch(t, s)
	q := func(o ...filter.Order) string {
		return searchNames(t, s, tracking.RunQuery{ExperimentIDs: []string{exp}, OrderBy: o})
	}
	m := func(key string, asc bool) filter.Order {
		return filter.Order{Entity: filter.Metric, Key: key, Asc: asc}
	}
	// d and c share start_time 300: the tie breaks by run_uuid, so compute it.
	var dc = "[c d]"
	{
		runs, _ := s.SearchRuns(context.Background(), tracking.RunQuery{ExperimentIDs: []string{exp}, Stages: []tracking.LifecycleStage{tracking.StageActive}, Limit: 10})
		ids := map[string]string{}
		for _, r := range runs {
			ids[r.Info.RunName] = r.Info.RunID
		}
		if ids["d"] < ids["c"] {
			dc = "[d c]"
		}
	}
	cases := []struct {
		name  string
		order []filter.Order
		want  string
	}{
		{"default: start_time desc, then run id", nil, dc[:len(dc)-1] + " b a]"},
		{"metric desc, missing last", []filter.Order{m("acc", false)}, "[a c b d]"},
		{"metric asc, missing last", []filter.Order{m("acc", true)}, "[b c a " + "d]"},
		{"NaN after numbers, before missing (asc)", []filter.Order{m("loss", true)}, "[b a " + dc[1:]},
		{"NaN after numbers, before missing (desc)", []filter.Order{m("loss", false)}, "[b a " + dc[1:]},
		{"param then metric", []filter.Order{{Entity: filter.Param, Key: "lr", Asc: true}, m("acc", true)}, "[c a b d]"},
		{"tag desc", []filter.Order{{Entity: filter.Tag, Key: "model"}}, "[b c a d]"},
		{"param ties break by start_time desc", []filter.Order{{Entity: filter.Param, Key: "lr", Asc: true}}, "[c a b d]"},
		{"param ties, desc", []filter.Order{{Entity: filter.Param, Key: "lr"}}, "[b c a d]"},
		{"start_time asc", []filter.Order{{Entity: filter.Attribute, Key: "start_time", Asc: true}}, "[a b " + dc[1:]},
		{"run_name desc", []filter.Order{{Entity: filter.Attribute, Key: "run_name"}}, "[d c b a]"},
		{"end_time: unset last", []filter.Order{{Entity: filter.Attribute, Key: "end_time", Asc: true}}, "[a " + dc[1:len(dc)-1] + " b]"},
	}
	for _, tc := range cases {
		if got := q(tc.order...); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
	// A filter and an order on the same metric.
	got := searchNames(t, s, tracking.RunQuery{ExperimentIDs: []string{exp},
		Filter:  []filter.Clause{{Entity: filter.Metric, Key: "acc", Op: filter.Gt, Numeric: true, Num: 0.75}},
		OrderBy: []filter.Order{m("acc", true)}})
	if got != "[c a]" {
		t.Errorf("filter+order same key: %s", got)
	}
}

func testSearchRunsPaging(t *testing.T, s Store) {
	ctx := context.Background()
	exp := newExperiment(t, s, "paging", 1)
	var want []string
	for i := 0; i < 25; i++ {
		name := fmt.Sprintf("r%02d", i)
		newRun(t, s, exp, name, int64(i))
		want = append(want, name)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(want)))
	var got []string
	for off := 0; off < 30; off += 10 {
		runs, err := s.SearchRuns(ctx, tracking.RunQuery{ExperimentIDs: []string{exp}, Stages: []tracking.LifecycleStage{tracking.StageActive}, Offset: off, Limit: 10})
		must(t, err)
		got = append(got, runNames(runs)...)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("pages = %v\nwant    %v", got, want)
	}
}

func testMetricHistory(t *testing.T, s Store) {
	ctx := context.Background()
	r1 := newRun(t, s, "0", "h1", 1)
	r2 := newRun(t, s, "0", "h2", 1)
	var batch []tracking.Metric
	for i := int64(0); i < 10; i++ {
		batch = append(batch, metric("loss", float64(10-i), 1000+i, i))
	}
	must(t, s.LogBatch(ctx, r1, batch, nil, nil))
	must(t, s.LogBatch(ctx, r2, batch[:3], nil, nil))
	h, err := s.MetricHistory(ctx, r1, "loss")
	must(t, err)
	if len(h) != 10 || h[0].Step != 0 || h[9].Step != 9 || h[9].Value != 1 || h[0].Timestamp != 1000 {
		t.Fatalf("history = %v", h)
	}
	h, err = s.MetricHistory(ctx, r1, "none")
	must(t, err)
	if len(h) != 0 {
		t.Fatalf("missing key history = %v", h)
	}
	lo, hi := int64(2), int64(5)
	rh, err := s.MetricHistoryRange(ctx, []string{r1, r2}, "loss", &lo, &hi)
	must(t, err)
	count := map[string]int{}
	for _, m := range rh {
		count[m.RunID]++
		if m.Step < lo || m.Step > hi {
			t.Fatalf("step %d outside range", m.Step)
		}
	}
	if count[r1] != 4 || count[r2] != 1 {
		t.Fatalf("range counts = %v", count)
	}
	rh, err = s.MetricHistoryRange(ctx, []string{r1}, "loss", nil, nil)
	must(t, err)
	if len(rh) != 10 {
		t.Fatalf("unbounded range = %d", len(rh))
	}
}

func testConcurrentWriters(t *testing.T, s Store) {
	ctx := context.Background()
	exp := newExperiment(t, s, "concurrent", 1)
	const writers, perWriter = 8, 25
	runs := make([]string, writers)
	for i := range runs {
		runs[i] = newRun(t, s, exp, fmt.Sprint("w", i), 1)
	}
	shared := runs[0]
	var wg sync.WaitGroup
	errs := make(chan error, writers*perWriter*2)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				// each writer logs to its own run and to a shared one
				if err := s.LogBatch(ctx, runs[w], []tracking.Metric{metric("m", float64(i), int64(i), int64(i))},
					[]tracking.Param{{Key: fmt.Sprint("p", i), Value: "v"}}, []tracking.Tag{{Key: "t", Value: fmt.Sprint(i)}}); err != nil {
					errs <- err
				}
				if err := s.LogBatch(ctx, shared, []tracking.Metric{metric("shared", float64(w*perWriter+i), int64(i), int64(w*perWriter+i))}, nil, nil); err != nil {
					errs <- err
				}
				if _, err := s.GetRun(ctx, shared); err != nil {
					errs <- err
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent write failed: %v", err)
	}
	h, err := s.MetricHistory(ctx, shared, "shared")
	must(t, err)
	if len(h) != writers*perWriter {
		t.Fatalf("shared history has %d values, want %d", len(h), writers*perWriter)
	}
	if got := latest(t, s, shared, "shared"); got.Step != writers*perWriter-1 {
		t.Fatalf("shared latest = %+v", got)
	}
	for _, r := range runs {
		run, _ := s.GetRun(ctx, r)
		if len(run.Data.Params) != perWriter {
			t.Fatalf("run %s has %d params", r, len(run.Data.Params))
		}
	}
}

func testConcurrentParamRace(t *testing.T, s Store) {
	ctx := context.Background()
	run := newRun(t, s, "0", "race", 1)
	const n = 8
	var wg sync.WaitGroup
	results := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i] = s.LogBatch(ctx, run, nil, []tracking.Param{{Key: "seed", Value: fmt.Sprint(i)}}, nil)
		}(i)
	}
	wg.Wait()
	wins := 0
	for _, err := range results {
		switch {
		case err == nil:
			wins++
		case errors.Is(err, errdefs.ErrInvalidArgument):
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d writers won the same param, want exactly 1", wins)
	}
}

func testLargeBatch(t *testing.T, s Store) {
	ctx := context.Background()
	run := newRun(t, s, "0", "big", 1)
	var ms []tracking.Metric
	for i := 0; i < tracking.MaxMetricsPerBatch; i++ {
		ms = append(ms, metric(fmt.Sprint("k", i%37), float64(i), int64(i), int64(i)))
	}
	var ps []tracking.Param
	var tags []tracking.Tag
	for i := 0; i < tracking.MaxParamsTagsPerBatch; i++ {
		ps = append(ps, tracking.Param{Key: fmt.Sprint("p", i), Value: fmt.Sprint(i)})
		tags = append(tags, tracking.Tag{Key: fmt.Sprint("t", i), Value: fmt.Sprint(i)})
	}
	must(t, s.LogBatch(ctx, run, ms, ps, tags))
	r, _ := s.GetRun(ctx, run)
	if len(r.Data.Metrics) != 37 || len(r.Data.Params) != 100 || len(r.Data.Tags) != 101 {
		t.Fatalf("counts: %d metrics %d params %d tags", len(r.Data.Metrics), len(r.Data.Params), len(r.Data.Tags))
	}
	h, _ := s.MetricHistory(ctx, run, "k0")
	if len(h) != 28 {
		t.Fatalf("k0 history = %d", len(h))
	}
}

// testSearchRunsPhasedPaging pages through a search ordered by a metric
// that some runs lack and some hold as NaN: every page size must yield
// the same sequence as one big page, in MLflow's order.
func testSearchRunsPhasedPaging(t *testing.T, s Store) {
	ctx := context.Background()
	exp := newExperiment(t, s, "phases", 1)
	var want []string
	// values v0..v4 ascending; three NaN; four without the metric.
	for i, v := range []float64{0.5, 0.1, 0.4, 0.2, 0.3} {
		id := newRun(t, s, exp, fmt.Sprintf("v%.1f", v), int64(i))
		must(t, s.LogBatch(ctx, id, []tracking.Metric{metric("m", v, 1, 0)}, []tracking.Param{{Key: "keep", Value: "y"}}, nil))
	}
	want = append(want, "v0.1", "v0.2", "v0.3", "v0.4", "v0.5")
	for i := 0; i < 3; i++ { // NaN: ties broken by start_time DESC
		id := newRun(t, s, exp, fmt.Sprint("nan", i), int64(10+i))
		must(t, s.LogBatch(ctx, id, []tracking.Metric{metric("m", math.NaN(), 1, 0)}, []tracking.Param{{Key: "keep", Value: "y"}}, nil))
	}
	want = append(want, "nan2", "nan1", "nan0")
	for i := 0; i < 4; i++ {
		id := newRun(t, s, exp, fmt.Sprint("none", i), int64(20+i))
		must(t, s.LogBatch(ctx, id, nil, []tracking.Param{{Key: "keep", Value: "y"}}, nil))
	}
	want = append(want, "none3", "none2", "none1", "none0")
	newRun(t, s, exp, "filtered-out", 99) // has no param keep
	q := tracking.RunQuery{ExperimentIDs: []string{exp}, Stages: []tracking.LifecycleStage{tracking.StageActive},
		Filter:  []filter.Clause{{Entity: filter.Param, Key: "keep", Op: filter.Eq, Str: "y"}},
		OrderBy: []filter.Order{{Entity: filter.Metric, Key: "m", Asc: true}}}
	for size := 1; size <= 13; size++ {
		var got []string
		for off := 0; off < 20; off += size {
			q.Offset, q.Limit = off, size
			runs, err := s.SearchRuns(ctx, q)
			must(t, err)
			got = append(got, runNames(runs)...)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("page size %d: got %v\nwant %v", size, got, want)
		}
	}
	// Descending keeps NaN and missing last.
	q.Offset, q.Limit = 0, 100
	q.OrderBy[0].Asc = false
	runs, err := s.SearchRuns(ctx, q)
	must(t, err)
	if got := fmt.Sprint(runNames(runs)); got != "[v0.5 v0.4 v0.3 v0.2 v0.1 nan2 nan1 nan0 none3 none2 none1 none0]" {
		t.Fatalf("desc: %s", got)
	}
	// Ordered by a param that some runs lack.
	q.OrderBy = []filter.Order{{Entity: filter.Param, Key: "keep"}, {Entity: filter.Attribute, Key: "run_name", Asc: true}}
	q.Filter = nil
	runs, err = s.SearchRuns(ctx, q)
	must(t, err)
	if got := runNames(runs); got[len(got)-1] != "filtered-out" || len(got) != 13 {
		t.Fatalf("param order: %v", got)
	}
}

// parallel runs fn from n goroutines and fails on any error.
func parallel(t *testing.T, n int, fn func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if err := fn(i); err != nil {
				errs <- err
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// testConcurrentRowWriters updates one run and one experiment from many
// writers at once: they must queue, never deadlock or fail.
func testConcurrentRowWriters(t *testing.T, s Store) {
	ctx := context.Background()
	exp := newExperiment(t, s, "rows", 1)
	run := newRun(t, s, exp, "r", 1)
	parallel(t, 8, func(i int) error {
		for j := 0; j < 10; j++ {
			st := tracking.StatusRunning
			name := fmt.Sprint("name-", i, "-", j)
			if _, err := s.UpdateRun(ctx, run, tracking.RunUpdate{Status: &st, RunName: &name}); err != nil {
				return fmt.Errorf("UpdateRun: %w", err)
			}
			if err := s.LogBatch(ctx, run, []tracking.Metric{metric("m", 1, int64(j), int64(i))}, nil,
				[]tracking.Tag{{Key: tracking.TagRunName, Value: name}}); err != nil {
				return fmt.Errorf("LogBatch: %w", err)
			}
			if err := s.SetRunStage(ctx, run, tracking.StageActive, int64(j)); err != nil {
				return fmt.Errorf("SetRunStage: %w", err)
			}
			if err := s.RenameExperiment(ctx, exp, fmt.Sprint("rows-", i, "-", j), int64(j)); err != nil {
				return fmt.Errorf("RenameExperiment: %w", err)
			}
			if err := s.SetExperimentTag(ctx, exp, tracking.Tag{Key: "k", Value: name}); err != nil {
				return fmt.Errorf("SetExperimentTag: %w", err)
			}
			if i%2 == 0 {
				newRun(t, s, exp, name, 2)
			}
		}
		return nil
	})
}

// testConcurrentInputs logs the same dataset from many runs at once.
func testConcurrentInputs(t *testing.T, s Store) {
	ctx := context.Background()
	exp := newExperiment(t, s, "inputs", 1)
	runs := make([]string, 8)
	for i := range runs {
		runs[i] = newRun(t, s, exp, fmt.Sprint("r", i), 1)
	}
	in := tracking.DatasetInput{Tags: []tracking.Tag{{Key: tracking.TagDatasetContext, Value: "training"}},
		Dataset: tracking.Dataset{Name: "shared", Digest: "d", SourceType: "local", Source: "{}"}}
	parallel(t, 16, func(i int) error { return s.LogInputs(ctx, runs[i%8], []tracking.DatasetInput{in}) })
	for _, id := range runs {
		r, err := s.GetRun(ctx, id)
		must(t, err)
		if len(r.Inputs) != 1 || len(r.Inputs[0].Tags) != 1 {
			t.Fatalf("run %s inputs = %+v", id, r.Inputs)
		}
	}
}

// testConcurrentDefault starts several servers on one empty store at once.
func testConcurrentDefault(t *testing.T, s Store) {
	ctx := context.Background()
	parallel(t, 8, func(i int) error { return s.EnsureDefaultExperiment(ctx, root, int64(i)) })
	e, err := s.GetExperiment(ctx, "0")
	must(t, err)
	if e.Name != "Default" {
		t.Fatalf("default = %+v", e)
	}
}
