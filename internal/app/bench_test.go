package app_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/ferry-ml/ferry/internal/app"
	"github.com/ferry-ml/ferry/internal/config"
)

// BenchmarkServeOIPRow is one Open Inference Protocol request through the
// whole server (middleware, decoding, the 100-tree depth-6 XGBoost model
// on 30 features, encoding, metrics), without the network, with the
// prediction log off, at its defaults (every request, at most 1000 a
// second) and logging every request:
//
//	go test -run '^$' -bench ServeOIPRow ./internal/app/
func BenchmarkServeOIPRow(b *testing.B) {
	for _, c := range []struct{ name, rate, max string }{
		{"log=off", "0", "0"}, {"log=default", "1", "1000"}, {"log=all", "1", "0"},
	} {
		b.Run(c.name, func(b *testing.B) { benchServeOIPRow(b, c.rate, c.max) })
	}
}

func benchServeOIPRow(b *testing.B, sampleRate, maxRate string) {
	dir := b.TempDir()
	cfg, _ := config.Load(config.Source{Args: []string{"--data", dir, "--registry-self-approval=true", "--log-level", "error",
		"--prediction-log-sample-rate", sampleRate, "--prediction-log-max-rate", maxRate}, Getenv: func(string) string { return "" }})
	a, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	h := a.Handler()
	do := func(method, path, body string) string {
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Body.String()
	}
	out := do("POST", "/api/2.0/mlflow/runs/create", `{"experiment_id":"0"}`)
	i := strings.Index(out, `"run_id":"`)
	run := out[i+10 : i+42]
	model, _ := os.ReadFile("../modelrt/xgboost/testdata/bench_100x6.ubj")
	r := httptest.NewRequest("PUT", "/api/2.0/mlflow-artifacts/artifacts/0/"+run+"/artifacts/m.ubj", bytes.NewReader(model))
	h.ServeHTTP(httptest.NewRecorder(), r)
	do("POST", "/api/2.0/mlflow/registered-models/create", `{"name":"bench"}`)
	do("POST", "/api/2.0/mlflow/model-versions/create", `{"name":"bench","source":"mlflow-artifacts:/0/`+run+`/artifacts/m.ubj","run_id":"`+run+`"}`)
	if o := do("POST", "/api/v1/endpoints", `{"endpoint":"bench","model":"models:/bench/1"}`); !strings.Contains(o, "ready") {
		b.Fatal(o)
	}
	rows, _ := os.ReadFile("../modelrt/xgboost/testdata/bench_100x6.rows.tsv")
	row := strings.ReplaceAll(strings.ReplaceAll(strings.SplitN(string(rows), "\n", 2)[0], "\t", ","), "nan", "null")
	body := `{"inputs":[{"name":"x","shape":[1,30],"datatype":"FP64","data":[` + row + `]}]}`
	b.ResetTimer()
	for b.Loop() {
		r := httptest.NewRequest("POST", "/v2/models/bench/infer", strings.NewReader(body))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatal(w.Body.String())
		}
	}
}
