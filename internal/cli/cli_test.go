package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ferry-ml/ferry/internal/app"
	"github.com/ferry-ml/ferry/internal/cli"
	"github.com/ferry-ml/ferry/internal/config"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// t0 is 2024-03-01 12:00:00 UTC; every time the tests control is after it
// on that day, and any other timestamp comes from the server's clock.
const t0 = int64(1709294400000)

// fixture is a Ferry server in-process with seeded data.
type fixture struct {
	t    *testing.T
	url  string
	runs map[string]string // run name → run id
}

// newServer starts Ferry over a fresh data directory; opts adjust the
// configuration first.
func newServer(t *testing.T, opts ...func(*config.Config)) *httptest.Server {
	t.Helper()
	_, srv := newAppServer(t, opts...)
	return srv
}

// newAppServer is newServer keeping the App, so that a test can drive
// the server's own parts (the alert engine).
func newAppServer(t *testing.T, opts ...func(*config.Config)) (*app.App, *httptest.Server) {
	t.Helper()
	cfg, err := config.Load(config.Source{Args: []string{"--data", t.TempDir()}, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range opts {
		o(&cfg)
	}
	a, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() {
		srv.Close()
		a.Close()
	})
	return a, srv
}

// api calls the server and fails the test unless it answers 200. body
// is raw JSON so that it can carry NaN and Infinity as Python sends them.
func (f *fixture) api(method, path, body string) map[string]any {
	f.t.Helper()
	req, err := http.NewRequest(method, f.url+path, strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	if method != http.MethodPut {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		f.t.Fatalf("%s %s %s: HTTP %d: %s", method, path, body, resp.StatusCode, data)
	}
	out := map[string]any{}
	if len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, &out); err != nil {
			f.t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return out
}

func (f *fixture) post(path string, body string, args ...any) map[string]any {
	f.t.Helper()
	return f.api(http.MethodPost, "/api/2.0/mlflow/"+path, fmt.Sprintf(body, args...))
}

func (f *fixture) createRun(exp, name string, start int64, extra string) string {
	f.t.Helper()
	res := f.post("runs/create", `{"experiment_id": %q, "run_name": %q, "start_time": %d, "user_id": "alice"%s}`, exp, name, start, extra)
	id := res["run"].(map[string]any)["info"].(map[string]any)["run_id"].(string)
	f.runs[name] = id
	return id
}

// seed creates:
//
//	experiment 1 "churn": runs baseline (finished, 1m30.5s, NaN metric,
//	  dataset input, artifacts), candidate (finished, 750ms, ±Inf metrics)
//	  and wip (running, nothing logged);
//	experiment 2 "vision": deleted;
//	experiment 3 "sweep": runs trial-01 … trial-07 with metric score.
func seed(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, url: newServer(t).URL, runs: map[string]string{}}
	f.post("experiments/create", `{"name": "churn", "tags": [{"key": "team", "value": "ml"}]}`)
	f.post("experiments/create", `{"name": "vision"}`)
	f.post("experiments/delete", `{"experiment_id": "2"}`)
	f.post("experiments/create", `{"name": "sweep"}`)

	base := f.createRun("1", "baseline", t0, `, "tags": [{"key": "mlflow.source.name", "value": "train.py"}, {"key": "team", "value": "ml"}]`)
	f.post("runs/log-batch", `{"run_id": %q,
		"metrics": [{"key": "rmse", "value": 0.5, "timestamp": %d, "step": 0},
		            {"key": "rmse", "value": 0.3, "timestamp": %d, "step": 1},
		            {"key": "auc", "value": NaN, "timestamp": %d, "step": 1}],
		"params": [{"key": "lr", "value": "0.01"}, {"key": "model", "value": "xgb"}, {"key": "notes", "value": ""}],
		"tags": [{"key": "mlflow.note.content", "value": "First try\nwith defaults"}]}`,
		base, t0+1000, t0+2000, t0+2000)
	f.post("runs/log-inputs", `{"run_id": %q, "datasets": [{
		"tags": [{"key": "mlflow.data.context", "value": "training"}],
		"dataset": {"name": "churn-train", "digest": "3f2a9c", "source_type": "local",
		            "source": "{\"uri\": \"/data/churn.csv\"}", "schema": "", "profile": ""}}]}`, base)
	f.post("runs/update", `{"run_id": %q, "status": "FINISHED", "end_time": %d}`, base, t0+90500)
	rel := "1/" + base + "/artifacts/"
	f.api(http.MethodPut, "/api/2.0/mlflow-artifacts/artifacts/"+rel+"model.txt", "weights\n")
	f.api(http.MethodPut, "/api/2.0/mlflow-artifacts/artifacts/"+rel+"plots/loss.csv", strings.Repeat("1,0.5\n", 400))

	cand := f.createRun("1", "candidate", t0+3600000, "")
	f.post("runs/log-batch", `{"run_id": %q,
		"metrics": [{"key": "rmse", "value": 0.2123456789, "timestamp": %d, "step": 0},
		            {"key": "auc", "value": Infinity, "timestamp": %d, "step": 0},
		            {"key": "loss", "value": -Infinity, "timestamp": %d, "step": 0}],
		"params": [{"key": "lr", "value": "0.1"}, {"key": "model", "value": "lgbm"}]}`,
		cand, t0+3600100, t0+3600100, t0+3600100)
	f.post("runs/update", `{"run_id": %q, "status": "FINISHED", "end_time": %d}`, cand, t0+3600750)

	f.createRun("1", "wip", t0+7200000, "")

	for i := 1; i <= 7; i++ {
		id := f.createRun("3", fmt.Sprintf("trial-%02d", i), t0+int64(i)*60000, "")
		f.post("runs/log-metric", `{"run_id": %q, "key": "score", "value": %d, "timestamp": %d}`, id, i*10, t0)
	}
	return f
}

// ferry runs cli.Main with FERRY_URL pointing at the fixture's server.
func (f *fixture) ferry(args ...string) (stdout, stderr string, code int) {
	return run(map[string]string{"FERRY_URL": f.url}, args...)
}

func run(env map[string]string, args ...string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	code = cli.Main(context.Background(), args, &out, &errb, func(k string) string { return env[k] })
	return out.String(), errb.String(), code
}

var otherTimes = regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ`)

// normalize replaces what varies between test runs with stand-ins of the
// same width, so that tables stay aligned: run ids become the run's name
// padded with '_', and timestamps the server chose (not on 2024-03-01)
// become a pattern.
func (f *fixture) normalize(s string) string {
	for name, id := range f.runs {
		s = strings.ReplaceAll(s, id, name+strings.Repeat("_", len(id)-len(name)))
	}
	s = otherTimes.ReplaceAllStringFunc(s, func(ts string) string {
		if strings.HasPrefix(ts, "2024-03-01 ") {
			return ts
		}
		return "YYYY-MM-DD hh:mm:ssZ"
	})
	return strings.ReplaceAll(s, f.url, "SERVER")
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it)\n--- got:\n%s\n--- want:\n%s", path, got, want)
	}
}

func TestGolden(t *testing.T) {
	f := seed(t)
	for _, tc := range []struct {
		name string
		args []string
	}{
		// Experiments created within one millisecond have no stable
		// default order, so these name one.
		{"experiments_list", []string{"experiments", "list", "--order-by", "name"}},
		{"experiments_list_all", []string{"experiments", "list", "--view", "all", "--order-by", "experiment_id DESC"}},
		{"experiments_list_deleted_filter", []string{"experiments", "ls", "--view=deleted", "--filter", "name LIKE 'vis%'"}},
		{"runs_list", []string{"runs", "list", "--experiment", "churn"}},
		{"runs_list_filter", []string{"runs", "list", "--experiment", "churn", "--filter", "metrics.rmse < 0.4 and params.model != 'x'", "--order-by", "metrics.rmse"}},
		{"runs_list_columns", []string{"runs", "list", "--experiment", "1", "--columns", "metrics.auc,metrics.loss", "--columns", "tags.team", "--order-by", "attributes.start_time ASC"}},
		{"runs_list_sweep_paged", []string{"runs", "list", "--experiment", "sweep", "--order-by", "metrics.score DESC", "--max", "0"}},
		{"runs_list_empty", []string{"runs", "list", "--experiment", "churn", "--filter", "metrics.rmse > 100"}},
		{"runs_show", []string{"runs", "show", "RUN:baseline"}},
		{"runs_show_all", []string{"runs", "show", "--all", "RUN:candidate"}},
		{"runs_show_running", []string{"runs", "show", "RUN:wip"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer cli.SetPageSize(3)() // exercise page tokens with few objects
			args := make([]string, len(tc.args))
			for i, a := range tc.args {
				if name, ok := strings.CutPrefix(a, "RUN:"); ok {
					a = f.runs[name]
				}
				args[i] = a
			}
			stdout, stderr, code := f.ferry(args...)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr:\n%s", code, stderr)
			}
			golden(t, tc.name, f.normalize(stdout))
		})
	}
}

func TestMaxAndPaging(t *testing.T) {
	f := seed(t)
	defer cli.SetPageSize(2)()
	stdout, stderr, code := f.ferry("runs", "list", "--experiment", "sweep", "--max", "5", "--order-by", "metrics.score")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n")[1:] {
		got = append(got, strings.Fields(line)[1])
	}
	if want := "trial-01 trial-02 trial-03 trial-04 trial-05"; strings.Join(got, " ") != want {
		t.Errorf("runs = %v, want %s\n%s", got, want, stdout)
	}
	if !strings.Contains(stderr, "showing the first 5 runs; there are more") {
		t.Errorf("stderr does not say that more runs exist: %q", stderr)
	}

	// Exactly as many as exist: no note.
	_, stderr, _ = f.ferry("runs", "list", "--experiment", "sweep", "--max", "7")
	if stderr != "" {
		t.Errorf("stderr = %q, want nothing", stderr)
	}
	stdout, stderr, _ = f.ferry("experiments", "list", "--max", "1")
	if n := strings.Count(stdout, "\n"); n != 2 || !strings.Contains(stderr, "showing the first 1 experiments") {
		t.Errorf("experiments list --max 1: %d lines, stderr %q:\n%s", n, stderr, stdout)
	}
}

func TestJSON(t *testing.T) {
	f := seed(t)
	defer cli.SetPageSize(2)()

	t.Run("experiments", func(t *testing.T) {
		stdout, _, code := f.ferry("experiments", "list", "--json", "--view", "all")
		var out struct {
			Experiments []struct {
				ID    string `json:"experiment_id"`
				Name  string `json:"name"`
				Stage string `json:"lifecycle_stage"`
			} `json:"experiments"`
		}
		mustJSON(t, code, stdout, &out)
		names := map[string]string{}
		for _, e := range out.Experiments {
			names[e.Name] = e.Stage
		}
		if len(out.Experiments) != 4 || names["vision"] != "deleted" || names["churn"] != "active" || names["Default"] != "active" {
			t.Errorf("experiments = %+v", out.Experiments)
		}
	})

	t.Run("runs list, globals before the subcommand", func(t *testing.T) {
		stdout, _, code := f.ferry("runs", "--json", "list", "--experiment", "sweep")
		var out struct {
			Runs []struct {
				Info struct {
					RunID string `json:"run_id"`
				} `json:"info"`
			} `json:"runs"`
		}
		mustJSON(t, code, stdout, &out)
		if len(out.Runs) != 7 {
			t.Errorf("%d runs, want 7 (paged by 2)", len(out.Runs))
		}
		stdout, _, code = f.ferry("runs", "list", "--experiment", "churn", "--filter", "metrics.rmse > 100", "--json")
		mustJSON(t, code, stdout, &out)
		if !strings.Contains(stdout, `"runs": []`) {
			t.Errorf("empty result is not an empty list:\n%s", stdout)
		}
	})

	t.Run("runs show", func(t *testing.T) {
		stdout, _, code := f.ferry("runs", "show", f.runs["baseline"], "--json")
		var out struct {
			Run struct {
				Info struct {
					RunID string `json:"run_id"`
				} `json:"info"`
				Data struct {
					Metrics []struct {
						Key   string `json:"key"`
						Value any    `json:"value"`
					} `json:"metrics"`
				} `json:"data"`
				Inputs struct {
					DatasetInputs []any `json:"dataset_inputs"`
				} `json:"inputs"`
			} `json:"run"`
			Artifacts struct {
				RootURI string `json:"root_uri"`
				Files   []struct {
					Path     string `json:"path"`
					IsDir    bool   `json:"is_dir"`
					FileSize int64  `json:"file_size"`
				} `json:"files"`
			} `json:"artifacts"`
		}
		mustJSON(t, code, stdout, &out)
		if out.Run.Info.RunID != f.runs["baseline"] {
			t.Errorf("run_id = %q", out.Run.Info.RunID)
		}
		values := map[string]any{}
		for _, m := range out.Run.Data.Metrics {
			values[m.Key] = m.Value
		}
		if values["auc"] != "NaN" || values["rmse"] != 0.3 {
			t.Errorf("metrics = %v, want auc \"NaN\" and rmse 0.3", values)
		}
		if len(out.Run.Inputs.DatasetInputs) != 1 {
			t.Errorf("dataset_inputs = %v", out.Run.Inputs.DatasetInputs)
		}
		var files []string
		for _, fi := range out.Artifacts.Files {
			files = append(files, fmt.Sprintf("%s:%v:%d", fi.Path, fi.IsDir, fi.FileSize))
		}
		if want := "model.txt:false:8 plots:true:0 plots/loss.csv:false:2400"; strings.Join(files, " ") != want {
			t.Errorf("files = %v, want %s", files, want)
		}
		if !strings.HasSuffix(out.Artifacts.RootURI, f.runs["baseline"]+"/artifacts") {
			t.Errorf("root_uri = %q", out.Artifacts.RootURI)
		}
	})
}

func mustJSON(t *testing.T, code int, stdout string, v any) {
	t.Helper()
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if err := json.Unmarshal([]byte(stdout), v); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, stdout)
	}
}

func TestErrors(t *testing.T) {
	f := seed(t)
	unknownRun := strings.Repeat("f", 32)

	// A server that is not there: start one and close it, keeping its URL.
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()

	checkErrors(t, f.url, []errorCase{
		{name: "unknown run", args: []string{"runs", "show", unknownRun}, code: 1,
			stderr: []string{"ferry: RESOURCE_DOES_NOT_EXIST: ", unknownRun}},
		{name: "unknown experiment", args: []string{"runs", "list", "--experiment", "nope"}, code: 1,
			stderr: []string{"ferry: RESOURCE_DOES_NOT_EXIST: ", `"nope"`}},
		{name: "bad filter", args: []string{"runs", "list", "--experiment", "churn", "--filter", "metrics.rmse <<< 1"}, code: 1,
			stderr: []string{"ferry: INVALID_PARAMETER_VALUE: "}},
		{name: "server down", env: map[string]string{"FERRY_URL": downURL}, args: []string{"experiments", "list"}, code: 1,
			stderr: []string{"cannot reach " + downURL + ": connection refused", "is `ferry server` running at " + downURL + "? set --server or FERRY_URL"}},
		{name: "--server beats FERRY_URL", env: map[string]string{"FERRY_URL": f.url}, args: []string{"experiments", "list", "--server", downURL}, code: 1,
			stderr: []string{"running at " + downURL}},
		{name: "not an MLflow server", env: map[string]string{}, args: []string{"runs", "show", "abc", "--server", f.url + "/elsewhere"}, code: 1,
			stderr: []string{"ferry: ENDPOINT_NOT_FOUND"}},
		{name: "unknown group", args: []string{"frobnicate"}, code: 2, stderr: []string{`unknown command "frobnicate"`, "Usage:"}},
		{name: "unknown subcommand", args: []string{"runs", "frob"}, code: 2, stderr: []string{`unknown command "runs frob"`, "ferry runs show RUN_ID"}},
		{name: "missing subcommand", args: []string{"experiments"}, code: 2, stderr: []string{"missing subcommand", "ferry experiments list"}},
		{name: "unknown flag", args: []string{"runs", "list", "--experiment", "churn", "--bogus"}, code: 2,
			stderr: []string{"unknown flag --bogus", "Usage: ferry runs list"}},
		{name: "missing --experiment", args: []string{"runs", "list"}, code: 2, stderr: []string{"--experiment is required"}},
		{name: "positional experiment", args: []string{"runs", "list", "churn"}, code: 2, stderr: []string{"--experiment churn"}},
		{name: "bad view", args: []string{"experiments", "list", "--view", "sideways"}, code: 2, stderr: []string{"--view must be active, deleted or all"}},
		{name: "bad max", args: []string{"runs", "list", "--experiment", "churn", "--max", "-1"}, code: 2, stderr: []string{"--max must be"}},
		{name: "max not a number", args: []string{"experiments", "list", "--max", "many"}, code: 2, stderr: []string{`invalid value "many" for flag --max`}},
		{name: "flag without value", args: []string{"runs", "list", "--experiment"}, code: 2, stderr: []string{"flag --experiment needs a value"}},
		{name: "unknown flag before subcommand", args: []string{"runs", "--verbose", "list"}, code: 2, stderr: []string{"unknown flag --verbose", "ferry runs list --experiment"}},
		{name: "bad column", args: []string{"runs", "list", "--experiment", "churn", "--columns", "rmse"}, code: 2, stderr: []string{`"rmse" is not metrics.KEY`}},
		{name: "missing run id", args: []string{"runs", "show"}, code: 2, stderr: []string{"missing RUN_ID", "Usage: ferry runs show"}},
		{name: "two run ids", args: []string{"runs", "show", "a", "b"}, code: 2, stderr: []string{`unexpected argument "b"`}},
		{name: "bad server URL", args: []string{"experiments", "list", "--server", "ftp://host"}, code: 2, stderr: []string{"--server: expected a server URL"}},
		{name: "no args", args: nil, code: 2, stderr: []string{"Usage:"}},
	})
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{
		{"runs", "--help"},
		{"runs", "list", "-h"},
		{"runs", "show", "--help"},
		{"experiments", "list", "--help"},
	} {
		stdout, stderr, code := run(nil, args...)
		if code != 0 || stderr != "" || !strings.Contains(stdout, "Usage") || !strings.Contains(stdout, "--server URL") {
			t.Errorf("%v: exit %d, stderr %q, stdout:\n%s", args, code, stderr, stdout)
		}
	}
}

// errorCase is a command line that must fail: its exit code, what stderr
// says, and nothing on stdout.
type errorCase struct {
	name   string
	env    map[string]string // nil: FERRY_URL is the server under test
	args   []string
	code   int
	stderr []string // substrings
}

func checkErrors(t *testing.T, url string, cases []errorCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := tc.env
			if env == nil {
				env = map[string]string{"FERRY_URL": url}
			}
			stdout, stderr, code := run(env, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			for _, s := range tc.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr does not contain %q:\n%s", s, stderr)
				}
			}
		})
	}
}
