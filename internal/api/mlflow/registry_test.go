package mlflow_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ferry-ml/ferry/internal/api/middleware"
	"github.com/ferry-ml/ferry/internal/api/mlflow"
	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/registry"
)

const (
	rmAPI = api + "registered-models/"
	mvAPI = api + "model-versions/"
)

// onStores runs a test over SQLite and, when one is reachable, Postgres.
func onStores(t *testing.T, fn func(*testing.T, *env)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, newEnv(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, newEnvOn(t, middleware.RouterConfig{}, openPostgres)) })
}

// createModel creates a registered model and returns it.
func (e *env) createModel(name string, extra map[string]any) map[string]any {
	e.t.Helper()
	body := map[string]any{"name": name}
	for k, v := range extra {
		body[k] = v
	}
	return e.ok("POST", rmAPI+"create", body)["registered_model"].(map[string]any)
}

// createVersion registers a version and returns it.
func (e *env) createVersion(name, source, runID string, extra map[string]any) map[string]any {
	e.t.Helper()
	body := map[string]any{"name": name, "source": source}
	if runID != "" {
		body["run_id"] = runID
	}
	for k, v := range extra {
		body[k] = v
	}
	return e.ok("POST", mvAPI+"create", body)["model_version"].(map[string]any)
}

// getVersion returns a version's JSON.
func (e *env) getVersion(name, version string) map[string]any {
	e.t.Helper()
	return e.ok("GET", mvAPI+"get?"+url.Values{"name": {name}, "version": {version}}.Encode(), nil)["model_version"].(map[string]any)
}

// versionList renders the versions of an answer's list field as
// "name/version" (or just "version" when every name is the same).
func versionList(v map[string]any, field string) []string {
	items, _ := v[field].([]any)
	out := []string{}
	for _, it := range items {
		m := it.(map[string]any)
		out = append(out, fmt.Sprint(m["name"], "/", m["version"]))
	}
	return out
}

func modelNames(v map[string]any) []string {
	items, _ := v["registered_models"].([]any)
	out := []string{}
	for _, it := range items {
		out = append(out, it.(map[string]any)["name"].(string))
	}
	return out
}

// aliasMap renders a registered model's aliases as alias → version.
func aliasMap(m map[string]any) map[string]any {
	out := map[string]any{}
	items, _ := m["aliases"].([]any)
	for _, it := range items {
		a := it.(map[string]any)
		out[a["alias"].(string)] = a["version"]
	}
	return out
}

func query(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v.Encode()
}

// wantMessage fails unless the error answer r carries exactly msg.
func wantMessage(t *testing.T, r resp, msg string) {
	t.Helper()
	if got := r.message(t); got != msg {
		t.Errorf("message:\n got %q\nwant %q", got, msg)
	}
}

const (
	localSourceMsg    = "Invalid model version source: '%s'. To use a local path as a model version source, the run_id request parameter has to be specified and the local path has to be contained within the artifact directory of the run specified by the run_id."
	relativeSourceMsg = "Invalid model version source: '%s'. If supplying a source as an http, https, local file path, ftp, objectstore, or mlflow-artifacts uri, an absolute path must be provided without relative path references present. Please provide an absolute path."
	apiDocs           = " See the API docs for more information about request parameters."
)

// TestRegistryLifecycle walks a model through MLflow's whole registry
// workflow over the real stack.
func TestRegistryLifecycle(t *testing.T) { onStores(t, testRegistryLifecycle) }

func testRegistryLifecycle(t *testing.T, e *env) {
	exp := e.createExperiment("registry")
	id := runID(e.createRun(exp, nil))
	artifacts := "mlflow-artifacts:/" + exp + "/" + id + "/artifacts"

	// Create the model.
	m := e.createModel("iris", map[string]any{"description": "flowers",
		"tags": []map[string]string{{"key": "team", "value": "ml"}, {"key": "team", "value": "vision"}}})
	if m["name"] != "iris" || m["description"] != "flowers" || m["latest_versions"] != nil {
		t.Errorf("created model: %v", m)
	}
	if v, _ := tagValue(m["tags"], "team"); v != "vision" {
		t.Errorf("duplicate tag keys: the last wins: %v", m["tags"])
	}
	for _, f := range []string{"creation_timestamp", "last_updated_timestamp"} {
		if _, ok := m[f].(json.Number); !ok {
			t.Errorf("%s is not a JSON number: %v", f, m[f])
		}
	}
	r := e.fail("POST", rmAPI+"create", map[string]any{"name": "iris"}, 400, "RESOURCE_ALREADY_EXISTS")
	wantMessage(t, r, "Registered Model (name=iris) already exists.")

	// Versions: from the run's artifacts, from a runs:/ URI, and a remote one.
	v1 := e.createVersion("iris", artifacts+"/model", id, nil)
	if v1["version"] != "1" || v1["run_id"] != id || v1["current_stage"] != "None" || v1["status"] != "READY" ||
		v1["description"] != "" || v1["run_link"] != "" || v1["source"] != artifacts+"/model" {
		t.Errorf("version 1: %v", v1)
	}
	if _, ok := v1["status_message"]; ok {
		t.Errorf("empty status_message emitted: %v", v1)
	}
	v2 := e.createVersion("iris", "runs:/"+id+"/model", id, map[string]any{"run_link": "http://ui/run", "description": "from runs:/"})
	if v2["version"] != "2" || v2["source"] != "runs:/"+id+"/model" || v2["run_link"] != "http://ui/run" {
		t.Errorf("version 2: %v", v2)
	}
	v3 := e.createVersion("iris", "s3://bucket/models/iris", "", map[string]any{
		"tags": []map[string]string{{"key": "framework", "value": "sklearn"}}})
	if v3["version"] != "3" || v3["run_id"] != "" {
		t.Errorf("version 3: %v", v3)
	}
	if got := e.getVersion("iris", "1"); got["version"] != "1" || got["source"] != artifacts+"/model" {
		t.Errorf("get version 1: %v", got)
	}
	// Python's int() rules for the version string.
	if got := e.getVersion("iris", " 2 "); got["version"] != "2" {
		t.Errorf("get version ' 2 ': %v", got)
	}
	m = e.ok("GET", rmAPI+"get?name=iris", nil)["registered_model"].(map[string]any)
	if got := versionList(m, "latest_versions"); !slices.Equal(got, []string{"iris/3"}) {
		t.Errorf("latest_versions: %v", got)
	}

	// Aliases.
	e.ok("POST", rmAPI+"alias", map[string]any{"name": "iris", "alias": "champion", "version": "1"})
	byAlias := e.ok("GET", rmAPI+"alias?name=iris&alias=champion", nil)["model_version"].(map[string]any)
	if byAlias["version"] != "1" || fmt.Sprint(byAlias["aliases"]) != "[champion]" {
		t.Errorf("get by alias: %v", byAlias)
	}
	for alias, msg := range map[string]string{
		"latest": "'latest' alias name (case insensitive) is reserved.",
		"LaTeSt": "'LaTeSt' alias name (case insensitive) is reserved.",
		"v1":     "Version alias name 'v1' is reserved.",
		"V12":    "Version alias name 'V12' is reserved.",
		"a b":    "Invalid alias name: 'a b'. Names may only contain alphanumerics, underscores (_), and dashes (-).",
	} {
		r := e.fail("POST", rmAPI+"alias", map[string]any{"name": "iris", "alias": alias, "version": "1"}, 400, "INVALID_PARAMETER_VALUE")
		wantMessage(t, r, msg)
		e.fail("GET", rmAPI+"alias?"+query("name", "iris", "alias", alias), nil, 400, "INVALID_PARAMETER_VALUE")
	}
	r = e.fail("POST", rmAPI+"alias", map[string]any{"name": "iris", "alias": "x", "version": "9"}, 404, "RESOURCE_DOES_NOT_EXIST")
	wantMessage(t, r, "Model Version (name=iris, version=9) not found")
	e.ok("POST", rmAPI+"alias", map[string]any{"name": "iris", "alias": "challenger", "version": "2"})
	e.ok("DELETE", rmAPI+"alias", map[string]any{"name": "iris", "alias": "challenger"})
	e.ok("DELETE", rmAPI+"alias", map[string]any{"name": "iris", "alias": "challenger"}) // missing: a no-op
	r = e.fail("GET", rmAPI+"alias?name=iris&alias=challenger", nil, 400, "INVALID_PARAMETER_VALUE")
	wantMessage(t, r, "Registered model alias challenger not found.")
	m = e.ok("GET", rmAPI+"get?name=iris", nil)["registered_model"].(map[string]any)
	if got := aliasMap(m); len(got) != 1 || got["champion"] != "1" {
		t.Errorf("aliases (versions as strings): %v", m["aliases"])
	}

	// Stages.
	mv := e.ok("POST", mvAPI+"transition-stage", map[string]any{"name": "iris", "version": "1", "stage": "production"})["model_version"]
	if get(mv, "current_stage") != "Production" {
		t.Errorf("transition: %v", mv)
	}
	mv = e.ok("POST", mvAPI+"transition-stage", map[string]any{"name": "iris", "version": "2", "stage": "Production",
		"archive_existing_versions": true})["model_version"]
	if get(mv, "current_stage") != "Production" {
		t.Errorf("transition with archiving: %v", mv)
	}
	if st := e.getVersion("iris", "1")["current_stage"]; st != "Archived" {
		t.Errorf("version 1 not archived: %v", st)
	}
	e.ok("POST", mvAPI+"transition-stage", map[string]any{"name": "iris", "version": "3", "stage": "Staging", "archive_existing_versions": false})
	r = e.fail("POST", mvAPI+"transition-stage", map[string]any{"name": "iris", "version": "3", "stage": "Deleted_Internal"}, 400, "INVALID_PARAMETER_VALUE")
	wantMessage(t, r, "Invalid Model Version stage: Deleted_Internal. Value must be one of None, Staging, Production, Archived.")
	r = e.fail("POST", mvAPI+"transition-stage", map[string]any{"name": "iris", "version": "3", "stage": "None", "archive_existing_versions": true}, 400, "INVALID_PARAMETER_VALUE")
	wantMessage(t, r, "Model version transition cannot archive existing model versions because 'None' is not an Active stage. Valid stages are ['Staging', 'Production']")

	// get-latest-versions: POST body (the Python client), GET query with
	// repeated stages, and every stage.
	latest := e.ok("POST", rmAPI+"get-latest-versions", map[string]any{"name": "iris", "stages": []string{"Production", "staging"}})
	if got := versionList(latest, "model_versions"); !slices.Equal(got, []string{"iris/3", "iris/2"}) {
		t.Errorf("latest Production+staging: %v", got)
	}
	latest = e.ok("GET", rmAPI+"get-latest-versions?name=iris&stages=Production&stages=Archived", nil)
	if got := versionList(latest, "model_versions"); !slices.Equal(got, []string{"iris/2", "iris/1"}) {
		t.Errorf("latest GET Production+Archived: %v", got)
	}
	latest = e.ok("GET", rmAPI+"get-latest-versions?name=iris", nil)
	if got := versionList(latest, "model_versions"); !slices.Equal(got, []string{"iris/3", "iris/2", "iris/1"}) {
		t.Errorf("latest of every stage: %v", got)
	}
	r = e.fail("POST", rmAPI+"get-latest-versions", map[string]any{"name": "iris", "stages": []string{"prod"}}, 400, "INVALID_PARAMETER_VALUE")
	wantMessage(t, r, "Invalid Model Version stage: prod. Value must be one of None, Staging, Production, Archived.")
	r = e.fail("POST", rmAPI+"get-latest-versions", map[string]any{"name": "nope"}, 404, "RESOURCE_DOES_NOT_EXIST")
	wantMessage(t, r, "Registered Model with name=nope not found")

	// Download URIs: the source verbatim, runs:/ included.
	for v, want := range map[string]string{"1": artifacts + "/model", "2": "runs:/" + id + "/model", "3": "s3://bucket/models/iris"} {
		got := e.ok("GET", mvAPI+"get-download-uri?name=iris&version="+v, nil)
		if got["artifact_uri"] != want {
			t.Errorf("download uri of %s: %v, want %s", v, got, want)
		}
	}

	// Tags.
	e.ok("POST", rmAPI+"set-tag", map[string]any{"name": "iris", "key": "owner", "value": "alice"})
	e.ok("POST", mvAPI+"set-tag", map[string]any{"name": "iris", "version": "1", "key": "validated", "value": "yes"})
	m = e.ok("GET", rmAPI+"get?name=iris", nil)["registered_model"].(map[string]any)
	if v, _ := tagValue(m["tags"], "owner"); v != "alice" {
		t.Errorf("model tag: %v", m["tags"])
	}
	if v, _ := tagValue(e.getVersion("iris", "1")["tags"], "validated"); v != "yes" {
		t.Error("version tag not set")
	}
	e.ok("DELETE", rmAPI+"delete-tag", map[string]any{"name": "iris", "key": "owner"})
	e.ok("DELETE", rmAPI+"delete-tag", map[string]any{"name": "iris", "key": "owner"}) // missing: a no-op
	e.ok("DELETE", mvAPI+"delete-tag", map[string]any{"name": "iris", "version": "1", "key": "validated"})
	m = e.ok("GET", rmAPI+"get?name=iris", nil)["registered_model"].(map[string]any)
	if _, ok := tagValue(m["tags"], "owner"); ok {
		t.Error("model tag not deleted")
	}
	if _, ok := tagValue(e.getVersion("iris", "1")["tags"], "validated"); ok {
		t.Error("version tag not deleted")
	}
	r = e.fail("POST", mvAPI+"set-tag", map[string]any{"name": "iris", "version": "7", "key": "k", "value": "v"}, 404, "RESOURCE_DOES_NOT_EXIST")
	wantMessage(t, r, "Model Version (name=iris, version=7) not found")

	// Descriptions: set, then cleared by an update without one.
	m = e.ok("PATCH", rmAPI+"update", map[string]any{"name": "iris", "description": "new"})["registered_model"].(map[string]any)
	if m["description"] != "new" {
		t.Errorf("update model: %v", m)
	}
	m = e.ok("PATCH", rmAPI+"update", map[string]any{"name": "iris"})["registered_model"].(map[string]any)
	if _, ok := m["description"]; ok {
		t.Errorf("an empty description is dropped: %v", m)
	}
	mv = e.ok("PATCH", mvAPI+"update", map[string]any{"name": "iris", "version": "3", "description": "remote copy"})["model_version"]
	if get(mv, "description") != "remote copy" {
		t.Errorf("update version: %v", mv)
	}

	// Rename: versions and aliases follow.
	m = e.ok("POST", rmAPI+"rename", map[string]any{"name": "iris", "new_name": "iris2"})["registered_model"].(map[string]any)
	if m["name"] != "iris2" || aliasMap(m)["champion"] != "1" {
		t.Errorf("renamed: %v", m)
	}
	r = e.fail("GET", rmAPI+"get?name=iris", nil, 404, "RESOURCE_DOES_NOT_EXIST")
	wantMessage(t, r, "Registered Model with name=iris not found")
	if got := e.getVersion("iris2", "3"); got["name"] != "iris2" || got["description"] != "remote copy" {
		t.Errorf("version after rename: %v", got)
	}
	e.createModel("other", nil)
	r = e.fail("POST", rmAPI+"rename", map[string]any{"name": "iris2", "new_name": "other"}, 400, "RESOURCE_ALREADY_EXISTS")
	wantMessage(t, r, "Registered Model (name=other) already exists.")

	// Deleting a version takes its alias along; its number is not reused.
	e.ok("DELETE", mvAPI+"delete", map[string]any{"name": "iris2", "version": "1"})
	r = e.fail("GET", mvAPI+"get?name=iris2&version=1", nil, 404, "RESOURCE_DOES_NOT_EXIST")
	wantMessage(t, r, "Model Version (name=iris2, version=1) not found")
	e.fail("DELETE", mvAPI+"delete", map[string]any{"name": "iris2", "version": "1"}, 404, "RESOURCE_DOES_NOT_EXIST")
	m = e.ok("GET", rmAPI+"get?name=iris2", nil)["registered_model"].(map[string]any)
	if len(aliasMap(m)) != 0 {
		t.Errorf("alias of a deleted version survived: %v", m["aliases"])
	}
	r = e.fail("GET", rmAPI+"alias?name=iris2&alias=champion", nil, 400, "INVALID_PARAMETER_VALUE")
	wantMessage(t, r, "Registered model alias champion not found.")
	if got := versionList(e.ok("GET", mvAPI+"search?"+query("filter", "name = 'iris2'"), nil), "model_versions"); !slices.Equal(got, []string{"iris2/3", "iris2/2"}) {
		t.Errorf("search after delete: %v", got)
	}
	if v4 := e.createVersion("iris2", artifacts+"/model", id, nil); v4["version"] != "4" {
		t.Errorf("version number reused: %v", v4["version"])
	}

	// Deleting the model deletes everything under it.
	if got := e.ok("DELETE", rmAPI+"delete", map[string]any{"name": "iris2"}); len(got) != 0 {
		t.Errorf("delete answer: %v", got)
	}
	r = e.fail("GET", mvAPI+"get?name=iris2&version=2", nil, 404, "RESOURCE_DOES_NOT_EXIST")
	wantMessage(t, r, "Model Version (name=iris2, version=2) not found")
	e.fail("GET", rmAPI+"get?name=iris2", nil, 404, "RESOURCE_DOES_NOT_EXIST")
	e.fail("DELETE", rmAPI+"delete", map[string]any{"name": "iris2"}, 404, "RESOURCE_DOES_NOT_EXIST")
	// A model created again under the name starts over at version 1.
	e.createModel("iris2", nil)
	if v := e.createVersion("iris2", "s3://b/m", "", nil); v["version"] != "1" {
		t.Errorf("recreated model's first version: %v", v["version"])
	}

	// Every route answers under /ajax-api too.
	if got := modelNames(e.ok("GET", "/ajax-api/2.0/mlflow/registered-models/search", nil)); !slices.Equal(got, []string{"iris2", "other"}) {
		t.Errorf("ajax search: %v", got)
	}
}

// TestRegistrySourceValidation checks that model-versions/create refuses
// sources that escape the artifact root, with MLflow's messages, and that
// a refused create writes nothing and takes no version number.
func TestRegistrySourceValidation(t *testing.T) { onStores(t, testRegistrySourceValidation) }

func testRegistrySourceValidation(t *testing.T, e *env) {
	id := runID(e.createRun("0", nil))
	e.createModel("src", nil)
	e.createVersion("src", "mlflow-artifacts:/0/"+id+"/artifacts/model", id, nil)

	for _, c := range []struct{ source, msg string }{
		{"../../etc/passwd", localSourceMsg},
		{"/abs/path", localSourceMsg},
		{"file:///tmp/x", localSourceMsg},
		{"file:/etc/passwd", localSourceMsg},
		{"%2e%2e/%2e%2e/etc/passwd", localSourceMsg},
		{`C:\models\m`, localSourceMsg},
		{"mlflow-artifacts:/0/run/artifacts/../../x", relativeSourceMsg},
		{"mlflow-artifacts:/0/run/artifacts/%2e%2e/%2e%2e/x", relativeSourceMsg},
		{"mlflow-artifacts:/0/run/artifacts/%252e%252e/x", relativeSourceMsg},
		{"mlflow-artifacts:/0/run/artifacts/..%2f..%2fx", relativeSourceMsg},
		{"mlflow-artifacts:/0/run/artifacts/./model", relativeSourceMsg},
		{"s3://bucket/a/../../b", relativeSourceMsg},
		{"s3://bucket/a/x%00y", relativeSourceMsg},
		{"runs:/" + id + "/../../other", relativeSourceMsg},
		{"http://host/models/%2E%2E/secret", relativeSourceMsg},
	} {
		r := e.fail("POST", mvAPI+"create", map[string]any{"name": "src", "source": c.source}, 400, "INVALID_PARAMETER_VALUE")
		wantMessage(t, r, fmt.Sprintf(c.msg, c.source))
		// Also with the run given.
		e.fail("POST", mvAPI+"create", map[string]any{"name": "src", "source": c.source, "run_id": id}, 400, "INVALID_PARAMETER_VALUE")
	}
	// A run that does not exist.
	r := e.fail("POST", mvAPI+"create", map[string]any{"name": "src", "source": "s3://b/m", "run_id": strings.Repeat("f", 32)}, 404, "RESOURCE_DOES_NOT_EXIST")
	wantMessage(t, r, "Run with id="+strings.Repeat("f", 32)+" not found")
	e.fail("POST", mvAPI+"create", map[string]any{"name": "src", "source": "runs:/" + strings.Repeat("e", 32) + "/model"}, 404, "RESOURCE_DOES_NOT_EXIST")
	// A runs:/ source of another run than run_id.
	other := runID(e.createRun("0", nil))
	e.fail("POST", mvAPI+"create", map[string]any{"name": "src", "source": "runs:/" + other + "/model", "run_id": id}, 400, "INVALID_PARAMETER_VALUE")
	// A model that does not exist.
	r = e.fail("POST", mvAPI+"create", map[string]any{"name": "nope", "source": "s3://b/m"}, 404, "RESOURCE_DOES_NOT_EXIST")
	wantMessage(t, r, "Registered Model with name=nope not found")
	// A bad tag.
	e.fail("POST", mvAPI+"create", map[string]any{"name": "src", "source": "s3://b/m",
		"tags": []map[string]string{{"key": "../x", "value": "v"}}}, 400, "INVALID_PARAMETER_VALUE")

	// Nothing was written and no number was taken.
	all := e.ok("GET", mvAPI+"search?"+query("filter", "name = 'src'"), nil)
	if got := versionList(all, "model_versions"); !slices.Equal(got, []string{"src/1"}) {
		t.Errorf("versions after refused creates: %v", got)
	}
	if v := e.createVersion("src", "mlflow-artifacts:/0/"+id+"/artifacts/model/", id, nil); v["version"] != "2" {
		t.Errorf("next version %v, want 2", v["version"])
	}
	// Accepted forms: trailing slashes, an authority, runs:/ of the run.
	for _, src := range []string{
		"mlflow-artifacts:/0/" + id + "/artifacts/model///",
		"mlflow-artifacts://localhost:5000/0/" + id + "/artifacts/model",
		"runs:/" + id + "/model",
		"models:/src/1",
	} {
		e.createVersion("src", src, "", nil)
	}
	// models:/ sources resolve to the version's location.
	if got := e.ok("GET", mvAPI+"get-download-uri?name=src&version=6", nil)["artifact_uri"]; got != "mlflow-artifacts:/0/"+id+"/artifacts/model" {
		t.Errorf("models:/ download uri %v", got)
	}
}

// TestRegistryRequests checks decoding: required fields in MLflow's
// validator order, JSON types, limits, methods and content types.
func TestRegistryRequests(t *testing.T) { onStores(t, testRegistryRequests) }

func testRegistryRequests(t *testing.T, e *env) {
	e.createModel("m", nil)
	e.createVersion("m", "s3://b/m", "", nil)

	missing := func(p string) string {
		return "Missing value for required parameter '" + p + "'." + apiDocs
	}
	typeErr := func(v, p, typ string) string {
		return "Invalid value " + v + " for parameter '" + p + "' supplied:  Hint: Value was of type '" + typ + "'." + apiDocs
	}
	for _, c := range []struct {
		method, path string
		body         any
		msg          string
	}{
		{"POST", rmAPI + "create", map[string]any{}, missing("name")},
		{"POST", rmAPI + "create", map[string]any{"name": ""}, missing("name")},
		{"POST", rmAPI + "create", map[string]any{"name": 1}, typeErr("1", "name", "int")},
		{"POST", rmAPI + "create", map[string]any{"name": "x", "tags": "t"}, typeErr(`"t"`, "tags", "str")},
		{"POST", rmAPI + "create", map[string]any{"name": "x", "description": []int{1}}, typeErr("[1]", "description", "list")},
		{"POST", rmAPI + "rename", map[string]any{"name": "m"}, missing("new_name")},
		{"POST", rmAPI + "rename", map[string]any{"new_name": "m"}, missing("name")},
		{"PATCH", rmAPI + "update", map[string]any{"description": "d"}, missing("name")},
		{"DELETE", rmAPI + "delete", nil, missing("name")},
		{"GET", rmAPI + "get", nil, missing("name")},
		{"GET", rmAPI + "get?name=", nil, missing("name")},
		{"POST", rmAPI + "get-latest-versions", map[string]any{"stages": []string{"None"}}, missing("name")},
		{"POST", rmAPI + "get-latest-versions", map[string]any{"name": "m", "stages": "None"}, typeErr(`"None"`, "stages", "str")},
		{"POST", rmAPI + "get-latest-versions", map[string]any{"name": "m", "stages": []any{1}}, typeErr("[1]", "stages", "list")},
		{"POST", rmAPI + "set-tag", map[string]any{"name": "m", "value": "v"}, missing("key")},
		{"DELETE", rmAPI + "delete-tag", map[string]any{"name": "m"}, missing("key")},
		{"POST", rmAPI + "alias", map[string]any{"name": "m", "version": "1"}, missing("alias")},
		{"POST", rmAPI + "alias", map[string]any{"name": "m", "alias": "a"}, missing("version")},
		{"POST", rmAPI + "alias", map[string]any{"name": "m", "alias": "a", "version": 1}, typeErr("1", "version", "int")},
		{"DELETE", rmAPI + "alias", map[string]any{"name": "m"}, missing("alias")},
		{"GET", rmAPI + "alias?name=m", nil, missing("alias")},
		{"POST", mvAPI + "create", map[string]any{}, missing("name")},
		{"POST", mvAPI + "create", map[string]any{"name": "m"}, missing("source")},
		{"POST", mvAPI + "create", map[string]any{"name": "m", "source": "s3://b/m", "run_id": 5}, typeErr("5", "run_id", "int")},
		{"POST", mvAPI + "create", map[string]any{"name": "m", "source": "s3://b/m", "tags": map[string]string{"k": "v"}}, typeErr(`{"k":"v"}`, "tags", "dict")},
		{"PATCH", mvAPI + "update", map[string]any{"name": "m"}, missing("version")},
		{"PATCH", mvAPI + "update", map[string]any{"name": "m", "version": 1.5}, typeErr("1.5", "version", "float")},
		{"POST", mvAPI + "transition-stage", map[string]any{"name": "m", "version": "1"}, missing("stage")},
		{"POST", mvAPI + "transition-stage", map[string]any{"name": "m", "version": "1", "stage": "Staging", "archive_existing_versions": "true"},
			typeErr(`"true"`, "archive_existing_versions", "str")},
		{"DELETE", mvAPI + "delete", map[string]any{"version": "1"}, missing("name")},
		{"GET", mvAPI + "get?name=m", nil, missing("version")},
		{"GET", mvAPI + "get?name=m&version=abc", nil, "Parameter 'version' must be an integer, got 'abc'."},
		{"GET", mvAPI + "get?name=m&version=1.0", nil, "Parameter 'version' must be an integer, got '1.0'."},
		{"POST", mvAPI + "set-tag", map[string]any{"name": "m", "version": "1"}, missing("key")},
		{"DELETE", mvAPI + "delete-tag", map[string]any{"name": "m", "key": "k"}, missing("version")},
		// get-download-uri has no handler schema: the store's messages.
		{"GET", mvAPI + "get-download-uri?version=1", nil, "Missing value for required parameter 'name'."},
		{"GET", mvAPI + "get-download-uri?name=m", nil, "Parameter 'version' must be an integer, got ''."},
		// Search limits.
		{"GET", rmAPI + "search?max_results=1001", nil, typeErr(`"1001"`, "max_results", "str")},
		{"GET", rmAPI + "search?max_results=-1", nil, "Invalid value for max_results. It must be a positive integer, but got -1"},
		{"GET", rmAPI + "search?max_results=ten", nil, typeErr(`"ten"`, "max_results", "str")},
		{"GET", mvAPI + "search?max_results=200001", nil, typeErr(`"200001"`, "max_results", "str")},
		{"GET", mvAPI + "search?max_results=0", nil, "Invalid value for max_results. It must be a positive integer, but got 0"},
		{"GET", rmAPI + "search?page_token=!!!", nil, "Invalid page token, could not base64-decode"},
		{"GET", mvAPI + "search?filter=name+%3D+'m'+OR+name+%3D+'n'", nil, ""},
		{"GET", rmAPI + "search?order_by=nope", nil, ""},
	} {
		r := e.fail(c.method, c.path, c.body, 400, "INVALID_PARAMETER_VALUE")
		if c.msg != "" && r.status == 400 {
			if got := r.message(t); got != c.msg {
				t.Errorf("%s %s %v:\n got %q\nwant %q", c.method, c.path, c.body, got, c.msg)
			}
		}
	}
	e.ok("GET", rmAPI+"search?max_results=1000", nil)
	e.ok("GET", mvAPI+"search?max_results=200000", nil)

	// JSON bodies of POST and PATCH need their content type; DELETE's do not.
	r := e.do("PATCH", rmAPI+"update", `{"name":"m"}`, "Content-Type", "text/plain")
	if r.status != 400 || r.message(t) != "Bad Request. Content-Type must be one of ['application/json']." {
		t.Errorf("PATCH without JSON content type: %d %s", r.status, r.body)
	}
	e.createModel("gone", nil)
	if r := e.do("DELETE", rmAPI+"delete", `{"name":"gone"}`); r.status != 200 {
		t.Errorf("DELETE with a body and no content type: %d %s", r.status, r.body)
	}
	// Double-encoded bodies, as old clients send.
	if r := e.do("POST", rmAPI+"set-tag", `"{\"name\":\"m\",\"key\":\"k\",\"value\":\"v\"}"`); r.status != 200 {
		t.Errorf("double-encoded body: %d %s", r.status, r.body)
	}

	// Methods as MLflow declares them.
	for _, c := range []struct{ method, path, allow string }{
		{"GET", rmAPI + "create", "POST"},
		{"POST", rmAPI + "update", "PATCH"},
		{"POST", rmAPI + "delete", "DELETE"},
		{"PATCH", rmAPI + "alias", "GET, HEAD, POST, DELETE"},
		{"POST", mvAPI + "get", "GET, HEAD"},
		{"PUT", rmAPI + "get-latest-versions", "GET, HEAD, POST"},
	} {
		r := e.fail(c.method, c.path, nil, 405, "BAD_REQUEST")
		if got := r.header.Get("Allow"); got != c.allow {
			t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, got, c.allow)
		}
	}
}

// TestRegistrySearch checks filters, ordering and paging of both searches.
func TestRegistrySearch(t *testing.T) { onStores(t, testRegistrySearch) }

func testRegistrySearch(t *testing.T, e *env) {
	idA, idB := runID(e.createRun("0", nil)), runID(e.createRun("0", nil))
	for _, n := range []string{"alpha", "beta", "gamma-1", "Gamma-2", "delta_x"} {
		e.createModel(n, map[string]any{"tags": []map[string]string{{"key": "kind", "value": strings.ToLower(n[:1])}}})
	}
	e.ok("POST", rmAPI+"set-tag", map[string]any{"name": "beta", "key": "team", "value": "ml"})

	for _, c := range []struct {
		filter  string
		orderBy []string
		want    []string
	}{
		{"", nil, []string{"Gamma-2", "alpha", "beta", "delta_x", "gamma-1"}},
		{"name = 'beta'", nil, []string{"beta"}},
		{"name != 'beta'", nil, []string{"Gamma-2", "alpha", "delta_x", "gamma-1"}},
		{"name LIKE 'gamma%'", nil, []string{"gamma-1"}}, // case-sensitive, as MLflow's SQL stores
		{"name ILIKE 'gamma%'", nil, []string{"Gamma-2", "gamma-1"}},
		{"name LIKE 'delta_x'", nil, []string{"delta_x"}},
		{"tags.kind = 'g'", nil, []string{"Gamma-2", "gamma-1"}},
		{"tags.team = 'ml'", nil, []string{"beta"}},
		{"tags.team != 'ml'", nil, []string{}}, // models without the tag do not match !=
		{"tag.`kind` = 'g' AND name LIKE '%2'", nil, []string{"Gamma-2"}},
		{"", []string{"name DESC"}, []string{"gamma-1", "delta_x", "beta", "alpha", "Gamma-2"}},
		{"", []string{"timestamp DESC"}, []string{"beta", "delta_x", "Gamma-2", "gamma-1", "alpha"}},
		{"", []string{"creation_timestamp ASC"}, []string{"alpha", "beta", "gamma-1", "Gamma-2", "delta_x"}},
	} {
		q := url.Values{"filter": {c.filter}, "order_by": c.orderBy}
		got := modelNames(e.ok("GET", rmAPI+"search?"+q.Encode(), nil))
		// The SQL store orders ties by name; creation times may collide
		// within a millisecond, so only the untied orders are compared
		// strictly.
		if strings.Contains(strings.Join(c.orderBy, ""), "timestamp") {
			if len(got) != len(c.want) {
				t.Errorf("filter %q order %v: %v", c.filter, c.orderBy, got)
			}
			continue
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("filter %q order %v: %v, want %v", c.filter, c.orderBy, got, c.want)
		}
	}
	for _, bad := range []string{"name = 'a' OR name = 'b'", "version_number > 1", "name = beta", "name IN ('a')", "tags.x > 'a'", "name = 'a'; DROP TABLE registered_models"} {
		e.fail("GET", rmAPI+"search?"+query("filter", bad), nil, 400, "INVALID_PARAMETER_VALUE")
	}
	r := e.fail("GET", rmAPI+"search?"+query("filter", "run_id = 'x'"), nil, 400, "INVALID_PARAMETER_VALUE")
	if !strings.Contains(r.message(t), "Invalid attribute key 'run_id' specified") {
		t.Errorf("message %q", r.message(t))
	}

	// Paging through models two at a time.
	var seen []string
	token := ""
	for range 10 {
		q := url.Values{"max_results": {"2"}, "order_by": {"name ASC"}}
		if token != "" {
			q.Set("page_token", token)
		}
		page := e.ok("GET", rmAPI+"search?"+q.Encode(), nil)
		seen = append(seen, modelNames(page)...)
		if token, _ = page["next_page_token"].(string); token == "" {
			break
		}
	}
	if !slices.Equal(seen, []string{"Gamma-2", "alpha", "beta", "delta_x", "gamma-1"}) {
		t.Errorf("pages: %v", seen)
	}

	// Versions.
	for i := range 4 {
		run := idA
		if i%2 == 1 {
			run = idB
		}
		e.createVersion("alpha", fmt.Sprintf("s3://bucket/alpha/%d", i+1), run,
			map[string]any{"tags": []map[string]string{{"key": "parity", "value": []string{"even", "odd"}[(i+1)%2]}}})
	}
	e.createVersion("beta", "s3://bucket/beta/1", idA, nil)
	for _, c := range []struct {
		filter  string
		orderBy []string
		want    []string
	}{
		{"name = 'alpha'", []string{"version_number ASC"}, []string{"alpha/1", "alpha/2", "alpha/3", "alpha/4"}},
		{"name = 'alpha' AND version_number > 2", []string{"version_number"}, []string{"alpha/3", "alpha/4"}},
		{"name = 'alpha' AND version_number <= 2", nil, []string{"alpha/2", "alpha/1"}},
		{"run_id IN ('" + idA + "')", []string{"name", "version_number"}, []string{"alpha/1", "alpha/3", "beta/1"}},
		{"run_id = '" + idB + "'", nil, []string{"alpha/4", "alpha/2"}},
		{"source_path = 's3://bucket/alpha/3'", nil, []string{"alpha/3"}},
		{"source_path LIKE 's3://bucket/beta/%'", nil, []string{"beta/1"}},
		{"tags.parity = 'odd'", []string{"version_number DESC"}, []string{"alpha/3", "alpha/1"}},
		{"name ILIKE 'ALPHA' AND tags.parity != 'odd'", []string{"version_number DESC"}, []string{"alpha/4", "alpha/2"}},
		{"", []string{"name DESC", "version_number ASC"}, []string{"beta/1", "alpha/1", "alpha/2", "alpha/3", "alpha/4"}},
	} {
		q := url.Values{"filter": {c.filter}, "order_by": c.orderBy}
		got := versionList(e.ok("GET", mvAPI+"search?"+q.Encode(), nil), "model_versions")
		if !slices.Equal(got, c.want) {
			t.Errorf("versions filter %q order %v: %v, want %v", c.filter, c.orderBy, got, c.want)
		}
	}
	for _, bad := range []string{"version_number = '1'", "version_number LIKE 1", "run_id IN ()", "source_path IN ('a')", "stage = 'None'"} {
		e.fail("GET", mvAPI+"search?"+query("filter", bad), nil, 400, "INVALID_PARAMETER_VALUE")
	}
	e.fail("GET", mvAPI+"search?order_by=tags.x", nil, 400, "INVALID_PARAMETER_VALUE")

	// Paging through versions with repeated order_by parameters.
	seen, token = nil, ""
	for range 10 {
		q := url.Values{"max_results": {"2"}, "order_by": {"name ASC", "version_number ASC"}}
		if token != "" {
			q.Set("page_token", token)
		}
		page := e.ok("GET", mvAPI+"search?"+q.Encode(), nil)
		seen = append(seen, versionList(page, "model_versions")...)
		if token, _ = page["next_page_token"].(string); token == "" {
			break
		}
	}
	if !slices.Equal(seen, []string{"alpha/1", "alpha/2", "alpha/3", "alpha/4", "beta/1"}) {
		t.Errorf("version pages: %v", seen)
	}
}

// TestRegistryPromptExclusion: MLflow 2.21+ clients add
// tags.`mlflow.prompt.is_prompt` != 'true' to every model search; models
// without the tag must still be found.
func TestRegistryPromptExclusion(t *testing.T) { onStores(t, testRegistryPromptExclusion) }

func testRegistryPromptExclusion(t *testing.T, e *env) {
	e.createModel("plain", nil)
	e.createModel("prompt", map[string]any{"tags": []map[string]string{{"key": "mlflow.prompt.is_prompt", "value": "true"}}})
	e.createModel("pinned", map[string]any{"tags": []map[string]string{{"key": "mlflow.prompt.is_prompt", "value": "false"}}})
	for filter, want := range map[string][]string{
		"tags.`mlflow.prompt.is_prompt` != 'true'":                        {"pinned", "plain"},
		"tag.`mlflow.prompt.is_prompt` != 'true'":                         {"pinned", "plain"},
		"name LIKE 'p%' AND tag.`mlflow.prompt.is_prompt` != 'true'":      {"pinned", "plain"},
		"name = 'plain' AND tags.`mlflow.prompt.is_prompt` != 'true'":     {"plain"},
		"tags.`mlflow.prompt.is_prompt` = 'true'":                         {"prompt"},
		"tags.\"mlflow.prompt.is_prompt\" != 'true' AND name != 'pinned'": {"plain"},
	} {
		got := modelNames(e.ok("GET", rmAPI+"search?"+query("filter", filter, "max_results", "100"), nil))
		if !slices.Equal(got, want) {
			t.Errorf("filter %q: %v, want %v", filter, got, want)
		}
	}
	// Version searches get the same clause from the same clients.
	e.createVersion("plain", "s3://b/plain", "", nil)
	e.createVersion("prompt", "s3://b/prompt", "", map[string]any{
		"tags": []map[string]string{{"key": "mlflow.prompt.is_prompt", "value": "true"}}})
	got := versionList(e.ok("GET", mvAPI+"search?"+query("filter", "tags.`mlflow.prompt.is_prompt` != 'true'"), nil), "model_versions")
	if !slices.Equal(got, []string{"plain/1"}) {
		t.Errorf("version search without prompts: %v", got)
	}
}

// policyDenied is the sentinel of the fake policy engine's refusals.
var policyDenied = errors.New("policy denied")

// gateError is a refusal listing every failed rule: a permission error
// and a policy error at once.
type gateError struct{ msg string }

func (e *gateError) Error() string { return e.msg }
func (e *gateError) Is(target error) bool {
	return target == errdefs.ErrPermission || target == policyDenied
}

// fakeGate refuses the moves listed in deny (alias or stage name → version).
type fakeGate struct {
	mu    sync.Mutex
	deny  map[string]int64
	calls []string
}

const gateMessage = "Policy 'prod-gate' refuses moving version 1 of model 'gated' to alias 'production':\n" +
	"  - rule 'approved': the version has no approval (status pending)\n" +
	"  - rule 'min-accuracy': metric accuracy = 0.81, required >= 0.9\n" +
	"  - rule \"tag:validated\": tag 'validated' is missing"

func (g *fakeGate) Allow(_ context.Context, mv registry.ModelVersion, tgt registry.Target) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls = append(g.calls, fmt.Sprintf("%s/%d→%s", mv.Name, mv.Version, tgt))
	if v, ok := g.deny[tgt.Name]; ok && v == mv.Version {
		if tgt.Kind == registry.TargetStage {
			return &gateError{msg: fmt.Sprintf("Policy 'prod-gate' refuses moving version %d of model '%s' to %s:\n  - rule 'approved': the version has no approval (status pending)", mv.Version, mv.Name, tgt)}
		}
		return &gateError{msg: gateMessage}
	}
	return nil
}

// TestRegistryGate checks that a policy gate's refusal of an alias or
// stage move comes out as MLflow's PERMISSION_DENIED with the gate's
// message intact, and changes nothing.
func TestRegistryGate(t *testing.T) { onStores(t, testRegistryGate) }

func testRegistryGate(t *testing.T, e *env) {
	gate := &fakeGate{deny: map[string]int64{"production": 1, registry.StageProduction: 1}}
	e.reg.SetGate(gate)
	e.createModel("gated", nil)
	e.createVersion("gated", "s3://b/1", "", nil)
	e.createVersion("gated", "s3://b/2", "", nil)

	e.ok("POST", rmAPI+"alias", map[string]any{"name": "gated", "alias": "production", "version": "2"})
	r := e.fail("POST", rmAPI+"alias", map[string]any{"name": "gated", "alias": "production", "version": "1"}, 403, "PERMISSION_DENIED")
	wantMessage(t, r, gateMessage)
	var body map[string]string
	if err := json.Unmarshal(r.body, &body); err != nil || len(body) != 2 || body["error_code"] != "PERMISSION_DENIED" {
		t.Errorf("error body %s", r.body)
	}
	if got := e.ok("GET", rmAPI+"alias?name=gated&alias=production", nil)["model_version"]; get(got, "version") != "2" {
		t.Errorf("alias moved despite the refusal: %v", got)
	}
	if got := fmt.Sprint(e.getVersion("gated", "1")["aliases"]); got != "<nil>" {
		t.Errorf("refused version has aliases %s", got)
	}
	// Other aliases of the same version pass.
	e.ok("POST", rmAPI+"alias", map[string]any{"name": "gated", "alias": "shadow", "version": "1"})

	// Stages are gated alike.
	r = e.fail("POST", mvAPI+"transition-stage", map[string]any{"name": "gated", "version": "1", "stage": "production"}, 403, "PERMISSION_DENIED")
	wantMessage(t, r, "Policy 'prod-gate' refuses moving version 1 of model 'gated' to stage 'Production':\n  - rule 'approved': the version has no approval (status pending)")
	if st := e.getVersion("gated", "1")["current_stage"]; st != "None" {
		t.Errorf("stage moved despite the refusal: %v", st)
	}
	e.ok("POST", mvAPI+"transition-stage", map[string]any{"name": "gated", "version": "2", "stage": "Production"})
	// A refused archiving transition archives nothing.
	e.fail("POST", mvAPI+"transition-stage", map[string]any{"name": "gated", "version": "1", "stage": "Production", "archive_existing_versions": true}, 403, "PERMISSION_DENIED")
	if st := e.getVersion("gated", "2")["current_stage"]; st != "Production" {
		t.Errorf("refused transition archived version 2: %v", st)
	}

	gate.mu.Lock()
	defer gate.mu.Unlock()
	want := []string{"gated/2→alias 'production'", "gated/1→alias 'production'", "gated/1→alias 'shadow'",
		"gated/1→stage 'Production'", "gated/2→stage 'Production'", "gated/1→stage 'Production'"}
	if !slices.Equal(gate.calls, want) {
		t.Errorf("gate calls %q, want %q", gate.calls, want)
	}
}

// TestRegistryAliasRace: two clients point "production" at different
// versions at once, many times over. Each request succeeds (or is refused
// by the gate), and the alias always ends on one of the two versions, with
// the model's and the versions' views of it agreeing.
func TestRegistryAliasRace(t *testing.T) { onStores(t, testRegistryAliasRace) }

func testRegistryAliasRace(t *testing.T, e *env) {
	e.createModel("raced", nil)
	e.createVersion("raced", "s3://b/1", "", nil)
	e.createVersion("raced", "s3://b/2", "", nil)
	e.createVersion("raced", "s3://b/3", "", nil)
	gate := &fakeGate{deny: map[string]int64{"production": 3}}
	e.reg.SetGate(gate)

	set := func(version string) int {
		return e.do("POST", rmAPI+"alias", map[string]any{"name": "raced", "alias": "production", "version": version}).status
	}
	const rounds = 40
	for round := range rounds {
		versions := []string{"1", "2"}
		if round%4 == 3 {
			versions = []string{"1", "3"} // version 3 is always refused
		}
		statuses := make([]int, len(versions))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, v := range versions {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				statuses[i] = set(v)
			}()
		}
		close(start)
		wg.Wait()
		for i, v := range versions {
			want := http.StatusOK
			if v == "3" {
				want = http.StatusForbidden
			}
			if statuses[i] != want {
				t.Fatalf("round %d: setting production to %s answered %d", round, v, statuses[i])
			}
		}
		got := get(e.ok("GET", rmAPI+"alias?name=raced&alias=production", nil), "model_version", "version")
		if got != "1" && got != "2" || versions[1] == "3" && got != "1" {
			t.Fatalf("round %d: production → %v", round, got)
		}
		m := e.ok("GET", rmAPI+"get?name=raced", nil)["registered_model"].(map[string]any)
		if am := aliasMap(m); len(am) != 1 || am["production"] != got {
			t.Fatalf("round %d: model aliases %v, alias answer %v", round, m["aliases"], got)
		}
		for _, v := range []string{"1", "2", "3"} {
			has := fmt.Sprint(e.getVersion("raced", v)["aliases"]) == "[production]"
			if has != (v == got) {
				t.Fatalf("round %d: version %s aliases disagree with production → %v", round, v, got)
			}
		}
	}
}

// TestRegistryGetArtifact checks GET /model-versions/get-artifact, the
// UI's download of a version's files.
func TestRegistryGetArtifact(t *testing.T) { onStores(t, testRegistryGetArtifact) }

func testRegistryGetArtifact(t *testing.T, e *env) {
	exp := e.createExperiment("art")
	id := runID(e.createRun(exp, nil))
	base := exp + "/" + id + "/artifacts/model"
	for p, body := range map[string]string{"MLmodel": "flavors: {}\n", "data/model.pkl": "pickle", "conda.yaml": "name: x\n"} {
		if r := e.do("PUT", artifactsAPI+"/"+base+"/"+p, body, "Content-Type", "application/octet-stream"); r.status != 200 {
			t.Fatalf("upload %s: %d %s", p, r.status, r.body)
		}
	}
	e.createModel("art", nil)
	e.createVersion("art", "mlflow-artifacts:/"+base, id, nil)                                           // 1
	e.createVersion("art", "runs:/"+id+"/model", id, nil)                                                // 2
	e.createVersion("art", "mlflow-artifacts://tracking:5000/"+exp+"//"+id+"/artifacts/model/", "", nil) // 3
	e.createVersion("art", "s3://bucket/model", "", nil)                                                 // 4

	fetch := func(version, path string) resp {
		return e.do("GET", "/model-versions/get-artifact?"+query("name", "art", "version", version, "path", path), nil)
	}
	for _, v := range []string{"1", "2", "3"} {
		r := fetch(v, "MLmodel")
		if r.status != 200 || string(r.body) != "flavors: {}\n" {
			t.Errorf("version %s MLmodel: %d %q", v, r.status, r.body)
			continue
		}
		if cd := r.header.Get("Content-Disposition"); cd != "attachment; filename=MLmodel" {
			t.Errorf("Content-Disposition %q", cd)
		}
		if r.header.Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
			t.Errorf("headers %v", r.header)
		}
	}
	if r := fetch("1", "data/model.pkl"); r.status != 200 || string(r.body) != "pickle" {
		t.Errorf("nested file: %d %q", r.status, r.body)
	}
	if r := fetch("2", "conda.yaml"); r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/yaml") {
		t.Errorf("conda.yaml: %d %v", r.status, r.header)
	}

	for _, p := range []string{"../MLmodel", "../../../../etc/passwd", "%2e%2e/x", "%252e%252e/x", "/etc/passwd", "data/../../x", `a\b`, "a#b", "x\x00"} {
		r := fetch("1", p)
		if r.status != 400 || r.errorCode(t) != "INVALID_PARAMETER_VALUE" {
			t.Errorf("path %q: %d %s", p, r.status, r.body)
		}
	}
	if r := fetch("1", "data"); r.status < 400 || r.status >= 500 {
		t.Errorf("a directory: %d %s", r.status, r.body)
	}
	r := e.fail("GET", "/model-versions/get-artifact?name=art&version=1", nil, 400, "INVALID_PARAMETER_VALUE")
	wantMessage(t, r, "Missing value for required parameter 'path'."+apiDocs)
	e.fail("GET", "/model-versions/get-artifact?"+query("name", "art", "version", "1", "path", "nope.txt"), nil, 404, "RESOURCE_DOES_NOT_EXIST")
	e.fail("GET", "/model-versions/get-artifact?"+query("name", "art", "version", "9", "path", "MLmodel"), nil, 404, "RESOURCE_DOES_NOT_EXIST")
	e.fail("GET", "/model-versions/get-artifact?"+query("name", "art", "version", "x", "path", "MLmodel"), nil, 400, "INVALID_PARAMETER_VALUE")
	r = e.fail("GET", "/model-versions/get-artifact?"+query("name", "art", "version", "4", "path", "MLmodel"), nil, 400, "INVALID_PARAMETER_VALUE")
	wantMessage(t, r, "Downloading files of model version source 's3://bucket/model' is not supported by this server: only mlflow-artifacts: URIs are served")
	// A deleted version's files are no longer served.
	e.ok("DELETE", mvAPI+"delete", map[string]any{"name": "art", "version": "1"})
	e.fail("GET", "/model-versions/get-artifact?"+query("name", "art", "version", "1", "path", "MLmodel"), nil, 404, "RESOURCE_DOES_NOT_EXIST")
	// Only at the root, as in MLflow.
	e.fail("GET", api+"model-versions/get-artifact?"+query("name", "art", "version", "2", "path", "MLmodel"), nil, 404, "ENDPOINT_NOT_FOUND")
}

// TestRegistryPermissions checks the permission of the registry routes.
func TestRegistryPermissions(t *testing.T) {
	audit := &auditLog{}
	e := newEnvWith(t, middleware.RouterConfig{Authenticator: bearer{}, Auditor: audit})
	reader := []string{"Authorization", "Bearer rita:read"}
	writer := []string{"Authorization", "Bearer will:write"}
	if r := e.do("POST", rmAPI+"create", `{"name":"p"}`, writer...); r.status != 200 {
		t.Fatalf("writer create: %d %s", r.status, r.body)
	}
	r := e.do("POST", mvAPI+"create", `{"name":"p","source":"s3://b/m"}`, writer...)
	if r.status != 200 {
		t.Fatalf("writer create version: %d %s", r.status, r.body)
	}
	// The principal is the version's user_id, and the audit event carries
	// the registry's note of the change.
	if uid := get(r.json(t), "model_version", "user_id"); uid != "will" {
		t.Errorf("user_id %v", uid)
	}
	if r := e.do("POST", rmAPI+"alias", `{"name":"p","alias":"champion","version":"1"}`, writer...); r.status != 200 {
		t.Fatalf("writer set alias: %d %s", r.status, r.body)
	}
	audit.mu.Lock()
	last := audit.ev[len(audit.ev)-1]
	audit.mu.Unlock()
	if last.Route != "POST /api/2.0/mlflow/registered-models/alias" || last.Principal != "will" || len(last.Changes) != 1 ||
		last.Changes[0].Action != "registry.set_alias" || last.Changes[0].Resource != "models:/p" ||
		last.Changes[0].Before == "" || last.Changes[0].After == "" || last.Changes[0].Before == last.Changes[0].After {
		t.Errorf("audit event of set-alias: %+v", last)
	}
	for _, c := range []struct {
		method, path, body string
		status             int
	}{
		{"GET", rmAPI + "get?name=p", "", 200},
		{"GET", rmAPI + "search", "", 200},
		{"POST", rmAPI + "get-latest-versions", `{"name":"p"}`, 200},
		{"GET", rmAPI + "alias?name=p&alias=a", "", 400},
		{"GET", mvAPI + "get?name=p&version=1", "", 200},
		{"GET", mvAPI + "search", "", 200},
		{"GET", mvAPI + "get-download-uri?name=p&version=1", "", 200},
		{"GET", "/model-versions/get-artifact?name=p&version=1&path=MLmodel", "", 400},
		{"POST", rmAPI + "create", `{"name":"q"}`, 403},
		{"POST", rmAPI + "rename", `{"name":"p","new_name":"q"}`, 403},
		{"PATCH", rmAPI + "update", `{"name":"p"}`, 403},
		{"DELETE", rmAPI + "delete", `{"name":"p"}`, 403},
		{"POST", rmAPI + "set-tag", `{"name":"p","key":"k","value":"v"}`, 403},
		{"DELETE", rmAPI + "delete-tag", `{"name":"p","key":"k"}`, 403},
		{"POST", rmAPI + "alias", `{"name":"p","alias":"a","version":"1"}`, 403},
		{"DELETE", rmAPI + "alias", `{"name":"p","alias":"a"}`, 403},
		{"POST", mvAPI + "create", `{"name":"p","source":"s3://b/m"}`, 403},
		{"PATCH", mvAPI + "update", `{"name":"p","version":"1"}`, 403},
		{"POST", mvAPI + "transition-stage", `{"name":"p","version":"1","stage":"Staging"}`, 403},
		{"DELETE", mvAPI + "delete", `{"name":"p","version":"1"}`, 403},
		{"POST", mvAPI + "set-tag", `{"name":"p","version":"1","key":"k","value":"v"}`, 403},
		{"DELETE", mvAPI + "delete-tag", `{"name":"p","version":"1","key":"k"}`, 403},
	} {
		var body any
		if c.body != "" {
			body = c.body
		}
		r := e.do(c.method, c.path, body, reader...)
		if r.status != c.status {
			t.Errorf("reader %s %s: %d, want %d: %s", c.method, c.path, r.status, c.status, r.body)
		}
		if r := e.do(c.method, c.path, body); r.status != 401 {
			t.Errorf("anonymous %s %s: %d", c.method, c.path, r.status)
		}
	}
}

// TestRegistryNotConfigured: without Options.Registry the registry routes
// do not exist.
func TestRegistryNotConfigured(t *testing.T) {
	e := newEnv(t)
	r := middleware.NewRouter(middleware.RouterConfig{})
	mlflow.New(e.svc, nil, mlflow.Options{}).Register(r)
	for _, target := range []string{api + "registered-models/search", "/ajax-api/2.0/mlflow/model-versions/get?name=m&version=1"} {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest("GET", target, nil))
		if w.Code != 404 || !strings.Contains(w.Body.String(), "ENDPOINT_NOT_FOUND") {
			t.Errorf("%s: %d %s", target, w.Code, w.Body)
		}
	}
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest("GET", "/model-versions/get-artifact?name=m&version=1&path=x", nil))
	if w.Code != 404 {
		t.Errorf("get-artifact: %d %s", w.Code, w.Body)
	}
}

var reRegistryTimes = regexp.MustCompile(`"(creation_timestamp|last_updated_timestamp)":\d+`)

// registryGolden pins an answer with its wall-clock times zeroed.
func registryGolden(t *testing.T, name string, body []byte) {
	t.Helper()
	golden(t, name, reRegistryTimes.ReplaceAll(body, []byte(`"$1":0`)))
}

// TestRegistryGolden pins the exact shape of representative registry
// answers.
func TestRegistryGolden(t *testing.T) {
	e := newEnv(t)
	gate := &fakeGate{deny: map[string]int64{"production": 1}}
	e.reg.SetGate(gate)
	id := runID(e.createRun("0", nil))

	registryGolden(t, "registry_create_model", e.do("POST", rmAPI+"create", map[string]any{
		"name": "gated", "description": "Iris classifier",
		"tags": []map[string]string{{"key": "team", "value": "ml"}}}).body)
	registryGolden(t, "registry_create_version", e.do("POST", mvAPI+"create", map[string]any{
		"name": "gated", "source": "mlflow-artifacts:/0/" + id + "/artifacts/model", "run_id": id,
		"tags": []map[string]string{{"key": "framework", "value": "sklearn"}}}).body)
	e.createVersion("gated", "runs:/"+id+"/model", id, map[string]any{"description": "retrained", "run_link": "http://ui/#/runs/x"})
	e.createVersion("gated", "s3://bucket/gated/3", "", nil)
	e.ok("POST", rmAPI+"alias", map[string]any{"name": "gated", "alias": "champion", "version": "2"})
	e.ok("POST", rmAPI+"alias", map[string]any{"name": "gated", "alias": "production", "version": "2"})
	e.ok("POST", rmAPI+"alias", map[string]any{"name": "gated", "alias": "shadow", "version": "3"})
	e.ok("POST", mvAPI+"transition-stage", map[string]any{"name": "gated", "version": "2", "stage": "Production"})
	e.ok("POST", mvAPI+"transition-stage", map[string]any{"name": "gated", "version": "3", "stage": "Staging"})
	e.ok("POST", rmAPI+"set-tag", map[string]any{"name": "gated", "key": "owner", "value": "alice"})

	registryGolden(t, "registry_get_model", e.do("GET", rmAPI+"get?name=gated", nil).body)
	registryGolden(t, "registry_search_versions", e.do("GET", mvAPI+"search?"+query("filter", "name = 'gated'", "order_by", "version_number ASC"), nil).body)
	registryGolden(t, "registry_latest_versions", e.do("POST", rmAPI+"get-latest-versions", map[string]any{
		"name": "gated", "stages": []string{"production", "Staging", "None"}}).body)
	e.createModel("zeta", nil)
	registryGolden(t, "registry_search_models", e.do("GET", rmAPI+"search?max_results=1", nil).body)
	registryGolden(t, "registry_download_uri", e.do("GET", mvAPI+"get-download-uri?name=gated&version=2", nil).body)
	registryGolden(t, "registry_empty", e.do("DELETE", rmAPI+"delete-tag", map[string]any{"name": "gated", "key": "owner"}).body)

	registryGolden(t, "registry_error_missing", e.do("POST", mvAPI+"create", map[string]any{"name": "gated"}).body)
	registryGolden(t, "registry_error_type", e.do("POST", rmAPI+"alias", map[string]any{"name": "gated", "alias": "a", "version": 2}).body)
	registryGolden(t, "registry_error_not_found", e.do("GET", mvAPI+"get?name=gated&version=42", nil).body)
	registryGolden(t, "registry_error_reserved_alias", e.do("POST", rmAPI+"alias", map[string]any{"name": "gated", "alias": "latest", "version": "1"}).body)
	registryGolden(t, "registry_error_source", e.do("POST", mvAPI+"create", map[string]any{"name": "gated", "source": "mlflow-artifacts:/0/r/artifacts/../../x"}).body)
	registryGolden(t, "registry_error_gate", e.do("POST", rmAPI+"alias", map[string]any{"name": "gated", "alias": "production", "version": "1"}).body)
}
