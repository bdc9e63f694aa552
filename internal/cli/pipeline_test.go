package cli_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// ferry pipeline run prints each step as it starts and ends, restores
// unchanged steps from the run cache on the next run, and exits 1 with
// the failing step's error.
func TestPipelineRun(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"data.txt": "hello\n",
		"p.yaml": `name: demo
params: {greeting: {default: hi}}
steps:
  - name: prep
    run: tr a-z A-Z < data.txt > "$FERRY_OUTPUTS/up.txt"
    inputs: [data.txt]
    outputs: [up.txt]
  - name: greet
    run: echo ${{ params.greeting }} > "$FERRY_OUTPUTS/g.txt"; cat ${{ steps.prep.outputs.up.txt }} >> "$FERRY_OUTPUTS/g.txt"
    outputs: [g.txt]
`,
		"bad.yaml": "name: bad\nsteps:\n  - {name: a, run: 'echo no >&2; exit 5'}\n  - {name: b, needs: [a], run: echo}\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	runDir := filepath.Join(dir, "run1")
	out, errOut, code := run(nil, "pipeline", "run", filepath.Join(dir, "p.yaml"), "--run-dir", runDir)
	if code != 0 || !regexp.MustCompile(`prep +succeeded in`).MatchString(out) || !strings.Contains(out, "pipeline demo succeeded") {
		t.Fatalf("first run: %d\n%s%s", code, out, errOut)
	}
	if b, _ := os.ReadFile(filepath.Join(runDir, "outputs", "greet", "g.txt")); string(b) != "hi\nHELLO\n" {
		t.Fatalf("output %q", b)
	}
	out, _, code = run(nil, "pipeline", "run", filepath.Join(dir, "p.yaml"), "--param", "greeting=yo")
	if code != 0 || !regexp.MustCompile(`prep +cached`).MatchString(out) || !regexp.MustCompile(`greet +succeeded`).MatchString(out) {
		t.Fatalf("second run: %d\n%s", code, out)
	}
	out, _, code = run(nil, "pipeline", "run", filepath.Join(dir, "bad.yaml"))
	if code != 1 || !strings.Contains(out, "a                    failed in") || !strings.Contains(out, "exit status 5: no") ||
		!strings.Contains(out, "upstream_failed") {
		t.Fatalf("failing run: %d\n%s", code, out)
	}
	_, errOut, code = run(nil, "pipeline", "run", filepath.Join(dir, "p.yaml"), "--param", "nope=1")
	if code != 1 || !strings.Contains(errOut, `unknown parameter "nope"`) {
		t.Fatalf("unknown parameter: %d %s", code, errOut)
	}
}
