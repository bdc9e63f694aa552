package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// receiver is a real HTTP endpoint recording every request body; fail
// decides the status of the n-th call (0-based).
type receiver struct {
	srv   *httptest.Server
	mu    sync.Mutex
	calls [][]byte
	ctype []string
	fail  func(n int) int
}

func newReceiver(t *testing.T, fail func(n int) int) *receiver {
	t.Helper()
	rc := &receiver{fail: fail}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		n := len(rc.calls)
		rc.calls = append(rc.calls, body)
		rc.ctype = append(rc.ctype, r.Header.Get("Content-Type"))
		rc.mu.Unlock()
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		if rc.fail != nil {
			if code := rc.fail(n); code != 0 {
				http.Error(w, "boom", code)
				return
			}
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) payloads(t *testing.T) []WebhookPayload {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := make([]WebhookPayload, len(rc.calls))
	for i, b := range rc.calls {
		if err := json.Unmarshal(b, &out[i]); err != nil {
			t.Fatalf("call %d: %v: %s", i, err, b)
		}
	}
	return out
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.calls)
}

const driftRules = `
rules:
  - name: feature-drift
    series: drift_share
    labels: {endpoint: "=~fraud|churn"}
    condition: "> 0.5"
    for: %FOR%
    severity: critical
    group_by: [endpoint]
    repeat_interval: 1h
    annotations:
      summary: "drift on {{ .Labels.endpoint }}"
      value: '{{ printf "%.2f" .Value }}'
    channels: [ops]
channels:
  - {name: ops, type: webhook, url: "%URL%"}
`

type harness struct {
	e    *Engine
	rc   *receiver
	hist *MemoryHistory
}

func newHarness(t *testing.T, forDur string, fail func(int) int) *harness {
	t.Helper()
	rc := newReceiver(t, fail)
	src := strings.NewReplacer("%FOR%", forDur, "%URL%", rc.srv.URL).Replace(driftRules)
	cfg, err := ParseRules([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	hist := NewMemoryHistory(0)
	e, err := New(cfg, Options{History: hist, Backoff: time.Millisecond, ExternalURL: "http://ferry.example",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	return &harness{e: e, rc: rc, hist: hist}
}

// eval evaluates at t0+offset and waits for the deliveries it queued.
func (h *harness) eval(t *testing.T, offset time.Duration, samples ...Sample) {
	t.Helper()
	ctx := context.Background()
	if err := h.e.Evaluate(ctx, t0.Add(offset), samples); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := h.e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

func drift(endpoint, feature string, v float64) Sample {
	return Sample{Series: "drift_share", Labels: map[string]string{"endpoint": endpoint, "feature": feature}, Value: v}
}

func fraud3(v float64) []Sample {
	return []Sample{drift("fraud", "age", v), drift("fraud", "amount", v), drift("fraud", "country", v)}
}

func TestFiresOncePerGroup(t *testing.T) {
	h := newHarness(t, "0s", nil)
	samples := append(fraud3(0.9), drift("churn", "tenure", 0.7), drift("churn", "plan", 0.1),
		drift("ranking", "x", 0.9), Sample{Series: "other", Labels: map[string]string{"endpoint": "fraud"}, Value: 9})
	h.eval(t, 0, samples...)
	got := h.rc.payloads(t)
	if len(got) != 2 {
		t.Fatalf("want one call per group (fraud, churn), got %d", len(got))
	}
	byEndpoint := map[string]WebhookPayload{}
	for _, p := range got {
		byEndpoint[p.GroupLabels["endpoint"]] = p
	}
	if n := len(byEndpoint["fraud"].Alerts); n != 3 {
		t.Fatalf("fraud group lists %d alerts, want 3", n)
	}
	if n := len(byEndpoint["churn"].Alerts); n != 1 {
		t.Fatalf("churn group lists %d alerts, want 1", n)
	}
	// Still firing, nothing changed: no new notification before repeat_interval.
	h.eval(t, time.Minute, samples...)
	h.eval(t, 30*time.Minute, samples...)
	if n := h.rc.count(); n != 2 {
		t.Fatalf("%d calls after unchanged evaluations, want 2", n)
	}
}

func TestForDuration(t *testing.T) {
	h := newHarness(t, "10m", nil)
	for _, off := range []time.Duration{0, 5 * time.Minute, 10*time.Minute - time.Second} {
		h.eval(t, off, fraud3(0.9)...)
		if n := h.rc.count(); n != 0 {
			t.Fatalf("notified at +%v, before for elapsed", off)
		}
	}
	for _, a := range h.e.Alerts() {
		if a.State != StatePending || a.ActiveAt != t0 {
			t.Fatalf("alert %+v, want pending since t0", a)
		}
	}
	h.eval(t, 10*time.Minute, fraud3(0.9)...)
	got := h.rc.payloads(t)
	if len(got) != 1 || len(got[0].Alerts) != 3 || got[0].Status != StatusFiring {
		t.Fatalf("after for elapsed got %+v", got)
	}
	if !got[0].Alerts[0].StartsAt.Equal(t0.Add(10 * time.Minute)) {
		t.Fatalf("startsAt %v, want the firing time", got[0].Alerts[0].StartsAt)
	}
}

func TestPendingResetsWhenConditionBreaks(t *testing.T) {
	h := newHarness(t, "10m", nil)
	h.eval(t, 0, drift("fraud", "age", 0.9))
	h.eval(t, 5*time.Minute, drift("fraud", "age", 0.2)) // back to inactive
	h.eval(t, 6*time.Minute, drift("fraud", "age", 0.9)) // pending again from +6m
	h.eval(t, 12*time.Minute, drift("fraud", "age", 0.9))
	if n := h.rc.count(); n != 0 {
		t.Fatal("fired although the condition broke during for")
	}
	h.eval(t, 16*time.Minute, drift("fraud", "age", 0.9))
	if n := h.rc.count(); n != 1 {
		t.Fatalf("%d calls, want 1 after 10m of continuous condition", n)
	}
	var tr []string
	for _, ev := range h.hist.Events() {
		if ev.Kind == EventTransition {
			tr = append(tr, string(ev.From)+">"+string(ev.To))
		}
	}
	want := "inactive>pending pending>inactive inactive>pending pending>firing"
	if strings.Join(tr, " ") != want {
		t.Fatalf("transitions %v, want %s", tr, want)
	}
}

func TestNaNNeverFires(t *testing.T) {
	h := newHarness(t, "0s", nil)
	h.eval(t, 0, drift("fraud", "age", math.NaN()), drift("fraud", "amount", math.Inf(1)))
	alerts := h.e.Alerts()
	if len(alerts) != 1 || alerts[0].Labels["feature"] != "amount" {
		t.Fatalf("alerts %+v, want only the +Inf series", alerts)
	}
}

func TestRepeatInterval(t *testing.T) {
	h := newHarness(t, "0s", nil)
	steps := []struct {
		at    time.Duration
		calls int
	}{{0, 1}, {30 * time.Minute, 1}, {59 * time.Minute, 1}, {time.Hour, 2}, {90 * time.Minute, 2}, {2 * time.Hour, 3}}
	for _, s := range steps {
		h.eval(t, s.at, fraud3(0.9)...)
		if n := h.rc.count(); n != s.calls {
			t.Fatalf("at +%v: %d calls, want %d", s.at, n, s.calls)
		}
	}
	for _, p := range h.rc.payloads(t) {
		if p.Status != StatusFiring || len(p.Alerts) != 3 {
			t.Fatalf("repeat payload %+v", p)
		}
	}
}

func TestResolved(t *testing.T) {
	tests := []struct {
		name    string
		resolve []Sample // samples at +1m that end the alerts
	}{
		{"condition false", fraud3(0.1)},
		{"series absent", nil},
		{"other series only", []Sample{drift("churn", "x", 0.1)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, "0s", nil)
			h.eval(t, 0, fraud3(0.9)...)
			h.eval(t, time.Minute, tc.resolve...)
			if len(h.e.Alerts()) != 0 {
				t.Fatalf("alerts still active: %+v", h.e.Alerts())
			}
			// The update waits for group_interval (5m) after the firing notification.
			h.eval(t, 4*time.Minute, tc.resolve...)
			if n := h.rc.count(); n != 1 {
				t.Fatalf("%d calls before group_interval, want 1", n)
			}
			h.eval(t, 5*time.Minute, tc.resolve...)
			h.eval(t, 6*time.Hour, tc.resolve...)
			got := h.rc.payloads(t)
			if len(got) != 2 {
				t.Fatalf("%d calls, want firing + one resolved", len(got))
			}
			p := got[1]
			if p.Status != StatusResolved || len(p.Alerts) != 3 {
				t.Fatalf("resolved payload %+v", p)
			}
			for _, a := range p.Alerts {
				if a.Status != StatusResolved || !a.EndsAt.Equal(t0.Add(time.Minute)) || !a.StartsAt.Equal(t0) {
					t.Fatalf("resolved alert %+v", a)
				}
			}
		})
	}
}

func TestAbsentForGrace(t *testing.T) {
	h := newHarness(t, "0s", nil)
	h.e.rules[0].rule.AbsentFor = 10 * time.Minute
	h.eval(t, 0, drift("fraud", "age", 0.9))
	h.eval(t, 5*time.Minute)
	if a := h.e.Alerts(); len(a) != 1 || a[0].State != StateFiring {
		t.Fatalf("alert dropped inside absent_for: %+v", a)
	}
	h.eval(t, 10*time.Minute)
	if a := h.e.Alerts(); len(a) != 0 {
		t.Fatalf("alert kept after absent_for: %+v", a)
	}
}

func TestSilences(t *testing.T) {
	tests := []struct {
		name     string
		matchers map[string]string
		muted    bool
	}{
		{"matching", map[string]string{"endpoint": "fraud"}, true},
		{"matching alertname", map[string]string{"alertname": "feature-drift", "severity": "critical"}, true},
		{"other endpoint", map[string]string{"endpoint": "churn"}, false},
		{"partial match", map[string]string{"endpoint": "fraud", "feature": "nope"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, "0s", nil)
			err := h.e.AddSilence(Silence{ID: "s1", Matchers: tc.matchers, StartsAt: t0, EndsAt: t0.Add(time.Hour),
				Comment: "deploying", CreatedBy: "ana"})
			if err != nil {
				t.Fatal(err)
			}
			h.eval(t, 0, fraud3(0.9)...)
			h.eval(t, 30*time.Minute, fraud3(0.9)...)
			want := 1
			if tc.muted {
				want = 0
				for _, a := range h.e.Alerts() {
					if a.State != StateFiring || !a.Silenced {
						t.Fatalf("silenced alert not tracked as firing: %+v", a)
					}
				}
			}
			if n := h.rc.count(); n != want {
				t.Fatalf("%d calls during the silence, want %d", n, want)
			}
			h.eval(t, time.Hour, fraud3(0.9)...) // silence expired
			if tc.muted {
				got := h.rc.payloads(t)
				if len(got) != 1 || len(got[0].Alerts) != 3 {
					t.Fatalf("after expiry got %+v", got)
				}
			}
		})
	}
}

func TestSilenceValidation(t *testing.T) {
	h := newHarness(t, "0s", nil)
	bad := []Silence{
		{Matchers: map[string]string{"a": "b"}, StartsAt: t0, EndsAt: t0.Add(time.Hour)},
		{ID: "x", StartsAt: t0, EndsAt: t0.Add(time.Hour)},
		{ID: "x", Matchers: map[string]string{"a": "b"}, StartsAt: t0, EndsAt: t0},
	}
	for i, s := range bad {
		if err := h.e.AddSilence(s); err == nil {
			t.Errorf("silence %d accepted", i)
		}
	}
}

func TestTemplateRendering(t *testing.T) {
	h := newHarness(t, "0s", nil)
	h.eval(t, 0, drift("fraud", "age", 0.876))
	a := h.rc.payloads(t)[0].Alerts[0]
	if a.Annotations["summary"] != "drift on fraud" || a.Annotations["value"] != "0.88" {
		t.Fatalf("annotations %v", a.Annotations)
	}
	tests := []struct{ tmpl, want string }{
		{"{{ .Labels.endpoint }}/{{ .Labels.missing }}", "fraud/"},
		{"{{ .Value }}", "0.5"},
		{"{{ if gt .Value 0.4 }}high{{ end }}", "high"},
		{"{{ .Nope }}", "<error expanding template:"},
		{"{{ range 100000 }}xxxxxxxxxx{{ end }}", "<error expanding template:"},
	}
	for _, tc := range tests {
		cfg, err := ParseRules([]byte("rules:\n  - name: r\n    series: s\n    condition: '> 0'\n    annotations:\n      a: '" + tc.tmpl + "'\n"))
		if err != nil {
			t.Fatal(err)
		}
		got := render(&cfg.Rules[0], map[string]string{"endpoint": "fraud"}, 0.5)["a"]
		if !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s rendered %q, want %q", tc.tmpl, got, tc.want)
		}
	}
}

func TestWebhookPayloadGolden(t *testing.T) {
	h := newHarness(t, "0s", nil)
	h.eval(t, 0, drift("fraud", "age", 0.9), drift("fraud", "amount", 0.75))
	h.rc.mu.Lock()
	body, ctype := h.rc.calls[0], h.rc.ctype[0]
	h.rc.mu.Unlock()
	if ctype != "application/json" {
		t.Fatalf("content type %q", ctype)
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"version", "groupKey", "truncatedAlerts", "status", "receiver", "groupLabels",
		"commonLabels", "commonAnnotations", "externalURL", "alerts"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("payload lacks %q", k)
		}
	}
	if doc["version"] != "4" || doc["status"] != "firing" || doc["receiver"] != "ops" {
		t.Errorf("payload header %v", doc)
	}
	alerts := doc["alerts"].([]any)
	for _, a := range alerts {
		m := a.(map[string]any)
		for _, k := range []string{"status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint"} {
			if _, ok := m[k]; !ok {
				t.Errorf("alert lacks %q", k)
			}
		}
		if m["endsAt"] != "0001-01-01T00:00:00Z" || m["startsAt"] != "2026-03-01T12:00:00Z" {
			t.Errorf("alert times %v %v", m["startsAt"], m["endsAt"])
		}
	}
	cl := doc["commonLabels"].(map[string]any)
	if cl["endpoint"] != "fraud" || cl["alertname"] != "feature-drift" || cl["feature"] != nil {
		t.Errorf("commonLabels %v", cl)
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, body, "", "  "); err != nil {
		t.Fatal(err)
	}
	pretty.WriteByte('\n')
	const golden = "testdata/webhook_firing.golden.json"
	if *update {
		if err := os.WriteFile(golden, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pretty.Bytes(), want) {
		t.Fatalf("payload differs from %s:\n%s", golden, pretty.Bytes())
	}
}

func TestNewRejectsInvalidRules(t *testing.T) {
	bad := []*Config{
		nil,
		{Rules: []Rule{{Series: "s", Op: ">"}}},
		{Rules: []Rule{{Name: "r", Series: "s", Op: "=>"}}},
		{Rules: []Rule{{Name: "r", Series: "s", Op: ">", Channels: []string{"nope"}}}},
		{Channels: []ChannelConfig{{Name: "c", Type: "email"}}},
	}
	for i, cfg := range bad {
		if e, err := New(cfg, Options{}); err == nil {
			_ = e.Close(context.Background())
			t.Errorf("config %d accepted", i)
		}
	}
}

// A pipeline channel starts its pipeline once when the group fires, not
// on repeats within the repeat interval nor on resolution; the run it
// started is recorded in the history and can be found by target and by
// group.
func TestPipelineChannel(t *testing.T) {
	src := `
rules:
  - name: drift
    series: drift_share
    condition: "> 0.5"
    group_by: [endpoint]
    repeat_interval: 1h
    channels: [retrain]
channels:
  - {name: retrain, type: pipeline, pipeline: cancer-train, params: {reason: drift}}
`
	cfg, err := ParseRules([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var reqs []TriggerRequest
	hist := NewMemoryHistory(0)
	e, err := New(cfg, Options{History: hist, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Trigger: func(_ context.Context, r TriggerRequest) (string, error) {
			mu.Lock()
			defer mu.Unlock()
			reqs = append(reqs, r)
			return "pipelines:/run" + string(rune('0'+len(reqs))), nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	h := &harness{e: e, hist: hist}
	h.eval(t, 0, drift("fraud", "", 0.8))
	h.eval(t, time.Minute, drift("fraud", "", 0.9))
	// Another alert joins the firing group (an update), and the group
	// repeats after repeat_interval: neither starts a run.
	h.eval(t, 7*time.Minute, drift("fraud", "", 0.9), drift("fraud", "age", 0.9))
	h.eval(t, 2*time.Hour, drift("fraud", "", 0.9), drift("fraud", "age", 0.9))
	// One resolves while the other fires: still the same episode.
	h.eval(t, 2*time.Hour+10*time.Minute, drift("fraud", "", 0.9), drift("fraud", "age", 0.1))
	if len(reqs) != 1 {
		t.Fatalf("%d runs started within one firing episode, want 1: %+v", len(reqs), reqs)
	}
	h.eval(t, 3*time.Hour, drift("fraud", "", 0.1), drift("fraud", "age", 0.1))
	h.eval(t, 3*time.Hour+10*time.Minute, drift("fraud", "", 0.1), drift("fraud", "age", 0.1))
	if n := len(hist.Events()); n == 0 {
		t.Fatal("no history")
	}
	r := reqs[0]
	if r.Pipeline != "cancer-train" || r.Params["reason"] != "drift" || r.Rule != "drift" ||
		r.Payload.GroupLabels["endpoint"] != "fraud" || r.Group != GroupURI("drift", r.Payload.GroupKey) ||
		!strings.HasPrefix(r.Group, "alerts:/drift/") {
		t.Fatalf("trigger request %+v", r)
	}
	got, err := hist.ListAlertEvents(context.Background(), HistoryQuery{Target: "pipelines:/run1"})
	if err != nil || len(got) != 1 || got[0].Channel != "retrain" || got[0].Status != StatusFiring {
		t.Fatalf("history by target: %+v %v", got, err)
	}
	byGroup, _ := hist.ListAlertEvents(context.Background(), HistoryQuery{Group: r.Group, Kind: EventNotification})
	if len(byGroup) < 4 || byGroup[0].Status != StatusResolved {
		t.Fatalf("history by group (newest first): %+v", byGroup)
	}
	// A new episode after the resolution starts a run again.
	h.eval(t, 4*time.Hour, drift("fraud", "", 0.9))
	if len(reqs) != 2 {
		t.Fatalf("%d runs after a second episode, want 2", len(reqs))
	}
	if _, err := hist.ListAlertEvents(context.Background(), HistoryQuery{Kind: "x"}); err == nil {
		t.Fatal("a bad kind is accepted")
	}
}

// Replacing the rules keeps the state of unchanged rules (no second
// notification, `for` not restarted) and starts changed ones afresh.
func TestAdoptKeepsUnchangedRules(t *testing.T) {
	rc := newReceiver(t, nil)
	build := func(threshold string) *Engine {
		src := strings.NewReplacer("%URL%", rc.srv.URL, "%T%", threshold).Replace(`
rules:
  - {name: drift, series: drift_share, condition: "> 0.5", group_by: [endpoint], channels: [ops]}
  - {name: busy, series: rps, condition: "> %T%", for: 10m, channels: [ops]}
channels:
  - {name: ops, type: webhook, url: "%URL%"}
`)
		cfg, err := ParseRules([]byte(src))
		if err != nil {
			t.Fatal(err)
		}
		e, err := New(cfg, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = e.Close(context.Background()) })
		return e
	}
	samples := []Sample{drift("fraud", "", 0.9), {Series: "rps", Value: 50}}
	old := build("10")
	h := &harness{e: old, rc: rc}
	h.eval(t, 0, samples...)
	if rc.count() != 1 {
		t.Fatalf("%d notifications", rc.count())
	}
	e := build("20") // busy changed, drift did not
	if n := e.Adopt(old); n != 1 {
		t.Fatalf("adopted %d rules, want 1", n)
	}
	h.e = e
	h.eval(t, time.Minute, samples...)
	if rc.count() != 1 {
		t.Fatalf("the unchanged firing rule notified again: %d notifications", rc.count())
	}
	var busy Alert
	for _, a := range e.Alerts() {
		if a.Rule == "busy" {
			busy = a
		}
	}
	if busy.State != StatePending || !busy.ActiveAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("the changed rule should start afresh: %+v", busy)
	}
}
