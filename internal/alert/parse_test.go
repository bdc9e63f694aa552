package alert

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

func TestParseRulesExample(t *testing.T) {
	src, err := os.ReadFile("testdata/rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseRules(src)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Rules) != 2 || len(cfg.Channels) != 3 {
		t.Fatalf("got %d rules, %d channels", len(cfg.Rules), len(cfg.Channels))
	}
	r := cfg.Rules[0]
	if r.Name != "feature-drift" || r.Series != "drift_share" || r.Op != ">" || r.Threshold != 0.5 ||
		r.For != 10*time.Minute || r.Severity != SeverityCritical || r.RepeatInterval != 4*time.Hour ||
		r.GroupInterval != DefaultGroupInterval || len(r.GroupBy) != 1 || r.GroupBy[0] != "endpoint" ||
		len(r.Channels) != 3 || len(r.Annotations) != 2 {
		t.Fatalf("rule parsed as %+v", r)
	}
	m := r.Matchers[0]
	if m.Name != "endpoint" || m.Regex == nil {
		t.Fatalf("matcher %+v", m)
	}
	for v, want := range map[string]bool{"fraud": true, "churn": true, "fraudx": false, "": false} {
		if got := m.Matches(map[string]string{"endpoint": v}); got != want {
			t.Errorf("regex matcher on %q = %v, want %v", v, got, want)
		}
	}
	l := cfg.Rules[1]
	if l.Severity != SeverityWarning || l.RepeatInterval != DefaultRepeatInterval || l.For != 0 || l.Op != ">=" {
		t.Fatalf("defaults not applied: %+v", l)
	}
	if !reflect.DeepEqual(cfg.Channels[1], ChannelConfig{Name: "team-slack", Type: "slack", URL: "https://hooks.slack.example/T000"}) {
		t.Fatalf("channel %+v", cfg.Channels[1])
	}
}

func TestParsePipelineChannel(t *testing.T) {
	cfg, err := ParseRules([]byte("rules: []\nchannels:\n  - name: retrain\n    type: pipeline\n    pipeline: cancer-train\n    params: {reason: drift, trees: 50}\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := ChannelConfig{Name: "retrain", Type: ChannelPipeline, Pipeline: "cancer-train", Params: map[string]string{"reason": "drift", "trees": "50"}}
	if !reflect.DeepEqual(cfg.Channels[0], want) {
		t.Fatalf("got %+v", cfg.Channels[0])
	}
	if _, err := New(cfg, Options{}); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Fatalf("a pipeline channel without a trigger: %v", err)
	}
}

func TestParseRulesErrors(t *testing.T) {
	const chans = "channels:\n  - {name: hook, type: webhook, url: \"http://x/\"}\n"
	tests := []struct {
		name, src string
		line      int
		msg       string
	}{
		{"empty", "", 1, "empty rules file"},
		{"not yaml", "rules:\n  - name: [\n", 2, "not valid YAML"},
		{"top unknown key", "rules: []\nroutes: []\n", 2, `unknown field "routes"`},
		{"no rules", "channels: []\n", 1, "no rules"},
		{"rules not list", "rules: {a: 1}\n", 1, "rules must be a list"},
		{"rule unknown key", "rules:\n  - name: a\n    series: s\n    condition: '> 1'\n    expr: x\n", 5, `unknown field "expr"`},
		{"missing condition", "rules:\n  - name: a\n    series: s\n", 2, `needs "condition"`},
		{"bad op", "rules:\n  - name: a\n    series: s\n    condition: '=> 1'\n", 4, "must start with"},
		{"bad threshold", "rules:\n  - name: a\n    series: s\n    condition: '> high'\n", 4, "not a number"},
		{"nan threshold", "rules:\n  - name: a\n    series: s\n    condition: '> NaN'\n", 4, "not a number"},
		{"bad for", "rules:\n  - name: a\n    series: s\n    condition: '> 1'\n    for: ten minutes\n", 5, "invalid duration"},
		{"negative for", "rules:\n  - name: a\n    series: s\n    condition: '> 1'\n    for: -1m\n", 5, "negative"},
		{"zero repeat", "rules:\n  - name: a\n    series: s\n    condition: '> 1'\n    repeat_interval: 0s\n", 5, "must be positive"},
		{"bad severity", "rules:\n  - name: a\n    series: s\n    condition: '> 1'\n    severity: page\n", 5, "unknown severity"},
		{"bad regex", "rules:\n  - name: a\n    series: s\n    condition: '> 1'\n    labels:\n      endpoint: '=~('\n", 6, "regular expression"},
		{"bad label name", "rules:\n  - name: a\n    series: s\n    condition: '> 1'\n    labels: {'a-b': x}\n", 5, "invalid label name"},
		{"bad group_by", "rules:\n  - name: a\n    series: s\n    condition: '> 1'\n    group_by: endpoint\n", 5, "must be a list"},
		{"bad template", "rules:\n  - name: a\n    series: s\n    condition: '> 1'\n    annotations:\n      summary: '{{ .Labels.x '\n", 6, "annotation summary"},
		{"undeclared channel", chans + "rules:\n  - name: a\n    series: s\n    condition: '> 1'\n    channels: [hook, pager]\n", 7, `undeclared channel "pager"`},
		{"duplicate rule", "rules:\n  - {name: a, series: s, condition: '> 1'}\n  - {name: a, series: s, condition: '> 2'}\n", 3, `duplicate rule "a" (first at line 2)`},
		{"duplicate key", "rules:\n  - name: a\n    name: b\n    series: s\n    condition: '> 1'\n", 3, "duplicate field"},
		{"channel bad type", "rules: []\nchannels:\n  - {name: x, type: email}\n", 3, "unknown channel type"},
		{"channel no url", "rules: []\nchannels:\n  - {name: x, type: webhook}\n", 3, "needs a url"},
		{"channel bad url", "rules: []\nchannels:\n  - {name: x, type: slack, url: 'ftp://h/'}\n", 3, "http or https"},
		{"log with url", "rules: []\nchannels:\n  - {name: x, type: log, url: 'http://h/'}\n", 3, "takes no url"},
		{"duplicate channel", "rules: []\nchannels:\n  - {name: x, type: log}\n  - {name: x, type: log}\n", 4, "duplicate channel"},
		{"pipeline no name", "rules: []\nchannels:\n  - {name: x, type: pipeline}\n", 3, "needs the pipeline"},
		{"pipeline bad params", "rules: []\nchannels:\n  - {name: x, type: pipeline, pipeline: p, params: [a]}\n", 3, "params must map"},
		{"params on webhook", "rules: []\nchannels:\n  - {name: x, type: webhook, url: 'http://h/', params: {a: b}}\n", 3, "applies to pipeline channels"},
		{"two documents", "rules: []\n---\nrules: []\n", 2, "one YAML document"},
		{"scalar root", "hello\n", 1, "must be a mapping"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseRules([]byte(tc.src))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			if pe.Line != tc.line || !strings.Contains(pe.Msg, tc.msg) {
				t.Fatalf("got %q (line %d), want line %d containing %q", err, pe.Line, tc.line, tc.msg)
			}
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Fatalf("%v is not an invalid-argument error", err)
			}
		})
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"90s", 90 * time.Second, true}, {"1h30m", 90 * time.Minute, true}, {"2d", 48 * time.Hour, true},
		{"1w", 7 * 24 * time.Hour, true}, {"0s", 0, true}, {"-5m", 0, false}, {"d", 0, false},
		{"1.5d", 0, false}, {"99999999999w", 0, false}, {"", 0, false},
	}
	for _, tc := range tests {
		got, err := ParseDuration(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestCompareNaNNeverTrue(t *testing.T) {
	nan := func() float64 { var z float64; return z / z }()
	for _, op := range []string{">", ">=", "<", "<=", "==", "!="} {
		if compare(op, nan, 0) {
			t.Errorf("NaN %s 0 is true", op)
		}
	}
	if !compare("!=", 1, 0) || compare("<", 1, 0) || !compare("<=", 0, 0) {
		t.Error("ordinary comparisons wrong")
	}
}
