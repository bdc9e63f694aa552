// Package npm_test checks Ferry against a real third-party MLflow client:
// the npm package mlflow@2.0.7, driven by compat.js under Node.js.
//
// The package is installed with `npm ci --prefix tests/compat/npm`. The
// test skips when node or node_modules/mlflow is missing, unless the CI
// environment variable is set, in which case it fails.
package npm_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/ferry-ml/ferry/internal/app"
	"github.com/ferry-ml/ferry/internal/config"
)

func TestNPMClient(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		unavailable(t, "node is not on PATH")
	}
	if _, err := os.Stat(filepath.Join("node_modules", "mlflow", "package.json")); err != nil {
		unavailable(t, "node_modules/mlflow is missing; run `npm ci --prefix tests/compat/npm` from the repository root")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg, err := config.Load(config.Source{
		Args:   []string{"--data", t.TempDir()},
		Getenv: func(string) string { return "" },
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	srv := httptest.NewServer(a.Handler()) // a real TCP listener on loopback
	t.Cleanup(srv.Close)

	cmd := exec.CommandContext(ctx, node, "compat.js")
	cmd.Env = append(os.Environ(), "FERRY_URL="+srv.URL)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	runErr := cmd.Run()
	summary := regexp.MustCompile(`(?m)^(\d+) passed, (\d+) failed$`).FindStringSubmatch(out.String())
	switch {
	case ctx.Err() != nil:
		t.Fatalf("compat.js did not finish in time:\n%s", out.String())
	case runErr != nil:
		t.Fatalf("compat.js failed (%v):\n%s", runErr, out.String())
	case summary == nil:
		t.Fatalf("compat.js printed no summary line:\n%s", out.String())
	case summary[2] != "0":
		t.Fatalf("compat.js reported failures:\n%s", out.String())
	}
	t.Logf("npm mlflow@2.0.7 against Ferry: %s\n%s", summary[0], out.String())
}

// unavailable skips the test, or fails it in CI, where the client must run.
func unavailable(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("npm compatibility test cannot run: %s (CI is set, so this is a failure)", why)
	}
	t.Skipf("skipping the npm compatibility test: %s", why)
}
