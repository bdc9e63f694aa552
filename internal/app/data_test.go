package app_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// TestDatasets: ferry data add stores content-addressed versions checked
// by the server; show, list, diff, validate and suggest read them back.
func TestDatasets(t *testing.T) {
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			dir := t.TempDir()
			db, _ := e.setup(t, dir)
			s := &testServer{t: t, dir: dir, db: db}
			s.start()
			defer s.stop()
			testDatasets(t, s)
		})
	}
}

func testDatasets(t *testing.T, s *testServer) {
	work := t.TempDir()
	src, err := os.ReadFile("../../examples/breast-cancer/data/cancer.csv")
	if err != nil {
		t.Fatal(err)
	}
	v1 := filepath.Join(work, "cancer.csv")
	_ = os.WriteFile(v1, src, 0o644)
	code, out := runCLI(s.srv.URL, "data", "add", "cancer", v1)
	if code != 0 || !strings.Contains(out, "Added version 1 of dataset cancer: 569 rows, 31 columns") {
		t.Fatalf("data add: %d %s", code, out)
	}
	if code, out = runCLI(s.srv.URL, "data", "add", "cancer", v1); code != 0 || !strings.Contains(out, "Already there: version 1") {
		t.Fatalf("the same bytes again: %d %s", code, out)
	}
	// A shifted copy: the radius tripled in the last 300 rows.
	lines := strings.Split(strings.TrimSpace(string(src)), "\n")
	for i := len(lines) - 300; i < len(lines); i++ {
		cells := strings.Split(lines[i], ",")
		r, _ := strconv.ParseFloat(cells[0], 64)
		cells[0] = strconv.FormatFloat(3*r, 'g', -1, 64)
		lines[i] = strings.Join(cells, ",")
	}
	v2 := filepath.Join(work, "cancer2.csv")
	_ = os.WriteFile(v2, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	if code, out = runCLI(s.srv.URL, "data", "add", "cancer", v2); code != 0 || !strings.Contains(out, "Added version 2") {
		t.Fatalf("second version: %d %s", code, out)
	}
	if code, out = runCLI(s.srv.URL, "data", "list", "cancer"); code != 0 || strings.Count(out, "cancer ") != 2 {
		t.Fatalf("data list: %d %s", code, out)
	}
	if code, out = runCLI(s.srv.URL, "data", "show", "cancer@1"); code != 0 || !strings.Contains(out, "mean_radius") || !strings.Contains(out, "569") {
		t.Fatalf("data show: %d %s", code, out)
	}
	code, out = runCLI(s.srv.URL, "data", "diff", "cancer@1", "cancer@2")
	if code != 0 || !strings.Contains(out, "mean_radius") {
		t.Fatalf("data diff: %d %s", code, out)
	}
	code, out = runCLI(s.srv.URL, "data", "diff", "cancer@1", "cancer@2", "--json")
	var diff struct {
		Columns []struct {
			Name    string  `json:"name"`
			PSI     float64 `json:"psi"`
			Flagged bool    `json:"flagged"`
		} `json:"columns"`
	}
	if err := json.Unmarshal([]byte(out), &diff); code != 0 || err != nil {
		t.Fatalf("data diff --json: %d %v %s", code, err, out)
	}
	for _, c := range diff.Columns {
		if (c.Name == "mean_radius") != c.Flagged || (c.Name == "mean_radius" && c.PSI < 0.2) {
			t.Fatalf("diff column %+v", c)
		}
	}
	suite := "../../examples/breast-cancer/suite.yaml"
	if code, out = runCLI(s.srv.URL, "data", "validate", "cancer@1", suite); code != 0 || !strings.Contains(out, "suite cancer: passed") && !strings.Contains(out, "PASSED") && !strings.Contains(strings.ToLower(out), "passed") {
		t.Fatalf("validate v1: %d %s", code, out)
	}
	if code, out = runCLI(s.srv.URL, "data", "validate", "cancer@2", suite); code != 1 || !strings.Contains(out, "FAIL") {
		t.Fatalf("validate v2 (radius up to 280 breaks between 0 and 50): %d %s", code, out)
	}
	code, out = runCLI(s.srv.URL, "data", "suggest", "cancer")
	if code != 0 || !strings.Contains(out, "mean_radius") {
		t.Fatalf("suggest: %d %s", code, out)
	}
	inferred := filepath.Join(work, "inferred.yaml")
	_ = os.WriteFile(inferred, []byte(out), 0o644)
	if code, out = runCLI(s.srv.URL, "data", "validate", "cancer@2", inferred); code != 0 {
		t.Fatalf("the suite inferred from version 2 fails on it: %d %s", code, out)
	}
	// The server checks the bytes against the digest.
	var v struct {
		Version struct {
			Source  string          `json:"source"`
			Profile json.RawMessage `json:"profile"`
		} `json:"version"`
	}
	b, _ := json.Marshal(mustOK(t, call(t, s.srv, "GET", "/api/v1/datasets/cancer/versions/2", nil)))
	_ = json.Unmarshal(b, &v)
	r := call(t, s.srv, "POST", "/api/v1/datasets/other/versions", map[string]any{"source": v.Version.Source,
		"profile": json.RawMessage(strings.Replace(string(v.Version.Profile), `"size":`, `"size":1`, 1))})
	if r.status != 400 || !strings.Contains(r.body["message"].(string), "is not the one profiled") {
		t.Fatalf("a mismatched profile: %d %v", r.status, r.body)
	}
	for _, bad := range []string{"/api/v1/datasets/cancer/versions/0", "/api/v1/datasets/cancer/versions/x"} {
		if r := call(t, s.srv, "GET", bad, nil); r.status != 400 {
			t.Errorf("%s: %d", bad, r.status)
		}
	}
	if r := call(t, s.srv, "GET", "/api/v1/datasets/cancer/versions/9", nil); r.status != 404 {
		t.Errorf("missing version: %d", r.status)
	}
}

// A pipeline that loads a registered dataset records it as the input of
// its runs, so lineage leads from the dataset version to the model
// version; a new version of the dataset re-runs the load and what
// depends on it.
func TestLoadDatasetPipeline(t *testing.T) {
	s := &testServer{t: t, dir: t.TempDir()}
	s.start()
	defer s.stop()
	work := t.TempDir()
	src, _ := os.ReadFile("../../examples/breast-cancer/data/cancer.csv")
	_ = os.WriteFile(filepath.Join(work, "cancer.csv"), src, 0o644)
	if code, out := runCLI(s.srv.URL, "data", "add", "cancer", filepath.Join(work, "cancer.csv")); code != 0 {
		t.Fatalf("data add: %s", out)
	}
	file := filepath.Join(work, "p.yaml")
	_ = os.WriteFile(file, []byte(`name: load
steps:
  - name: load
    uses: load
    with: {dataset: cancer@latest}
    outputs: [data.csv, dataset.json]
  - name: search
    uses: search
    with: {data: "${{ steps.load.outputs.data.csv }}", dataset_file: "${{ steps.load.outputs.dataset.json }}",
           target: diagnosis, task: binary, grid: "max_depth=3;n_estimators=20"}
    outputs: [model.json, metrics.json, run_id.txt]
  - name: register
    uses: register
    with: {name: cancer, model: "${{ steps.search.outputs.model.json }}", run_id_file: "${{ steps.search.outputs.run_id.txt }}"}
    outputs: [version.txt]
`), 0o644)
	if code, out := runCLI(s.srv.URL, "pipeline", "run", file); code != 0 {
		t.Fatalf("pipeline: %s", out)
	}
	digest := mustOK(t, call(t, s.srv, "GET", "/api/v1/datasets/cancer/versions/latest", nil))["version"].(map[string]any)["digest"].(string)
	lin := get(t, s.srv.URL+"/api/v1/lineage?uri=models:/cancer/1")
	if !strings.Contains(lin, "datasets:/cancer@"+digest[:32]) {
		t.Fatalf("lineage of the model lacks the dataset %s: %s", digest[:32], lin)
	}
	if code, out := runCLI(s.srv.URL, "pipeline", "run", file); code != 0 || !strings.Contains(out, ": 3 cached;") {
		t.Fatalf("second run: %s", out)
	}
	lines := strings.Split(strings.TrimSpace(string(src)), "\n")
	_ = os.WriteFile(filepath.Join(work, "cancer.csv"), []byte(strings.Join(lines[:len(lines)-50], "\n")+"\n"), 0o644)
	if code, out := runCLI(s.srv.URL, "data", "add", "cancer", filepath.Join(work, "cancer.csv")); code != 0 || !strings.Contains(out, "version 2") {
		t.Fatalf("data add v2: %s", out)
	}
	if code, out := runCLI(s.srv.URL, "pipeline", "run", file); code != 0 || !strings.Contains(out, ": 3 succeeded;") {
		t.Fatalf("after a new dataset version: %s", out)
	}
}

type pqRow struct {
	X     float64 `parquet:"x"`
	Label string  `parquet:"label"`
}

// A Parquet dataset is versioned, profiled, validated and loaded into a
// pipeline like a CSV one.
func TestParquetDataset(t *testing.T) {
	s := &testServer{t: t, dir: t.TempDir()}
	s.start()
	defer s.stop()
	work := t.TempDir()
	var rows []pqRow
	for i := range 500 {
		rows = append(rows, pqRow{X: float64(i) / 10, Label: []string{"a", "b"}[i%2]})
	}
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[pqRow](&buf)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(work, "data.parquet")
	_ = os.WriteFile(file, buf.Bytes(), 0o644)
	if code, out := runCLI(s.srv.URL, "data", "add", "pq", file); code != 0 || !strings.Contains(out, "500 rows, 2 columns") {
		t.Fatalf("data add: %d %s", code, out)
	}
	v := mustOK(t, call(t, s.srv, "GET", "/api/v1/datasets/pq/versions/1", nil))["version"].(map[string]any)
	if v["format"] != "parquet" {
		t.Fatalf("version: %v", v)
	}
	code, out := runCLI(s.srv.URL, "data", "suggest", "pq")
	if code != 0 || !strings.Contains(out, "label") {
		t.Fatalf("suggest: %d %s", code, out)
	}
	suite := filepath.Join(work, "suite.yaml")
	_ = os.WriteFile(suite, []byte(out), 0o644)
	if code, out := runCLI(s.srv.URL, "data", "validate", "pq", suite); code != 0 {
		t.Fatalf("validate: %d %s", code, out)
	}
	p := filepath.Join(work, "p.yaml")
	_ = os.WriteFile(p, []byte(`name: pq
steps:
  - {name: load, uses: load, with: {dataset: pq}, outputs: [data.csv, dataset.json]}
  - {name: head, run: 'head -2 ${{ steps.load.outputs.data.csv }} > "$FERRY_OUTPUTS/head.txt"', outputs: [head.txt]}
`), 0o644)
	runDir := filepath.Join(work, "run")
	if code, out := runCLI(s.srv.URL, "pipeline", "run", p, "--run-dir", runDir); code != 0 {
		t.Fatalf("pipeline: %d %s", code, out)
	}
	if b, _ := os.ReadFile(filepath.Join(runDir, "outputs", "head", "head.txt")); string(b) != "x,label\n0,a\n" {
		t.Fatalf("loaded CSV starts %q", b)
	}
}
