package monitor

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ferry-ml/ferry/internal/predlog"
)

// refTable is References and DatasetFiles over fixed references; every
// dataset version holds the same rows.
type refTable struct {
	refs []Reference
	csv  string
}

func (r *refTable) SetReference(context.Context, Reference) error { return nil }
func (r *refTable) GetReference(_ context.Context, endpoint string) (Reference, error) {
	for _, ref := range r.refs {
		if ref.Endpoint == endpoint {
			return ref, nil
		}
	}
	return Reference{}, ErrNoReference
}
func (r *refTable) ListReferences(context.Context) ([]Reference, error) { return r.refs, nil }
func (r *refTable) OpenCSV(context.Context, string, int64) (io.ReadCloser, error) {
	return io.NopCloser(strings.NewReader(r.csv)), nil
}

// newInternalDrift is a Drift over refs and a log of n requests of
// rowsPerReq rows each (features a, b; "c" missing in the reference), a
// second apart before now, answered by model m version 1.
func newInternalDrift(refs *refTable, n, rowsPerReq int, now time.Time) (*Drift, *memLog) {
	var b strings.Builder
	b.WriteString("a,b\n")
	for i := range 200 {
		fmt.Fprintf(&b, "%d,%d\n", i%17, i%5)
	}
	refs.csv = b.String()
	log := &memLog{}
	for i := range n {
		var inputs, preds []float64
		for j := range rowsPerReq {
			inputs = append(inputs, float64((i+j)%13), float64(i%3), 1)
			preds = append(preds, float64(i%2))
		}
		log.add(predlog.Logged{Record: predlog.Record{RequestID: fmt.Sprintf("r%05d", i), Endpoint: "ep", Model: "m", Version: 1,
			Time: now.UnixMilli() - int64(n-i)*1000, Rows: rowsPerReq, Features: 3, Outputs: 1, Inputs: inputs, Predictions: preds,
			FeatureNames: []string{"a", "b", "c"}}})
	}
	d := &Drift{Refs: refs, Log: log, Files: refs, Store: &memStore{},
		Model: func(context.Context, string) (ServedModel, error) {
			return ServedModel{Model: "m", Version: 1, Features: []string{"a", "b"}, Outputs: 1,
				Predict: func(_ context.Context, x []float64, rows int, out []float64) error {
					for i := range rows {
						out[i] = float64(int(x[2*i]) % 2)
					}
					return nil
				}}, nil
		},
		Now: func() time.Time { return now }}
	return d, log
}

// What is kept of a reference — its columns, the model's predictions on
// them, the unmatched-columns warning — goes once no reference uses it.
func TestDriftForgetsOldReferences(t *testing.T) {
	ctx := context.Background()
	refs := &refTable{refs: []Reference{{Endpoint: "ep", Dataset: "ref", Version: 1}}}
	d, _ := newInternalDrift(refs, 300, 1, time.UnixMilli(1_700_000_000_000))
	if _, err := d.CheckAll(ctx); err != nil {
		t.Fatal(err)
	}
	v1 := Reference{Dataset: "ref", Version: 1}
	if d.cache[v1] == nil || len(d.predCache) != 1 || len(d.warned) != 1 {
		t.Fatalf("after the first check: cache %d, predictions %d, warned %d", len(d.cache), len(d.predCache), len(d.warned))
	}
	for _, tc := range []struct {
		name string
		refs []Reference
		keep []Reference // dataset versions left in the caches
	}{
		{"same reference", []Reference{{Endpoint: "ep", Dataset: "ref", Version: 1}}, []Reference{v1}},
		{"a new version", []Reference{{Endpoint: "ep", Dataset: "ref", Version: 2}}, []Reference{{Dataset: "ref", Version: 2}}},
		{"no reference", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			refs.refs = tc.refs
			if _, err := d.CheckAll(ctx); err != nil {
				t.Fatal(err)
			}
			if len(d.cache) != len(tc.keep) || len(d.predCache) != len(tc.keep) || len(d.warned) != len(tc.keep) {
				t.Fatalf("cache %v, predictions %d, warned %v; want %v", d.cache != nil, len(d.predCache), d.warned, tc.keep)
			}
			for _, k := range tc.keep {
				if d.cache[k] == nil {
					t.Errorf("%s@%d not cached", k.Dataset, k.Version)
				}
				for pk := range d.predCache {
					if pk.Dataset != k.Dataset || pk.Version != k.Version {
						t.Errorf("predictions of %+v kept", pk)
					}
				}
				for wk := range d.warned {
					if wk != (Reference{Endpoint: "ep", Dataset: k.Dataset, Version: k.Version}) {
						t.Errorf("warning of %+v kept", wk)
					}
				}
			}
		})
	}
}

// The kept window holds the newest requests whose rows make the window,
// however many rows each request holds.
func TestDriftKeptWindowIsBoundedByRows(t *testing.T) {
	for _, tc := range []struct {
		rowsPerReq, window, want int
	}{
		{1, 100, 100},
		{4, 100, 25},
		{3, 100, 34}, // the oldest one in part
		{250, 100, 1},
	} {
		t.Run(fmt.Sprintf("%d rows per request", tc.rowsPerReq), func(t *testing.T) {
			ctx := context.Background()
			now := time.UnixMilli(1_700_000_000_000)
			refs := &refTable{refs: []Reference{{Endpoint: "ep", Dataset: "ref", Version: 1}}}
			d, log := newInternalDrift(refs, 300, tc.rowsPerReq, now)
			d.Window, d.Now = tc.window, func() time.Time { return now }
			for step := range 3 {
				if _, err := d.Check(ctx, "ep"); err != nil {
					t.Fatal(err)
				}
				c := d.windows["ep"]
				if len(c.rows) != tc.want {
					t.Fatalf("step %d: kept %d requests, want %d", step, len(c.rows), tc.want)
				}
				rows := 0
				for _, r := range c.rows {
					rows += r.Rows
				}
				if rows < tc.window || rows-c.rows[0].Rows >= tc.window {
					t.Fatalf("step %d: kept %d rows for a window of %d", step, rows, tc.window)
				}
				// Another request, and a later check: incremental.
				now = now.Add(time.Second)
				r := log.rows[len(log.rows)-1]
				r.RequestID, r.Time = fmt.Sprintf("n%d", step), now.UnixMilli()-500
				log.add(r)
			}
		})
	}
}
