package v1

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-ml/ferry/internal/audit"
	"github.com/ferry-ml/ferry/internal/dataset"
	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/monitor"
	"github.com/ferry-ml/ferry/internal/monitor/report"
	"github.com/ferry-ml/ferry/internal/serving"
)

// querySeries answers GET /api/v1/monitor/series?series=NAME&endpoint=E
// &from=MS&to=MS&max_results=N: the points of a monitored series, oldest
// first.
func (s *Server) querySeries(r *http.Request) (any, error) {
	if s.monitor == nil {
		return nil, errdefs.Unavailable("This server keeps no monitored series.")
	}
	q := r.URL.Query()
	mq := monitor.Query{Series: q.Get("series"), Labels: map[string]string{}, Limit: 10000}
	if e := q.Get("endpoint"); e != "" {
		mq.Labels["endpoint"] = e
	}
	var err error
	if mq.From, err = millisParam(q, "from"); err != nil {
		return nil, err
	}
	if mq.To, err = millisParam(q, "to"); err != nil {
		return nil, err
	}
	if v := q.Get("max_results"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, errdefs.InvalidArgument("Invalid value '%s' for parameter 'max_results'.", v)
		}
		mq.Limit = n
	}
	points, err := s.monitor.QueryPoints(r.Context(), mq)
	if err != nil {
		return nil, err
	}
	if points == nil {
		points = []monitor.Point{}
	}
	return map[string]any{"points": points}, nil
}

// setReference answers PUT /api/v1/endpoints/{endpoint}/reference
// {"dataset": "NAME@VERSION"}: the dataset version the endpoint's
// traffic is compared with for drift.
func (s *Server) setReference(r *http.Request) (any, error) {
	if s.refs == nil || s.datasets == nil {
		return nil, errdefs.Unavailable("This server keeps no monitoring references.")
	}
	endpoint := r.PathValue("endpoint")
	if err := serving.ValidateEndpoint(endpoint); err != nil {
		return nil, err
	}
	var req struct {
		Dataset string `json:"dataset"`
	}
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	name, version, err := dataset.ParseRef(req.Dataset)
	if err != nil {
		return nil, err
	}
	v, err := s.datasets.Get(r.Context(), name, version) // resolves latest; must exist
	if err != nil {
		return nil, err
	}
	ref := monitor.Reference{Endpoint: endpoint, Dataset: v.Name, Version: v.Version}
	if err := s.refs.SetReference(r.Context(), ref); err != nil {
		return nil, err
	}
	audit.Note(r.Context(), audit.Change{Action: "monitor.set_reference", Resource: serving.URI(endpoint), After: v.Digest})
	return map[string]any{"reference": ref}, nil
}

func (s *Server) getReference(r *http.Request) (any, error) {
	if s.refs == nil {
		return nil, errdefs.Unavailable("This server keeps no monitoring references.")
	}
	ref, err := s.refs.GetReference(r.Context(), r.PathValue("endpoint"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"reference": ref}, nil
}

// Reports builds an endpoint's drift report (monitor.Drift does).
type Reports interface {
	Report(ctx context.Context, endpoint string, from, to time.Time) (report.Report, error)
}

// getReport answers GET /api/v1/endpoints/{endpoint}/monitor/report
// ?from=MS&to=MS&format=json|html: the endpoint's drift now, with the
// drift scores recorded in [from, to) (default: the last 24 hours). An
// endpoint without a reference is 404, one without traffic 409.
func (s *Server) getReport(w http.ResponseWriter, r *http.Request) {
	body, ctype, err := s.report(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if strings.HasPrefix(ctype, "text/html") {
		// A static document: no scripts, no outside resources.
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	}
	_, _ = w.Write(body)
}

func (s *Server) report(r *http.Request) ([]byte, string, error) {
	if s.reports == nil {
		return nil, "", errdefs.Unavailable("This server makes no drift reports.")
	}
	q := r.URL.Query()
	format := strings.ToLower(q.Get("format"))
	switch format {
	case "":
		format = "json"
	case "json", "html":
	default:
		return nil, "", errdefs.InvalidArgument("Invalid report format '%s': use json or html.", q.Get("format"))
	}
	endpoint := r.PathValue("endpoint")
	if err := serving.ValidateEndpoint(endpoint); err != nil {
		return nil, "", err
	}
	var from, to time.Time
	for name, dst := range map[string]*time.Time{"from": &from, "to": &to} {
		ms, err := millisParam(q, name)
		if err != nil {
			return nil, "", err
		}
		if ms != 0 {
			*dst = time.UnixMilli(ms)
		}
	}
	rep, err := s.reports.Report(r.Context(), endpoint, from, to)
	if err != nil {
		return nil, "", err
	}
	if format == "html" {
		body, err := report.HTML(rep)
		return body, "text/html; charset=utf-8", err
	}
	body, err := json.Marshal(rep)
	return body, "application/json", err
}

// millisParam reads an optional time parameter in Unix milliseconds (0
// when absent).
func millisParam(q url.Values, name string) (int64, error) {
	v := q.Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, errdefs.InvalidArgument("Invalid value '%s' for parameter '%s': use Unix milliseconds.", truncate(v), name)
	}
	return n, nil
}
