package predlog_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/predlog"
	"github.com/ferry-ml/ferry/internal/requestid"
)

func TestFeedbackValidation(t *testing.T) {
	ok := predlog.Feedback{Endpoint: "fraud", RequestID: "req-1", Truth: []float64{1}}
	with := func(f func(*predlog.Feedback)) predlog.Feedback {
		fb := ok
		f(&fb)
		return fb
	}
	batch := func(n int) []predlog.Feedback {
		out := make([]predlog.Feedback, n)
		for i := range out {
			out[i] = ok
			out[i].RequestID = fmt.Sprintf("r%d", i)
		}
		return out
	}
	badInBatch := batch(5)
	badInBatch[3].Truth = []float64{math.Inf(1)}
	for _, tc := range []struct {
		name string
		fb   []predlog.Feedback
		want string // in the message; "" = valid
	}{
		{"one value", []predlog.Feedback{ok}, ""},
		{"one per row", []predlog.Feedback{with(func(f *predlog.Feedback) { f.Truth = []float64{1, 0, -2.5} })}, ""},
		{"every id character", []predlog.Feedback{with(func(f *predlog.Feedback) { f.RequestID = "aZ09-_.:" })}, ""},
		{"longest id", []predlog.Feedback{with(func(f *predlog.Feedback) { f.RequestID = strings.Repeat("x", 128) })}, ""},
		{"largest truth", []predlog.Feedback{with(func(f *predlog.Feedback) { f.Truth = make([]float64, predlog.MaxTruthValues) })}, ""},
		{"largest batch", batch(predlog.MaxFeedbackBatch), ""},
		{"nothing", nil, "'feedback'"},
		{"batch too large", batch(predlog.MaxFeedbackBatch + 1), "'feedback'"},
		{"no endpoint", []predlog.Feedback{with(func(f *predlog.Feedback) { f.Endpoint = "" })}, "'endpoint'"},
		{"no request id", []predlog.Feedback{with(func(f *predlog.Feedback) { f.RequestID = "" })}, "'request_id'"},
		{"id too long", []predlog.Feedback{with(func(f *predlog.Feedback) { f.RequestID = strings.Repeat("x", 129) })}, "'request_id'"},
		{"id with space", []predlog.Feedback{with(func(f *predlog.Feedback) { f.RequestID = "a b" })}, "'request_id'"},
		{"id with slash", []predlog.Feedback{with(func(f *predlog.Feedback) { f.RequestID = "a/b" })}, "'request_id'"},
		{"id not ascii", []predlog.Feedback{with(func(f *predlog.Feedback) { f.RequestID = "réq" })}, "'request_id'"},
		{"no truth", []predlog.Feedback{with(func(f *predlog.Feedback) { f.Truth = nil })}, "'ground_truth'"},
		{"empty truth", []predlog.Feedback{with(func(f *predlog.Feedback) { f.Truth = []float64{} })}, "'ground_truth'"},
		{"NaN truth", []predlog.Feedback{with(func(f *predlog.Feedback) { f.Truth = []float64{1, math.NaN()} })}, "'ground_truth'"},
		{"infinite truth", []predlog.Feedback{with(func(f *predlog.Feedback) { f.Truth = []float64{math.Inf(-1)} })}, "'ground_truth'"},
		{"truth too long", []predlog.Feedback{with(func(f *predlog.Feedback) { f.Truth = make([]float64, predlog.MaxTruthValues+1) })}, "'ground_truth'"},
		{"bad entry in a batch", badInBatch, "'feedback[3].ground_truth'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t)
			err := predlog.NewService(st).Feedback(context.Background(), tc.fb...)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want an invalid argument naming %s", err, tc.want)
			}
			// All or nothing: a refused batch stores no feedback.
			var recs []predlog.Record
			for _, f := range tc.fb {
				if f.Endpoint != "" && requestid.Valid(f.RequestID) {
					recs = append(recs, predlog.Record{RequestID: f.RequestID, Endpoint: f.Endpoint, Time: 1})
				}
			}
			must(t, st.AppendPredictions(context.Background(), recs))
			got, err := st.ListPredictions(context.Background(), predlog.Query{Endpoint: "fraud", WithFeedbackOnly: true, Limit: 100000})
			must(t, err)
			if len(got) != 0 {
				t.Fatalf("a refused call stored %d feedback", len(got))
			}
		})
	}
}

func TestFeedbackTime(t *testing.T) {
	st := openStore(t)
	svc := predlog.NewService(st)
	ctx := context.Background()
	must(t, st.AppendPredictions(ctx, []predlog.Record{record("a", 1), record("b", 1)}))
	before := time.Now().UnixMilli()
	must(t, svc.Feedback(ctx, predlog.Feedback{Endpoint: "fraud", RequestID: "a", Truth: []float64{1}}))
	after := time.Now().UnixMilli()
	must(t, svc.Feedback(ctx, predlog.Feedback{Endpoint: "fraud", RequestID: "b", Truth: []float64{0}, Time: 42}))
	page, err := svc.Predictions(ctx, predlog.Query{Endpoint: "fraud"})
	must(t, err)
	if len(page.Predictions) != 2 {
		t.Fatalf("got %d", len(page.Predictions))
	}
	if ft := page.Predictions[0].FeedbackTime; ft < before || ft > after {
		t.Fatalf("feedback time %d, want the time of the call [%d, %d]", ft, before, after)
	}
	if ft := page.Predictions[1].FeedbackTime; ft != 42 {
		t.Fatalf("feedback time %d, want the given 42", ft)
	}
}

func TestPredictionsPaging(t *testing.T) {
	st := openStore(t)
	svc := predlog.NewService(st)
	ctx := context.Background()
	var recs []predlog.Record
	for i := range 250 {
		r := record(fmt.Sprintf("r%03d", i), 2)
		r.Time = int64(1000 + i/3)
		recs = append(recs, r)
	}
	must(t, st.AppendPredictions(ctx, recs))
	var all []string
	var sizes []int
	q := predlog.Query{Endpoint: "fraud"}
	for {
		page, err := svc.Predictions(ctx, q)
		must(t, err)
		sizes = append(sizes, len(page.Predictions))
		for _, l := range page.Predictions {
			all = append(all, l.RequestID)
		}
		if page.Next.IsZero() {
			break
		}
		// The cursor travels as a token.
		if q.After, err = predlog.ParseCursor(page.Next.Token()); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(sizes, []int{100, 100, 50}) || len(all) != 250 || all[0] != "r000" || all[249] != "r249" {
		t.Fatalf("pages %v, %d predictions", sizes, len(all))
	}
	// A page that ends exactly at the end has no next page.
	page, err := svc.Predictions(ctx, predlog.Query{Endpoint: "fraud", Limit: 250})
	must(t, err)
	if len(page.Predictions) != 250 || !page.Next.IsZero() {
		t.Fatalf("%d predictions, next %+v", len(page.Predictions), page.Next)
	}
}

func TestPredictionsQueryValidation(t *testing.T) {
	svc := predlog.NewService(openStore(t))
	for _, tc := range []struct {
		q    predlog.Query
		want string
	}{
		{predlog.Query{}, "'endpoint'"},
		{predlog.Query{Endpoint: "e", Limit: -1}, "'max_results'"},
		{predlog.Query{Endpoint: "e", Limit: predlog.MaxLimit + 1}, "'max_results'"},
		{predlog.Query{Endpoint: "e", Since: -1}, "'since'"},
		{predlog.Query{Endpoint: "e", Until: -1}, "'until'"},
		{predlog.Query{Endpoint: "e", Since: 10, Until: 9}, "'until'"},
		{predlog.Query{Endpoint: "e", Version: -2}, "'version'"},
	} {
		_, err := svc.Predictions(context.Background(), tc.q)
		if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want an invalid argument naming %s", tc.q, err, tc.want)
		}
	}
	if _, err := svc.Predictions(context.Background(), predlog.Query{Endpoint: "e", Limit: predlog.MaxLimit}); err != nil {
		t.Fatalf("the largest page: %v", err)
	}
}

func TestRecordValidate(t *testing.T) {
	good := record("r", 3)
	for _, tc := range []struct {
		name string
		edit func(*predlog.Record)
		ok   bool
	}{
		{"good", func(*predlog.Record) {}, true},
		{"named features", func(r *predlog.Record) { r.FeatureNames = []string{"a", "b", "c"} }, true},
		{"no rows", func(r *predlog.Record) { r.Rows, r.Inputs, r.Predictions = 0, nil, nil }, true},
		{"no request id", func(r *predlog.Record) { r.RequestID = "" }, false},
		{"no endpoint", func(r *predlog.Record) { r.Endpoint = "" }, false},
		{"short inputs", func(r *predlog.Record) { r.Inputs = r.Inputs[:2] }, false},
		{"long outputs", func(r *predlog.Record) { r.Predictions = []float64{1, 2} }, false},
		{"negative rows", func(r *predlog.Record) { r.Rows = -1 }, false},
		{"zero features with inputs", func(r *predlog.Record) { r.Features = 0 }, false},
		{"rows times features overflow", func(r *predlog.Record) { r.Rows, r.Features = 1<<62, 4 }, false},
		{"names of another width", func(r *predlog.Record) { r.FeatureNames = []string{"a"} }, false},
	} {
		r := good
		tc.edit(&r)
		if err := r.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v", tc.name, err)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
