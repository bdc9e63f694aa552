package mlflow_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// Benchmarks run the full pipeline in process — global middlewares,
// router (auth, audit hook, limits), decoding, the tracking service and the
// real SQLite store on disk — without a network hop; the *HTTP variants add
// a loopback connection, as MLflow clients see the server.

type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(code int)        { w.status = code }

func (w *discardWriter) reset() {
	clear(w.h)
	w.status = 0
}

type benchReq struct {
	method string
	u      *url.URL
	hdr    http.Header
}

func newBenchReq(method, target string) benchReq {
	u, _ := url.Parse(target)
	h := http.Header{}
	if method == "POST" {
		h.Set("Content-Type", "application/json")
	}
	return benchReq{method: method, u: u, hdr: h}
}

func (b benchReq) serve(tb testing.TB, h http.Handler, w *discardWriter, body []byte) {
	r := &http.Request{
		Method: b.method, URL: b.u, Header: b.hdr, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Host: "bench", RemoteAddr: "127.0.0.1:1", RequestURI: b.u.RequestURI(),
		Body: http.NoBody,
	}
	if body != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
	}
	w.reset()
	h.ServeHTTP(w, r)
	if w.status != 0 && w.status != http.StatusOK {
		tb.Fatalf("%s %s: status %d", b.method, b.u, w.status)
	}
}

func BenchmarkLogMetric(b *testing.B) {
	e := newEnv(b)
	id := runID(e.createRun("0", nil))
	req := newBenchReq("POST", api+"runs/log-metric")
	w := &discardWriter{h: http.Header{}}
	prefix := []byte(`{"run_id":"` + id + `","key":"loss","value":0.123,"timestamp":1700000000000,"step":`)
	body := make([]byte, 0, 128)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		body = strconv.AppendInt(append(body[:0], prefix...), int64(i), 10)
		body = append(body, '}')
		req.serve(b, e.h, w, body)
	}
}

func batchBody(id string, n, round int) []byte {
	var sb strings.Builder
	sb.WriteString(`{"run_id":"` + id + `","metrics":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"key":"metric_%d","value":%g,"timestamp":1700000000%03d,"step":%d}`, i%20, float64(i)*0.001, i%1000, round*n+i)
	}
	sb.WriteString(`]}`)
	return []byte(sb.String())
}

func BenchmarkLogBatch1000(b *testing.B) {
	e := newEnv(b)
	id := runID(e.createRun("0", nil))
	req := newBenchReq("POST", api+"runs/log-batch")
	w := &discardWriter{h: http.Header{}}
	b.SetBytes(int64(len(batchBody(id, 1000, 0))))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		// Every batch logs new steps: re-sending a body would only hit
		// ON CONFLICT DO NOTHING and measure nothing real.
		b.StopTimer()
		body := batchBody(id, 1000, i)
		b.StartTimer()
		req.serve(b, e.h, w, body)
	}
}

// seedRun creates a run that looks like a real one: 20 metrics with
// history, 30 params, 10 tags.
func seedRun(e *env) string {
	id := runID(e.createRun("0", nil))
	e.ok("POST", api+"runs/log-batch", map[string]any{"run_id": id, "metrics": func() []map[string]any {
		var ms []map[string]any
		for i := 0; i < 200; i++ {
			ms = append(ms, map[string]any{"key": fmt.Sprint("metric_", i%20), "value": float64(i) / 7, "timestamp": 1700000000000 + i, "step": i / 20})
		}
		return ms
	}(), "params": func() []map[string]any {
		var ps []map[string]any
		for i := 0; i < 30; i++ {
			ps = append(ps, map[string]any{"key": fmt.Sprint("param_", i), "value": fmt.Sprint("value-", i)})
		}
		return ps
	}(), "tags": func() []map[string]any {
		var ts []map[string]any
		for i := 0; i < 10; i++ {
			ts = append(ts, map[string]any{"key": fmt.Sprint("tag_", i), "value": fmt.Sprint("t", i)})
		}
		return ts
	}()})
	return id
}

func BenchmarkGetRun(b *testing.B) {
	e := newEnv(b)
	id := seedRun(e)
	req := newBenchReq("GET", api+"runs/get?run_id="+id)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		req.serve(b, e.h, w, nil)
	}
}

// ---- over loopback HTTP

func httpBench(b *testing.B, method, target string, body func(run string, i int) []byte) {
	b.Helper()
	e := newEnv(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	defer client.CloseIdleConnections()
	base := e.url()
	id := seedRun(e)
	target = strings.ReplaceAll(target, "{run}", id)
	run := func(i int, target string) {
		var rd io.Reader
		if body != nil {
			b.StopTimer() // building the payload is the client's work
			rd = bytes.NewReader(body(id, i))
			b.StartTimer()
		}
		req, _ := http.NewRequest(method, base+target, rd)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			b.Fatalf("status %d", res.StatusCode)
		}
	}
	run(0, target) // warm the connection
	b.ReportAllocs()
	b.ResetTimer()
	for i := 1; b.Loop(); i++ {
		run(i, target)
	}
}

func BenchmarkLogMetricHTTP(b *testing.B) {
	httpBench(b, "POST", api+"runs/log-metric", func(id string, i int) []byte {
		return []byte(`{"run_id":"` + id + `","key":"loss","value":0.5,"timestamp":1700000000000,"step":` + strconv.Itoa(i) + `}`)
	})
}

func BenchmarkLogBatch1000HTTP(b *testing.B) {
	httpBench(b, "POST", api+"runs/log-batch", func(id string, i int) []byte {
		return batchBody(id, 1000, i) // new steps every time
	})
}

func BenchmarkGetRunHTTP(b *testing.B) {
	httpBench(b, "GET", api+"runs/get?run_id={run}", nil)
}
