package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"unknown key", "name: p\nsteps:\n  - name: a\n    rn: echo\n", []string{"line 4", "field rn not found"}},
		{"cycle", `name: p
steps:
  - {name: a, run: echo, needs: [c]}
  - {name: b, run: echo, needs: [a]}
  - {name: c, run: echo, needs: [b]}
`, []string{"cycle: a -> c -> b -> a"}},
		{"unknown need", "name: p\nsteps:\n  - {name: a, run: echo, needs: [zz]}\n", []string{"line 3", `needs unknown step "zz"`}},
		{"unknown param", "name: p\nsteps:\n  - {name: a, run: 'echo ${{ params.nope }}'}\n", []string{`unknown parameter "nope"`}},
		{"unknown output", `name: p
steps:
  - {name: a, run: echo, outputs: [x.csv]}
  - {name: b, run: 'cat ${{ steps.a.outputs.y.csv }}'}
`, []string{`line 4`, `step "a" declares no output "y.csv"`}},
		{"both run and uses", "name: p\nsteps:\n  - {name: a, run: echo, uses: train}\n", []string{"exactly one of run and uses"}},
		{"unknown op", "name: p\nsteps:\n  - {name: a, uses: magic}\n", []string{`unknown operation "magic" (known: noop)`}},
		{"duplicate", "name: p\nsteps:\n  - {name: a, run: echo}\n  - {name: a, run: echo}\n", []string{`step "a" is defined twice`}},
		{"bad when", "name: p\nsteps:\n  - {name: a, run: echo, when: 'params.x =='}\n", []string{"when:"}},
		{"param type", "name: p\nparams: {d: {type: int, default: six}}\nsteps:\n  - {name: a, run: echo}\n", []string{`"six" is not an integer`}},
		{"output path", "name: p\nsteps:\n  - {name: a, run: echo, outputs: [../x]}\n", []string{`output "../x"`}},
		{"input path", "name: p\nsteps:\n  - {name: a, run: echo, inputs: [/etc/passwd]}\n", []string{`input "/etc/passwd"`}},
		{"no steps", "name: p\n", []string{"no steps"}},
		{"expression outside when", "name: p\nparams: {x: {}}\nsteps:\n  - {name: a, run: 'echo ${{ params.x == 1 }}'}\n", []string{"expressions are allowed in when only"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.src), Ops{"noop": OpFunc(func(context.Context, OpCall) error { return nil })})
			if err == nil {
				t.Fatal("parsed")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestExpr(t *testing.T) {
	env := func(ref string) (any, error) {
		switch ref {
		case "params.learner":
			return "gbdt", nil
		case "params.depth":
			return int64(6), nil
		case "steps.a.status":
			return StatusSucceeded, nil
		}
		return nil, errors.New("unknown " + ref)
	}
	for _, tc := range []struct {
		src  string
		want bool
	}{
		{"params.learner == 'gbdt'", true}, {`params.learner != "gbdt"`, false}, {"params.depth > 5", true},
		{"params.depth <= 5 || params.learner == 'gbdt'", true}, {"!(params.depth >= 6) && true", false},
		{"steps.a.status == 'succeeded'", true}, {"params.depth == 6.0", true}, {"false", false},
	} {
		e, err := parseExpr(tc.src)
		if err != nil {
			t.Fatalf("%s: %v", tc.src, err)
		}
		v, err := e.eval(env)
		if err != nil || truthy(v) != tc.want {
			t.Errorf("%s = %v (%v), want %v", tc.src, v, err, tc.want)
		}
	}
	for _, bad := range []string{"params.x ==", "(a", "'open", "a @ b", "a == == b"} {
		if _, err := parseExpr(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// run parses src in a fresh directory with files, and runs it.
func run(t *testing.T, dir string, src string, cache *Cache, given map[string]string) (*Result, *Executor) {
	t.Helper()
	sp, err := Parse([]byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	params, err := sp.ResolveParams(given)
	if err != nil {
		t.Fatal(err)
	}
	x := &Executor{Workdir: dir, RunDir: t.TempDir(), Cache: cache,
		Sleep: func(context.Context, time.Duration) error { return nil }}
	res, err := x.Run(context.Background(), sp, params)
	if err != nil {
		t.Fatal(err)
	}
	return res, x
}

func statuses(res *Result) map[string]string {
	m := map[string]string{}
	for _, s := range res.Steps {
		m[s.Name] = s.Status
	}
	return m
}

const dagSrc = `name: dag
params:
  scale: {type: int, default: 2}
steps:
  - name: prepare
    run: tr a-z A-Z < data.txt > "$FERRY_OUTPUTS/upper.txt"
    inputs: [data.txt]
    outputs: [upper.txt]
  - name: other
    run: echo other > "$FERRY_OUTPUTS/o.txt"; echo ran >> ran.log
    outputs: [o.txt]
  - name: train
    run: 'cat ${{ steps.prepare.outputs.upper.txt }} > "$FERRY_OUTPUTS/model.txt"; echo scale=${{ params.scale }} >> "$FERRY_OUTPUTS/model.txt"; echo ran >> ran.log'
    outputs: [model.txt]
  - name: report
    needs: [train, other]
    when: ${{ params.scale > 1 }}
    run: wc -l < ${{ steps.train.outputs.model.txt }} > "$FERRY_OUTPUTS/lines.txt"
    outputs: [lines.txt]
`

// A second run skips every unchanged step; a changed input re-runs only
// what depends on it; a changed parameter re-runs what reads it.
func TestRunCache(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "data.txt"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cache := &Cache{Dir: t.TempDir()}
	res, x := run(t, dir, dagSrc, cache, nil)
	if res.Status != StatusSucceeded {
		t.Fatalf("%+v", res)
	}
	model, _ := os.ReadFile(filepath.Join(x.RunDir, "outputs", "train", "model.txt"))
	if string(model) != "HELLO\nscale=2\n" {
		t.Fatalf("model %q", model)
	}
	want := map[string]string{"prepare": "succeeded", "other": "succeeded", "train": "succeeded", "report": "succeeded"}
	if got := statuses(res); !mapsEqual(got, want) {
		t.Fatalf("first run %v", got)
	}
	res, x = run(t, dir, dagSrc, cache, nil)
	for _, s := range res.Steps {
		if s.Status != StatusCached {
			t.Fatalf("second run: %s %s", s.Name, s.Status)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(x.RunDir, "outputs", "report", "lines.txt")); strings.TrimSpace(string(b)) != "2" {
		t.Fatalf("restored output %q", b)
	}
	// A changed input: prepare, train (reads prepare's output) and report
	// run; other is restored.
	_ = os.WriteFile(filepath.Join(dir, "data.txt"), []byte("world\n"), 0o644)
	res, _ = run(t, dir, dagSrc, cache, nil)
	want = map[string]string{"prepare": "succeeded", "other": "cached", "train": "succeeded", "report": "succeeded"}
	if got := statuses(res); !mapsEqual(got, want) {
		t.Fatalf("after the input changed: %v", got)
	}
	// An upstream step that reruns with the same output leaves the
	// dependents cached (keys use content hashes, not paths).
	_ = os.WriteFile(filepath.Join(dir, "data.txt"), []byte("WORLD\n"), 0o644)
	res, _ = run(t, dir, dagSrc, cache, nil)
	want = map[string]string{"prepare": "succeeded", "other": "cached", "train": "cached", "report": "cached"}
	if got := statuses(res); !mapsEqual(got, want) {
		t.Fatalf("same upstream output: %v", got)
	}
	// A changed parameter re-runs the step that reads it (and what reads
	// that step's changed output); a false when skips.
	res, _ = run(t, dir, dagSrc, cache, map[string]string{"scale": "1"})
	want = map[string]string{"prepare": "cached", "other": "cached", "train": "succeeded", "report": "skipped"}
	if got := statuses(res); !mapsEqual(got, want) {
		t.Fatalf("scale=1: %v", got)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestFailuresRetriesTimeouts(t *testing.T) {
	dir := t.TempDir()
	src := `name: f
steps:
  - name: flaky
    run: 'n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; [ $n -ge 3 ] || { echo "attempt $n failed" >&2; exit 7; }'
    retry: {limit: 2}
    cache: false
  - name: broken
    run: echo "the config is missing" >&2; exit 3
  - name: after_broken
    needs: [broken]
    run: echo never
  - name: slow
    run: sleep 30
    timeout: 200ms
  - name: no_output
    run: "true"
    outputs: [model.json]
  - name: independent
    run: echo fine
`
	start := time.Now()
	res, _ := run(t, dir, src, nil, nil)
	if time.Since(start) > 20*time.Second {
		t.Fatal("the timeout did not stop the step")
	}
	byName := map[string]StepResult{}
	for _, s := range res.Steps {
		byName[s.Name] = s
	}
	if res.Status != StatusFailed {
		t.Fatalf("run status %s", res.Status)
	}
	if s := byName["flaky"]; s.Status != StatusSucceeded || s.Attempts != 3 {
		t.Fatalf("flaky: %+v", s)
	}
	if s := byName["broken"]; s.Status != StatusFailed || s.ExitCode != 3 || !strings.Contains(s.Error, "exit status 3: the config is missing") {
		t.Fatalf("broken: %+v", s)
	}
	if s := byName["after_broken"]; s.Status != StatusUpstreamFailed {
		t.Fatalf("after_broken: %+v", s)
	}
	if s := byName["slow"]; s.Status != StatusFailed || s.Error != "timed out after 200ms" {
		t.Fatalf("slow: %+v", s)
	}
	if s := byName["no_output"]; s.Status != StatusFailed || !strings.Contains(s.Error, `did not write its output "model.json"`) {
		t.Fatalf("no_output: %+v", s)
	}
	if s := byName["independent"]; s.Status != StatusSucceeded {
		t.Fatalf("independent: %+v", s)
	}
	if b, _ := os.ReadFile(byName["flaky"].Log); !strings.Contains(string(b), "attempt 2 failed") || !strings.Contains(string(b), "--- attempt 3") {
		t.Fatalf("flaky log: %s", b)
	}
}

// Steps run in parallel up to the concurrency, never beyond.
func TestConcurrencyAndOps(t *testing.T) {
	var running, peak atomic.Int32
	var mu sync.Mutex
	seen := map[string]string{}
	op := OpFunc(func(ctx context.Context, c OpCall) error {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(50 * time.Millisecond)
		mu.Lock()
		seen[c.Step] = c.With["msg"]
		mu.Unlock()
		return os.WriteFile(filepath.Join(c.Outputs, "out.txt"), []byte(c.With["msg"]), 0o644)
	})
	src := `name: c
concurrency: 2
params: {who: {default: world}}
steps:
  - {name: a, uses: say, with: {msg: "hello ${{ params.who }}"}, outputs: [out.txt]}
  - {name: b, uses: say, with: {msg: b}, outputs: [out.txt]}
  - {name: c, uses: say, with: {msg: c}, outputs: [out.txt]}
  - {name: d, uses: say, with: {msg: d}, outputs: [out.txt]}
  - {name: e, uses: say, with: {msg: "${{ steps.a.outputs.out.txt }}"}, outputs: [out.txt]}
`
	sp, err := Parse([]byte(src), Ops{"say": op})
	if err != nil {
		t.Fatal(err)
	}
	params, _ := sp.ResolveParams(nil)
	x := &Executor{Ops: Ops{"say": op}, Workdir: t.TempDir(), RunDir: t.TempDir()}
	res, err := x.Run(context.Background(), sp, params)
	if err != nil || res.Status != StatusSucceeded {
		t.Fatalf("%v %+v", err, res)
	}
	if p := peak.Load(); p != 2 {
		t.Fatalf("peak concurrency %d, want 2", p)
	}
	if seen["a"] != "hello world" || seen["e"] != filepath.Join(x.RunDir, "outputs", "a", "out.txt") {
		t.Fatalf("with values: %v", seen)
	}
}

func TestResolveParams(t *testing.T) {
	sp, err := Parse([]byte(`name: p
params:
  depth: {type: int, default: 6}
  rate: {type: float, required: true}
  on: {type: bool}
steps:
  - {name: a, run: echo}
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := sp.ResolveParams(map[string]string{"rate": "0.5"})
	if err != nil || got["depth"] != int64(6) || got["rate"] != 0.5 || got["on"] != false {
		t.Fatalf("%v %v", got, err)
	}
	for _, given := range []map[string]string{nil, {"rate": "x"}, {"rate": "1", "nope": "1"}, {"rate": "1", "depth": "1.5"}} {
		if _, err := sp.ResolveParams(given); err == nil {
			t.Errorf("%v accepted", given)
		}
	}
}

// References in run: are shell-quoted: a parameter cannot inject a command.
func TestRunQuotesReferences(t *testing.T) {
	dir := t.TempDir()
	src := "name: q\nparams: {msg: {}}\nsteps:\n  - {name: a, run: 'echo ${{ params.msg }} > \"$FERRY_OUTPUTS/m.txt\"', outputs: [m.txt]}\n"
	res, x := run(t, dir, src, nil, map[string]string{"msg": "it's $(touch pwned); `id`"})
	if res.Status != StatusSucceeded {
		t.Fatalf("%+v", res)
	}
	b, _ := os.ReadFile(filepath.Join(x.RunDir, "outputs", "a", "m.txt"))
	if string(b) != "it's $(touch pwned); `id`\n" {
		t.Fatalf("got %q", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
		t.Fatal("the parameter ran a command")
	}
}

func FuzzParse(f *testing.F) {
	f.Add(dagSrc)
	f.Add("name: p\nsteps:\n  - {name: a, run: echo, when: '!(params.x == 1) || steps.b.status'}\n")
	f.Fuzz(func(t *testing.T, src string) {
		sp, err := Parse([]byte(src), nil)
		if err != nil {
			return
		}
		if len(sp.Order) != len(sp.Steps) {
			t.Fatalf("order %v for %d steps", sp.Order, len(sp.Steps))
		}
		pos := map[int]int{}
		for k, i := range sp.Order {
			pos[i] = k
		}
		for i, s := range sp.Steps {
			for _, d := range s.deps {
				if pos[d] >= pos[i] {
					t.Fatalf("step %d runs before its dependency %d", i, d)
				}
			}
		}
	})
}
