package remote

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ferry-ml/ferry/internal/modelrt"
)

func TestParseSpec(t *testing.T) {
	for _, c := range []struct {
		name, yaml string
		want       Spec
	}{
		{"mlflow command, defaults", `
protocol: mlflow
command: [python, serve.py, --port, "${PORT}"]
signature:
  inputs: [{name: a}, {name: b, type: int}, {name: c, type: categorical}]
`, Spec{Protocol: MLflow, Command: []string{"python", "serve.py", "--port", "${PORT}"}, ModelName: "model",
			HealthPath: "/ping", HealthInterval: 5 * time.Second, StartupTimeout: 60 * time.Second, Timeout: 5 * time.Second, MaxRestarts: 5,
			Signature: &modelrt.Signature{Inputs: []modelrt.Feature{{Name: "a", Type: modelrt.Float}, {Name: "b", Type: modelrt.Integer}, {Name: "c", Type: modelrt.Categorical}},
				Outputs: 1, Task: modelrt.Regression}}},
		{"oip url, everything set", `
protocol: oip
url: https://scorer.example:8443/base/
model_name: iris
health_path: /v2/models/iris/ready
health_interval: 250ms
startup_timeout: 2m
timeout: 1.5s
max_restarts: 0
signature:
  inputs: [{}, {}, {}, {type: float}]
  outputs: 3
`, Spec{Protocol: OIP, URL: "https://scorer.example:8443/base", ModelName: "iris", HealthPath: "/v2/models/iris/ready",
			HealthInterval: 250 * time.Millisecond, StartupTimeout: 2 * time.Minute, Timeout: 1500 * time.Millisecond, MaxRestarts: 0,
			Signature: &modelrt.Signature{Inputs: []modelrt.Feature{{Type: modelrt.Float}, {Type: modelrt.Float}, {Type: modelrt.Float}, {Type: modelrt.Float}},
				Outputs: 3, Task: modelrt.Multiclass}}},
		{"oip command with env and dir", `
protocol: oip
command: [./serve]
env: {THREADS: "2", ADDR: "127.0.0.1:${PORT}"}
dir: bin/server
signature: {inputs: [{name: x}], task: binary}
`, Spec{Protocol: OIP, Command: []string{"./serve"}, Env: map[string]string{"THREADS": "2", "ADDR": "127.0.0.1:${PORT}"}, Dir: "bin/server",
			ModelName: "model", HealthPath: "/v2/health/ready", HealthInterval: 5 * time.Second, StartupTimeout: time.Minute, Timeout: 5 * time.Second, MaxRestarts: 5,
			Signature: &modelrt.Signature{Inputs: []modelrt.Feature{{Name: "x", Type: modelrt.Float}}, Outputs: 1, Task: modelrt.Binary}}},
		{"oip without signature", "protocol: oip\nurl: http://localhost:8080\n",
			Spec{Protocol: OIP, URL: "http://localhost:8080", ModelName: "model", HealthPath: "/v2/health/ready",
				HealthInterval: 5 * time.Second, StartupTimeout: time.Minute, Timeout: 5 * time.Second, MaxRestarts: 5}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseSpec([]byte(c.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got  %+v %+v\nwant %+v %+v", got, got.Signature, c.want, c.want.Signature)
			}
		})
	}
}

func TestParseSpecErrors(t *testing.T) {
	const sig = "\nsignature: {inputs: [{name: a}]}"
	for _, c := range []struct{ yaml, err string }{
		{``, "empty"},
		{`protocol: mlflow`, "url or command is required"},
		{`url: http://x`, "protocol is required"},
		{`protocol: grpc` + "\nurl: http://x", `protocol: "grpc" is not mlflow or oip`},
		{"protocol: oip\nurl: http://x\nprotocl: oip", "field protocl not found"},
		{"protocol: oip\nurl: http://x\nsignature: {inputs: [{name: a, typ: int}]}", "field typ not found in signature.inputs"},
		{"protocol: oip\nurl: http://x\nsignature: {input: [{name: a}]}", "field input not found in signature"},
		{"protocol: oip\nurl: http://x\ncommand: [a]", "exactly one"},
		{"protocol: oip\nurl: ftp://x", "only http and https"},
		{"protocol: oip\nurl: http://", "no host"},
		{"protocol: oip\nurl: http://x/?a=1", "no query"},
		{"protocol: oip\nurl: ''", "url is empty"},
		{"protocol: oip\ncommand: []", "command is empty"},
		{"protocol: oip\ncommand: python serve.py", "command: want a list"},
		{"protocol: oip\ncommand: ['']", "program) is empty"},
		{"protocol: oip\ncommand: [a, [b]]", "command[1]: want a string"},
		{"protocol: oip\nurl: http://x\nenv: {A: b}", "env: only with command"},
		{"protocol: oip\nurl: http://x\ndir: sub", "dir: only with command"},
		{"protocol: oip\ncommand: [a]\ndir: ../elsewhere", "inside the model directory"},
		{"protocol: oip\ncommand: [a]\ndir: /etc", "inside the model directory"},
		{"protocol: oip\ncommand: [a]\ndir: sub/../../x", "inside the model directory"},
		{"protocol: oip\ncommand: [a]\nenv: {PORT: '1'}", "PORT is set by Ferry"},
		{"protocol: oip\ncommand: [a]\nenv: [A]", "env: want a mapping"},
		{"protocol: oip\ncommand: [a]\nenv: {A: [1]}", "env.A: want a string"},
		{"protocol: oip\ncommand: [a]\ntimeout: 5", `timeout: "5" is not a duration`},
		{"protocol: oip\ncommand: [a]\ntimeout: -1s", "timeout: -1s must be positive"},
		{"protocol: oip\ncommand: [a]\nhealth_interval: soon", "health_interval"},
		{"protocol: oip\ncommand: [a]\nstartup_timeout: 0s", "startup_timeout"},
		{"protocol: oip\ncommand: [a]\nmax_restarts: many", "max_restarts: want an integer"},
		{"protocol: oip\ncommand: [a]\nmax_restarts: -1", "max_restarts: -1"},
		{"protocol: oip\ncommand: [a]\nhealth_path: ping", "health_path"},
		{"protocol: oip\ncommand: [a]\nmodel_name: a/b", "model_name"},
		{"protocol: mlflow\ncommand: [a]\nmodel_name: iris" + sig, "model_name: only for protocol oip"},
		{"protocol: oip\ncommand: [a]\nsignature: {outputs: 1}", "signature.inputs is required"},
		{"protocol: oip\ncommand: [a]\nsignature: {inputs: [{name: a, type: string}]}", `signature.inputs[0].type: "string"`},
		{"protocol: oip\ncommand: [a]\nsignature: {inputs: [{name: a}, {}]}", "signature.inputs[1].name: name every input or none"},
		{"protocol: oip\ncommand: [a]\nsignature: {inputs: [{name: a}, {name: a}]}", "named twice"},
		{"protocol: oip\ncommand: [a]\nsignature: {inputs: [{name: a}], outputs: 0}", "signature.outputs: 0"},
		{"protocol: oip\ncommand: [a]\nsignature: {inputs: [{name: a}], outputs: 2, task: binary}", "binary has one output per row"},
		{"protocol: oip\ncommand: [a]\nsignature: {inputs: [{name: a}], task: clustering}", `"clustering" is not regression`},
		{"protocol: oip\ncommand: [a]\nsignature: [a]", "signature"},
		{"protocol: oip\ncommand: [a]\nsignature: {inputs: {name: a}}", "signature.inputs"},
		{"- protocol: oip", "into the spec"},
		{"protocol: oip\nurl: http://x\n---\nprotocol: mlflow\n", "more than one YAML document"},
		{"protocol: [oip]", "protocol: want a string"},
		{"protocol: oip\nurl: http://x\nurl: http://y", "already defined"},
		{"protocol: oip\ncommand: [a]\n\tenv: {}", "line"},
	} {
		_, err := ParseSpec([]byte(c.yaml))
		if !errors.Is(err, modelrt.ErrBadModel) || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%q: error %v, want one matching ErrBadModel saying %q", c.yaml, err, c.err)
		}
		if err != nil && !strings.Contains(err.Error(), SpecFile) {
			t.Errorf("%q: error %v does not name %s", c.yaml, err, SpecFile)
		}
	}
}

func TestParseURLSource(t *testing.T) {
	s, err := ParseURLSource("https://user:secret@scorer.example/models/iris/")
	if err != nil {
		t.Fatal(err)
	}
	if s.URL != "https://user:secret@scorer.example/models/iris" || s.Protocol != "" || s.HealthPath != "" ||
		s.Timeout != DefaultTimeout || s.StartupTimeout != DefaultStartupTimeout {
		t.Errorf("spec %+v", s)
	}
	for _, bad := range []string{"", "models:/iris/1", "s3://bucket/key", "http://", "http://x/?q=1", "http://x/#frag", "http://[::1"} {
		_, err := ParseURLSource(bad)
		if !errors.Is(err, modelrt.ErrBadModel) {
			t.Errorf("%q: %v", bad, err)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("%q: error shows the password: %v", bad, err)
		}
	}
	if _, err := ParseURLSource("ftp://user:secret@x"); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("error shows the password: %v", err)
	}
}

// FuzzParseSpec: any bytes give a valid spec or an ErrBadModel error,
// never a panic; a spec parsed is valid.
func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{
		"protocol: mlflow\ncommand: [python, serve.py, --port, \"${PORT}\"]\nsignature:\n  inputs: [{name: a}, {name: b, type: int}]\n  outputs: 1\n  task: regression\n",
		"protocol: oip\nurl: http://localhost:8080\nmodel_name: iris\ntimeout: 2s\nmax_restarts: 3\n",
		"protocol: oip\ncommand: [./serve]\nenv: {A: b}\ndir: bin\nhealth_interval: 1s\nstartup_timeout: 10s\nhealth_path: /ready\n",
		"a: &x [*x]", "protocol: oip\nurl: !!binary aGVsbG8=", "{", "- - - -", "protocol: oip\nsignature: {inputs: [{}], outputs: 99999999999999999999}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSpec(b)
		if err != nil {
			if !errors.Is(err, modelrt.ErrBadModel) {
				t.Fatalf("error %v does not match ErrBadModel", err)
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("parsed spec is invalid: %v", err)
		}
		if (s.URL == "") == (s.Command == nil) || s.Timeout <= 0 || s.HealthPath == "" {
			t.Fatalf("parsed spec %+v", s)
		}
	})
}
