package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildFerry compiles the binary once per test run.
func buildFerry(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ferry")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type server struct {
	cmd  *exec.Cmd
	url  string
	logs *bytes.Buffer
	done chan error
}

// start runs `ferry server` on a free port and waits for its listening line.
func start(t *testing.T, bin string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"server", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), "FERRY_LOG_FORMAT=json")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, logs: &bytes.Buffer{}, done: make(chan error, 1)}
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			s.logs.WriteString(line + "\n")
			var rec struct {
				Msg string `json:"msg"`
				URL string `json:"url"`
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "ferry listening" {
				urlc <- rec.URL
			}
		}
	}()
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	select {
	case s.url = <-urlc:
	case err := <-s.done:
		t.Fatalf("server exited early: %v\n%s", err, s.logs)
	case <-time.After(20 * time.Second):
		t.Fatalf("server did not start\n%s", s.logs)
	}
	return s
}

func post(t *testing.T, url, path string, body any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(url+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %d %s", path, resp.StatusCode, raw)
	}
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return out
}

// TestServerLifecycle starts the real binary on a fresh data directory,
// writes through the MLflow API, stops it with SIGTERM while an upload is
// in flight (the upload must complete), restarts it and reads back.
func TestServerLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildFerry(t)
	data := t.TempDir()
	s := start(t, bin, "--data", data)

	resp, err := http.Get(s.url + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/health = %d", resp.StatusCode)
	}
	exp := post(t, s.url, "/api/2.0/mlflow/experiments/create", map[string]any{"name": "lifecycle"})["experiment_id"].(string)
	run := post(t, s.url, "/api/2.0/mlflow/runs/create", map[string]any{"experiment_id": exp})["run"].(map[string]any)
	info := run["info"].(map[string]any)
	runID := info["run_id"].(string)
	post(t, s.url, "/api/2.0/mlflow/runs/log-metric", map[string]any{"run_id": runID, "key": "acc", "value": 0.93, "timestamp": 1, "step": 0})

	// An upload that is still streaming when SIGTERM arrives must finish.
	pr, pw := io.Pipe()
	artifactURL := fmt.Sprintf("%s/api/2.0/mlflow-artifacts/artifacts/%s/%s/artifacts/slow.bin", s.url, exp, runID)
	req, _ := http.NewRequest(http.MethodPut, artifactURL, pr)
	uploaded := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			uploaded <- -1
			return
		}
		resp.Body.Close()
		uploaded <- resp.StatusCode
	}()
	chunk := bytes.Repeat([]byte("x"), 64<<10)
	pw.Write(chunk)
	time.Sleep(100 * time.Millisecond)
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	for i := 0; i < 15; i++ {
		pw.Write(chunk)
	}
	pw.Close()
	if code := <-uploaded; code != 200 {
		t.Fatalf("in-flight upload answered %d during shutdown\n%s", code, s.logs)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("server exit: %v\n%s", err, s.logs)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server did not stop after SIGTERM")
	}
	if !strings.Contains(s.logs.String(), "draining") {
		t.Errorf("no drain log:\n%s", s.logs)
	}

	// Everything acknowledged is there after a restart.
	s2 := start(t, bin, "--data", data)
	resp, err = http.Get(s2.url + "/api/2.0/mlflow/runs/get?run_id=" + runID)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"acc"`) || !strings.Contains(string(body), "0.93") {
		t.Fatalf("run after restart: %s", body)
	}
	resp, err = http.Get(strings.Replace(artifactURL, s.url, s2.url, 1))
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if n != 16*64<<10 {
		t.Fatalf("artifact after restart has %d bytes", n)
	}
	_ = s2.cmd.Process.Signal(syscall.SIGTERM)
	<-s2.done
}

func TestUsageAndConfigErrors(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(nil, &out, &errb); code != 2 || !strings.Contains(errb.String(), "ferry server [flags]") {
		t.Fatalf("no args: %d %q", code, errb.String())
	}
	errb.Reset()
	if code := run([]string{"server", "--addr", "0.0.0.0:5000"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "without authentication") {
		t.Fatalf("public bind: %d %q", code, errb.String())
	}
	out.Reset()
	if code := run([]string{"version"}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "ferry ") {
		t.Fatalf("version: %d %q", code, out.String())
	}
	errb.Reset()
	if code := run([]string{"server", "--help"}, &out, &errb); code != 0 || !strings.Contains(errb.String(), "FERRY_DATA") {
		t.Fatalf("server --help: %d %q", code, errb.String())
	}
}

// TestPolicyReloadOnSIGHUP: the global policy file is read again on
// SIGHUP; a file with a syntax error is refused (the old policy stays in
// force), and a file that is broken at start stops the server with the
// line and column.
func TestPolicyReloadOnSIGHUP(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildFerry(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "policy.yaml")
	write := func(text string) {
		if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	gate := func(name string) string {
		return "version: 1\ngates:\n  - name: " + name + "\n    when: {aliases: [production]}\n    require: {approvals: 1}\n"
	}
	gates := func(url string) string {
		resp, err := http.Get(url + "/api/v1/policy")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct{ Gates []string }
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return strings.Join(body.Gates, ",")
	}
	write(gate("first"))
	s := start(t, bin, "--data", filepath.Join(dir, "data"), "--policy-file", file)
	if g := gates(s.url); g != "first" {
		t.Fatalf("gates at start: %q", g)
	}
	hup := func() { _ = s.cmd.Process.Signal(syscall.SIGHUP) }
	write("version: 1\ngates:\n  - name: broken\n    when: {aliases: [production]\n")
	hup()
	// The refused reload is in the audit trail (status 400); wait for it.
	refused := func() bool {
		resp, err := http.Get(s.url + "/api/v1/audit/events?resource=policy:/global")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			Events []struct {
				Actor  string
				Status int
			}
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		for _, e := range body.Events {
			if e.Actor == "signal:SIGHUP" && e.Status == http.StatusBadRequest {
				return true
			}
		}
		return false
	}
	for deadline := time.Now().Add(10 * time.Second); !refused(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the refused SIGHUP reload was not audited")
		}
	}
	if g := gates(s.url); g != "first" {
		t.Fatalf("a broken file replaced the policy in force: %q", g)
	}
	write(gate("second"))
	hup()
	deadline := time.Now().Add(10 * time.Second)
	for gates(s.url) != "second" {
		if time.Now().After(deadline) {
			t.Fatalf("SIGHUP did not load the new policy: %q", gates(s.url))
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	<-s.done
	if !strings.Contains(s.logs.String(), "policy reload refused") {
		t.Errorf("the refused reload was not logged:\n%s", s.logs)
	}

	write("version: 1\ngates: [\n")
	out, err := exec.Command(bin, "server", "--addr", "127.0.0.1:0", "--data", filepath.Join(dir, "data2"), "--policy-file", file).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "policy.yaml:") {
		t.Fatalf("a broken policy at start: %v\n%s", err, out)
	}
}
