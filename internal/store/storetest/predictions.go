package storetest

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"slices"
	"testing"

	"github.com/ferry-ml/ferry/internal/predlog"
)

// PredictionStore is what the prediction log suite exercises.
type PredictionStore interface {
	predlog.Store
}

// RunPredictions runs the prediction log conformance suite; newStore
// returns a fresh, empty store closed by the test's cleanup.
func RunPredictions(t *testing.T, newStore func(t *testing.T) PredictionStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s PredictionStore)
	}{
		{"RoundTrip", testPredictionRoundTrip},
		{"NonFiniteValuesRoundTrip", testPredictionNonFinite},
		{"DuplicatesIgnored", testPredictionDuplicates},
		{"InvalidRecordFailsTheBatch", testPredictionInvalidBatch},
		{"LargeBatch", testPredictionLargeBatch},
		{"FeedbackUpsert", testFeedbackUpsert},
		{"FeedbackBeforePrediction", testFeedbackBeforePrediction},
		{"WithFeedbackOnly", testWithFeedbackOnly},
		{"TimeRangeAndVersion", testPredictionTimeRange},
		{"Paging", testPredictionPaging},
		{"EndpointsAreSeparate", testPredictionEndpoints},
		{"QueryNeedsEndpointAndLimit", testPredictionQueryArgs},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

// rec is a 2-row, 3-feature, 1-output record.
func rec(endpoint, id string, time int64, version int64) predlog.Record {
	return predlog.Record{RequestID: id, Endpoint: endpoint, Model: "fraud-model", Version: version, Time: time,
		LatencyMicros: 125, Rows: 2, Features: 3, Outputs: 1,
		Inputs: []float64{1, 2.5, -3, 4, 5e-300, 6}, Predictions: []float64{0.25, 0.75},
		FeatureNames: []string{"amount", "age", "país"}, Variant: predlog.VariantStable}
}

func list(t *testing.T, s PredictionStore, q predlog.Query) []predlog.Logged {
	t.Helper()
	if q.Limit == 0 {
		q.Limit = 1000
	}
	got, err := s.ListPredictions(context.Background(), q)
	must(t, err)
	return got
}

func ids(ls []predlog.Logged) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.RequestID
	}
	return out
}

func wantIDs(t *testing.T, got []predlog.Logged, want ...string) {
	t.Helper()
	if g := ids(got); !slices.Equal(g, want) && !(len(g) == 0 && len(want) == 0) {
		t.Fatalf("request ids %q, want %q", g, want)
	}
}

func testPredictionRoundTrip(t *testing.T, s PredictionStore) {
	ctx := context.Background()
	a := rec("fraud", "req-1", 1000, 3)
	b := rec("fraud", "req-2", 1001, 4)
	b.FeatureNames, b.Variant, b.Outputs = nil, predlog.VariantCandidate, 2
	b.Predictions = []float64{0.1, 0.9, 0.8, 0.2}
	empty := predlog.Record{RequestID: "req-3", Endpoint: "fraud", Model: "m", Version: 1, Time: 1002}
	must(t, s.AppendPredictions(ctx, []predlog.Record{a, b, empty}))
	must(t, s.AppendPredictions(ctx, nil))
	got := list(t, s, predlog.Query{Endpoint: "fraud"})
	want := []predlog.Logged{{Record: a}, {Record: b}, {Record: empty}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

func testPredictionNonFinite(t *testing.T, s PredictionStore) {
	ctx := context.Background()
	r := rec("fraud", "nan", 5, 1)
	negZero := math.Copysign(0, -1)
	r.Inputs = []float64{math.NaN(), math.Inf(1), math.Inf(-1), negZero, math.MaxFloat64, math.SmallestNonzeroFloat64}
	r.Predictions = []float64{math.NaN(), 1}
	must(t, s.AppendPredictions(ctx, []predlog.Record{r}))
	must(t, s.PutFeedback(ctx, predlog.Feedback{Endpoint: "fraud", RequestID: "nan", Truth: []float64{negZero, 1e308}, Time: 9}))
	got := list(t, s, predlog.Query{Endpoint: "fraud"})
	if len(got) != 1 {
		t.Fatalf("got %d predictions", len(got))
	}
	sameBits := func(what string, got, want []float64) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %v, want %v", what, got, want)
		}
		for i := range want {
			if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
				t.Fatalf("%s[%d] = %v (%#x), want %v (%#x)", what, i, got[i], math.Float64bits(got[i]), want[i], math.Float64bits(want[i]))
			}
		}
	}
	sameBits("inputs", got[0].Inputs, r.Inputs)
	sameBits("predictions", got[0].Predictions, r.Predictions)
	sameBits("truth", got[0].Truth, []float64{negZero, 1e308})
}

func testPredictionDuplicates(t *testing.T, s PredictionStore) {
	ctx := context.Background()
	first := rec("fraud", "dup", 10, 1)
	must(t, s.AppendPredictions(ctx, []predlog.Record{first}))
	again := rec("fraud", "dup", 20, 2)
	again.Model = "other"
	inBatch1, inBatch2 := rec("fraud", "twice", 30, 1), rec("fraud", "twice", 40, 9)
	// A stored key and a key repeated within the batch: ignored, no error.
	must(t, s.AppendPredictions(ctx, []predlog.Record{again, inBatch1, inBatch2}))
	must(t, s.AppendPredictions(ctx, []predlog.Record{first}))
	got := list(t, s, predlog.Query{Endpoint: "fraud"})
	wantIDs(t, got, "dup", "twice")
	if got[0].Model != "fraud-model" || got[0].Time != 10 || got[1].Version != 1 || got[1].Time != 30 {
		t.Fatalf("a duplicate replaced the first record: %+v", got)
	}
}

func testPredictionInvalidBatch(t *testing.T, s PredictionStore) {
	ctx := context.Background()
	bad := rec("fraud", "bad", 2, 1)
	bad.Inputs = bad.Inputs[:5]
	if err := s.AppendPredictions(ctx, []predlog.Record{rec("fraud", "good", 1, 1), bad}); err == nil {
		t.Fatal("a record with 5 inputs for 2×3 was accepted")
	}
	wantIDs(t, list(t, s, predlog.Query{Endpoint: "fraud"}))
}

func testPredictionLargeBatch(t *testing.T, s PredictionStore) {
	ctx := context.Background()
	const n = 613 // 250+250+50+50+10+1+1+1 rows
	var recs []predlog.Record
	for i := range n {
		r := rec("fraud", fmt.Sprintf("r%04d", i), int64(1000+i), 1)
		r.Inputs = []float64{float64(i), 0, 0, 0, 0, float64(-i)}
		recs = append(recs, r)
	}
	recs = append(recs, rec("fraud", "r0000", 1, 1)) // a duplicate at the end
	must(t, s.AppendPredictions(ctx, recs))
	got := list(t, s, predlog.Query{Endpoint: "fraud", Limit: 10000})
	if len(got) != n {
		t.Fatalf("got %d predictions, want %d", len(got), n)
	}
	for i, l := range got {
		if l.RequestID != fmt.Sprintf("r%04d", i) || l.Inputs[0] != float64(i) || l.Inputs[5] != float64(-i) {
			t.Fatalf("prediction %d: %+v", i, l.Record)
		}
	}
	var fb []predlog.Feedback
	for i := range n {
		fb = append(fb, predlog.Feedback{Endpoint: "fraud", RequestID: fmt.Sprintf("r%04d", i), Truth: []float64{float64(i), 1}, Time: 7})
	}
	must(t, s.PutFeedback(ctx, fb...))
	got = list(t, s, predlog.Query{Endpoint: "fraud", Limit: 10000, WithFeedbackOnly: true})
	if len(got) != n || got[n-1].Truth[0] != float64(n-1) {
		t.Fatalf("got %d predictions with feedback, want %d", len(got), n)
	}
}

func testFeedbackUpsert(t *testing.T, s PredictionStore) {
	ctx := context.Background()
	must(t, s.AppendPredictions(ctx, []predlog.Record{rec("fraud", "a", 1, 1), rec("fraud", "b", 2, 1)}))
	must(t, s.PutFeedback(ctx, predlog.Feedback{Endpoint: "fraud", RequestID: "a", Truth: []float64{1, 0}, Time: 100}))
	must(t, s.PutFeedback(ctx, predlog.Feedback{Endpoint: "fraud", RequestID: "a", Truth: []float64{0, 1}, Time: 200}))
	// Within one call the last entry for a key wins.
	must(t, s.PutFeedback(ctx,
		predlog.Feedback{Endpoint: "fraud", RequestID: "b", Truth: []float64{5}, Time: 300},
		predlog.Feedback{Endpoint: "fraud", RequestID: "b", Truth: []float64{6, 7}, Time: 301}))
	must(t, s.PutFeedback(ctx))
	got := list(t, s, predlog.Query{Endpoint: "fraud"})
	wantIDs(t, got, "a", "b")
	if !slices.Equal(got[0].Truth, []float64{0, 1}) || got[0].FeedbackTime != 200 {
		t.Fatalf("a: truth %v at %d, want [0 1] at 200", got[0].Truth, got[0].FeedbackTime)
	}
	if !slices.Equal(got[1].Truth, []float64{6, 7}) || got[1].FeedbackTime != 301 {
		t.Fatalf("b: truth %v at %d, want [6 7] at 301", got[1].Truth, got[1].FeedbackTime)
	}
}

func testFeedbackBeforePrediction(t *testing.T, s PredictionStore) {
	ctx := context.Background()
	must(t, s.PutFeedback(ctx, predlog.Feedback{Endpoint: "fraud", RequestID: "early", Truth: []float64{1, 1}, Time: 50}))
	must(t, s.PutFeedback(ctx, predlog.Feedback{Endpoint: "fraud", RequestID: "never-logged", Truth: []float64{0}, Time: 50}))
	wantIDs(t, list(t, s, predlog.Query{Endpoint: "fraud"}))
	must(t, s.AppendPredictions(ctx, []predlog.Record{rec("fraud", "early", 60, 1)}))
	got := list(t, s, predlog.Query{Endpoint: "fraud", WithFeedbackOnly: true})
	wantIDs(t, got, "early")
	if !slices.Equal(got[0].Truth, []float64{1, 1}) || got[0].FeedbackTime != 50 {
		t.Fatalf("early: truth %v at %d", got[0].Truth, got[0].FeedbackTime)
	}
}

func testWithFeedbackOnly(t *testing.T, s PredictionStore) {
	ctx := context.Background()
	var recs []predlog.Record
	for i := range 10 {
		recs = append(recs, rec("fraud", fmt.Sprintf("r%d", i), int64(i), 1))
	}
	must(t, s.AppendPredictions(ctx, recs))
	for _, i := range []int{1, 4, 8} {
		must(t, s.PutFeedback(ctx, predlog.Feedback{Endpoint: "fraud", RequestID: fmt.Sprintf("r%d", i), Truth: []float64{float64(i)}, Time: 99}))
	}
	got := list(t, s, predlog.Query{Endpoint: "fraud", WithFeedbackOnly: true})
	wantIDs(t, got, "r1", "r4", "r8")
	all := list(t, s, predlog.Query{Endpoint: "fraud"})
	if len(all) != 10 || all[0].Truth != nil || all[0].FeedbackTime != 0 || all[4].Truth[0] != 4 {
		t.Fatalf("all: %+v", all)
	}
	// Paging through the filtered log.
	page := list(t, s, predlog.Query{Endpoint: "fraud", WithFeedbackOnly: true, Limit: 2})
	wantIDs(t, page, "r1", "r4")
	page = list(t, s, predlog.Query{Endpoint: "fraud", WithFeedbackOnly: true, Limit: 2, After: predlog.CursorOf(page[1])})
	wantIDs(t, page, "r8")
}

func testPredictionTimeRange(t *testing.T, s PredictionStore) {
	ctx := context.Background()
	must(t, s.AppendPredictions(ctx, []predlog.Record{
		rec("fraud", "t100", 100, 1), rec("fraud", "t200", 200, 2), rec("fraud", "t200b", 200, 1),
		rec("fraud", "t300", 300, 2), rec("fraud", "t400", 400, 1),
	}))
	for _, tc := range []struct {
		q    predlog.Query
		want []string
	}{
		{predlog.Query{Since: 200}, []string{"t200", "t200b", "t300", "t400"}},
		{predlog.Query{Until: 300}, []string{"t100", "t200", "t200b"}},
		{predlog.Query{Since: 200, Until: 300}, []string{"t200", "t200b"}},
		{predlog.Query{Since: 201, Until: 300}, nil},
		{predlog.Query{Since: 401}, nil},
		{predlog.Query{Version: 2}, []string{"t200", "t300"}},
		{predlog.Query{Version: 1, Since: 150}, []string{"t200b", "t400"}},
		{predlog.Query{Version: 7}, nil},
		{predlog.Query{Newest: true, Limit: 2}, []string{"t300", "t400"}},
		{predlog.Query{Newest: true, Limit: 3, Until: 400}, []string{"t200", "t200b", "t300"}},
		{predlog.Query{Newest: true, Limit: 10, Since: 200, Version: 1}, []string{"t200b", "t400"}},
	} {
		q := tc.q
		q.Endpoint = "fraud"
		wantIDs(t, list(t, s, q), tc.want...)
	}
}

func testPredictionPaging(t *testing.T, s PredictionStore) {
	ctx := context.Background()
	// 25 records over 5 times, written out of order, ids not in time order.
	var recs []predlog.Record
	for i := 24; i >= 0; i-- {
		recs = append(recs, rec("fraud", fmt.Sprintf("id-%02d", (i*7)%25), int64(1000+i%5), 1))
	}
	must(t, s.AppendPredictions(ctx, recs[:10]))
	must(t, s.AppendPredictions(ctx, recs[10:]))
	all := list(t, s, predlog.Query{Endpoint: "fraud"})
	if len(all) != 25 {
		t.Fatalf("got %d", len(all))
	}
	for i := 1; i < len(all); i++ {
		a, b := all[i-1], all[i]
		if a.Time > b.Time || (a.Time == b.Time && a.RequestID >= b.RequestID) {
			t.Fatalf("not ordered by time then request id: %v then %v", position(a), position(b))
		}
	}
	for _, size := range []int{1, 7, 25, 26} {
		var pages []predlog.Logged
		var after predlog.Cursor
		for n := 0; ; n++ {
			page := list(t, s, predlog.Query{Endpoint: "fraud", Limit: size, After: after})
			if len(page) > size || n > 30 {
				t.Fatalf("page of %d with limit %d (page %d)", len(page), size, n)
			}
			pages = append(pages, page...)
			if len(page) < size {
				break
			}
			after = predlog.CursorOf(page[len(page)-1])
		}
		if !slices.Equal(ids(pages), ids(all)) {
			t.Fatalf("pages of %d: %q, want %q", size, ids(pages), ids(all))
		}
	}
}

// position shows a prediction's position.
func position(l predlog.Logged) string { return fmt.Sprintf("(%d, %s)", l.Time, l.RequestID) }

func testPredictionEndpoints(t *testing.T, s PredictionStore) {
	ctx := context.Background()
	a, b := rec("fraud", "same", 1, 1), rec("churn", "same", 1, 5)
	must(t, s.AppendPredictions(ctx, []predlog.Record{a, b}))
	must(t, s.PutFeedback(ctx, predlog.Feedback{Endpoint: "churn", RequestID: "same", Truth: []float64{1, 2}, Time: 3}))
	fraud := list(t, s, predlog.Query{Endpoint: "fraud"})
	churn := list(t, s, predlog.Query{Endpoint: "churn"})
	if len(fraud) != 1 || fraud[0].Version != 1 || fraud[0].Truth != nil {
		t.Fatalf("fraud: %+v", fraud)
	}
	if len(churn) != 1 || churn[0].Version != 5 || !slices.Equal(churn[0].Truth, []float64{1, 2}) {
		t.Fatalf("churn: %+v", churn)
	}
	wantIDs(t, list(t, s, predlog.Query{Endpoint: "nothing"}))
}

func testPredictionQueryArgs(t *testing.T, s PredictionStore) {
	ctx := context.Background()
	if _, err := s.ListPredictions(ctx, predlog.Query{Limit: 10}); err == nil {
		t.Fatal("a query without an endpoint was accepted")
	}
	if _, err := s.ListPredictions(ctx, predlog.Query{Endpoint: "fraud"}); err == nil {
		t.Fatal("a query without a limit was accepted")
	}
	if err := s.PutFeedback(ctx, predlog.Feedback{RequestID: "x", Truth: []float64{1}}); err == nil {
		t.Fatal("feedback without an endpoint was accepted")
	}
}
