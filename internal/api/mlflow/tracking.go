package mlflow

import (
	"math"
	"net/http"
	"net/url"
	"strings"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/tracking"
)

// Enum names indexed by their proto numbers.
var (
	viewTypeNames  = []string{"", "ACTIVE_ONLY", "DELETED_ONLY", "ALL"}
	runStatusNames = []string{"", "RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"}
)

// ---- experiments

func (s *Server) createExperiment(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	name, err := q.requiredStr(root, "name", "")
	if err != nil {
		return out, err
	}
	loc, _, err := q.str(root, "artifact_location", "")
	if err != nil {
		return out, err
	}
	tags, err := q.tags(root, "tags", "", false)
	if err != nil {
		return out, err
	}
	if err := validateArtifactLocation(loc); err != nil {
		return out, err
	}
	id, err := s.svc.CreateExperiment(r.Context(), name, loc, tags)
	if err != nil {
		return out, err
	}
	o := openObj(out)
	o.str("experiment_id", id)
	return o.close(), nil
}

// validateArtifactLocation refuses locations with URL fragments, params
// or ".." in the query, as MLflow's create-experiment handler does.
func validateArtifactLocation(loc string) error {
	if loc == "" {
		return nil
	}
	u, err := url.Parse(loc)
	if err != nil {
		return errdefs.InvalidArgument("Invalid value for 'artifact_location': %v", err)
	}
	if u.Fragment != "" || strings.Contains(u.Path[strings.LastIndexByte(u.Path, '/')+1:], ";") {
		return errdefs.InvalidArgument("'artifact_location' URL can't include fragments or params.")
	}
	if q, err := url.QueryUnescape(u.RawQuery); strings.Contains(u.RawQuery, "..") || (err == nil && strings.Contains(q, "..")) {
		return errdefs.InvalidArgument("Invalid query string")
	}
	return nil
}

func (s *Server) getExperiment(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	id, err := q.requiredStr(root, "experiment_id", "")
	if err != nil {
		return out, err
	}
	exp, err := s.svc.GetExperiment(r.Context(), id)
	if err != nil {
		return out, err
	}
	o := openObj(out)
	o.key("experiment")
	o.b = appendExperiment(o.b, &exp)
	return o.close(), nil
}

func (s *Server) getExperimentByName(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	name, err := q.requiredStr(root, "experiment_name", "")
	if err != nil {
		return out, err
	}
	exp, err := s.svc.GetExperimentByName(r.Context(), name)
	if err != nil {
		return out, err
	}
	o := openObj(out)
	o.key("experiment")
	o.b = appendExperiment(o.b, &exp)
	return o.close(), nil
}

func (s *Server) searchExperiments(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	var req tracking.ExperimentSearch
	var err error
	maxResults, _, err := q.int64(root, "max_results", "")
	if err != nil {
		return out, err
	}
	if maxResults > tracking.MaxExperimentsPerSearch || maxResults < math.MinInt32 {
		// Out of the service's range whatever the platform's int size.
		return out, errdefs.InvalidArgument("Invalid value for max_results. It must be at most %d, but got value %d", tracking.MaxExperimentsPerSearch, maxResults)
	}
	req.MaxResults = int(maxResults)
	if req.PageToken, _, err = q.str(root, "page_token", ""); err != nil {
		return out, err
	}
	if req.Filter, _, err = q.str(root, "filter", ""); err != nil {
		return out, err
	}
	if req.OrderBy, err = q.strList(root, "order_by"); err != nil {
		return out, err
	}
	vt, _, err := q.enum(root, "view_type", viewTypeNames)
	if err != nil {
		return out, err
	}
	req.ViewType = tracking.ViewType(vt)
	exps, next, err := s.svc.SearchExperiments(r.Context(), req)
	if err != nil {
		return out, err
	}
	o := openObj(out)
	list(&o, "experiments", exps, appendExperiment)
	o.optStr("next_page_token", next)
	return o.close(), nil
}

func (s *Server) updateExperiment(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	id, err := q.requiredStr(root, "experiment_id", "")
	if err != nil {
		return out, err
	}
	name, err := q.requiredStr(root, "new_name", "")
	if err != nil {
		return out, err
	}
	return out, s.svc.UpdateExperiment(r.Context(), id, name)
}

func (s *Server) deleteExperiment(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	id, err := q.requiredStr(root, "experiment_id", "")
	if err != nil {
		return out, err
	}
	return out, s.svc.DeleteExperiment(r.Context(), id)
}

func (s *Server) restoreExperiment(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	id, err := q.requiredStr(root, "experiment_id", "")
	if err != nil {
		return out, err
	}
	return out, s.svc.RestoreExperiment(r.Context(), id)
}

func (s *Server) setExperimentTag(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	id, err := q.requiredStr(root, "experiment_id", "")
	if err != nil {
		return out, err
	}
	var t tracking.Tag
	if t.Key, err = q.requiredStr(root, "key", ""); err != nil {
		return out, err
	}
	if t.Value, _, err = q.str(root, "value", ""); err != nil {
		return out, err
	}
	return out, s.svc.SetExperimentTag(r.Context(), id, t)
}

// ---- runs

func (s *Server) createRun(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	var req tracking.CreateRunRequest
	var err error
	if req.ExperimentID, _, err = q.str(root, "experiment_id", ""); err != nil {
		return out, err
	}
	if req.UserID, _, err = q.str(root, "user_id", ""); err != nil {
		return out, err
	}
	if req.RunName, _, err = q.str(root, "run_name", ""); err != nil {
		return out, err
	}
	if req.StartTime, _, err = q.int64(root, "start_time", ""); err != nil {
		return out, err
	}
	if req.Tags, err = q.tags(root, "tags", "", false); err != nil {
		return out, err
	}
	run, err := s.svc.CreateRun(r.Context(), req)
	if err != nil {
		return out, err
	}
	o := openObj(out)
	o.key("run")
	o.b = appendRun(o.b, &run)
	return o.close(), nil
}

func (s *Server) getRun(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	id, err := q.runID()
	if err != nil {
		return out, err
	}
	run, err := s.svc.GetRun(r.Context(), id)
	if err != nil {
		return out, err
	}
	o := openObj(out)
	o.key("run")
	o.b = appendRun(o.b, &run)
	return o.close(), nil
}

func (s *Server) updateRun(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	id, err := q.runID()
	if err != nil {
		return out, err
	}
	var u tracking.RunUpdate
	st, ok, err := q.enum(root, "status", runStatusNames)
	if err != nil {
		return out, err
	}
	if ok {
		status := tracking.RunStatus(runStatusNames[st])
		u.Status = &status
	}
	end, ok, err := q.int64(root, "end_time", "")
	if err != nil {
		return out, err
	}
	if ok {
		u.EndTime = &end
	}
	name, ok, err := q.str(root, "run_name", "")
	if err != nil {
		return out, err
	}
	if ok {
		u.RunName = &name
	}
	info, err := s.svc.UpdateRun(r.Context(), id, u)
	if err != nil {
		return out, err
	}
	o := openObj(out)
	o.key("run_info")
	o.b = appendRunInfo(o.b, &info)
	return o.close(), nil
}

func (s *Server) deleteRun(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	id, err := q.runID()
	if err != nil {
		return out, err
	}
	return out, s.svc.DeleteRun(r.Context(), id)
}

func (s *Server) restoreRun(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	id, err := q.runID()
	if err != nil {
		return out, err
	}
	return out, s.svc.RestoreRun(r.Context(), id)
}

// metric reads one metric message (log-metric's body, or a log-batch
// element at path).
func (q *request) metric(obj int32, prefix string) (tracking.Metric, error) {
	var m tracking.Metric
	var err error
	if m.Key, err = q.requiredStr(obj, "key", prefix); err != nil {
		return m, err
	}
	var ok bool
	if m.Value, ok, err = q.float(obj, "value", prefix); err != nil {
		return m, err
	} else if !ok {
		return m, tracking.MissingValue(joinPath(prefix, "value"))
	}
	if m.Timestamp, ok, err = q.int64(obj, "timestamp", prefix); err != nil {
		return m, err
	} else if !ok {
		return m, tracking.MissingValue(joinPath(prefix, "timestamp"))
	}
	if m.Step, _, err = q.int64(obj, "step", prefix); err != nil {
		return m, err
	}
	return m, nil
}

func (s *Server) logMetric(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	id, err := q.runID()
	if err != nil {
		return out, err
	}
	m, err := q.metric(root, "")
	if err != nil {
		return out, err
	}
	return out, s.svc.LogMetric(r.Context(), id, m)
}

func (s *Server) logParam(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	id, err := q.runID()
	if err != nil {
		return out, err
	}
	k, v, err := q.keyValue()
	if err != nil {
		return out, err
	}
	return out, s.svc.LogParam(r.Context(), id, tracking.Param{Key: k, Value: v})
}

// keyValue reads the required key and the value of log-parameter and set-tag.
func (q *request) keyValue() (key, value string, err error) {
	if key, err = q.requiredStr(root, "key", ""); err != nil {
		return "", "", err
	}
	value, _, err = q.str(root, "value", "")
	return key, value, err
}

func (s *Server) setTag(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	id, err := q.runID()
	if err != nil {
		return out, err
	}
	k, v, err := q.keyValue()
	if err != nil {
		return out, err
	}
	return out, s.svc.SetTag(r.Context(), id, tracking.Tag{Key: k, Value: v})
}

func (s *Server) deleteTag(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	id, err := q.runID()
	if err != nil {
		return out, err
	}
	key, err := q.requiredStr(root, "key", "")
	if err != nil {
		return out, err
	}
	return out, s.svc.DeleteTag(r.Context(), id, key)
}

func (s *Server) logBatch(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	id, _, err := q.str(root, "run_id", "")
	if err != nil {
		return out, err
	}
	if id == "" {
		// MLflow's log-batch reads run_id only; accept run_uuid as the
		// other endpoints do.
		if id, err = q.runID(); err != nil {
			return out, err
		}
	}
	var metrics []tracking.Metric
	if n := q.count(root, "metrics"); n > 0 {
		metrics = make([]tracking.Metric, 0, n)
	}
	err = q.objects(root, "metrics", "", func(_ int, e int32, path string) error {
		m, err := q.metric(e, path)
		metrics = append(metrics, m)
		return err
	})
	if err != nil {
		return out, err
	}
	var params []tracking.Param
	err = q.objects(root, "params", "", func(_ int, e int32, path string) error {
		var p tracking.Param
		var err error
		if p.Key, err = q.requiredStr(e, "key", path); err != nil {
			return err
		}
		p.Value, _, err = q.str(e, "value", path)
		params = append(params, p)
		return err
	})
	if err != nil {
		return out, err
	}
	tags, err := q.tags(root, "tags", "", true)
	if err != nil {
		return out, err
	}
	return out, s.svc.LogBatch(r.Context(), id, metrics, params, tags)
}

func (s *Server) logModel(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	id, err := q.runID()
	if err != nil {
		return out, err
	}
	model, err := q.requiredStr(root, "model_json", "")
	if err != nil {
		return out, err
	}
	return out, s.svc.LogModel(r.Context(), id, model)
}

func (s *Server) logInputs(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	id, err := q.runID()
	if err != nil {
		return out, err
	}
	var inputs []tracking.DatasetInput
	err = q.objects(root, "datasets", "", func(_ int, e int32, path string) error {
		var in tracking.DatasetInput
		var err error
		if in.Tags, err = q.tags(e, "tags", path, false); err != nil {
			return err
		}
		d, err := q.object(e, "dataset", path)
		if err != nil {
			return err
		}
		if d >= 0 {
			dp := joinPath(path, "dataset")
			ds := &in.Dataset
			for _, f := range []struct {
				name string
				dst  *string
			}{{"name", &ds.Name}, {"digest", &ds.Digest}, {"source_type", &ds.SourceType},
				{"source", &ds.Source}, {"schema", &ds.Schema}, {"profile", &ds.Profile}} {
				if *f.dst, _, err = q.str(d, f.name, dp); err != nil {
					return err
				}
			}
		}
		inputs = append(inputs, in)
		return nil
	})
	if err != nil {
		return out, err
	}
	return out, s.svc.LogInputs(r.Context(), id, inputs)
}

func (s *Server) searchRuns(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	var req tracking.RunSearch
	var err error
	if req.ExperimentIDs, err = q.strList(root, "experiment_ids"); err != nil {
		return out, err
	}
	if req.Filter, _, err = q.str(root, "filter", ""); err != nil {
		return out, err
	}
	vt, _, err := q.enum(root, "run_view_type", viewTypeNames)
	if err != nil {
		return out, err
	}
	req.ViewType = tracking.ViewType(vt)
	if req.MaxResults, _, err = q.int32(root, "max_results", ""); err != nil {
		return out, err
	}
	if req.OrderBy, err = q.strList(root, "order_by"); err != nil {
		return out, err
	}
	if req.PageToken, _, err = q.str(root, "page_token", ""); err != nil {
		return out, err
	}
	runs, next, err := s.svc.SearchRuns(r.Context(), req)
	if err != nil {
		return out, err
	}
	o := openObj(out)
	list(&o, "runs", runs, appendRun)
	o.optStr("next_page_token", next)
	return o.close(), nil
}

func (s *Server) getMetricHistory(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	id, err := q.runID()
	if err != nil {
		return out, err
	}
	key, err := q.requiredStr(root, "metric_key", "")
	if err != nil {
		return out, err
	}
	hist, err := s.svc.MetricHistory(r.Context(), id, key)
	if err != nil {
		return out, err
	}
	o := openObj(out)
	list(&o, "metrics", hist, appendMetric)
	return o.close(), nil
}

func (s *Server) getMetricHistoryBulkInterval(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	ids, err := q.strList(root, "run_ids")
	if err != nil {
		return out, err
	}
	if len(ids) == 0 {
		return out, tracking.MissingValue("run_ids")
	}
	key, err := q.requiredStr(root, "metric_key", "")
	if err != nil {
		return out, err
	}
	var start, end *int64
	if v, ok, err := q.int64(root, "start_step", ""); err != nil {
		return out, err
	} else if ok {
		start = &v
	}
	if v, ok, err := q.int64(root, "end_step", ""); err != nil {
		return out, err
	} else if ok {
		end = &v
	}
	if (start == nil) != (end == nil) {
		return out, errdefs.InvalidArgument("If either start step or end step are specified, both must be specified.")
	}
	maxResults, ok, err := q.int32(root, "max_results", "")
	if err != nil {
		return out, err
	}
	if ok && (maxResults < 1 || maxResults > tracking.MaxBulkIntervalResults) {
		return out, errdefs.InvalidArgument("max_results must be between 1 and %d.", tracking.MaxBulkIntervalResults)
	}
	metrics, err := s.svc.MetricHistoryBulkInterval(r.Context(), ids, key, start, end, maxResults)
	if err != nil {
		return out, err
	}
	o := openObj(out)
	list(&o, "metrics", metrics, func(b []byte, m *tracking.RunMetric) []byte {
		mo := openObj(b)
		mo.str("key", m.Key)
		mo.float("value", m.Value)
		mo.int("timestamp", m.Timestamp)
		mo.int("step", m.Step)
		mo.str("run_id", m.RunID)
		return mo.close()
	})
	return o.close(), nil
}

func (s *Server) listRunArtifacts(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	id, err := q.runID()
	if err != nil {
		return out, err
	}
	dir, _, err := q.str(root, "path", "")
	if err != nil {
		return out, err
	}
	if _, err := artifactKey(dir, true); err != nil {
		return out, err
	}
	if _, _, err := q.str(root, "page_token", ""); err != nil {
		return out, err
	}
	rootURI, files, err := s.svc.ListArtifacts(r.Context(), id, dir)
	if err != nil {
		return out, err
	}
	o := openObj(out)
	o.str("root_uri", rootURI)
	list(&o, "files", files, func(b []byte, f *tracking.ArtifactFile) []byte {
		return appendFileInfo(b, f.Path, f.IsDir, f.Size)
	})
	return o.close(), nil
}
