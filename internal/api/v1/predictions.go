package v1

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"

	"github.com/ferry-ml/ferry/internal/api/middleware"
	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/predlog"
	"github.com/ferry-ml/ferry/internal/serving"
)

// Predictions is what the API reads and writes of the prediction log:
// logged predictions and the ground truth attached to them later
// (predlog.Service).
type Predictions interface {
	// Feedback stores ground truth for requests of one or more
	// endpoints, validating every entry before storing any.
	Feedback(ctx context.Context, fb ...predlog.Feedback) error
	// Predictions returns a page of an endpoint's log.
	Predictions(ctx context.Context, q predlog.Query) (predlog.Page, error)
}

var errNoPredictions = errdefs.Unavailable("This server keeps no prediction log.")

// feedbackBodyLimit bounds a feedback body: room for the largest ground
// truth (predlog.MaxTruthValues numbers) or a full batch.
const feedbackBodyLimit = 16 << 20

// feedbackJSON is one entry of feedback; ground_truth is a number or an
// array of numbers, one per row.
type feedbackJSON struct {
	RequestID   *string         `json:"request_id"`
	GroundTruth json.RawMessage `json:"ground_truth"`
}

// feedbackBody is a single entry or a batch.
type feedbackBody struct {
	feedbackJSON
	Feedback []feedbackJSON `json:"feedback"`
}

// decodeFeedback reads a feedback body: {"request_id", "ground_truth"} or
// {"feedback": [...]} with 1 to predlog.MaxFeedbackBatch entries. Every
// entry is validated (all or nothing); errors are
// errdefs.ErrInvalidArgument naming the field, or a body-too-large error.
func decodeFeedback(rd io.Reader) ([]predlog.Feedback, error) {
	var body feedbackBody
	dec := json.NewDecoder(rd)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		if _, ok := middleware.BodyTooLarge(err); ok {
			return nil, err
		}
		if errors.Is(err, io.EOF) {
			return nil, errdefs.InvalidArgument("Missing request body: give {\"request_id\": ..., \"ground_truth\": ...} or {\"feedback\": [...]}.")
		}
		return nil, errdefs.InvalidArgument("Malformed JSON body: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if _, ok := middleware.BodyTooLarge(err); ok {
			return nil, err
		}
		return nil, errdefs.InvalidArgument("Malformed JSON body: trailing data after the object")
	}
	single := body.RequestID != nil || body.GroundTruth != nil
	switch {
	case body.Feedback == nil && !single:
		return nil, errdefs.InvalidArgument("Missing value for required parameter 'request_id'.")
	case body.Feedback != nil && single:
		return nil, errdefs.InvalidArgument("Give either 'request_id' and 'ground_truth', or 'feedback' (a list of them), not both.")
	case single:
		f, err := toFeedback(body.feedbackJSON, "")
		if err != nil {
			return nil, err
		}
		return []predlog.Feedback{f}, nil
	case len(body.Feedback) == 0:
		return nil, errdefs.InvalidArgument("Invalid value for parameter 'feedback': the list is empty.")
	case len(body.Feedback) > predlog.MaxFeedbackBatch:
		return nil, errdefs.InvalidArgument("Invalid value for parameter 'feedback': %d entries, at most %d are accepted.",
			len(body.Feedback), predlog.MaxFeedbackBatch)
	}
	out := make([]predlog.Feedback, len(body.Feedback))
	for i, e := range body.Feedback {
		f, err := toFeedback(e, fmt.Sprintf("feedback[%d].", i))
		if err != nil {
			return nil, err
		}
		out[i] = f
	}
	return out, nil
}

// toFeedback converts and validates one entry; prefix qualifies the field
// names in errors.
func toFeedback(e feedbackJSON, prefix string) (predlog.Feedback, error) {
	if e.RequestID == nil {
		return predlog.Feedback{}, errdefs.InvalidArgument("Missing value for required parameter '%srequest_id'.", prefix)
	}
	truth, err := parseTruth(e.GroundTruth)
	if err != nil {
		return predlog.Feedback{}, errdefs.InvalidArgument("Invalid value for parameter '%sground_truth': %v", prefix, err)
	}
	f := predlog.Feedback{RequestID: *e.RequestID, Truth: truth}
	if err := f.ValidateIn(prefix); err != nil {
		return predlog.Feedback{}, err
	}
	return f, nil
}

// truthNumber is a JSON number that refuses null, strings and values
// beyond float64's range (which encoding/json would turn into 0 or an
// infinity).
type truthNumber float64

func (n *truthNumber) UnmarshalJSON(b []byte) error {
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsInf(v, 0) || len(b) == 0 || b[0] == '"' {
		return errors.New("a number or an array of numbers is expected (no null, strings or numbers beyond float64)")
	}
	*n = truthNumber(v)
	return nil
}

// parseTruth reads a number or an array of numbers; nil for a missing
// value.
func parseTruth(raw json.RawMessage) ([]float64, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, nil
	}
	if raw[0] != '[' {
		var n truthNumber
		if err := n.UnmarshalJSON(raw); err != nil {
			return nil, err
		}
		return []float64{float64(n)}, nil
	}
	var ns []truthNumber
	if err := json.Unmarshal(raw, &ns); err != nil {
		var ue *json.UnmarshalTypeError
		if errors.As(err, &ue) {
			return nil, errors.New("a number or an array of numbers is expected")
		}
		return nil, unwrapJSON(err)
	}
	out := make([]float64, len(ns))
	for i, n := range ns {
		out[i] = float64(n)
	}
	return out, nil
}

// unwrapJSON drops encoding/json's context from an UnmarshalJSON error.
func unwrapJSON(err error) error {
	if u := errors.Unwrap(err); u != nil {
		return u
	}
	return err
}

func (s *Server) postFeedback(r *http.Request) (any, error) {
	if s.predictions == nil {
		return nil, errNoPredictions
	}
	endpoint := r.PathValue("endpoint")
	if err := serving.ValidateEndpoint(endpoint); err != nil {
		return nil, err
	}
	fb, err := decodeFeedback(r.Body)
	if err != nil {
		return nil, err
	}
	for i := range fb {
		fb[i].Endpoint = endpoint
	}
	if err := s.predictions.Feedback(r.Context(), fb...); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// predictionQuery reads the query string of the predictions route.
func predictionQuery(endpoint string, v url.Values) (predlog.Query, error) {
	q := predlog.Query{Endpoint: endpoint}
	intParam := func(name string, lo, hi int64, what string) (int64, error) {
		s := v.Get(name)
		if s == "" {
			return 0, nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < lo || n > hi {
			return 0, errdefs.InvalidArgument("Invalid value '%s' for parameter '%s': %s is expected.", truncate(s), name, what)
		}
		return n, nil
	}
	var err error
	if q.Since, err = intParam("since", 0, math.MaxInt64, "a time in Unix milliseconds"); err != nil {
		return q, err
	}
	if q.Until, err = intParam("until", 0, math.MaxInt64, "a time in Unix milliseconds"); err != nil {
		return q, err
	}
	if q.Until != 0 && q.Until < q.Since {
		return q, errdefs.InvalidArgument("Invalid value '%d' for parameter 'until': it is before 'since'.", q.Until)
	}
	if q.Version, err = intParam("version", 1, math.MaxInt64, "a positive version number"); err != nil {
		return q, err
	}
	limit, err := intParam("max_results", 1, predlog.MaxLimit, fmt.Sprintf("an integer from 1 to %d", predlog.MaxLimit))
	if err != nil {
		return q, err
	}
	q.Limit = int(limit)
	if s := v.Get("with_feedback"); s != "" {
		if q.WithFeedbackOnly, err = strconv.ParseBool(s); err != nil {
			return q, errdefs.InvalidArgument("Invalid value '%s' for parameter 'with_feedback': true or false is expected.", truncate(s))
		}
	}
	if q.After, err = predlog.ParseCursor(v.Get("page_token")); err != nil {
		return q, err
	}
	return q, nil
}

// truncate shortens a user's value for an error message.
func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// predictionJSON is one logged prediction. Inputs and outputs are arrays
// of rows; values JSON cannot carry (NaN: a missing feature, infinities)
// are null.
type predictionJSON struct {
	RequestID    string     `json:"request_id"`
	Model        string     `json:"model"`
	Version      int64      `json:"version"`
	Variant      string     `json:"variant"`
	Time         int64      `json:"time"`
	LatencyUs    int64      `json:"latency_us"`
	Inputs       matrix     `json:"inputs"`
	FeatureNames []string   `json:"feature_names,omitempty"`
	Outputs      matrix     `json:"outputs"`
	GroundTruth  jsonFloats `json:"ground_truth,omitempty"`
	FeedbackTime int64      `json:"feedback_time,omitempty"`
}

// matrix renders rows × cols row-major values as an array of rows.
type matrix struct {
	vals       []float64
	rows, cols int
}

func (m matrix) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 2+m.rows*(2+m.cols*8))
	b = append(b, '[')
	for r := range m.rows {
		if r > 0 {
			b = append(b, ',')
		}
		b = appendFloats(b, m.vals[r*m.cols:(r+1)*m.cols])
	}
	return append(b, ']'), nil
}

// jsonFloats renders an array with null for non-finite values.
type jsonFloats []float64

func (f jsonFloats) MarshalJSON() ([]byte, error) { return appendFloats(nil, f), nil }

func appendFloats(b []byte, vs []float64) []byte {
	b = append(b, '[')
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			b = append(b, "null"...)
			continue
		}
		b = strconv.AppendFloat(b, v, 'g', -1, 64)
	}
	return append(b, ']')
}

func toPredictionJSON(l predlog.Logged) predictionJSON {
	return predictionJSON{RequestID: l.RequestID, Model: l.Model, Version: l.Version, Variant: l.Variant, Time: l.Time,
		LatencyUs: l.LatencyMicros, Inputs: matrix{l.Inputs, l.Rows, l.Features}, FeatureNames: l.FeatureNames,
		Outputs: matrix{l.Predictions, l.Rows, l.Outputs}, GroundTruth: l.Truth, FeedbackTime: l.FeedbackTime}
}

func (s *Server) listPredictions(r *http.Request) (any, error) {
	if s.predictions == nil {
		return nil, errNoPredictions
	}
	endpoint := r.PathValue("endpoint")
	if err := serving.ValidateEndpoint(endpoint); err != nil {
		return nil, err
	}
	q, err := predictionQuery(endpoint, r.URL.Query())
	if err != nil {
		return nil, err
	}
	page, err := s.predictions.Predictions(r.Context(), q)
	if err != nil {
		return nil, err
	}
	out := struct {
		Predictions   []predictionJSON `json:"predictions"`
		NextPageToken string           `json:"next_page_token,omitempty"`
	}{Predictions: make([]predictionJSON, len(page.Predictions)), NextPageToken: page.Next.Token()}
	for i, l := range page.Predictions {
		out.Predictions[i] = toPredictionJSON(l)
	}
	return out, nil
}
