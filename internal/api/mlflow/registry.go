package mlflow

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/ferry-ml/ferry/internal/api/middleware"
	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/registry"
	"github.com/ferry-ml/ferry/internal/tracking"
)

// The model registry (model_registry.proto, ModelRegistryService) over
// registry.Service. Handlers read their fields in the order of the
// handler's schema in mlflow/server/handlers.py, so that the first missing
// or mistyped field is the one MLflow reports; the rules themselves
// (names, aliases, stages, sources, filters) are the service's.
//
// Responses are rendered as the entities' to_proto do: a registered model
// drops an empty description, a version always carries description, source,
// run_id and run_link (possibly ""), `version` is a JSON string, and alias
// versions are strings too. Ferry's approval state is not part of MLflow's
// messages and is not rendered here.

// registryEndpoints are the registry routes, mounted under /api/2.0 and
// /ajax-api/2.0 like the tracking ones.
func (s *Server) registryEndpoints() []endpoint {
	read, write := middleware.Read, middleware.Write
	return []endpoint{
		{"POST", "/mlflow/registered-models/create", write, s.createRegisteredModel, nil},
		{"POST", "/mlflow/registered-models/rename", write, s.renameRegisteredModel, nil},
		{"PATCH", "/mlflow/registered-models/update", write, s.updateRegisteredModel, nil},
		{"DELETE", "/mlflow/registered-models/delete", write, s.deleteRegisteredModel, nil},
		{"GET", "/mlflow/registered-models/get", read, s.getRegisteredModel, nil},
		{"GET", "/mlflow/registered-models/search", read, s.searchRegisteredModels, nil},
		{"POST", "/mlflow/registered-models/get-latest-versions", read, s.getLatestVersions, nil},
		{"GET", "/mlflow/registered-models/get-latest-versions", read, s.getLatestVersions, nil},
		{"POST", "/mlflow/registered-models/set-tag", write, s.setRegisteredModelTag, nil},
		{"DELETE", "/mlflow/registered-models/delete-tag", write, s.deleteRegisteredModelTag, nil},
		{"POST", "/mlflow/registered-models/alias", write, s.setRegisteredModelAlias, nil},
		{"DELETE", "/mlflow/registered-models/alias", write, s.deleteRegisteredModelAlias, nil},
		{"GET", "/mlflow/registered-models/alias", read, s.getModelVersionByAlias, nil},

		{"POST", "/mlflow/model-versions/create", write, s.createModelVersion, nil},
		{"PATCH", "/mlflow/model-versions/update", write, s.updateModelVersion, nil},
		{"POST", "/mlflow/model-versions/transition-stage", write, s.transitionModelVersionStage, nil},
		{"DELETE", "/mlflow/model-versions/delete", write, s.deleteModelVersion, nil},
		{"GET", "/mlflow/model-versions/get", read, s.getModelVersion, nil},
		{"GET", "/mlflow/model-versions/search", read, s.searchModelVersions, nil},
		{"GET", "/mlflow/model-versions/get-download-uri", read, s.getModelVersionDownloadURI, nil},
		{"POST", "/mlflow/model-versions/set-tag", write, s.setModelVersionTag, nil},
		{"DELETE", "/mlflow/model-versions/delete-tag", write, s.deleteModelVersionTag, nil},
	}
}

// ---- request helpers

// boolean reads a bool field: a JSON true/false (from a query string, the
// words true and false).
func (q *request) boolean(obj int32, name string) (bool, bool, error) {
	n := q.field(obj, name)
	if n < 0 {
		return false, false, nil
	}
	n = q.scalar(n)
	nd := &q.p.nodes[n]
	switch {
	case nd.kind == kBool:
		return nd.b, true, nil
	case nd.kind == kStr && q.query && (nd.s == "true" || nd.s == "false"):
		return nd.s == "true", true, nil
	}
	return false, false, q.typeError(name, n)
}

// registryTags reads the tags of a create request.
func (q *request) registryTags() ([]registry.Tag, error) {
	ts, err := q.tags(root, "tags", "", false)
	if err != nil || len(ts) == 0 {
		return nil, err
	}
	out := make([]registry.Tag, len(ts))
	for i, t := range ts {
		out[i] = registry.Tag{Key: t.Key, Value: t.Value}
	}
	return out, nil
}

// searchParams reads filter, max_results, order_by and page_token of the
// registry searches. max_results above limit is refused as the handler's
// schema does (the "Invalid value" message); below 1, as the stores do.
// An absent max_results is 0: the service's default (the proto default).
func (q *request) searchParams(limit int64) (filter string, maxResults int64, orderBy []string, token string, err error) {
	if filter, _, err = q.str(root, "filter", ""); err != nil {
		return
	}
	var ok bool
	if maxResults, ok, err = q.int64(root, "max_results", ""); err != nil {
		return
	}
	if ok && maxResults > limit {
		err = q.typeError("max_results", q.scalar(q.field(root, "max_results")))
		return
	}
	if ok && maxResults < 1 {
		err = errdefs.InvalidArgument("Invalid value for max_results. It must be a positive integer, but got %d", maxResults)
		return
	}
	if orderBy, err = q.strList(root, "order_by"); err != nil {
		return
	}
	token, _, err = q.str(root, "page_token", "")
	return
}

// nameAndVersion reads the required name and version of a version request.
func (q *request) nameAndVersion() (name, version string, err error) {
	if name, err = q.requiredStr(root, "name", ""); err != nil {
		return "", "", err
	}
	version, err = q.requiredStr(root, "version", "")
	return name, version, err
}

// ---- encoding

func appendRegistryTag(b []byte, t *registry.Tag) []byte {
	o := openObj(b)
	o.str("key", t.Key)
	o.str("value", t.Value)
	return o.close()
}

func appendRegisteredModelAlias(b []byte, a *registry.Alias) []byte {
	o := openObj(b)
	o.str("alias", a.Alias)
	o.str("version", strconv.FormatInt(a.Version, 10))
	return o.close()
}

// appendRegisteredModel renders RegisteredModel.to_proto: the last update
// time and the description only when set; user_id (which MLflow's server
// never records) when Ferry knows who created the model.
func appendRegisteredModel(b []byte, m *registry.RegisteredModel) []byte {
	o := openObj(b)
	o.str("name", m.Name)
	o.int("creation_timestamp", m.CreationTime)
	if m.LastUpdatedTime != 0 {
		o.int("last_updated_timestamp", m.LastUpdatedTime)
	}
	o.optStr("user_id", m.UserID)
	o.optStr("description", m.Description)
	list(&o, "latest_versions", m.LatestVersions, appendModelVersion)
	list(&o, "tags", m.Tags, appendRegistryTag)
	list(&o, "aliases", m.Aliases, appendRegisteredModelAlias)
	return o.close()
}

func appendAliasName(b []byte, a *string) []byte { return appendString(b, *a) }

// appendModelVersion renders ModelVersion.to_proto: version as a string;
// description, source, run_id and run_link always (MLflow stores "" for
// omitted ones and emits every non-None field); status_message only when
// set. Ferry's storage location and approval state are not MLflow fields.
func appendModelVersion(b []byte, mv *registry.ModelVersion) []byte {
	o := openObj(b)
	o.str("name", mv.Name)
	o.str("version", strconv.FormatInt(mv.Version, 10))
	o.int("creation_timestamp", mv.CreationTime)
	o.int("last_updated_timestamp", mv.LastUpdatedTime)
	o.optStr("user_id", mv.UserID)
	o.str("current_stage", mv.CurrentStage)
	o.str("description", mv.Description)
	o.str("source", mv.Source)
	o.str("run_id", mv.RunID)
	o.optStr("status", mv.Status)
	o.optStr("status_message", mv.StatusMessage)
	list(&o, "tags", mv.Tags, appendRegistryTag)
	o.str("run_link", mv.RunLink)
	list(&o, "aliases", mv.Aliases, appendAliasName)
	return o.close()
}

func registeredModelAnswer(out []byte, m *registry.RegisteredModel) []byte {
	o := openObj(out)
	o.key("registered_model")
	o.b = appendRegisteredModel(o.b, m)
	return o.close()
}

func modelVersionAnswer(out []byte, mv *registry.ModelVersion) []byte {
	o := openObj(out)
	o.key("model_version")
	o.b = appendModelVersion(o.b, mv)
	return o.close()
}

// ---- registered models

func (s *Server) createRegisteredModel(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	name, err := q.requiredStr(root, "name", "")
	if err != nil {
		return out, err
	}
	tags, err := q.registryTags()
	if err != nil {
		return out, err
	}
	desc, _, err := q.str(root, "description", "")
	if err != nil {
		return out, err
	}
	m, err := s.reg.CreateRegisteredModel(r.Context(), name, desc, tags)
	if err != nil {
		return out, err
	}
	return registeredModelAnswer(out, &m), nil
}

func (s *Server) renameRegisteredModel(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	args, err := q.requiredStrs("name", "new_name")
	if err != nil {
		return out, err
	}
	name, newName := args[0], args[1]
	m, err := s.reg.RenameRegisteredModel(r.Context(), name, newName)
	if err != nil {
		return out, err
	}
	return registeredModelAnswer(out, &m), nil
}

func (s *Server) updateRegisteredModel(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	name, err := q.requiredStr(root, "name", "")
	if err != nil {
		return out, err
	}
	// An absent description clears it, as in MLflow.
	desc, _, err := q.str(root, "description", "")
	if err != nil {
		return out, err
	}
	m, err := s.reg.UpdateRegisteredModel(r.Context(), name, desc)
	if err != nil {
		return out, err
	}
	return registeredModelAnswer(out, &m), nil
}

func (s *Server) deleteRegisteredModel(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	name, err := q.requiredStr(root, "name", "")
	if err != nil {
		return out, err
	}
	return out, s.reg.DeleteRegisteredModel(r.Context(), name)
}

func (s *Server) getRegisteredModel(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	name, err := q.requiredStr(root, "name", "")
	if err != nil {
		return out, err
	}
	m, err := s.reg.GetRegisteredModel(r.Context(), name)
	if err != nil {
		return out, err
	}
	return registeredModelAnswer(out, &m), nil
}

func (s *Server) searchRegisteredModels(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	f, maxResults, orderBy, token, err := q.searchParams(registry.MaxModelResults)
	if err != nil {
		return out, err
	}
	ms, next, err := s.reg.SearchRegisteredModels(r.Context(), f, maxResults, orderBy, token)
	if err != nil {
		return out, err
	}
	o := openObj(out)
	list(&o, "registered_models", ms, appendRegisteredModel)
	o.optStr("next_page_token", next)
	return o.close(), nil
}

func (s *Server) getLatestVersions(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	name, err := q.requiredStr(root, "name", "")
	if err != nil {
		return out, err
	}
	stages, err := q.strList(root, "stages")
	if err != nil {
		return out, err
	}
	vs, err := s.reg.GetLatestVersions(r.Context(), name, stages)
	if err != nil {
		return out, err
	}
	o := openObj(out)
	list(&o, "model_versions", vs, appendModelVersion)
	return o.close(), nil
}

func (s *Server) setRegisteredModelTag(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	name, err := q.requiredStr(root, "name", "")
	if err != nil {
		return out, err
	}
	k, v, err := q.keyValue()
	if err != nil {
		return out, err
	}
	return out, s.reg.SetRegisteredModelTag(r.Context(), name, registry.Tag{Key: k, Value: v})
}

func (s *Server) deleteRegisteredModelTag(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	args, err := q.requiredStrs("name", "key")
	if err != nil {
		return out, err
	}
	name, key := args[0], args[1]
	return out, s.reg.DeleteRegisteredModelTag(r.Context(), name, key)
}

// ---- aliases

func (s *Server) setRegisteredModelAlias(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	args, err := q.requiredStrs("name", "alias", "version")
	if err != nil {
		return out, err
	}
	name, alias, version := args[0], args[1], args[2]
	return out, s.reg.SetAlias(r.Context(), name, alias, version)
}

func (s *Server) deleteRegisteredModelAlias(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	args, err := q.requiredStrs("name", "alias")
	if err != nil {
		return out, err
	}
	name, alias := args[0], args[1]
	return out, s.reg.DeleteAlias(r.Context(), name, alias)
}

func (s *Server) getModelVersionByAlias(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	args, err := q.requiredStrs("name", "alias")
	if err != nil {
		return out, err
	}
	name, alias := args[0], args[1]
	mv, err := s.reg.GetVersionByAlias(r.Context(), name, alias)
	if err != nil {
		return out, err
	}
	return modelVersionAnswer(out, &mv), nil
}

// ---- model versions

func (s *Server) createModelVersion(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	var req registry.CreateVersion
	var err error
	if req.Name, err = q.requiredStr(root, "name", ""); err != nil {
		return out, err
	}
	if req.Source, err = q.requiredStr(root, "source", ""); err != nil {
		return out, err
	}
	if req.RunID, _, err = q.str(root, "run_id", ""); err != nil {
		return out, err
	}
	if req.Tags, err = q.registryTags(); err != nil {
		return out, err
	}
	if req.RunLink, _, err = q.str(root, "run_link", ""); err != nil {
		return out, err
	}
	if req.Description, _, err = q.str(root, "description", ""); err != nil {
		return out, err
	}
	mv, err := s.reg.CreateModelVersion(r.Context(), req)
	if err != nil {
		return out, err
	}
	return modelVersionAnswer(out, &mv), nil
}

func (s *Server) updateModelVersion(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	name, version, err := q.nameAndVersion()
	if err != nil {
		return out, err
	}
	desc, _, err := q.str(root, "description", "")
	if err != nil {
		return out, err
	}
	mv, err := s.reg.UpdateModelVersion(r.Context(), name, version, desc)
	if err != nil {
		return out, err
	}
	return modelVersionAnswer(out, &mv), nil
}

func (s *Server) transitionModelVersionStage(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	name, version, err := q.nameAndVersion()
	if err != nil {
		return out, err
	}
	stage, err := q.requiredStr(root, "stage", "")
	if err != nil {
		return out, err
	}
	archive, _, err := q.boolean(root, "archive_existing_versions")
	if err != nil {
		return out, err
	}
	mv, err := s.reg.TransitionStage(r.Context(), name, version, stage, archive)
	if err != nil {
		return out, err
	}
	return modelVersionAnswer(out, &mv), nil
}

func (s *Server) deleteModelVersion(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	name, version, err := q.nameAndVersion()
	if err != nil {
		return out, err
	}
	return out, s.reg.DeleteModelVersion(r.Context(), name, version)
}

func (s *Server) getModelVersion(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	name, version, err := q.nameAndVersion()
	if err != nil {
		return out, err
	}
	mv, err := s.reg.GetModelVersion(r.Context(), name, version)
	if err != nil {
		return out, err
	}
	return modelVersionAnswer(out, &mv), nil
}

func (s *Server) searchModelVersions(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	f, maxResults, orderBy, token, err := q.searchParams(registry.MaxVersionResults)
	if err != nil {
		return out, err
	}
	vs, next, err := s.reg.SearchModelVersions(r.Context(), f, maxResults, orderBy, token)
	if err != nil {
		return out, err
	}
	o := openObj(out)
	list(&o, "model_versions", vs, appendModelVersion)
	o.optStr("next_page_token", next)
	return o.close(), nil
}

// getModelVersionDownloadURI has no handler schema in MLflow: a missing
// name or version is reported by the store's validators, with their
// messages.
func (s *Server) getModelVersionDownloadURI(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	name, _, err := q.str(root, "name", "")
	if err != nil {
		return out, err
	}
	version, _, err := q.str(root, "version", "")
	if err != nil {
		return out, err
	}
	if name == "" {
		return out, errdefs.InvalidArgument("Missing value for required parameter 'name'.")
	}
	uri, err := s.reg.GetDownloadURI(r.Context(), name, version)
	if err != nil {
		return out, err
	}
	o := openObj(out)
	o.str("artifact_uri", uri)
	return o.close(), nil
}

func (s *Server) setModelVersionTag(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	name, version, err := q.nameAndVersion()
	if err != nil {
		return out, err
	}
	k, v, err := q.keyValue()
	if err != nil {
		return out, err
	}
	return out, s.reg.SetModelVersionTag(r.Context(), name, version, registry.Tag{Key: k, Value: v})
}

func (s *Server) deleteModelVersionTag(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	name, version, err := q.nameAndVersion()
	if err != nil {
		return out, err
	}
	key, err := q.requiredStr(root, "key", "")
	if err != nil {
		return out, err
	}
	return out, s.reg.DeleteModelVersionTag(r.Context(), name, version, key)
}

// ---- GET /model-versions/get-artifact?name=&version=&path=

// getModelVersionArtifact streams a file of a version, as the MLflow UI
// fetches a registered model's MLmodel: path is relative to the version's
// files. Ferry serves what its own artifact store holds — versions whose
// files are behind mlflow-artifacts: (directly, or through the run of a
// runs:/ source) — and never fetches remote URIs.
func (s *Server) getModelVersionArtifact(w http.ResponseWriter, r *http.Request) {
	if err := s.modelVersionArtifact(w, r); err != nil {
		s.writeError(w, r, err)
	}
}

func (s *Server) modelVersionArtifact(w http.ResponseWriter, r *http.Request) error {
	vals := r.URL.Query()
	for _, k := range []string{"name", "version", "path"} {
		for _, v := range vals[k] {
			if !utf8Valid(v) {
				return errdefs.InvalidArgument("Invalid UTF-8 in query parameter '%s'.", k)
			}
		}
	}
	p := vals.Get("path")
	if p == "" {
		return tracking.MissingValue("path")
	}
	rel, err := artifactKey(p, false)
	if err != nil {
		return err
	}
	name, version := vals.Get("name"), vals.Get("version")
	if name == "" {
		return tracking.MissingValue("name")
	}
	mv, err := s.reg.GetModelVersion(r.Context(), name, version)
	if err != nil {
		return err
	}
	loc := mv.StorageLocation
	if loc == "" {
		loc = mv.Source
	}
	base, ok := tracking.ArtifactKey(loc)
	if !ok {
		return errdefs.InvalidArgument("Downloading files of model version source '%s' is not supported by this server: only %s URIs are served", loc, tracking.ArtifactScheme)
	}
	if s.artifacts == nil {
		return s.artifactsDisabled(r)
	}
	// Sources may hold empty segments (mlflow-artifacts:/a//b), which name
	// the same place.
	var segs []string
	for _, seg := range strings.Split(base, "/") {
		if seg != "" {
			segs = append(segs, seg)
		}
	}
	key, err := artifactKey(strings.Join(append(segs, rel), "/"), false)
	if err != nil {
		return err
	}
	s.serveArtifact(w, r, key)
	return nil
}
