package tracking_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferry-ml/ferry/internal/blob/fs"
	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/store/sqlite"
	"github.com/ferry-ml/ferry/internal/tracking"
)

func newService(t *testing.T) (*tracking.Service, *fs.Store) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ferry.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	blobs, err := fs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { blobs.Close() })
	now := time.UnixMilli(1_700_000_000_000)
	svc := tracking.NewService(st, blobs, tracking.Options{Now: func() time.Time { return now }})
	if err := svc.Init(ctx); err != nil {
		t.Fatal(err)
	}
	return svc, blobs
}

func TestCreateRunNames(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	run, err := svc.CreateRun(ctx, tracking.CreateRunRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if run.Info.ExperimentID != "0" || run.Info.RunName == "" || run.Info.StartTime != 1_700_000_000_000 ||
		run.Info.ArtifactURI != "mlflow-artifacts:/0/"+run.Info.RunID+"/artifacts" {
		t.Fatalf("defaults: %+v", run.Info)
	}
	if len(run.Data.Tags) != 1 || run.Data.Tags[0] != (tracking.Tag{Key: tracking.TagRunName, Value: run.Info.RunName}) {
		t.Fatalf("generated name not in tag: %v", run.Data.Tags)
	}
	// A name given as tag only is used; a conflicting pair is refused.
	run, err = svc.CreateRun(ctx, tracking.CreateRunRequest{Tags: []tracking.Tag{{Key: tracking.TagRunName, Value: "from-tag"}}})
	if err != nil || run.Info.RunName != "from-tag" {
		t.Fatalf("tag name: %v %+v", err, run.Info)
	}
	_, err = svc.CreateRun(ctx, tracking.CreateRunRequest{RunName: "a", Tags: []tracking.Tag{{Key: tracking.TagRunName, Value: "b"}}})
	if err == nil || !strings.Contains(err.Error(), "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='a', mlflow.runName='b').") {
		t.Fatalf("conflict: %v", err)
	}
	_, err = svc.CreateRun(ctx, tracking.CreateRunRequest{ExperimentID: "12345"})
	if !errors.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("unknown experiment: %v", err)
	}
}

func TestLogBatchValidationWritesNothing(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	run, _ := svc.CreateRun(ctx, tracking.CreateRunRequest{})
	id := run.Info.RunID
	err := svc.LogBatch(ctx, id,
		[]tracking.Metric{{Key: "ok", Value: 1, Timestamp: 1}, {Key: "../bad", Value: 1, Timestamp: 1}},
		[]tracking.Param{{Key: "p", Value: "v"}}, nil)
	if err == nil || !strings.Contains(err.Error(), "'metrics[1].name'") {
		t.Fatalf("invalid batch: %v", err)
	}
	got, _ := svc.GetRun(ctx, id)
	if len(got.Data.Metrics)+len(got.Data.Params) != 0 {
		t.Fatalf("invalid batch wrote %+v", got.Data)
	}
	if err := svc.LogBatch(ctx, id, nil, []tracking.Param{{Key: "p", Value: "1"}, {Key: "p", Value: "1"}}, nil); err == nil {
		t.Fatal("duplicate params accepted")
	}
	// An empty batch still checks the run.
	if err := svc.LogBatch(ctx, "ffffffffffffffffffffffffffffffff", nil, nil, nil); !errors.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("empty batch on unknown run: %v", err)
	}
}

func TestLogModelAppendsHistory(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	run, _ := svc.CreateRun(ctx, tracking.CreateRunRequest{})
	id := run.Info.RunID
	model := func(path string) string {
		b, _ := json.Marshal(map[string]any{"artifact_path": path, "run_id": id, "utc_time_created": "2024-01-01 00:00:00.000000",
			"flavors": map[string]any{"xgboost": map[string]any{"xgb_version": "1.7.4"}}})
		return string(b)
	}
	for _, p := range []string{"model", "model2"} {
		if err := svc.LogModel(ctx, id, model(p)); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := svc.GetRun(ctx, id)
	var history []map[string]any
	for _, tag := range got.Data.Tags {
		if tag.Key == tracking.TagLoggedModels {
			if err := json.Unmarshal([]byte(tag.Value), &history); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(history) != 2 || history[0]["artifact_path"] != "model" || history[1]["artifact_path"] != "model2" {
		t.Fatalf("history = %v", history)
	}
	err := svc.LogModel(ctx, id, `{"artifact_path": "m"}`)
	if err == nil || err.Error() != "Model json is missing mandatory fields: {'flavors', 'run_id', 'utc_time_created'}" {
		t.Fatalf("missing fields: %v", err)
	}
}

func TestListArtifacts(t *testing.T) {
	svc, blobs := newService(t)
	ctx := context.Background()
	run, _ := svc.CreateRun(ctx, tracking.CreateRunRequest{})
	root, _ := tracking.ArtifactKey(run.Info.ArtifactURI)
	for _, k := range []string{"model/MLmodel", "model/model.xgb", "metrics.json"} {
		if _, err := blobs.Put(ctx, root+"/"+k, strings.NewReader("x")); err != nil {
			t.Fatal(err)
		}
	}
	uri, files, err := svc.ListArtifacts(ctx, run.Info.RunID, "")
	if err != nil || uri != run.Info.ArtifactURI || len(files) != 2 ||
		files[0] != (tracking.ArtifactFile{Path: "metrics.json", Size: 1}) || files[1] != (tracking.ArtifactFile{Path: "model", IsDir: true}) {
		t.Fatalf("root listing: %v %q %+v", err, uri, files)
	}
	_, files, err = svc.ListArtifacts(ctx, run.Info.RunID, "model")
	if err != nil || len(files) != 2 || files[0].Path != "model/MLmodel" {
		t.Fatalf("dir listing: %v %+v", err, files)
	}
	if _, _, err := svc.ListArtifacts(ctx, run.Info.RunID, "../other"); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Fatalf("traversal: %v", err)
	}
}

func TestMetricHistoryBulkIntervalArguments(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	run, _ := svc.CreateRun(ctx, tracking.CreateRunRequest{})
	var ms []tracking.Metric
	for i := int64(0); i < 50; i++ {
		ms = append(ms, tracking.Metric{Key: "loss", Value: float64(i), Timestamp: i, Step: i})
	}
	if err := svc.LogBatch(ctx, run.Info.RunID, ms, nil, nil); err != nil {
		t.Fatal(err)
	}
	lo, hi := int64(10), int64(5)
	for _, tc := range []struct {
		ids      []string
		key      string
		lo, hi   *int64
		max      int
		wantErr  string
		wantRows int
	}{
		{[]string{run.Info.RunID}, "loss", nil, nil, 0, "", 50},
		{[]string{run.Info.RunID}, "loss", nil, nil, 10, "", 10},
		{[]string{run.Info.RunID}, "loss", &lo, nil, 0, "", 40},
		{[]string{run.Info.RunID}, "loss", &lo, &hi, 0, "end_step must be greater than start_step", 0},
		{nil, "loss", nil, nil, 0, "at least one run_id", 0},
		{make([]string, 101), "loss", nil, nil, 0, "at most 100 run_ids. Received 101 run_ids.", 0},
		{[]string{run.Info.RunID}, "", nil, nil, 0, "metric_key", 0},
		{[]string{run.Info.RunID}, "loss", nil, nil, 2501, "max_results must be between 1 and 2500", 0},
	} {
		got, err := svc.MetricHistoryBulkInterval(ctx, tc.ids, tc.key, tc.lo, tc.hi, tc.max)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("want error %q, got %v", tc.wantErr, err)
			}
			continue
		}
		if err != nil || len(got) != tc.wantRows {
			t.Errorf("got %d rows, %v; want %d", len(got), err, tc.wantRows)
		}
	}
}
