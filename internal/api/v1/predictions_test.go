package v1

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ferry-ml/ferry/internal/api/middleware"
	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/predlog"
	"github.com/ferry-ml/ferry/internal/store/sqlite"
	"github.com/ferry-ml/ferry/internal/store/sqlstore"
)

// readOnly authenticates every caller with Read permission.
type readOnly struct{}

func (readOnly) Authenticate(context.Context, *http.Request) (middleware.Principal, error) {
	return middleware.Principal{Name: "viewer", Level: middleware.Read}, nil
}

// predictionsServer serves the /api/v1 surface with preds behind it (nil:
// no prediction log) over real HTTP.
func predictionsServer(t *testing.T, preds Predictions, authn middleware.Authenticator) string {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	router := middleware.NewRouter(middleware.RouterConfig{Logger: log, Authenticator: authn})
	New(Options{Predictions: preds, Logger: log}).Register(router)
	srv := httptest.NewServer(middleware.Chain(middleware.RequestIDs())(router))
	t.Cleanup(srv.Close)
	return srv.URL + "/api/v1/endpoints/"
}

func openStore(t *testing.T) *sqlstore.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ferry.db"), sqlite.Options{Synchronous: "normal"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// call sends a request and decodes the JSON answer.
func call(t *testing.T, method, url, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: %d, not a JSON object: %q", method, url, resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

// requestIDs lists the request ids of a predictions answer.
func requestIDs(out map[string]any) []string {
	var ids []string
	ps, _ := out["predictions"].([]any)
	for _, p := range ps {
		ids = append(ids, p.(map[string]any)["request_id"].(string))
	}
	return ids
}

// TestPredictionLogAndFeedback: records logged through predlog.Logger
// into SQLite are listed by the API with the ground truth posted for
// them, filtered and paged.
func TestPredictionLogAndFeedback(t *testing.T) {
	st := openStore(t)
	l := predlog.New(st, predlog.Options{SampleRate: 1})
	l.Log(predlog.Record{RequestID: "r1", Endpoint: "fraud", Model: "fraud-model", Version: 1, Time: 1000, LatencyMicros: 150,
		Rows: 2, Features: 3, Outputs: 1, Inputs: []float64{1, math.NaN(), 3, 4, 5, 6.5}, Predictions: []float64{0.25, 0.75},
		FeatureNames: []string{"amount", "age", "country"}, Variant: predlog.VariantStable})
	l.Log(predlog.Record{RequestID: "r2", Endpoint: "fraud", Model: "fraud-model", Version: 1, Time: 2000, LatencyMicros: 90,
		Rows: 1, Features: 3, Outputs: 2, Inputs: []float64{7, 8, 9}, Predictions: []float64{0.1, 0.9}})
	l.Log(predlog.Record{RequestID: "r3", Endpoint: "fraud", Model: "fraud-model", Version: 2, Time: 3000, LatencyMicros: 70,
		Rows: 1, Features: 3, Outputs: 1, Inputs: []float64{0, 0, 0}, Predictions: []float64{0.5}, Variant: predlog.VariantCandidate})
	l.Log(predlog.Record{RequestID: "r1", Endpoint: "churn", Model: "churn", Version: 4, Time: 1500,
		Rows: 1, Features: 1, Outputs: 1, Inputs: []float64{1}, Predictions: []float64{1}})
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	base := predictionsServer(t, predlog.NewService(st), nil)

	status, out := call(t, "POST", base+"fraud/feedback", `{"request_id": "r2", "ground_truth": 1}`)
	if status != 200 || len(out) != 0 {
		t.Fatalf("feedback: %d %v", status, out)
	}
	status, out = call(t, "POST", base+"fraud/feedback", `{"feedback": [
		{"request_id": "r1", "ground_truth": [1, 0]},
		{"request_id": "not-logged", "ground_truth": 0.5},
		{"request_id": "r3", "ground_truth": [0]}]}`)
	if status != 200 {
		t.Fatalf("batch feedback: %d %v", status, out)
	}
	// Later feedback replaces earlier feedback.
	if status, out = call(t, "POST", base+"fraud/feedback", `{"request_id": "r3", "ground_truth": [1]}`); status != 200 {
		t.Fatalf("feedback again: %d %v", status, out)
	}

	status, out = call(t, "GET", base+"fraud/predictions", "")
	if status != 200 {
		t.Fatalf("list: %d %v", status, out)
	}
	if ids := requestIDs(out); !slices.Equal(ids, []string{"r1", "r2", "r3"}) {
		t.Fatalf("listed %v", ids)
	}
	if _, ok := out["next_page_token"]; ok {
		t.Fatalf("a single page has a next page token: %v", out)
	}
	first, _ := json.Marshal(out["predictions"].([]any)[0])
	want := `{"feature_names":["amount","age","country"],"feedback_time":` // the rest compared below
	if !strings.HasPrefix(string(first), want) {
		t.Fatalf("r1: %s", first)
	}
	var r1 map[string]any
	_ = json.Unmarshal(first, &r1)
	delete(r1, "feedback_time")
	got, _ := json.Marshal(r1)
	if wantR1 := `{"feature_names":["amount","age","country"],"ground_truth":[1,0],"inputs":[[1,null,3],[4,5,6.5]],` +
		`"latency_us":150,"model":"fraud-model","outputs":[[0.25],[0.75]],"request_id":"r1","time":1000,"variant":"stable","version":1}`; string(got) != wantR1 {
		t.Fatalf("r1:\n got %s\nwant %s", got, wantR1)
	}
	r2 := out["predictions"].([]any)[1].(map[string]any)
	// Feature names are kept per model version: r2, logged without them,
	// reads those its version logged with r1.
	if fmt.Sprint(r2["feature_names"]) != "[amount age country]" || r2["variant"] != "" ||
		fmt.Sprint(r2["outputs"]) != "[[0.1 0.9]]" || fmt.Sprint(r2["ground_truth"]) != "[1]" {
		t.Fatalf("r2: %v", r2)
	}
	r3 := out["predictions"].([]any)[2].(map[string]any)
	if fmt.Sprint(r3["ground_truth"]) != "[1]" {
		t.Fatalf("r3: feedback not replaced: %v", r3)
	}

	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"with_feedback=true", []string{"r1", "r2", "r3"}},
		{"version=2", []string{"r3"}},
		{"version=1&with_feedback=1", []string{"r1", "r2"}},
		{"since=2000", []string{"r2", "r3"}},
		{"until=2000", []string{"r1"}},
		{"since=1001&until=3000", []string{"r2"}},
		{"since=5000", nil},
	} {
		status, out := call(t, "GET", base+"fraud/predictions?"+tc.query, "")
		if ids := requestIDs(out); status != 200 || !slices.Equal(ids, tc.want) {
			t.Errorf("?%s: %d %v, want %v", tc.query, status, ids, tc.want)
		}
	}
	status, out = call(t, "GET", base+"churn/predictions?with_feedback=true", "")
	if status != 200 || len(out["predictions"].([]any)) != 0 {
		t.Fatalf("churn's r1 got fraud's feedback: %v", out)
	}

	// Paging one by one.
	var paged []string
	token := ""
	for range 10 {
		status, out := call(t, "GET", base+"fraud/predictions?max_results=1&page_token="+url.QueryEscape(token), "")
		if status != 200 {
			t.Fatalf("page: %d %v", status, out)
		}
		paged = append(paged, requestIDs(out)...)
		next, _ := out["next_page_token"].(string)
		if next == "" {
			break
		}
		token = next
	}
	if !slices.Equal(paged, []string{"r1", "r2", "r3"}) {
		t.Fatalf("paged %v", paged)
	}
}

func TestFeedbackRefused(t *testing.T) {
	base := predictionsServer(t, predlog.NewService(openStore(t)), nil)
	entries := func(n int) string {
		var b strings.Builder
		b.WriteString(`{"feedback": [`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"request_id": "r%d", "ground_truth": 1}`, i)
		}
		b.WriteString(`]}`)
		return b.String()
	}
	for _, tc := range []struct {
		name, endpoint, body string
		status               int
		want                 string // in the message
	}{
		{"bad endpoint name", "Fraud!", `{"request_id": "r", "ground_truth": 1}`, 400, "endpoint name"},
		{"no body", "fraud", ``, 400, "Missing request body"},
		{"not JSON", "fraud", `request_id=r`, 400, "Malformed JSON"},
		{"not an object", "fraud", `[1]`, 400, "Malformed JSON"},
		{"unknown field", "fraud", `{"request_id": "r", "ground_truth": 1, "label": 1}`, 400, "label"},
		{"trailing data", "fraud", `{"request_id": "r", "ground_truth": 1} {}`, 400, "trailing"},
		{"no request id", "fraud", `{"ground_truth": 1}`, 400, "'request_id'"},
		{"empty object", "fraud", `{}`, 400, "'request_id'"},
		{"request id not a string", "fraud", `{"request_id": 7, "ground_truth": 1}`, 400, "Malformed JSON"},
		{"bad request id", "fraud", `{"request_id": "a b", "ground_truth": 1}`, 400, "'request_id'"},
		{"long request id", "fraud", `{"request_id": "` + strings.Repeat("x", 129) + `", "ground_truth": 1}`, 400, "'request_id'"},
		{"no ground truth", "fraud", `{"request_id": "r"}`, 400, "'ground_truth'"},
		{"null ground truth", "fraud", `{"request_id": "r", "ground_truth": null}`, 400, "'ground_truth'"},
		{"string ground truth", "fraud", `{"request_id": "r", "ground_truth": "1"}`, 400, "'ground_truth'"},
		{"object ground truth", "fraud", `{"request_id": "r", "ground_truth": {"y": 1}}`, 400, "'ground_truth'"},
		{"empty ground truth", "fraud", `{"request_id": "r", "ground_truth": []}`, 400, "'ground_truth'"},
		{"null in ground truth", "fraud", `{"request_id": "r", "ground_truth": [1, null]}`, 400, "'ground_truth'"},
		{"nested ground truth", "fraud", `{"request_id": "r", "ground_truth": [[1]]}`, 400, "'ground_truth'"},
		{"huge number", "fraud", `{"request_id": "r", "ground_truth": 1e400}`, 400, "'ground_truth'"},
		{"both forms", "fraud", `{"request_id": "r", "ground_truth": 1, "feedback": []}`, 400, "not both"},
		{"empty batch", "fraud", `{"feedback": []}`, 400, "'feedback'"},
		{"batch too large", "fraud", entries(predlog.MaxFeedbackBatch + 1), 400, "'feedback'"},
		{"bad entry", "fraud", `{"feedback": [{"request_id": "a", "ground_truth": 1}, {"request_id": "b/c", "ground_truth": 1}]}`, 400, "'feedback[1].request_id'"},
		{"entry without truth", "fraud", `{"feedback": [{"request_id": "a"}]}`, 400, "'feedback[0].ground_truth'"},
		{"body too large", "fraud", `{"request_id": "r", "ground_truth": [` + strings.Repeat("0.5,", 5<<20) + `1]}`, 413, "exceeds the limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out := call(t, "POST", base+url.PathEscape(tc.endpoint)+"/feedback", tc.body)
			msg, _ := out["message"].(string)
			if status != tc.status || out["error_code"] != "INVALID_PARAMETER_VALUE" || !strings.Contains(msg, tc.want) {
				t.Fatalf("%d %v, want %d with %q", status, out, tc.status, tc.want)
			}
		})
	}
	// All or nothing: the batch with a bad entry stored nothing; the
	// largest batch is accepted.
	status, out := call(t, "GET", base+"fraud/predictions", "")
	if status != 200 || len(out["predictions"].([]any)) != 0 {
		t.Fatalf("%d %v", status, out)
	}
	if status, out := call(t, "POST", base+"fraud/feedback", entries(predlog.MaxFeedbackBatch)); status != 200 {
		t.Fatalf("largest batch: %d %v", status, out)
	}
}

func TestPredictionsQueryRefused(t *testing.T) {
	base := predictionsServer(t, predlog.NewService(openStore(t)), nil)
	for _, tc := range []struct {
		path, want string
	}{
		{"UPPER/predictions", "endpoint name"},
		{"fraud/predictions?since=-1", "'since'"},
		{"fraud/predictions?since=yesterday", "'since'"},
		{"fraud/predictions?until=1.5", "'until'"},
		{"fraud/predictions?since=10&until=5", "'until'"},
		{"fraud/predictions?version=0", "'version'"},
		{"fraud/predictions?version=latest", "'version'"},
		{"fraud/predictions?max_results=0", "'max_results'"},
		{"fraud/predictions?max_results=10001", "'max_results'"},
		{"fraud/predictions?max_results=many", "'max_results'"},
		{"fraud/predictions?with_feedback=maybe", "'with_feedback'"},
		{"fraud/predictions?page_token=%21%21", "'page_token'"},
		{"fraud/predictions?page_token=" + base64Of("5 a b"), "'page_token'"},
	} {
		status, out := call(t, "GET", base+tc.path, "")
		msg, _ := out["message"].(string)
		if status != 400 || out["error_code"] != "INVALID_PARAMETER_VALUE" || !strings.Contains(msg, tc.want) {
			t.Errorf("%s: %d %v, want 400 naming %s", tc.path, status, out, tc.want)
		}
	}
	if status, out := call(t, "GET", base+"fraud/predictions?max_results=10000&until=0&with_feedback=false", ""); status != 200 {
		t.Fatalf("%d %v", status, out)
	}
}

// base64Of encodes s as page tokens are encoded.
func base64Of(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestPredictionRoutesWithoutLog(t *testing.T) {
	base := predictionsServer(t, nil, nil)
	for _, r := range []struct{ method, path, body string }{
		{"POST", "fraud/feedback", `{"request_id": "r", "ground_truth": 1}`},
		{"GET", "fraud/predictions", ""},
	} {
		status, out := call(t, r.method, base+r.path, r.body)
		if status != 503 || out["error_code"] != "TEMPORARILY_UNAVAILABLE" {
			t.Errorf("%s %s: %d %v", r.method, r.path, status, out)
		}
	}
}

func TestPredictionRoutePermissions(t *testing.T) {
	base := predictionsServer(t, predlog.NewService(openStore(t)), readOnly{})
	if status, out := call(t, "POST", base+"fraud/feedback", `{"request_id": "r", "ground_truth": 1}`); status != 403 {
		t.Fatalf("feedback with read permission: %d %v", status, out)
	}
	if status, out := call(t, "GET", base+"fraud/predictions", ""); status != 200 {
		t.Fatalf("list with read permission: %d %v", status, out)
	}
}

// failingPredictions fails every call as a broken database would.
type failingPredictions struct{}

func (failingPredictions) Feedback(context.Context, ...predlog.Feedback) error {
	return errors.New("connection reset")
}

func (failingPredictions) Predictions(context.Context, predlog.Query) (predlog.Page, error) {
	return predlog.Page{}, errors.New("connection reset")
}

func TestPredictionStoreFailureIsAServerError(t *testing.T) {
	base := predictionsServer(t, failingPredictions{}, nil)
	status, out := call(t, "POST", base+"fraud/feedback", `{"request_id": "r", "ground_truth": 1}`)
	if status != 500 || strings.Contains(fmt.Sprint(out), "connection reset") {
		t.Fatalf("%d %v: want a 500 that does not leak the cause", status, out)
	}
}

func FuzzFeedbackBody(f *testing.F) {
	for _, s := range []string{
		`{"request_id": "r", "ground_truth": 1}`,
		`{"request_id": "r-1:a.b_c", "ground_truth": [1, 0, 2.5e-3]}`,
		`{"feedback": [{"request_id": "a", "ground_truth": 1}, {"request_id": "b", "ground_truth": [0, 1]}]}`,
		`{"feedback": []}`, `{}`, ``, `null`, `[]`, `{"request_id": null}`,
		`{"request_id": "r", "ground_truth": [1, null]}`, `{"request_id": "r", "ground_truth": 1e999}`,
		`{"request_id": "r", "ground_truth": "1"}`, `{"request_id": "r", "ground_truth": 1} x`,
		`{"Request_ID": "r", "GROUND_TRUTH": -0}`, `{"feedback": [{"request_id": "a", "ground_truth": [[1]]}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fb, err := decodeFeedback(bytes.NewReader(body))
		if err != nil {
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Fatalf("%q: error of another kind: %v", body, err)
			}
			if fb != nil {
				t.Fatalf("%q: feedback with an error", body)
			}
			return
		}
		if len(fb) == 0 || len(fb) > predlog.MaxFeedbackBatch {
			t.Fatalf("%q: %d entries", body, len(fb))
		}
		type entry struct {
			RequestID   string    `json:"request_id"`
			GroundTruth []float64 `json:"ground_truth"`
		}
		var batch struct {
			Feedback []entry `json:"feedback"`
		}
		for _, f := range fb {
			if err := f.Validate(); err != nil {
				t.Fatalf("%q: accepted invalid feedback %+v: %v", body, f, err)
			}
			batch.Feedback = append(batch.Feedback, entry{f.RequestID, f.Truth})
		}
		// What was accepted reads back the same in the batch form.
		again, _ := json.Marshal(batch)
		fb2, err := decodeFeedback(bytes.NewReader(again))
		if err != nil || len(fb2) != len(fb) {
			t.Fatalf("%q: re-encoded as %s: %v", body, again, err)
		}
		for i := range fb {
			if fb2[i].RequestID != fb[i].RequestID || !slices.Equal(fb2[i].Truth, fb[i].Truth) {
				t.Fatalf("%q: entry %d re-read as %+v, was %+v", body, i, fb2[i], fb[i])
			}
		}
	})
}
