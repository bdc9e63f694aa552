package config

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := Load(Source{Getenv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:5000" || c.DataDir != "ferry-data" || c.DB != "" || c.SQLiteSync != "full" ||
		c.LogLevel != "info" || c.LogFormat != "json" || c.MaxBodyBytes != 16<<20 || c.ShutdownTimeout != 30*time.Second || c.Dev {
		t.Fatalf("defaults = %+v", c)
	}
	if c.ArtifactsPath() != filepath.Join("ferry-data", "artifacts") || c.SQLitePath() != filepath.Join("ferry-data", "ferry.db") {
		t.Fatalf("paths %s %s", c.ArtifactsPath(), c.SQLitePath())
	}
}

func TestLayersOverrideInOrder(t *testing.T) {
	file := filepath.Join(t.TempDir(), "ferry.yaml")
	if err := os.WriteFile(file, []byte("addr: 127.0.0.1:7000\nlog-level: warn\nmax_body: 2MiB\ndata: /from/file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(Source{
		Args:   []string{"--config", file, "--data", "/from/flag"},
		Getenv: env(map[string]string{"FERRY_LOG_LEVEL": "error", "FERRY_DATA": "/from/env", "FERRY_SHUTDOWN_TIMEOUT": "5s"}),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Addr: "127.0.0.1:7000", LogLevel: "error", MaxBodyBytes: 2 << 20, DataDir: "/from/flag", ShutdownTimeout: 5 * time.Second}
	if c.Addr != want.Addr || c.LogLevel != want.LogLevel || c.MaxBodyBytes != want.MaxBodyBytes || c.DataDir != want.DataDir || c.ShutdownTimeout != want.ShutdownTimeout {
		t.Fatalf("got %+v", c)
	}
}

func TestDevPresetIsALayer(t *testing.T) {
	tmp := t.TempDir()
	mk := func() (string, error) { return tmp, nil }
	c, err := Load(Source{Args: []string{"--dev"}, Getenv: env(nil), TempDir: mk})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Dev || c.DataDir != tmp || c.LogLevel != "debug" || c.LogFormat != "text" {
		t.Fatalf("dev = %+v", c)
	}
	// Later layers still win over the preset.
	c, err = Load(Source{Args: []string{"--log-format", "json"}, Getenv: env(map[string]string{"FERRY_DEV": "true"}), TempDir: mk})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Dev || c.LogFormat != "json" || c.LogLevel != "debug" {
		t.Fatalf("dev with override = %+v", c)
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	badYAML := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badYAML, []byte("addr: [1, 2\n"), 0o600)
	unknown := filepath.Join(dir, "unknown.yaml")
	os.WriteFile(unknown, []byte("addr: 127.0.0.1:1\nlisten: x\n"), 0o600)
	cases := []struct {
		name string
		src  Source
		want string
	}{
		{"non-loopback without auth", Source{Args: []string{"--addr", "0.0.0.0:5000"}}, "without authentication"},
		{"bad port", Source{Args: []string{"--addr", "127.0.0.1:99999"}}, "bad port"},
		{"bad level", Source{Getenv: env(map[string]string{"FERRY_LOG_LEVEL": "loud"})}, "environment: log_level must be one of"},
		{"bad duration", Source{Args: []string{"--shutdown-timeout", "soon"}}, "shutdown_timeout must be a duration"},
		{"bad size", Source{Args: []string{"--max-body", "-3"}}, "max_body must be a positive size"},
		{"bad db", Source{Args: []string{"--db", "mysql://root:secret@x/db"}}, "mysql://root:xxxxx@x/db"},
		{"yaml syntax", Source{Args: []string{"--config", badYAML}}, "bad.yaml"},
		{"unknown key", Source{Args: []string{"--config", unknown}}, `unknown.yaml:2:1: unknown setting "listen"`},
		{"missing file", Source{Args: []string{"--config", filepath.Join(dir, "none.yaml")}}, "no such file"},
		{"stray argument", Source{Args: []string{"serve"}}, `unexpected argument "serve"`},
		{"unknown flag", Source{Args: []string{"--port", "1"}, Output: io.Discard}, "flag provided but not defined"},
	}
	for _, tc := range cases {
		if tc.src.Getenv == nil {
			tc.src.Getenv = env(nil)
		}
		if tc.src.Output == nil {
			tc.src.Output = io.Discard
		}
		_, err := Load(tc.src)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
	if strings.Contains(func() string {
		_, err := Load(Source{Args: []string{"--db", "mysql://root:secret@x/db"}, Getenv: env(nil)})
		return err.Error()
	}(), "secret") {
		t.Error("password leaked into the error")
	}
	_, err := Load(Source{Args: []string{"--help"}, Getenv: env(nil), Output: io.Discard})
	if !errors.Is(err, ErrHelp) {
		t.Errorf("--help: %v", err)
	}
	c, err := Load(Source{Args: []string{"--addr", "10.1.2.3:5000", "--insecure-listen"}, Getenv: env(nil)})
	if err != nil || !c.InsecureListen {
		t.Errorf("insecure_listen override: %v %+v", err, c)
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"1": 1, "1KiB": 1024, "2 MiB": 2 << 20, "1GB": 1e9, "10MB": 1e7, "5B": 5} {
		got, err := ParseBytes(in)
		if err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "1TB", "abc", "99999999999GiB"} {
		if _, err := ParseBytes(in); err == nil {
			t.Errorf("ParseBytes(%q) accepted", in)
		}
	}
}

func TestReferenceListsEverySetting(t *testing.T) {
	ref := Reference()
	for _, st := range settings() {
		if !strings.Contains(ref, "`"+st.key+"`") || !strings.Contains(ref, envName(st.key)) {
			t.Errorf("reference lacks %s", st.key)
		}
	}
}

// TestREADMEHasTheReference keeps the README's configuration table what
// the code accepts.
func TestREADMEHasTheReference(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), Reference()) {
		t.Errorf("README.md's configuration table differs from config.Reference(); paste:\n%s", Reference())
	}
}
