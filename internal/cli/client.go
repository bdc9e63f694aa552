package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// client is a small typed client for the MLflow REST API 2.0 endpoints
// the command line uses. It keeps each object's raw JSON so that --json
// prints exactly what the server sent.
type client struct {
	base string // scheme://host[:port][/prefix], no trailing slash
	http *http.Client
}

func newClient(base string) *client {
	return &client{base: base, http: &http.Client{Timeout: 5 * time.Minute}}
}

// apiError is an error answer from the server.
type apiError struct {
	Status  int    // HTTP status
	Code    string // MLflow error_code, "" when the body was not an MLflow error
	Message string
}

func (e *apiError) Error() string {
	if e.Code != "" {
		return e.Code + ": " + e.Message
	}
	msg := fmt.Sprintf("HTTP %d %s", e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// isCode reports whether err is an API error with the given error_code.
func isCode(err error, code string) bool {
	var ae *apiError
	return errors.As(err, &ae) && ae.Code == code
}

// unreachableError is a request that never got an HTTP answer.
type unreachableError struct {
	server string
	err    error
}

func (e *unreachableError) Error() string {
	reason := e.err.Error()
	switch {
	case errors.Is(e.err, syscall.ECONNREFUSED):
		reason = "connection refused"
	case errors.Is(e.err, context.DeadlineExceeded) || isTimeout(e.err):
		reason = "timed out"
	default:
		var dns *net.DNSError
		if errors.As(e.err, &dns) {
			reason = dns.Error()
		}
	}
	return "cannot reach " + e.server + ": " + reason
}

func (e *unreachableError) Unwrap() error { return e.err }

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// maxResponse bounds how much of one response is read.
const maxResponse = 512 << 20

// call sends one request to /api/2.0/mlflow/<path>. GET requests carry
// query; other methods carry body as JSON. The response is decoded into
// out when it is not nil.
func (c *client) call(ctx context.Context, method, path string, query url.Values, body, out any) error {
	u := c.base + "/api/2.0/mlflow/" + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "ferry-cli")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &unreachableError{server: c.base, err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("reading the answer to %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return decodeError(resp.StatusCode, data)
	}
	if out == nil {
		return nil
	}
	data = quoteNonFinite(data)
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: the server's answer is not the JSON expected (%v); is %s an MLflow-compatible server?", method, path, err, c.base)
	}
	return nil
}

// decodeError reads an MLflow error body, or keeps a short excerpt of
// anything else (a proxy's HTML page, say).
func decodeError(status int, data []byte) error {
	var e struct {
		Code    string `json:"error_code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(data, &e) == nil && e.Code != "" {
		return &apiError{Status: status, Code: e.Code, Message: e.Message}
	}
	excerpt := strings.TrimSpace(string(data))
	if len(excerpt) > 200 {
		excerpt = excerpt[:200] + "…"
	}
	return &apiError{Status: status, Message: cell(excerpt, 0)}
}

// quoteNonFinite turns the bare NaN, Infinity and -Infinity tokens that
// Python's json module writes (and encoding/json rejects) into the
// strings "NaN", "Infinity" and "-Infinity" that protobuf JSON uses.
func quoteNonFinite(data []byte) []byte {
	if !bytes.Contains(data, []byte("NaN")) && !bytes.Contains(data, []byte("Infinity")) {
		return data
	}
	var out []byte
	inString, escaped := false, false
	last := 0
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		if c == '"' {
			inString = true
			continue
		}
		for _, tok := range []string{"NaN", "Infinity", "-Infinity"} {
			if c == tok[0] && bytes.HasPrefix(data[i:], []byte(tok)) {
				out = append(out, data[last:i]...)
				out = append(out, '"')
				out = append(out, tok...)
				out = append(out, '"')
				i += len(tok) - 1
				last = i + 1
				break
			}
		}
	}
	if out == nil {
		return data
	}
	return append(out, data[last:]...)
}

// ---- wire types (MLflow protobuf JSON)

// millis is an int64 that the server may send as a JSON number or, as
// protobuf's canonical JSON does, as a decimal string.
type millis int64

func (m *millis) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*m = 0
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil {
			return fmt.Errorf("invalid integer %s", b)
		}
		n = int64(f)
	}
	*m = millis(n)
	return nil
}

// float is a metric value: a JSON number, or one of the strings "NaN",
// "Infinity" and "-Infinity" that stand for non-finite values.
type float float64

func (f *float) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		*f = float(math.NaN())
		return nil
	}
	if unq, err := strconv.Unquote(s); err == nil {
		s = unq
	}
	switch strings.ToLower(s) {
	case "nan":
		*f = float(math.NaN())
		return nil
	case "infinity", "+infinity", "inf", "+inf":
		*f = float(math.Inf(1))
		return nil
	case "-infinity", "-inf":
		*f = float(math.Inf(-1))
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("invalid metric value %s", b)
	}
	*f = float(v)
	return nil
}

type tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type experiment struct {
	ExperimentID     string          `json:"experiment_id"`
	Name             string          `json:"name"`
	ArtifactLocation string          `json:"artifact_location"`
	LifecycleStage   string          `json:"lifecycle_stage"`
	CreationTime     millis          `json:"creation_time"`
	LastUpdateTime   millis          `json:"last_update_time"`
	Tags             []tag           `json:"tags"`
	Raw              json.RawMessage `json:"-"`
}

func (e *experiment) UnmarshalJSON(b []byte) error {
	type plain experiment
	if err := json.Unmarshal(b, (*plain)(e)); err != nil {
		return err
	}
	e.Raw = append(json.RawMessage(nil), b...)
	return nil
}

type runInfo struct {
	RunID          string `json:"run_id"`
	RunUUID        string `json:"run_uuid"`
	RunName        string `json:"run_name"`
	ExperimentID   string `json:"experiment_id"`
	UserID         string `json:"user_id"`
	Status         string `json:"status"`
	StartTime      millis `json:"start_time"`
	EndTime        millis `json:"end_time"`
	ArtifactURI    string `json:"artifact_uri"`
	LifecycleStage string `json:"lifecycle_stage"`
}

// id is the run's id; old servers send only run_uuid.
func (i runInfo) id() string {
	if i.RunID != "" {
		return i.RunID
	}
	return i.RunUUID
}

type metric struct {
	Key       string `json:"key"`
	Value     float  `json:"value"`
	Timestamp millis `json:"timestamp"`
	Step      millis `json:"step"`
}

type param struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type dataset struct {
	Name       string `json:"name"`
	Digest     string `json:"digest"`
	SourceType string `json:"source_type"`
	Source     string `json:"source"`
	Schema     string `json:"schema"`
	Profile    string `json:"profile"`
}

type datasetInput struct {
	Tags    []tag   `json:"tags"`
	Dataset dataset `json:"dataset"`
}

type run struct {
	Info runInfo `json:"info"`
	Data struct {
		Metrics []metric `json:"metrics"`
		Params  []param  `json:"params"`
		Tags    []tag    `json:"tags"`
	} `json:"data"`
	Inputs struct {
		DatasetInputs []datasetInput `json:"dataset_inputs"`
	} `json:"inputs"`
	Raw json.RawMessage `json:"-"`
}

func (r *run) UnmarshalJSON(b []byte) error {
	type plain run
	if err := json.Unmarshal(b, (*plain)(r)); err != nil {
		return err
	}
	r.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// name is the run's name: info.run_name, or the mlflow.runName tag that
// older servers use.
func (r *run) name() string {
	if r.Info.RunName != "" {
		return r.Info.RunName
	}
	return r.tag("mlflow.runName")
}

func (r *run) tag(key string) string {
	for _, t := range r.Data.Tags {
		if t.Key == key {
			return t.Value
		}
	}
	return ""
}

type fileInfo struct {
	Path     string          `json:"path"`
	IsDir    bool            `json:"is_dir"`
	FileSize millis          `json:"file_size"`
	Raw      json.RawMessage `json:"-"`
}

func (f *fileInfo) UnmarshalJSON(b []byte) error {
	type plain fileInfo
	if err := json.Unmarshal(b, (*plain)(f)); err != nil {
		return err
	}
	f.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// ---- endpoints

type searchExperimentsRequest struct {
	MaxResults int      `json:"max_results"`
	PageToken  string   `json:"page_token,omitempty"`
	Filter     string   `json:"filter,omitempty"`
	OrderBy    []string `json:"order_by,omitempty"`
	ViewType   string   `json:"view_type,omitempty"`
}

type searchExperimentsResponse struct {
	Experiments   []experiment `json:"experiments"`
	NextPageToken string       `json:"next_page_token"`
}

func (c *client) searchExperiments(ctx context.Context, req searchExperimentsRequest) (searchExperimentsResponse, error) {
	var out searchExperimentsResponse
	err := c.call(ctx, http.MethodPost, "experiments/search", nil, req, &out)
	return out, err
}

func (c *client) getExperiment(ctx context.Context, id string) (experiment, error) {
	var out struct {
		Experiment experiment `json:"experiment"`
	}
	err := c.call(ctx, http.MethodGet, "experiments/get", url.Values{"experiment_id": {id}}, nil, &out)
	return out.Experiment, err
}

func (c *client) getExperimentByName(ctx context.Context, name string) (experiment, error) {
	var out struct {
		Experiment experiment `json:"experiment"`
	}
	err := c.call(ctx, http.MethodGet, "experiments/get-by-name", url.Values{"experiment_name": {name}}, nil, &out)
	return out.Experiment, err
}

type searchRunsRequest struct {
	ExperimentIDs []string `json:"experiment_ids"`
	Filter        string   `json:"filter,omitempty"`
	RunViewType   string   `json:"run_view_type,omitempty"`
	MaxResults    int      `json:"max_results"`
	OrderBy       []string `json:"order_by,omitempty"`
	PageToken     string   `json:"page_token,omitempty"`
}

type searchRunsResponse struct {
	Runs          []run  `json:"runs"`
	NextPageToken string `json:"next_page_token"`
}

func (c *client) searchRuns(ctx context.Context, req searchRunsRequest) (searchRunsResponse, error) {
	var out searchRunsResponse
	err := c.call(ctx, http.MethodPost, "runs/search", nil, req, &out)
	return out, err
}

func (c *client) getRun(ctx context.Context, id string) (run, error) {
	var out struct {
		Run run `json:"run"`
	}
	err := c.call(ctx, http.MethodGet, "runs/get", url.Values{"run_id": {id}}, nil, &out)
	return out.Run, err
}

type listArtifactsResponse struct {
	RootURI       string     `json:"root_uri"`
	Files         []fileInfo `json:"files"`
	NextPageToken string     `json:"next_page_token"`
}

func (c *client) listArtifacts(ctx context.Context, runID, path, pageToken string) (listArtifactsResponse, error) {
	q := url.Values{"run_id": {runID}}
	if path != "" {
		q.Set("path", path)
	}
	if pageToken != "" {
		q.Set("page_token", pageToken)
	}
	var out listArtifactsResponse
	err := c.call(ctx, http.MethodGet, "artifacts/list", q, nil, &out)
	return out, err
}
