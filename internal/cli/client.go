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
	var data []byte
	if body != nil {
		var err error
		if data, err = json.Marshal(body); err != nil {
			return err
		}
	}
	resp, err := c.do(ctx, method, "/api/2.0/mlflow/"+path, query, "application/json", data)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(quoteNonFinite(resp.body), out); err != nil {
		return fmt.Errorf("%s %s: the server's answer is not the JSON expected (%v); is %s an MLflow-compatible server?", method, path, err, c.base)
	}
	return nil
}

// response is a successful (2xx) answer.
type response struct {
	contentType string
	body        []byte
}

// do sends one request to c.base+path; body, when not nil, is sent with
// contentType. An answer other than 2xx is returned as an *apiError.
func (c *client) do(ctx context.Context, method, path string, query url.Values, contentType string, body []byte) (response, error) {
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return response{}, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "ferry-cli")
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return response{}, ctx.Err()
		}
		return response{}, &unreachableError{server: c.base, err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		if ctx.Err() != nil {
			return response{}, ctx.Err()
		}
		return response{}, fmt.Errorf("reading the answer to %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return response{}, decodeError(resp.StatusCode, data)
	}
	return response{contentType: resp.Header.Get("Content-Type"), body: data}, nil
}

// v1Prefix is where Ferry's native API lives.
const v1Prefix = "/api/v1/"

// callV1 sends one request to Ferry's native API at /api/v1/<path>:
// GET requests carry query, others body as JSON (a []byte body is sent
// as it is, with contentType). It returns the answer's JSON as sent and
// decodes it into out when out is not nil.
func (c *client) callV1(ctx context.Context, method, path string, query url.Values, body, out any) (json.RawMessage, error) {
	var data []byte
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
	case rawBody:
		data, ctype = b.data, b.contentType
	default:
		var err error
		if data, err = json.Marshal(b); err != nil {
			return nil, err
		}
	}
	resp, err := c.do(ctx, method, v1Prefix+path, query, ctype, data)
	if err != nil {
		return nil, c.v1Error(err)
	}
	raw := json.RawMessage(quoteNonFinite(resp.body))
	if !json.Valid(raw) {
		return nil, fmt.Errorf("%s %s%s: the server's answer is not JSON; is %s a Ferry server?", method, v1Prefix, path, c.base)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return nil, fmt.Errorf("%s %s%s: the server's answer is not the JSON expected (%v); is %s a Ferry server?", method, v1Prefix, path, err, c.base)
		}
	}
	return raw, nil
}

// getV1Document fetches a non-JSON document (a model card) from the
// native API.
func (c *client) getV1Document(ctx context.Context, path string, query url.Values) (response, error) {
	resp, err := c.do(ctx, http.MethodGet, v1Prefix+path, query, "", nil)
	if err != nil {
		return response{}, c.v1Error(err)
	}
	return resp, nil
}

// rawBody is a request body sent as it is.
type rawBody struct {
	contentType string
	data        []byte
}

// v1Error explains a 404 for a whole endpoint: an MLflow server, or a
// Ferry too old for the command, has no native API.
func (c *client) v1Error(err error) error {
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound && (ae.Code == "" || ae.Code == "ENDPOINT_NOT_FOUND") {
		return fmt.Errorf("%w\n(the server at %s does not offer this endpoint of Ferry's /api/v1 API: is it a Ferry server, and as new as this client?)", err, c.base)
	}
	return err
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

type datasetRecord struct {
	Name       string `json:"name"`
	Digest     string `json:"digest"`
	SourceType string `json:"source_type"`
	Source     string `json:"source"`
	Schema     string `json:"schema"`
	Profile    string `json:"profile"`
}

type datasetInput struct {
	Tags    []tag         `json:"tags"`
	Dataset datasetRecord `json:"dataset"`
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

// ---- Ferry's native API (/api/v1)

// lineageNode is a node of the lineage graph.
type lineageNode struct {
	URI   string            `json:"uri"`
	Kind  string            `json:"kind"`
	Label string            `json:"label"`
	Attrs map[string]string `json:"attrs"`
}

// lineageItem is a node reached from the root: via is its neighbour
// closer to the root.
type lineageItem struct {
	Node     lineageNode `json:"node"`
	Relation string      `json:"relation"`
	Via      string      `json:"via"`
	Depth    int         `json:"depth"`
}

type lineageResult struct {
	Root       lineageNode   `json:"root"`
	Upstream   []lineageItem `json:"upstream"`
	Downstream []lineageItem `json:"downstream"`
}

func (c *client) lineage(ctx context.Context, uri string, depth int) (lineageResult, json.RawMessage, error) {
	q := url.Values{"uri": {uri}}
	if depth > 0 {
		q.Set("depth", strconv.Itoa(depth))
	}
	var out lineageResult
	raw, err := c.callV1(ctx, http.MethodGet, "lineage", q, nil, &out)
	return out, raw, err
}

// approval is a model version's review state.
type approval struct {
	Status    string   `json:"status"`
	Reviewer  string   `json:"reviewer"`
	Time      millis   `json:"time"`
	Comment   string   `json:"comment"`
	Approvers []string `json:"approvers"`
}

// review is one reviewer's decision.
type review struct {
	Reviewer string `json:"reviewer"`
	Decision string `json:"decision"`
	Comment  string `json:"comment"`
	Time     millis `json:"time"`
}

// modelVersion is a version as the native API sends it: MLflow's fields
// (version as a number, or a string from MLflow-shaped answers), the
// approval state and its models:/ URI.
type modelVersion struct {
	Name            string   `json:"name"`
	Version         millis   `json:"version"`
	CreationTime    millis   `json:"creation_timestamp"`
	LastUpdatedTime millis   `json:"last_updated_timestamp"`
	UserID          string   `json:"user_id"`
	CurrentStage    string   `json:"current_stage"`
	Description     string   `json:"description"`
	Source          string   `json:"source"`
	RunID           string   `json:"run_id"`
	RunLink         string   `json:"run_link"`
	Status          string   `json:"status"`
	StatusMessage   string   `json:"status_message"`
	Tags            []tag    `json:"tags"`
	Aliases         []string `json:"aliases"`
	StorageLocation string   `json:"storage_location"`
	Approval        approval `json:"approval"`
	URI             string   `json:"uri"`
}

// versionPath is the native API's path of a model version; version may
// also be @ALIAS, a stage or "latest".
func versionPath(name, version string) string {
	return "models/" + url.PathEscape(name) + "/versions/" + url.PathEscape(version)
}

func (c *client) modelVersion(ctx context.Context, name, version string) (modelVersion, json.RawMessage, error) {
	var out struct {
		ModelVersion modelVersion `json:"model_version"`
	}
	raw, err := c.callV1(ctx, http.MethodGet, versionPath(name, version), nil, nil, &out)
	return out.ModelVersion, raw, err
}

// reviewVersion approves (decision "approve") or rejects ("reject") a version.
func (c *client) reviewVersion(ctx context.Context, name, version, decision, comment string) (modelVersion, json.RawMessage, error) {
	var out struct {
		ModelVersion modelVersion `json:"model_version"`
	}
	body := struct {
		Comment string `json:"comment,omitempty"`
	}{comment}
	raw, err := c.callV1(ctx, http.MethodPost, versionPath(name, version)+"/"+decision, nil, body, &out)
	return out.ModelVersion, raw, err
}

type reviewsResponse struct {
	Approval approval `json:"approval"`
	Reviews  []review `json:"reviews"`
}

func (c *client) reviews(ctx context.Context, name, version string) (reviewsResponse, json.RawMessage, error) {
	var out reviewsResponse
	raw, err := c.callV1(ctx, http.MethodGet, versionPath(name, version)+"/reviews", nil, nil, &out)
	return out, raw, err
}

// card fetches a version's model card in format json, md or html.
func (c *client) card(ctx context.Context, name, version, format string) ([]byte, error) {
	resp, err := c.getV1Document(ctx, versionPath(name, version)+"/card", url.Values{"format": {format}})
	return resp.body, err
}

// modelPolicy is a registered model's own policy document ("" when none).
type modelPolicy struct {
	Name   string `json:"name"`
	Policy string `json:"policy"`
}

func policyPath(name string) string { return "models/" + url.PathEscape(name) + "/policy" }

func (c *client) modelPolicy(ctx context.Context, name string) (modelPolicy, json.RawMessage, error) {
	var out modelPolicy
	raw, err := c.callV1(ctx, http.MethodGet, policyPath(name), nil, nil, &out)
	return out, raw, err
}

func (c *client) setModelPolicy(ctx context.Context, name string, doc []byte) (json.RawMessage, error) {
	return c.callV1(ctx, http.MethodPut, policyPath(name), nil, rawBody{contentType: "application/yaml", data: doc}, nil)
}

func (c *client) unsetModelPolicy(ctx context.Context, name string) (json.RawMessage, error) {
	return c.callV1(ctx, http.MethodDelete, policyPath(name), nil, nil, nil)
}

// globalPolicy is the server's global policy file and its gates.
type globalPolicy struct {
	File   string   `json:"file"`
	Loaded bool     `json:"loaded"`
	Gates  []string `json:"gates"`
}

func (c *client) globalPolicy(ctx context.Context) (globalPolicy, json.RawMessage, error) {
	var out globalPolicy
	raw, err := c.callV1(ctx, http.MethodGet, "policy", nil, nil, &out)
	return out, raw, err
}

func (c *client) reloadPolicy(ctx context.Context) (globalPolicy, json.RawMessage, error) {
	var out globalPolicy
	raw, err := c.callV1(ctx, http.MethodPost, "policy/reload", nil, nil, &out)
	return out, raw, err
}

// policyCheckRequest asks whether a version may move: exactly one of
// Alias, Stage and Deploy.
type policyCheckRequest struct {
	URI      string `json:"uri"`
	Alias    string `json:"alias,omitempty"`
	Stage    string `json:"stage,omitempty"`
	Deploy   bool   `json:"deploy,omitempty"`
	Endpoint string `json:"endpoint,omitempty"`
}

type ruleResult struct {
	Gate   string `json:"gate"`
	Source string `json:"source"`
	Rule   string `json:"rule"`
	Passed bool   `json:"passed"`
	Detail string `json:"detail"`
}

type gateResult struct {
	Gate   string `json:"gate"`
	Source string `json:"source"`
	Passed bool   `json:"passed"`
}

type policyCheckResponse struct {
	Model   string `json:"model"`
	Version millis `json:"version"`
	Target  struct {
		Kind string `json:"kind"`
		Name string `json:"name"`
	} `json:"target"`
	Allowed     bool         `json:"allowed"`
	Note        string       `json:"note"`
	Gates       []gateResult `json:"gates"`
	Rules       []ruleResult `json:"rules"`
	Explanation string       `json:"explanation"`
}

func (c *client) checkPolicy(ctx context.Context, req policyCheckRequest) (policyCheckResponse, json.RawMessage, error) {
	var out policyCheckResponse
	raw, err := c.callV1(ctx, http.MethodPost, "policy/check", nil, req, &out)
	return out, raw, err
}

// auditRecord is one entry of the audit trail.
type auditRecord struct {
	Seq       int64     `json:"seq"`
	Time      time.Time `json:"time"`
	Actor     string    `json:"actor"`
	Action    string    `json:"action"`
	Resource  string    `json:"resource"`
	Status    int       `json:"status"`
	RequestID string    `json:"request_id"`
}

func (c *client) auditEvents(ctx context.Context, q url.Values) ([]auditRecord, json.RawMessage, error) {
	var out struct {
		Events []auditRecord `json:"events"`
	}
	raw, err := c.callV1(ctx, http.MethodGet, "audit/events", q, nil, &out)
	return out.Events, raw, err
}

// auditReport is the outcome of verifying the audit trail.
type auditReport struct {
	OK          bool   `json:"ok"`
	Entries     int64  `json:"entries"`
	LastSeq     int64  `json:"last_seq"`
	Checkpoints int    `json:"checkpoints"`
	Signed      int64  `json:"signed"`
	FirstBad    *int64 `json:"first_bad"`
	Problem     string `json:"problem"`
	Problems    int    `json:"problems"`
}

func (c *client) verifyAudit(ctx context.Context) (auditReport, json.RawMessage, error) {
	var out auditReport
	raw, err := c.callV1(ctx, http.MethodGet, "audit/verify", nil, nil, &out)
	return out, raw, err
}
