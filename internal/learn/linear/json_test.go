package linear

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/learn"
)

// TestJSONRoundTrip stores each kind of model, reads it back, and checks
// that predictions are bit-identical and that fitting twice gives the same
// bytes.
func TestJSONRoundTrip(t *testing.T) {
	tests := []struct {
		data   string
		params Params
	}{
		{"breast_cancer", Params{Kind: Logistic}},
		{"wine", Params{Kind: Logistic, C: 0.5}},
		{"diabetes", Params{Kind: OLS}},
		{"diabetes", Params{Kind: Ridge, Alpha: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.data+"/"+string(tt.params.Kind), func(t *testing.T) {
			d := loadDataset(t, tt.data)
			m, err := Fit(context.Background(), d, tt.params)
			if err != nil {
				t.Fatal(err)
			}
			b1, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			again, _ := Fit(context.Background(), d, tt.params)
			if b2, _ := json.Marshal(again); !bytes.Equal(b1, b2) {
				t.Fatal("two fits on the same data gave different bytes")
			}
			back, err := Unmarshal(b1)
			if err != nil {
				t.Fatal(err)
			}
			if back.Params() != m.Params() || back.Task() != m.Task() || !slices.Equal(back.FeatureNames(), m.FeatureNames()) {
				t.Fatalf("read back %v %v, wrote %v %v", back.Params(), back.Task(), m.Params(), m.Task())
			}
			p1, p2 := predict(t, m, d), predict(t, back, d)
			if !slices.Equal(p1, p2) {
				t.Fatal("predictions changed through JSON")
			}
			if b3, _ := json.Marshal(back); !bytes.Equal(b1, b3) {
				t.Fatal("re-marshalled bytes differ")
			}
		})
	}
}

func TestFitErrors(t *testing.T) {
	ok := learn.Dataset{Rows: 4, Cols: 2, X: []float64{1, 2, 3, 4, 5, 6, 7, 9}, Y: []float64{0, 1, 0, 1}, FeatureNames: []string{"age", "income"}}
	nan := ok
	nan.X = slices.Clone(ok.X)
	nan.X[5] = math.NaN()
	collinear := learn.Dataset{Rows: 4, Cols: 2, X: []float64{1, 2, 2, 4, 3, 6, 4, 8}, Y: []float64{1, 2, 3, 5}}
	tests := []struct {
		name    string
		d       learn.Dataset
		p       Params
		wantMsg string
	}{
		{"missing value names the column", nan, Params{Kind: Logistic}, `row 2 column "income"`},
		{"unknown kind", ok, Params{Kind: "svm"}, "unknown linear model kind"},
		{"negative C", ok, Params{Kind: Logistic, C: -1}, "C > 0"},
		{"alpha on logistic", ok, Params{Kind: Logistic, Alpha: 2}, "no alpha"},
		{"negative alpha", ok, Params{Kind: Ridge, Alpha: -1}, "alpha > 0"},
		{"C on OLS", ok, Params{Kind: OLS, C: 1}, "no parameters"},
		{"non-integer class", learn.Dataset{Rows: 2, Cols: 1, X: []float64{1, 2}, Y: []float64{0, 0.5}}, Params{Kind: Logistic}, "class index"},
		{"one class", learn.Dataset{Rows: 2, Cols: 1, X: []float64{1, 2}, Y: []float64{0, 0}}, Params{Kind: Logistic}, "two classes"},
		{"no labels", learn.Dataset{Rows: 2, Cols: 1, X: []float64{1, 2}}, Params{Kind: OLS}, "no labels"},
		{"no rows", learn.Dataset{Cols: 1, Y: []float64{}}, Params{Kind: OLS}, "at least one row"},
		{"bad shape", learn.Dataset{Rows: 2, Cols: 2, X: []float64{1}}, Params{Kind: OLS}, "X has 1 values"},
		{"collinear OLS", collinear, Params{Kind: OLS}, "collinear"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Fit(context.Background(), tt.d, tt.p)
			if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("error %v, want InvalidArgument containing %q", err, tt.wantMsg)
			}
		})
	}
	// Ridge solves what OLS cannot.
	if _, err := Fit(context.Background(), collinear, Params{Kind: Ridge}); err != nil {
		t.Fatalf("ridge on collinear columns: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Fit(ctx, ok, Params{Kind: Logistic}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled fit: %v", err)
	}
}

func TestPredictErrors(t *testing.T) {
	d := learn.Dataset{Rows: 4, Cols: 2, X: []float64{1, 2, 3, 4, 5, 6, 7, 9}, Y: []float64{0, 1, 0, 1}, FeatureNames: []string{"age", "income"}}
	m, err := Fit(context.Background(), d, Params{Kind: Logistic})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, 2)
	for _, tc := range []struct {
		x    []float64
		rows int
		out  []float64
	}{
		{[]float64{1, 2, 3}, 2, out},
		{[]float64{1, 2, 3, 4}, 2, out[:1]},
		{[]float64{1, 2}, -1, out},
		{[]float64{1, math.Inf(1), 3, 4}, 2, out},
		{[]float64{1, 2, math.NaN(), 4}, 2, out},
	} {
		if err := m.Predict(tc.x, tc.rows, tc.out); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("Predict(%v, %d): %v, want InvalidArgument", tc.x, tc.rows, err)
		}
	}
	if err := m.Predict(nil, 0, nil); err != nil {
		t.Fatalf("zero rows: %v", err)
	}
}

func TestUnmarshalRejects(t *testing.T) {
	d := learn.Dataset{Rows: 4, Cols: 2, X: []float64{1, 2, 3, 4, 5, 6, 7, 9}, Y: []float64{0, 1, 0, 1}}
	m, _ := Fit(context.Background(), d, Params{Kind: Logistic})
	good, _ := json.Marshal(m)
	if _, err := Unmarshal(good); err != nil {
		t.Fatal(err)
	}
	edit := func(old, new string) []byte {
		if !strings.Contains(string(good), old) {
			t.Fatalf("%q not in %s", old, good)
		}
		return []byte(strings.Replace(string(good), old, new, 1))
	}
	tests := map[string][]byte{
		"not JSON":          []byte("{"),
		"trailing data":     append(slices.Clone(good), []byte(" {}")...),
		"wrong format":      edit(`"ferry.linear.v1"`, `"ferry.linear.v9"`),
		"unknown field":     edit(`"format"`, `"extra":1,"format"`),
		"unknown kind":      edit(`"logistic_regression"`, `"svm"`),
		"task for kind":     edit(`"task":"binary"`, `"task":"regression"`),
		"classes for task":  edit(`"classes":2`, `"classes":3`),
		"short coef row":    edit(`"coef":[[`, `"coef":[[1,`),
		"incomplete params": edit(`"max_iter":1000,`, ``),
		"zero scale":        edit(`"scale":[`, `"scale":[0,`),
		"no features":       edit(`"feature_names":["f0","f1"]`, `"feature_names":[]`),
		"huge number":       edit(`"intercept":[`, `"intercept":[1e999,`),
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := Unmarshal(data); !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Fatalf("error %v, want InvalidArgument", err)
			}
		})
	}
}

// FuzzUnmarshal: any input either fails cleanly or yields a model that
// predicts without error and marshals back to a document Unmarshal takes.
func FuzzUnmarshal(f *testing.F) {
	for _, p := range []Params{{Kind: Logistic}, {Kind: OLS}, {Kind: Ridge}} {
		y := []float64{0, 1, 2, 1, 0, 2}
		if p.Kind == Ridge {
			y = []float64{0, 1, 0, 1, 0, 1}
		}
		d := learn.Dataset{Rows: 6, Cols: 2, X: []float64{1, 2, 3, 4, 5, 7, 7, 8, 9, 13, 11, 12}, Y: y}
		m, err := Fit(context.Background(), d, p)
		if err != nil {
			f.Fatal(err)
		}
		b, _ := json.Marshal(m)
		f.Add(b)
	}
	f.Add([]byte(`{"format":"ferry.linear.v1"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Unmarshal(data)
		if err != nil {
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Fatalf("error of the wrong kind: %v", err)
			}
			return
		}
		x := make([]float64, 2*len(m.FeatureNames()))
		out := make([]float64, 2*m.Outputs())
		if err := m.Predict(x, 2, out); err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Unmarshal(b); err != nil {
			t.Fatalf("re-read: %v\n%s", err, b)
		}
	})
}
