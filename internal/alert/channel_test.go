package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func notifications(h *MemoryHistory) []Event {
	var out []Event
	for _, e := range h.Events() {
		if e.Kind == EventNotification {
			out = append(out, e)
		}
	}
	return out
}

func TestDeliveryRetries(t *testing.T) {
	tests := []struct {
		name     string
		fail     func(n int) int
		attempts int    // HTTP calls made
		errs     []bool // per recorded attempt: failed?
	}{
		{"succeeds first", nil, 1, []bool{false}},
		{"5xx then success", func(n int) int { return map[int]int{0: 500, 1: 503}[n] }, 3, []bool{true, true, false}},
		{"429 retried", func(n int) int { return map[int]int{0: 429}[n] }, 2, []bool{true, false}},
		{"always 500", func(int) int { return 500 }, 3, []bool{true, true, true}},
		{"4xx not retried", func(int) int { return 400 }, 1, []bool{true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, "0s", tc.fail)
			h.eval(t, 0, fraud3(0.9)...)
			if n := h.rc.count(); n != tc.attempts {
				t.Fatalf("%d HTTP calls, want %d", n, tc.attempts)
			}
			ev := notifications(h.hist)
			if len(ev) != len(tc.errs) {
				t.Fatalf("%d attempts recorded, want %d: %+v", len(ev), len(tc.errs), ev)
			}
			for i, e := range ev {
				if e.Attempt != i+1 || e.Channel != "ops" || e.Status != StatusFiring || e.Alerts != 3 ||
					e.Rule != "feature-drift" || !e.Time.Equal(t0) || (e.Err != "") != tc.errs[i] {
					t.Fatalf("attempt %d recorded as %+v", i+1, e)
				}
				if tc.errs[i] && !strings.Contains(e.Err, "HTTP") {
					t.Fatalf("error %q does not name the HTTP status", e.Err)
				}
			}
			// Every retry carried the same payload.
			ps := h.rc.payloads(t)
			for _, p := range ps[1:] {
				if p.GroupKey != ps[0].GroupKey || len(p.Alerts) != len(ps[0].Alerts) {
					t.Fatal("retry sent a different payload")
				}
			}
		})
	}
}

func TestDeliveryUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	cfg := &Config{
		Rules:    []Rule{{Name: "r", Series: "s", Op: ">", Threshold: 0, Channels: []string{"hook"}}},
		Channels: []ChannelConfig{{Name: "hook", Type: ChannelWebhook, URL: url}},
	}
	hist := NewMemoryHistory(0)
	e, err := New(cfg, Options{History: hist, Backoff: time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	ctx := context.Background()
	if err := e.Evaluate(ctx, t0, []Sample{{Series: "s", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	ev := notifications(hist)
	if len(ev) != 3 || ev[2].Err == "" || ev[2].Attempt != 3 {
		t.Fatalf("recorded %+v, want 3 failed attempts", ev)
	}
}

func TestDeliveryOffEvaluationPath(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	started := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(started) })
		<-release
	}))
	defer srv.Close()
	cfg := &Config{
		Rules:    []Rule{{Name: "r", Series: "s", Op: ">", Threshold: 0, Channels: []string{"hook"}}},
		Channels: []ChannelConfig{{Name: "hook", Type: ChannelWebhook, URL: srv.URL}},
	}
	e, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	// Runs before Close, so a failing test does not leave the receiver blocked.
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	ctx := context.Background()
	// Evaluate returns while the receiver still holds the request.
	if err := e.Evaluate(ctx, t0, []Sample{{Series: "s", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("the webhook was never called")
	}
	short, cancel := context.WithCancel(ctx)
	cancel()
	if err := e.Flush(short); err == nil {
		t.Fatal("Flush returned nil while a delivery was in flight")
	}
	close(release)
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestSlackAndLogChannels(t *testing.T) {
	var mu sync.Mutex
	var bodies [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b bytes.Buffer
		_, _ = b.ReadFrom(r.Body)
		mu.Lock()
		bodies = append(bodies, b.Bytes())
		mu.Unlock()
	}))
	defer srv.Close()
	src := `
rules:
  - name: feature-drift
    series: drift_share
    condition: "> 0.5"
    group_by: [endpoint]
    annotations: {summary: "drift on {{ .Labels.endpoint }}/{{ .Labels.feature }}"}
    channels: [slack, audit]
channels:
  - {name: slack, type: slack, url: "` + srv.URL + `"}
  - {name: audit, type: log}
`
	cfg, err := ParseRules([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	e, err := New(cfg, Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	ctx := context.Background()
	if err := e.Evaluate(ctx, t0, fraud3(0.9)); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 1 {
		t.Fatalf("%d slack calls", len(bodies))
	}
	var msg map[string]string
	if err := json.Unmarshal(bodies[0], &msg); err != nil || len(msg) != 1 {
		t.Fatalf("slack body %s (%v)", bodies[0], err)
	}
	text := msg["text"]
	for _, want := range []string{"[FIRING:3] feature-drift (endpoint=fraud)", "• [firing] drift on fraud/age", "drift on fraud/country"} {
		if !strings.Contains(text, want) {
			t.Errorf("slack text %q lacks %q", text, want)
		}
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(logs.String()), &rec); err != nil {
		t.Fatalf("log output %q: %v", logs.String(), err)
	}
	if rec["msg"] != "alert notification" || rec["receiver"] != "audit" || rec["status"] != "firing" || rec["alerts"] != 3.0 {
		t.Fatalf("log record %v", rec)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestPartialResolveAndNewMember(t *testing.T) {
	h := newHarness(t, "0s", nil)
	h.eval(t, 0, fraud3(0.9)...)
	// One series recovers and a new one joins within group_interval: one update after 5m.
	s := []Sample{drift("fraud", "age", 0.9), drift("fraud", "amount", 0.1), drift("fraud", "country", 0.9), drift("fraud", "zip", 0.8)}
	h.eval(t, 2*time.Minute, s...)
	h.eval(t, 5*time.Minute, s...)
	got := h.rc.payloads(t)
	if len(got) != 2 {
		t.Fatalf("%d calls, want 2", len(got))
	}
	status := map[string]string{}
	for _, a := range got[1].Alerts {
		status[a.Labels["feature"]] = a.Status
	}
	want := map[string]string{"age": "firing", "country": "firing", "zip": "firing", "amount": "resolved"}
	if len(status) != len(want) || got[1].Status != StatusFiring {
		t.Fatalf("update %v (status %s), want %v", status, got[1].Status, want)
	}
	for k, v := range want {
		if status[k] != v {
			t.Fatalf("update %v, want %v", status, want)
		}
	}
}
