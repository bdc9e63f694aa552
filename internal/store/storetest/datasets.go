package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/ferry-ml/ferry/internal/dataset"
	"github.com/ferry-ml/ferry/internal/errdefs"
)

// DatasetStore is what the dataset suite exercises.
type DatasetStore interface {
	dataset.VersionStore
}

// RunDatasets runs the dataset-version conformance suite: numbering,
// content addressing, latest, listing, and concurrent adds.
func RunDatasets(t *testing.T, newStore func(t *testing.T) DatasetStore) {
	ctx := context.Background()
	s := newStore(t)
	ver := func(name, digest string) dataset.Version {
		return dataset.Version{Name: name, Digest: digest, Source: "mlflow-artifacts:/datasets/" + name + "/" + digest + "/f.csv",
			Format: "csv", Size: 10, Rows: 2, CreatedAt: 5, CreatedBy: "alice",
			Schema:  dataset.Schema{Columns: []dataset.SchemaColumn{{Name: "x", Type: dataset.TypeFloat, Nullable: true}}},
			Profile: json.RawMessage(`{"digest":"` + digest + `"}`)}
	}
	_, err := s.GetDatasetVersion(ctx, "credit", 0)
	wantErr(t, err, errdefs.ErrNotFound)
	v1, created, err := s.CreateDatasetVersion(ctx, ver("credit", "aa"))
	must(t, err)
	if !created || v1.Version != 1 {
		t.Fatalf("first: %+v %v", v1, created)
	}
	again, created, err := s.CreateDatasetVersion(ctx, ver("credit", "aa"))
	must(t, err)
	if created || again.Version != 1 {
		t.Fatalf("the same bytes again: %+v %v", again, created)
	}
	v2, _, err := s.CreateDatasetVersion(ctx, ver("credit", "bb"))
	must(t, err)
	other, _, err := s.CreateDatasetVersion(ctx, ver("churn", "aa"))
	must(t, err)
	if v2.Version != 2 || other.Version != 1 {
		t.Fatalf("numbering: %+v %+v", v2, other)
	}
	got, err := s.GetDatasetVersion(ctx, "credit", 0)
	must(t, err)
	if !reflect.DeepEqual(got, v2) {
		t.Fatalf("latest: got %+v, want %+v", got, v2)
	}
	got, err = s.GetDatasetVersion(ctx, "credit", 1)
	must(t, err)
	if !reflect.DeepEqual(got, v1) {
		t.Fatalf("version 1: got %+v, want %+v", got, v1)
	}
	_, err = s.GetDatasetVersion(ctx, "credit", 9)
	wantErr(t, err, errdefs.ErrNotFound)
	vs, err := s.ListDatasetVersions(ctx, "credit")
	must(t, err)
	if len(vs) != 2 || vs[0].Version != 2 || vs[1].Version != 1 {
		t.Fatalf("versions: %+v", vs)
	}
	all, err := s.ListDatasets(ctx)
	must(t, err)
	if len(all) != 2 || all[0].Name != "churn" || all[1].Name != "credit" || all[1].Version != 2 {
		t.Fatalf("datasets: %+v", all)
	}
	// Concurrent adds of different files get distinct numbers.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := s.CreateDatasetVersion(ctx, ver("race", fmt.Sprintf("d%d", i)))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	vs, err = s.ListDatasetVersions(ctx, "race")
	must(t, err)
	seen := map[int64]bool{}
	for _, v := range vs {
		seen[v.Version] = true
	}
	if len(vs) != 8 || len(seen) != 8 || !seen[1] || !seen[8] {
		t.Fatalf("concurrent adds: %+v", vs)
	}
}
