package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/modelrt"
)

// sum2 is the signature of the test child's model: two features summed.
var sum2 = modelrt.Signature{Inputs: []modelrt.Feature{{Name: "a"}, {Name: "b"}}, Task: modelrt.Regression, Outputs: 1}

// fastTuning keeps restart delays short.
func fastTuning() *tuning {
	t := defaultTuning()
	t.poll, t.backoffMin, t.backoffMax = 20*time.Millisecond, 10*time.Millisecond, 40*time.Millisecond
	return &t
}

// childSpec runs the test binary as an external runtime in mode.
func childSpec(t *testing.T, mode string, p Protocol) Spec {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	s := Spec{Protocol: p, Command: []string{exe, "--port=${PORT}"}, Env: map[string]string{childEnv: mode},
		HealthInterval: 100 * time.Millisecond, StartupTimeout: 30 * time.Second, Timeout: 10 * time.Second, MaxRestarts: 5}
	if p == MLflow {
		sig := sum2
		s.Signature = &sig
	}
	return s
}

// logBuffer collects log records of concurrent goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func testLogger(t *testing.T) (*slog.Logger, *logBuffer) {
	lb := &logBuffer{}
	return slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug})), lb
}

// waitFor polls cond until it holds, failing the test after 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// alive says whether a process exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return false
		}
		return syscall.Kill(pid, 0) == nil
	}
	// pid (comm) state ...: the state follows the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

func predictSum(t *testing.T, m *Model, rows ...[2]float64) []float64 {
	t.Helper()
	var x []float64
	for _, r := range rows {
		x = append(x, r[0], r[1])
	}
	out := make([]float64, len(rows))
	if err := m.Predict(x, len(rows), out, false); err != nil {
		t.Fatalf("predict: %v (status %+v)", err, m.Status())
	}
	return out
}

func TestSupervisedLifecycle(t *testing.T) {
	goroutines := runtime.NumGoroutine()
	t.Setenv("FERRY_SECRET", "do-not-leak")
	log, logs := testLogger(t)
	spec := childSpec(t, "mlflow", MLflow)
	spec.Env["EXTRA"] = "port ${PORT}"
	m, err := Open(context.Background(), spec, t.TempDir(), Options{Logger: log, tune: fastTuning()})
	if err != nil {
		t.Fatal(err)
	}
	st := m.Status()
	if st.State != StateReady || st.PID <= 0 || st.Restarts != 0 {
		t.Fatalf("status after Open: %+v", st)
	}
	if got := predictSum(t, m, [2]float64{1, 2}, [2]float64{3, 4.5}); got[0] != 3 || got[1] != 7.5 {
		t.Errorf("predictions %v, want [3 7.5]", got)
	}

	// The environment: FERRY_* is not passed on, the spec's env is,
	// with ${PORT} replaced.
	base, err := m.readyBase()
	if err != nil {
		t.Fatal(err)
	}
	port := base[strings.LastIndexByte(base, ':')+1:]
	for name, want := range map[string]string{"FERRY_SECRET": "", "EXTRA": "port " + port, "PORT": port} {
		resp, err := http.Get(base + "/env/" + name)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != want {
			t.Errorf("child's $%s = %q, want %q", name, b, want)
		}
	}

	// Killed: restarted on another process, and answers again.
	pid := st.PID
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a restart", func() bool { s := m.Status(); return s.Restarts == 1 && s.State == StateReady })
	st = m.Status()
	if st.PID == pid || st.PID <= 0 || !strings.Contains(st.LastError, "killed") {
		t.Errorf("status after the restart: %+v", st)
	}
	if got := predictSum(t, m, [2]float64{10, -2}); got[0] != 8 {
		t.Errorf("prediction after the restart %v, want 8", got)
	}
	if !strings.Contains(logs.String(), "listening on 127.0.0.1:") {
		t.Errorf("the child's stdout is not in the log:\n%s", logs)
	}

	// Close: the process is gone, the model says so, twice is fine.
	pid = st.PID
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if alive(pid) {
		t.Errorf("process %d still runs after Close", pid)
	}
	if st := m.Status(); st.State != StateStopped || st.PID != 0 {
		t.Errorf("status after Close: %+v", st)
	}
	if err := m.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	err = m.Predict([]float64{1, 2}, 1, make([]float64, 1), false)
	if !errors.Is(err, ErrNotReady) || !errors.Is(err, errdefs.ErrUnavailable) {
		t.Errorf("predict after Close: %v", err)
	}
	// Every goroutine of the model has ended (idle connections of the
	// test's own http.Get close first).
	http.DefaultClient.CloseIdleConnections()
	waitFor(t, "the goroutines to end", func() bool { return runtime.NumGoroutine() <= goroutines })
}

func TestSupervisedOIPMetadata(t *testing.T) {
	m, err := Open(context.Background(), childSpec(t, "oip", OIP), t.TempDir(), Options{tune: fastTuning()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	sig := m.Signature()
	if len(sig.Inputs) != 2 || sig.Inputs[0] != (modelrt.Feature{Type: modelrt.Float}) || sig.Outputs != 1 || sig.Task != modelrt.Regression {
		t.Fatalf("signature from metadata: %+v", sig)
	}
	if got := predictSum(t, m, [2]float64{1, 2}, [2]float64{0.25, 0.5}); got[0] != 3 || got[1] != 0.75 {
		t.Errorf("predictions %v", got)
	}
}

// TestCrashLoop: a command that exits at once is restarted max_restarts
// times, then failed with its last words.
func TestCrashLoop(t *testing.T) {
	log, logs := testLogger(t)
	spec := childSpec(t, "crash", MLflow)
	spec.MaxRestarts = 2
	m, _, err := newModel(spec, t.TempDir(), Options{Logger: log, tune: fastTuning()})
	if err != nil {
		t.Fatal(err)
	}
	m.launch()
	defer m.Close()
	waitFor(t, "the failed state", func() bool { return m.Status().State == StateFailed })
	st := m.Status()
	want := "exited with status 1: boom: model file is corrupt"
	if st.Restarts != 2 || st.LastError != want || st.PID != 0 {
		t.Errorf("status %+v, want 2 restarts and %q", st, want)
	}
	err = m.Predict([]float64{1, 2}, 1, make([]float64, 1), false)
	if !errors.Is(err, errdefs.ErrUnavailable) || !strings.Contains(err.Error(), "failed") || !strings.Contains(err.Error(), "boom") {
		t.Errorf("predict on a failed runtime: %v", err)
	}
	if l := logs.String(); !strings.Contains(l, "stream=stderr") || !strings.Contains(l, "loading model") {
		t.Errorf("stderr lines not logged:\n%s", l)
	}

	// Open says why.
	_, err = Open(context.Background(), spec, t.TempDir(), Options{Logger: log, tune: fastTuning()})
	if !errors.Is(err, modelrt.ErrBadModel) || !strings.Contains(err.Error(), want) {
		t.Errorf("Open of a crashing command: %v", err)
	}
}

func TestCommandNotFound(t *testing.T) {
	spec := childSpec(t, "mlflow", MLflow)
	spec.Command = []string{"./no-such-server"}
	_, err := Open(context.Background(), spec, t.TempDir(), Options{tune: fastTuning()})
	if !errors.Is(err, modelrt.ErrBadModel) || !strings.Contains(err.Error(), "cannot start") {
		t.Errorf("Open of a missing program: %v", err)
	}
	spec.Command = []string{"true"}
	spec.Dir = "missing"
	if _, err := Open(context.Background(), spec, t.TempDir(), Options{}); !errors.Is(err, modelrt.ErrBadModel) || !strings.Contains(err.Error(), "dir") {
		t.Errorf("Open with a missing dir: %v", err)
	}
}

// TestHealthCheckRestart: a process that stops answering its health
// checks is restarted; it is ready again once it answers.
func TestHealthCheckRestart(t *testing.T) {
	flag := filepath.Join(t.TempDir(), "unhealthy")
	spec := childSpec(t, "mlflow", MLflow)
	spec.Env["FLAKY_FILE"] = flag
	m, err := Open(context.Background(), spec, t.TempDir(), Options{tune: fastTuning()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	first := m.Status().PID
	if err := os.WriteFile(flag, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a restart", func() bool { return m.Status().Restarts >= 1 })
	st := m.Status()
	if !strings.Contains(st.LastError, "3 health checks in a row failed") || !strings.Contains(st.LastError, "503") {
		t.Errorf("status %+v", st)
	}
	if alive(first) {
		t.Errorf("the unhealthy process %d still runs", first)
	}
	if st.State == StateReady {
		t.Errorf("ready while /ping fails: %+v", st)
	}
	if err := m.Predict([]float64{1, 2}, 1, make([]float64, 1), false); !errors.Is(err, ErrNotReady) {
		t.Errorf("predict while restarting: %v", err)
	}
	if err := os.Remove(flag); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "ready again", func() bool { return m.Status().State == StateReady })
	if got := predictSum(t, m, [2]float64{2, 2}); got[0] != 4 {
		t.Errorf("prediction %v", got)
	}
}

// TestCloseKillsGroup: what the runtime started dies with it.
func TestCloseKillsGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "grandchild")
	spec := childSpec(t, "family", MLflow)
	spec.Env["GRANDCHILD_FILE"] = pidFile
	m, err := Open(context.Background(), spec, t.TempDir(), Options{tune: fastTuning()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err) // written before the child listens
	}
	gc, err := strconv.Atoi(string(b))
	if err != nil || !alive(gc) {
		t.Fatalf("grandchild %q: %v", b, err)
	}
	pid := m.Status().PID
	m.Close()
	if alive(pid) {
		t.Errorf("child %d survived Close", pid)
	}
	waitFor(t, "the grandchild to be gone", func() bool { return !alive(gc) })
}

// TestStubbornChild: a process ignoring SIGTERM is killed after the grace.
func TestStubbornChild(t *testing.T) {
	log, logs := testLogger(t)
	tune := fastTuning()
	tune.grace = 100 * time.Millisecond
	m, err := Open(context.Background(), childSpec(t, "stubborn", MLflow), t.TempDir(), Options{Logger: log, tune: tune})
	if err != nil {
		t.Fatal(err)
	}
	pid := m.Status().PID
	m.Close()
	if alive(pid) {
		t.Errorf("process %d survived Close", pid)
	}
	if !strings.Contains(logs.String(), "ignored SIGTERM") {
		t.Errorf("no word of the SIGKILL:\n%s", logs)
	}
}

// TestStartupTimeout: a process that never gets healthy fails Open and
// is stopped.
func TestStartupTimeout(t *testing.T) {
	flag := filepath.Join(t.TempDir(), "unhealthy")
	if err := os.WriteFile(flag, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	log, logs := testLogger(t)
	spec := childSpec(t, "mlflow", MLflow)
	spec.Env["FLAKY_FILE"] = flag
	spec.StartupTimeout = 500 * time.Millisecond
	_, err := Open(context.Background(), spec, t.TempDir(), Options{Logger: log, tune: fastTuning()})
	if !errors.Is(err, ErrNotReady) || !errors.Is(err, errdefs.ErrUnavailable) || !strings.Contains(err.Error(), "503") {
		t.Fatalf("Open: %v", err)
	}
	// Every process it started is gone.
	for _, line := range strings.Split(logs.String(), "\n") {
		if !strings.Contains(line, "external runtime started") {
			continue
		}
		_, after, _ := strings.Cut(line, " pid=")
		pid, _ := strconv.Atoi(strings.Fields(after)[0])
		if pid <= 0 || alive(pid) {
			t.Errorf("process %d (%s) still runs", pid, line)
		}
	}
}

// TestSupervisedTimeout: a real process that never answers a prediction.
func TestSupervisedTimeout(t *testing.T) {
	spec := childSpec(t, "hang", MLflow)
	spec.Timeout = 200 * time.Millisecond
	m, err := Open(context.Background(), spec, t.TempDir(), Options{tune: fastTuning()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	err = m.Predict([]float64{1, 2}, 1, make([]float64, 1), false)
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("predict: %v", err)
	}
	if st := m.Status(); st.State != StateReady {
		t.Errorf("a slow prediction changed the state: %+v", st)
	}
}

// TestPythonMLflowServer runs a Python (standard library) server that
// speaks MLflow's /ping and /invocations.
func TestPythonMLflowServer(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	dir, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := ParseSpec([]byte(`
protocol: mlflow
command: [` + py + `, -u, mlflow_server.py, --port, "${PORT}"]
dir: python
startup_timeout: 30s
signature:
  inputs: [{name: x}, {name: y}, {name: n, type: int}]
  outputs: 2
`))
	if err != nil {
		t.Fatal(err)
	}
	log, logs := testLogger(t)
	m, err := Open(context.Background(), spec, dir, Options{Logger: log, tune: fastTuning()})
	if err != nil {
		t.Fatalf("%v\n%s", err, logs)
	}
	defer m.Close()
	// The script answers [x + y + n, count of missing values] per row.
	nan := func() float64 { var z float64; return z / z }()
	x := []float64{1, 2, 3, 0.5, nan, 4, nan, nan, 1e300}
	out := make([]float64, 6)
	if err := m.Predict(x, 3, out, false); err != nil {
		t.Fatalf("%v\n%s", err, logs)
	}
	want := []float64{6, 0, 4.5, 1, 1e300, 2}
	for i := range want {
		if out[i] != want[i] {
			t.Errorf("out %v, want %v", out, want)
			break
		}
	}
	// An error answer of the script.
	err = m.Predict([]float64{1, 2, 13}, 1, make([]float64, 2), false)
	var re *RuntimeError
	if !errors.As(err, &re) || re.StatusCode != 400 || re.Message != "unlucky n" {
		t.Errorf("error answer: %v", err)
	}
	pid := m.Status().PID
	m.Close()
	if alive(pid) {
		t.Errorf("python %d survived Close", pid)
	}
}
