package cli_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ferry-ml/ferry/internal/alert"
)

const testRules = `rules:
  - name: busy
    series: requests_per_second
    condition: "> 0"
    severity: critical
    group_by: [endpoint]
    channels: [log]
  - name: slow
    series: latency_p99_ms
    condition: "> 100"
    for: 1h
    severity: warning
channels:
  - {name: log, type: log}
`

// lines returns the non-empty lines of s.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// The alerting commands against a real server: rules set, shown and
// reset; alerts evaluated by the server's engine listed; the history;
// silences added, listed and expired.
func TestAlerts(t *testing.T) {
	a, srv := newAppServer(t)
	url := srv.URL
	env := map[string]string{"FERRY_URL": url}
	ferry := func(args ...string) (string, string, int) { return run(env, args...) }
	ok := func(args ...string) string {
		t.Helper()
		stdout, stderr, code := ferry(args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		return stdout
	}

	// No rules yet.
	if out := ok("alerts", "rules"); !strings.Contains(out, "Alert rules: none") {
		t.Fatalf("rules before any:\n%s", out)
	}
	if stdout, stderr, code := ferry("alerts", "list"); code != 0 || stdout != "" || stderr != "no pending or firing alerts\n" {
		t.Fatalf("list without alerts: %d %q %q", code, stdout, stderr)
	}
	dir := t.TempDir()
	bad := writeFile(t, "bad.yaml", "rules:\n  - name: a\n    series: s\n    condition: '=> 1'\n")
	good := writeFile(t, "rules.yaml", testRules)

	checkErrors(t, url, []errorCase{
		{name: "reset without API rules", args: []string{"alerts", "rules", "reset"}, code: 1,
			stderr: []string{"ferry: RESOURCE_DOES_NOT_EXIST: No alert rules were set through the API."}},
		{name: "bad rules file", args: []string{"alerts", "rules", "set", bad}, code: 1,
			stderr: []string{"ferry: " + bad + ": INVALID_PARAMETER_VALUE: ", "line 4", "the rules in force are unchanged"}},
		{name: "empty rules file", args: []string{"alerts", "rules", "set", writeFile(t, "empty.yaml", "\n")}, code: 1,
			stderr: []string{"is empty", "ferry alerts rules reset"}},
		{name: "missing rules file", args: []string{"alerts", "rules", "set", dir + "/nope.yaml"}, code: 1, stderr: []string{"no such file"}},
		{name: "rules set without FILE", args: []string{"alerts", "rules", "set"}, code: 2, stderr: []string{"missing FILE", "Usage: ferry alerts rules set FILE"}},
		{name: "rules extra argument", args: []string{"alerts", "rules", "x"}, code: 2, stderr: []string{`unexpected argument "x"`}},
	})

	out := ok("alerts", "rules", "set", good)
	if !strings.Contains(out, "Set the alert rules from "+good) || !strings.Contains(out, "Alert rules: set through the API by ") {
		t.Fatalf("rules set:\n%s", out)
	}
	out = ok("alerts", "rules")
	ls := lines(out)
	if len(ls) != 4 || !strings.HasPrefix(ls[1], "NAME") ||
		strings.Join(strings.Fields(ls[2]), " ") != "busy requests_per_second - > 0 0s critical endpoint log" ||
		strings.Join(strings.Fields(ls[3]), " ") != "slow latency_p99_ms - > 100 1h0m0s warning - -" {
		t.Fatalf("rules:\n%s", out)
	}
	if out := ok("alerts", "rules", "--document"); out != testRules {
		t.Fatalf("--document:\n%s", out)
	}
	var rules struct {
		Source string `json:"source"`
		Rules  []any  `json:"rules"`
	}
	if err := json.Unmarshal([]byte(ok("alerts", "rules", "--json")), &rules); err != nil || rules.Source != "api" || len(rules.Rules) != 2 {
		t.Fatalf("rules --json: %v %+v", err, rules)
	}

	// The server's engine evaluates: busy fires at once, slow is pending.
	evaluate := func(at time.Time) {
		t.Helper()
		e := a.Alerts()
		if err := e.Evaluate(context.Background(), at, []alert.Sample{
			{Series: "requests_per_second", Labels: map[string]string{"endpoint": "fraud"}, Value: 3, Time: at},
			{Series: "latency_p99_ms", Labels: map[string]string{"endpoint": "fraud"}, Value: 250.5, Time: at},
		}); err != nil {
			t.Fatal(err)
		}
		if err := e.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	evaluate(time.Now())
	out = ok("alerts", "list")
	ls = lines(out)
	if len(ls) != 3 || strings.Join(strings.Fields(ls[0]), " ") != "RULE STATE LABELS VALUE SINCE SILENCED" ||
		!regexp.MustCompile(`^busy +firing +endpoint=fraud,severity=critical +3 +\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ +no$`).MatchString(ls[1]) ||
		!regexp.MustCompile(`^slow +pending +endpoint=fraud,severity=warning +250\.5 +\S+ \S+ +no$`).MatchString(ls[2]) {
		t.Fatalf("alerts list:\n%s", out)
	}
	var alerts struct {
		Alerts []struct {
			Rule  string `json:"rule"`
			State string `json:"state"`
		} `json:"alerts"`
	}
	if err := json.Unmarshal([]byte(ok("alerts", "ls", "--json")), &alerts); err != nil || len(alerts.Alerts) != 2 || alerts.Alerts[0].State != "firing" {
		t.Fatalf("alerts --json: %v %+v", err, alerts)
	}

	// History, newest first.
	out = ok("alerts", "history")
	ls = lines(out)
	if len(ls) != 5 || strings.Join(strings.Fields(ls[0]), " ") != "TIME RULE KIND WHAT" {
		t.Fatalf("history:\n%s", out)
	}
	for _, want := range []string{
		"busy  notification  channel log: firing (1 alert), attempt 1, sent",
		"busy  transition    pending → firing (value 3) {endpoint=fraud,severity=critical}",
		"busy  transition    inactive → pending (value 3) {endpoint=fraud,severity=critical}",
		"slow  transition    inactive → pending (value 250.5) {endpoint=fraud,severity=warning}",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("history lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(ls[1], "notification") {
		t.Errorf("history is not newest first:\n%s", out)
	}
	if out := ok("alerts", "history", "--kind", "notification", "--since", "1h"); len(lines(out)) != 2 {
		t.Errorf("--kind notification:\n%s", out)
	}
	if out := ok("alerts", "history", "--rule", "slow"); len(lines(out)) != 2 || !strings.Contains(out, "slow") {
		t.Errorf("--rule slow:\n%s", out)
	}
	if out := ok("alerts", "history", "--max", "1"); len(lines(out)) != 2 || !strings.Contains(out, "notification") {
		t.Errorf("--max 1:\n%s", out)
	}
	if stdout, stderr, code := ferry("alerts", "history", "--until", "1000"); code != 0 || stdout != "" || stderr != "no alert history\n" {
		t.Errorf("--until 1000: %d %q %q", code, stdout, stderr)
	}
	var hist struct {
		Events []any `json:"events"`
	}
	if err := json.Unmarshal([]byte(ok("alerts", "history", "--json")), &hist); err != nil || len(hist.Events) != 4 {
		t.Errorf("history --json: %v %d", err, len(hist.Events))
	}

	// Silences.
	id := strings.TrimSpace(ok("alerts", "silence", "add", "endpoint=fraud", "--duration", "2h", "--comment", "load test"))
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id) {
		t.Fatalf("silence add printed %q, want the id", id)
	}
	until := time.Now().Add(3 * time.Hour).UTC().Format(time.RFC3339)
	id2 := strings.TrimSpace(ok("alerts", "silence", "add", "busy", `severity="crit\u0069cal"`, "--until", until))
	out = ok("alerts", "silence", "list")
	ls = lines(out)
	if len(ls) != 3 || strings.Join(strings.Fields(ls[0]), " ") != "ID MATCHERS STATE STARTS ENDS CREATED BY COMMENT" ||
		!strings.Contains(out, id+`  endpoint="fraud"`) || !strings.Contains(out, "load test") ||
		!strings.Contains(out, id2+`  alertname="busy",severity="critical"`) || strings.Count(out, " active ") != 2 {
		t.Fatalf("silence list:\n%s", out)
	}
	if out := ok("alerts", "silence", "ls", "-q"); len(lines(out)) != 2 || !strings.Contains(out, id+"\n") || !strings.Contains(out, id2+"\n") {
		t.Fatalf("silence list -q:\n%s", out)
	}
	evaluate(time.Now())
	// (Only firing alerts are silenced: a pending one sends nothing anyway.)
	if out := ok("alerts", "list"); !regexp.MustCompile(`(?m)^busy .* yes$`).MatchString(out) || !regexp.MustCompile(`(?m)^slow .* no$`).MatchString(out) {
		t.Fatalf("silenced alerts:\n%s", out)
	}
	if out := ok("alerts", "silence", "expire", id, id2); out != "Expired silence "+id+".\nExpired silence "+id2+".\n" {
		t.Fatalf("expire: %q", out)
	}
	if stdout, stderr, code := ferry("alerts", "silence", "list"); code != 0 || stdout != "" || stderr != "no pending or active silences\n" {
		t.Fatalf("list after expire: %d %q %q", code, stdout, stderr)
	}
	if out := ok("alerts", "silence", "list", "--expired", "-q"); !strings.Contains(out, id) || !strings.Contains(out, id2) {
		t.Fatalf("expired silences stay listed: %q", out)
	}

	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	checkErrors(t, url, []errorCase{
		{name: "unknown silence", args: []string{"alerts", "silence", "expire", "f00d"}, code: 1,
			stderr: []string{"ferry: RESOURCE_DOES_NOT_EXIST: Silence 'f00d' does not exist."}},
		{name: "regex matcher", args: []string{"alerts", "silence", "add", "endpoint=~fra.*"}, code: 2,
			stderr: []string{"regex matchers (=~) are not supported", "equality only", "Usage: ferry alerts silence add"}},
		{name: "negative matcher", args: []string{"alerts", "silence", "add", "endpoint!=fraud"}, code: 2, stderr: []string{"negative matchers (!=)"}},
		{name: "bad label name", args: []string{"alerts", "silence", "add", "end-point=fraud"}, code: 2, stderr: []string{`"end-point" is not a label name`}},
		{name: "not a matcher", args: []string{"alerts", "silence", "add", "busy", "fraud"}, code: 2, stderr: []string{`"fraud" is not a matcher: use name=value`}},
		{name: "matched twice", args: []string{"alerts", "silence", "add", "endpoint=a", "endpoint=b"}, code: 2, stderr: []string{`label "endpoint" is matched twice`}},
		{name: "no matcher", args: []string{"alerts", "silence", "add", "--duration", "1h"}, code: 2, stderr: []string{"missing MATCHER"}},
		{name: "duration and until", args: []string{"alerts", "silence", "add", "endpoint=fraud", "--duration", "2h", "--until", future}, code: 2,
			stderr: []string{"give --duration or --until, not both"}},
		{name: "bad duration", args: []string{"alerts", "silence", "add", "endpoint=fraud", "--duration", "soon"}, code: 2, stderr: []string{`--duration: "soon"`}},
		{name: "until a duration", args: []string{"alerts", "silence", "add", "endpoint=fraud", "--until", "2h"}, code: 2, stderr: []string{"use --duration"}},
		{name: "until past", args: []string{"alerts", "silence", "add", "endpoint=fraud", "--until", "2020-01-01T00:00:00Z"}, code: 2, stderr: []string{"is not in the future"}},
		{name: "too long", args: []string{"alerts", "silence", "add", "endpoint=fraud", "--duration", "400d"}, code: 1, stderr: []string{"INVALID_PARAMETER_VALUE", "at most"}},
		{name: "expire without id", args: []string{"alerts", "silence", "expire"}, code: 2, stderr: []string{"missing ID"}},
		{name: "bad kind", args: []string{"alerts", "history", "--kind", "bogus"}, code: 2, stderr: []string{"--kind must be transition or notification"}},
		{name: "bad since", args: []string{"alerts", "history", "--since", "yesterday"}, code: 2, stderr: []string{"--since: "}},
		{name: "bad max", args: []string{"alerts", "history", "--max", "20000"}, code: 2, stderr: []string{"--max must be 1 to 10000"}},
		{name: "missing silence subcommand", args: []string{"alerts", "silence"}, code: 2,
			stderr: []string{"missing subcommand for alerts silence", "ferry alerts silence add", "ferry alerts silence expire"}},
		{name: "unknown silence subcommand", args: []string{"alerts", "silence", "frob"}, code: 2, stderr: []string{`unknown command "alerts silence frob"`}},
		{name: "unknown alerts subcommand", args: []string{"alerts", "frob"}, code: 2, stderr: []string{`unknown command "alerts frob"`, "ferry alerts history"}},
	})

	// Back to the (absent) alert_rules file.
	if out := ok("alerts", "rules", "reset"); !strings.Contains(out, "Dropped the alert rules set through the API.\nAlert rules: none") {
		t.Fatalf("reset:\n%s", out)
	}
}

// `ferry monitor settings` shows and replaces an endpoint's drift
// settings; `ferry monitor reference` shows and sets its reference.
func TestMonitorSettingsAndReference(t *testing.T) {
	url := newServer(t).URL
	env := map[string]string{"FERRY_URL": url}
	ok := func(args ...string) string {
		t.Helper()
		stdout, stderr, code := run(env, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		return stdout
	}
	if out := ok("monitor", "settings", "fraud"); out != `Drift settings of endpoint fraud:
  Test:         Evidently's default selection per feature (each test with its own threshold)
  Drift share:  0.5
  Window:       the newest 1000 rows, from a day back at most
` {
		t.Fatalf("defaults:\n%s", out)
	}
	out := ok("monitor", "settings", "fraud", "--stattest", "psi", "--threshold", "0.2", "--drift-share", "0.6", "--window", "1h")
	if !strings.Contains(out, "the settings not given are back to their defaults") || !strings.Contains(out, "Test:         psi, threshold 0.2\n") ||
		!strings.Contains(out, "Drift share:  0.6\n") || !strings.Contains(out, "the rows logged in the last 1h0m0s (the newest 100000 at most)") {
		t.Fatalf("set:\n%s", out)
	}
	if out := ok("monitor", "settings", "fraud"); !strings.Contains(out, "psi, threshold 0.2") {
		t.Fatalf("after set:\n%s", out)
	}
	// A PUT replaces: what is not given is the default again.
	var got struct {
		Settings map[string]any `json:"settings"`
	}
	if err := json.Unmarshal([]byte(ok("monitor", "settings", "fraud", "--window-rows", "500", "--json")), &got); err != nil ||
		got.Settings["stattest"] != "" || got.Settings["window_rows"] != 500.0 || got.Settings["drift_share"] != 0.5 || got.Settings["window"] != "" {
		t.Fatalf("--window-rows --json: %v %v", err, got)
	}
	if out := ok("monitor", "settings", "fraud", "--reset"); !strings.HasPrefix(out, "Restored the default drift settings of endpoint fraud.\n") ||
		!strings.Contains(out, "newest 1000 rows") {
		t.Fatalf("reset:\n%s", out)
	}

	// References.
	csv := writeFile(t, "train.csv", "amount,age\n1.5,30\n2.5,40\n3.5,50\n")
	ok("data", "add", "fraud-train", csv)
	if out := ok("monitor", "reference", "fraud", "fraud-train@1"); out != "Endpoint fraud is now compared with dataset fraud-train@1.\n" {
		t.Fatalf("set reference: %q", out)
	}
	if out := ok("monitor", "reference", "fraud"); out != "Endpoint fraud is compared with dataset fraud-train@1 (set for the endpoint).\n" {
		t.Fatalf("reference: %q", out)
	}
	var ref struct {
		Reference struct {
			Dataset string `json:"dataset"`
			Version int64  `json:"version"`
		} `json:"reference"`
	}
	if err := json.Unmarshal([]byte(ok("monitor", "ref", "fraud", "--json")), &ref); err != nil || ref.Reference.Dataset != "fraud-train" || ref.Reference.Version != 1 {
		t.Fatalf("reference --json: %v %+v", err, ref)
	}

	checkErrors(t, url, []errorCase{
		{name: "both windows", args: []string{"monitor", "settings", "fraud", "--window", "1h", "--window-rows", "10"}, code: 2,
			stderr: []string{"not both", "Usage: ferry monitor settings ENDPOINT"}},
		{name: "reset with flags", args: []string{"monitor", "settings", "fraud", "--reset", "--threshold", "0.1"}, code: 2, stderr: []string{"give it alone"}},
		{name: "unknown test", args: []string{"monitor", "settings", "fraud", "--stattest", "bogus"}, code: 1,
			stderr: []string{"INVALID_PARAMETER_VALUE", "'stattest'", "psi"}},
		{name: "bad window", args: []string{"monitor", "settings", "fraud", "--window", "soon"}, code: 1, stderr: []string{"'window'"}},
		{name: "settings without endpoint", args: []string{"monitor", "settings"}, code: 2, stderr: []string{"missing ENDPOINT"}},
		{name: "no reference", args: []string{"monitor", "reference", "other"}, code: 1, stderr: []string{"ferry: RESOURCE_DOES_NOT_EXIST"}},
		{name: "bad dataset ref", args: []string{"monitor", "reference", "fraud", "fraud-train@x"}, code: 2, stderr: []string{"is not a dataset version"}},
		{name: "unknown dataset", args: []string{"monitor", "reference", "fraud", "nope@1"}, code: 1, stderr: []string{"ferry: RESOURCE_DOES_NOT_EXIST"}},
		{name: "reference extra argument", args: []string{"monitor", "reference", "fraud", "a@1", "b"}, code: 2, stderr: []string{`unexpected argument "b"`}},
	})
}

func TestAlertsHelp(t *testing.T) {
	for _, args := range [][]string{
		{"alerts", "--help"},
		{"alerts", "silence", "--help"},
		{"alerts", "list", "--help"},
		{"alerts", "rules", "--help"},
		{"alerts", "rules", "set", "--help"},
		{"alerts", "rules", "reset", "--help"},
		{"alerts", "history", "--help"},
		{"alerts", "silence", "add", "--help"},
		{"alerts", "silence", "list", "--help"},
		{"alerts", "silence", "expire", "--help"},
		{"monitor", "settings", "--help"},
		{"monitor", "reference", "--help"},
	} {
		stdout, stderr, code := run(nil, args...)
		if code != 0 || stderr != "" || !strings.Contains(stdout, "Usage") || !strings.Contains(stdout, "--server URL") {
			t.Errorf("%v: exit %d, stderr %q, stdout:\n%s", args, code, stderr, stdout)
		}
	}
	if stdout, _, _ := run(nil, "monitor", "settings", "--help"); !strings.Contains(stdout, "REPLACES all the settings: a flag not given is back to its default") {
		t.Errorf("monitor settings --help does not say that a change replaces every setting:\n%s", stdout)
	}
	_, stderr, _ := run(nil)
	for _, cmd := range []string{"ferry monitor settings ENDPOINT", "ferry monitor reference ENDPOINT", "ferry alerts list", "ferry alerts rules",
		"ferry alerts rules set FILE", "ferry alerts rules reset", "ferry alerts history", "ferry alerts silence add MATCHER",
		"ferry alerts silence list", "ferry alerts silence expire ID"} {
		if !strings.Contains(stderr, cmd) {
			t.Errorf("Usage lacks %q", cmd)
		}
	}
}
