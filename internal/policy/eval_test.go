package policy

import (
	"context"
	"errors"
	"io"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// fakeFacts serves facts from fields and counts the calls.
type fakeFacts struct {
	version     int64
	run         string
	metrics     map[string]float64
	metricsErr  error
	vtags       map[string]string
	mtags       map[string]string
	tagsErr     error
	card        map[string]string
	cardErr     error
	approval    Approval
	approvalErr error
	files       map[string]string
	openErr     error
	alerts      []Alert
	alertsErr   error

	mu    sync.Mutex
	calls map[string]int
}

func (f *fakeFacts) count(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[name]++
}

func (f *fakeFacts) called(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[name]
}

func (f *fakeFacts) Version() int64 { return f.version }
func (f *fakeFacts) RunID() string  { return f.run }
func (f *fakeFacts) RunMetrics(context.Context) (map[string]float64, error) {
	f.count("metrics")
	return f.metrics, f.metricsErr
}
func (f *fakeFacts) VersionTags(context.Context) (map[string]string, error) {
	f.count("vtags")
	return f.vtags, f.tagsErr
}
func (f *fakeFacts) ModelTags(context.Context) (map[string]string, error) {
	f.count("mtags")
	return f.mtags, nil
}
func (f *fakeFacts) CardField(_ context.Context, p string) (string, bool, error) {
	f.count("card")
	v, ok := f.card[p]
	return v, ok, f.cardErr
}
func (f *fakeFacts) Approval(context.Context) (Approval, error) {
	f.count("approval")
	return f.approval, f.approvalErr
}
func (f *fakeFacts) OpenEvaluationSet(_ context.Context, p string) (io.ReadCloser, error) {
	f.count("open")
	if f.openErr != nil {
		return nil, f.openErr
	}
	s, ok := f.files[p]
	if !ok {
		return nil, errdefs.NotFound("artifact %s not found", p)
	}
	return io.NopCloser(strings.NewReader(s)), nil
}
func (f *fakeFacts) OpenAlerts(context.Context) ([]Alert, error) {
	f.count("alerts")
	return f.alerts, f.alertsErr
}

func mustParse(t testing.TB, src string) *Document {
	t.Helper()
	doc, err := Parse("policy.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// gate wraps requirements into a one-gate policy guarding alias production.
func gate(require string) string {
	return "version: 1\ngates:\n  - name: g\n    when: {aliases: [production]}\n    require:\n" + indent(require, "      ")
}

func indent(s, pre string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = pre + lines[i]
	}
	return strings.Join(lines, "\n") + "\n"
}

type ruleCase struct {
	name    string
	require string
	facts   *fakeFacts
	want    []RuleResult // Gate and Source are filled in
}

func TestRules(t *testing.T) {
	run := func(f *fakeFacts) *fakeFacts {
		if f.run == "" {
			f.run = "r1"
		}
		f.version = 3
		return f
	}
	pass := func(rule, detail string) RuleResult { return RuleResult{Rule: rule, Passed: true, Detail: detail} }
	fail := func(rule, detail string) RuleResult { return RuleResult{Rule: rule, Detail: detail} }
	evalCSV := "sex,label,pred\nf,1,1\nf,0,0\nf,1,0\nm,1,1\nm,0,1\nm,0,0\n"
	evalGroups := "6 rows; f: n=3 selection=0.3333 TPR=0.5000 FPR=0.0000; m: n=3 selection=0.6667 TPR=1.0000 FPR=0.5000"
	cases := []ruleCase{
		// Metrics.
		{"metric passes", "metrics: [metrics.auc >= 0.85]", run(&fakeFacts{metrics: map[string]float64{"auc": 0.91}}),
			[]RuleResult{pass("metrics.auc >= 0.85", "auc = 0.91")}},
		{"metric at threshold", "metrics: [metrics.auc >= 0.85]", run(&fakeFacts{metrics: map[string]float64{"auc": 0.85}}),
			[]RuleResult{pass("metrics.auc >= 0.85", "auc = 0.85")}},
		{"metric fails", "metrics: [metrics.auc >= 0.85]", run(&fakeFacts{metrics: map[string]float64{"auc": 0.81}}),
			[]RuleResult{fail("metrics.auc >= 0.85", "auc = 0.81")}},
		{"every comparator", "metrics: [metrics.a > 1, metrics.a < 1, metrics.a <= 1, metrics.a == 1, metrics.a != 1, metrics.a = 2]",
			run(&fakeFacts{metrics: map[string]float64{"a": 1}}),
			[]RuleResult{fail("metrics.a > 1", "a = 1"), fail("metrics.a < 1", "a = 1"), pass("metrics.a <= 1", "a = 1"),
				pass("metrics.a == 1", "a = 1"), fail("metrics.a != 1", "a = 1"), fail("metrics.a == 2", "a = 1")}},
		{"metric missing", "metrics: [metrics.auc >= 0.85]", run(&fakeFacts{metrics: map[string]float64{"acc": 1}}),
			[]RuleResult{fail("metrics.auc >= 0.85", "run r1 has no metric 'auc'")}},
		{"metric NaN", "metrics: [metrics.loss != 0]", run(&fakeFacts{metrics: map[string]float64{"loss": nan()}}),
			[]RuleResult{fail("metrics.loss != 0", "loss = NaN")}},
		{"metric key with spaces", "metrics: ['metrics.\"f1 macro\" > 0.5']", run(&fakeFacts{metrics: map[string]float64{"f1 macro": 0.6}}),
			[]RuleResult{pass(`metrics."f1 macro" > 0.5`, "f1 macro = 0.6")}},
		{"no run", "metrics: [metrics.auc >= 0.85]", &fakeFacts{version: 3},
			[]RuleResult{fail("metrics.auc >= 0.85", "no run: version 3 was not registered from a run, so it has no metrics")}},
		{"metrics unreadable", "metrics: [metrics.auc >= 0.85]", run(&fakeFacts{metricsErr: errors.New("db down")}),
			[]RuleResult{fail("metrics.auc >= 0.85", "cannot read the metrics of run r1: db down")}},

		// Tags.
		{"tag on version", "tags: [owner]", run(&fakeFacts{vtags: map[string]string{"owner": "alice"}}),
			[]RuleResult{pass("tag owner", "owner = alice (version tag)")}},
		{"tag on model", "tags: [owner]", run(&fakeFacts{mtags: map[string]string{"owner": "team a"}}),
			[]RuleResult{pass("tag owner", `owner = "team a" (model tag)`)}},
		{"version tag wins", "tags: [owner]", run(&fakeFacts{vtags: map[string]string{"owner": " "}, mtags: map[string]string{"owner": "bob"}}),
			[]RuleResult{fail("tag owner", "version tag 'owner' is empty")}},
		{"tag missing", "tags: [owner]", run(&fakeFacts{}),
			[]RuleResult{fail("tag owner", "tag 'owner' is not set on the version or the model")}},
		{"tags unreadable", "tags: [owner]", run(&fakeFacts{tagsErr: errors.New("boom")}),
			[]RuleResult{fail("tag owner", "cannot read the version's tags: boom")}},
		{"tag value", "tag_values: {risk_tier: low, region: eu}",
			run(&fakeFacts{vtags: map[string]string{"risk_tier": "low"}, mtags: map[string]string{"region": "us"}}),
			[]RuleResult{pass("tag risk_tier == low", "risk_tier = low (version tag)"), fail("tag region == eu", "region = us (model tag)")}},
		{"tag value missing", "tag_values: {risk_tier: low}", run(&fakeFacts{}),
			[]RuleResult{fail("tag risk_tier == low", "tag 'risk_tier' is not set on the version or the model")}},
		{"tag value empty required", "tag_values: {note: ''}", run(&fakeFacts{vtags: map[string]string{"note": ""}}),
			[]RuleResult{pass(`tag note == ""`, `note = "" (version tag)`)}},

		// Model card.
		{"card field", "card_fields: [model_details.owners, considerations.limitations, considerations.users]",
			run(&fakeFacts{card: map[string]string{"model_details.owners": `[{"name":"a"}]`, "considerations.limitations": "[]"}}),
			[]RuleResult{pass("card model_details.owners", "model_details.owners is filled in"),
				fail("card considerations.limitations", "considerations.limitations is empty in the model card"),
				fail("card considerations.users", "the model card has no considerations.users")}},
		{"card unreadable", "card_fields: [a]", run(&fakeFacts{cardErr: errors.New("no card store")}),
			[]RuleResult{fail("card a", "cannot read the model card: no card store")}},

		// Approvals.
		{"approved by two", "approvals: 2", run(&fakeFacts{approval: Approval{Status: "approved", Approvers: []string{"alice", "bob", "alice"}}}),
			[]RuleResult{pass("approvals >= 2", "2 approvers (alice, bob)")}},
		{"one approver short", "approvals: 2", run(&fakeFacts{approval: Approval{Status: "APPROVED", Approvers: []string{"alice"}}}),
			[]RuleResult{fail("approvals >= 2", "1 approver (alice)")}},
		{"rejected after approval", "approvals: 1", run(&fakeFacts{approval: Approval{Status: "rejected", Approvers: []string{"alice"}}}),
			[]RuleResult{fail("approvals >= 1", "status rejected, 1 approver (alice)")}},
		{"never reviewed", "approvals: 1", run(&fakeFacts{}),
			[]RuleResult{fail("approvals >= 1", "status pending, 0 approvers")}},
		{"approval unreadable", "approvals: 1", run(&fakeFacts{approvalErr: errors.New("x")}),
			[]RuleResult{fail("approvals >= 1", "cannot read the approval state: x")}},

		// Alerts.
		{"no alerts", "no_open_alerts: critical", run(&fakeFacts{}),
			[]RuleResult{pass("no open alerts >= critical", "none open")}},
		{"alerts below", "no_open_alerts: critical", run(&fakeFacts{alerts: []Alert{{"warning", "drift"}, {"info", "x"}}}),
			[]RuleResult{pass("no open alerts >= critical", "none at or above critical (2 below)")}},
		{"alert blocks", "no_open_alerts: warning", run(&fakeFacts{alerts: []Alert{{"warning", "drift-psi"}, {"info", "x"}, {"CRITICAL", "down"}}}),
			[]RuleResult{fail("no open alerts >= warning", "2 open: drift-psi (warning), down (CRITICAL)")}},
		{"unknown severity blocks", "no_open_alerts: critical", run(&fakeFacts{alerts: []Alert{{"sev1", "pager"}}}),
			[]RuleResult{fail("no open alerts >= critical", "1 open: pager (sev1)")}},
		{"alerts unreadable", "no_open_alerts: info", run(&fakeFacts{alertsErr: errors.New("y")}),
			[]RuleResult{fail("no open alerts >= info", "cannot read open alerts: y")}},

		// Fairness (the numbers are checked against scikit-learn in fairness_test.go).
		{"fairness", "fairness: {protected_attribute: sex, evaluation_set: e.csv, label_column: label, prediction_column: pred, max_equalized_odds_difference: 0.5}",
			run(&fakeFacts{files: map[string]string{"e.csv": evalCSV}}),
			[]RuleResult{
				fail("demographic_parity_ratio(sex) >= 0.8", "ratio = 0.5000 (lowest selection rate f / highest m); "+evalGroups),
				pass("equalized_odds_difference(sex) <= 0.5", "difference = 0.5000 (TPR spread 0.5000, FPR spread 0.5000); "+evalGroups),
			}},
	}
	cases = append(cases,
		ruleCase{"fairness without run", "fairness: {protected_attribute: sex, evaluation_set: e.csv, label_column: label, prediction_column: pred, max_equalized_odds_difference: 0.5}",
			&fakeFacts{version: 3},
			[]RuleResult{
				fail("demographic_parity_ratio(sex) >= 0.8", "no run: version 3 was not registered from a run, so it has no evaluation set"),
				fail("equalized_odds_difference(sex) <= 0.5", "no run: version 3 was not registered from a run, so it has no evaluation set"),
			}},
		ruleCase{"fairness missing file", "fairness: {protected_attribute: sex, evaluation_set: eval/e.csv, label_column: label, prediction_column: pred}",
			run(&fakeFacts{}),
			[]RuleResult{fail("demographic_parity_ratio(sex) >= 0.8", "evaluation set eval/e.csv of run r1: cannot open it: artifact eval/e.csv not found")}},
		ruleCase{"fairness bad row", "fairness: {protected_attribute: sex, evaluation_set: e.csv, label_column: label, prediction_column: pred, min_demographic_parity_ratio: 0.5}",
			run(&fakeFacts{files: map[string]string{"e.csv": "sex,label,pred\nf,1,1\nm,yes,1\n"}}),
			[]RuleResult{fail("demographic_parity_ratio(sex) >= 0.5", `evaluation set e.csv of run r1: line 3: label column "label": holds "yes": labels must be 0 or 1 (set positive_label to name the positive value)`)}},
		ruleCase{"fairness one group", "fairness: {protected_attribute: sex, evaluation_set: e.csv, label_column: label, prediction_column: pred}",
			run(&fakeFacts{files: map[string]string{"e.csv": "sex,label,pred\nf,1,1\nf,0,0\n"}}),
			[]RuleResult{fail("demographic_parity_ratio(sex) >= 0.8", "needs at least two groups of sex, found 1 in 2 rows: 2 rows; f: n=2 selection=0.5000 TPR=1.0000 FPR=0.0000")}},
		ruleCase{"fairness nobody selected", "fairness: {protected_attribute: sex, evaluation_set: e.csv, label_column: label, prediction_column: pred}",
			run(&fakeFacts{files: map[string]string{"e.csv": "sex,label,pred\nf,1,0\nm,0,0\n"}}),
			[]RuleResult{fail("demographic_parity_ratio(sex) >= 0.8", "undefined: no group has a positive prediction; 2 rows; f: n=1 selection=0.0000 TPR=0.0000 FPR=n/a; m: n=1 selection=0.0000 TPR=n/a FPR=0.0000")}},
		ruleCase{"fairness TPR undefined", "fairness: {protected_attribute: sex, evaluation_set: e.csv, label_column: label, prediction_column: pred, min_demographic_parity_ratio: 0, max_equalized_odds_difference: 1}",
			run(&fakeFacts{files: map[string]string{"e.csv": "sex,label,pred\nf,0,1\nf,1,1\nm,0,0\nm,0,1\n"}}),
			[]RuleResult{
				pass("demographic_parity_ratio(sex) >= 0", "ratio = 0.5000 (lowest selection rate m / highest f); 4 rows; f: n=2 selection=1.0000 TPR=1.0000 FPR=1.0000; m: n=2 selection=0.5000 TPR=n/a FPR=0.5000"),
				fail("equalized_odds_difference(sex) <= 1", "undefined: group m has no actual positives (TPR undefined); 4 rows; f: n=2 selection=1.0000 TPR=1.0000 FPR=1.0000; m: n=2 selection=0.5000 TPR=n/a FPR=0.5000"),
			}},
		ruleCase{"four fifths exactly", "fairness: {protected_attribute: g, evaluation_set: e.csv, label_column: y, prediction_column: p}",
			run(&fakeFacts{files: map[string]string{"e.csv": fourFifthsCSV()}}),
			[]RuleResult{pass("demographic_parity_ratio(g) >= 0.8", "ratio = 0.8000 (lowest selection rate a / highest b); 20 rows; a: n=10 selection=0.4000 TPR=1.0000 FPR=0.0000; b: n=10 selection=0.5000 TPR=1.0000 FPR=0.0000")}},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := mustParse(t, gate(c.require))
			res := Evaluate(context.Background(), []*Document{doc}, "fraud", Alias("production"), c.facts)
			allowed := true
			for i := range c.want {
				c.want[i].Gate, c.want[i].Source = "g", "policy.yaml"
				allowed = allowed && c.want[i].Passed
			}
			if len(res.Rules) != len(c.want) {
				t.Fatalf("got %d rules %+v, want %d", len(res.Rules), res.Rules, len(c.want))
			}
			for i := range c.want {
				if res.Rules[i] != c.want[i] {
					t.Errorf("rule %d:\ngot  %+v\nwant %+v", i, res.Rules[i], c.want[i])
				}
			}
			if res.Allowed != allowed || len(res.Gates) != 1 || res.Gates[0].Passed != allowed {
				t.Errorf("Allowed %v, gates %+v; want %v", res.Allowed, res.Gates, allowed)
			}
			if (res.Error() == nil) != allowed {
				t.Errorf("Error() = %v with Allowed %v", res.Error(), allowed)
			}
		})
	}
}

// fourFifthsCSV has selection rates 4/10 and 5/10: a ratio of exactly 0.8.
func fourFifthsCSV() string {
	var b strings.Builder
	b.WriteString("g,y,p\n")
	for i := range 10 {
		if i < 4 {
			b.WriteString("a,1,1\n")
		} else {
			b.WriteString("a,0,0\n")
		}
		if i < 5 {
			b.WriteString("b,1,1\n")
		} else {
			b.WriteString("b,0,0\n")
		}
	}
	return b.String()
}

const twoGates = `version: 1
gates:
  - name: production-readiness
    models: ["fraud-*", credit]
    when: {aliases: [production, champion], stages: [Production]}
    require:
      metrics: [metrics.auc >= 0.85, metrics.log_loss < 0.4]
      tags: [owner]
      approvals: 2
      no_open_alerts: critical
  - name: deploy
    when: {deploy: true}
    require: {approvals: 1}
`

func TestEvaluateMatching(t *testing.T) {
	global := mustParse(t, twoGates)
	perModel, err := ParseForModel("fraud-a.yaml", "fraud-a", []byte("version: 1\ngates:\n  - name: extra\n    when: {aliases: [production]}\n    require: {tags: [ticket]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	set := []*Document{global, nil, perModel}
	cases := []struct {
		model  string
		target Target
		gates  []string
	}{
		{"fraud-a", Alias("production"), []string{"production-readiness", "extra"}},
		{"fraud-b", Alias("production"), []string{"production-readiness"}},
		{"fraud-a", Alias("Production"), nil}, // aliases are case-sensitive
		{"credit", Alias("champion"), []string{"production-readiness"}},
		{"credit", Stage("production"), []string{"production-readiness"}}, // stages are not
		{"credit", Stage("Staging"), nil},
		{"churn", Alias("production"), nil},
		{"fraud-a/x", Alias("production"), nil}, // path.Match: * stops at /
		{"churn", Deploy(""), []string{"deploy"}},
		{"fraud-a", Deploy("prod-eu"), []string{"deploy"}},
	}
	for _, c := range cases {
		res := Evaluate(context.Background(), set, c.model, c.target, &fakeFacts{version: 1})
		var got []string
		for _, g := range res.Gates {
			got = append(got, g.Gate)
		}
		if strings.Join(got, ",") != strings.Join(c.gates, ",") {
			t.Errorf("%s %+v: gates %v, want %v", c.model, c.target, got, c.gates)
		}
		if len(c.gates) == 0 && (!res.Allowed || res.Note == "" || res.Error() != nil) {
			t.Errorf("%s %+v: no gate applies but %+v", c.model, c.target, res)
		}
	}
	res := Evaluate(context.Background(), set, "churn", Alias("production"), &fakeFacts{version: 1})
	if res.Note != "no policy gate guards alias 'production' of model 'churn'" {
		t.Errorf("note %q", res.Note)
	}
	if res := Evaluate(context.Background(), nil, "churn", Stage("Production"), &fakeFacts{}); !res.Allowed || res.Note != "no policy gate guards stage 'Production' of model 'churn'" {
		t.Errorf("empty set: %+v", res)
	}
}

func TestEvaluateUnknownTarget(t *testing.T) {
	res := Evaluate(context.Background(), []*Document{mustParse(t, twoGates)}, "fraud-a", Target{Kind: "tag", Name: "x"}, &fakeFacts{version: 2})
	if res.Allowed || res.Error() == nil {
		t.Fatalf("unknown target allowed: %+v", res)
	}
	if got := res.Error().Error(); got != `Policy gate refused "tag" "x" for version 2 of model 'fraud-a': unknown move kind "tag" (alias, stage or deploy)` {
		t.Error(got)
	}
}

func TestGateError(t *testing.T) {
	facts := &fakeFacts{version: 3, run: "r1",
		metrics:  map[string]float64{"auc": 0.81, "log_loss": 0.3},
		vtags:    map[string]string{"owner": "alice"},
		approval: Approval{Status: "approved", Approvers: []string{"alice"}},
	}
	res := Evaluate(context.Background(), []*Document{mustParse(t, twoGates)}, "fraud-x", Alias("production"), facts)
	err := res.Error()
	want := "Policy gate refused moving alias 'production' to version 3 of model 'fraud-x': 2 of 5 rules failed:\n" +
		"- [production-readiness] metrics.auc >= 0.85: auc = 0.81\n" +
		"- [production-readiness] approvals >= 2: 1 approver (alice)"
	if err == nil || err.Error() != want {
		t.Fatalf("got\n%v\nwant\n%s", err, want)
	}
	if !errors.Is(err, ErrGateFailed) || !errors.Is(err, errdefs.ErrPermission) {
		t.Error("GateError does not match ErrGateFailed and errdefs.ErrPermission")
	}
	if errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Error("GateError matches errdefs.ErrInvalidArgument")
	}
	var ge *GateError
	if !errors.As(err, &ge) || len(ge.Result.Rules) != 5 {
		t.Error("errors.As GateError")
	}

	stage := Evaluate(context.Background(), []*Document{mustParse(t, twoGates)}, "credit", Stage("production"), facts).Error()
	if !strings.HasPrefix(stage.Error(), "Policy gate refused moving version 3 of model 'credit' to stage 'production': 2 of 5 rules failed:") {
		t.Error(stage)
	}
	deploy := Evaluate(context.Background(), []*Document{mustParse(t, twoGates)}, "credit", Deploy("eu"), &fakeFacts{version: 4}).Error()
	if deploy.Error() != "Policy gate refused deploying version 4 of model 'credit' as 'eu': 1 of 1 rule failed:\n- [deploy] approvals >= 1: status pending, 0 approvers" {
		t.Error(deploy)
	}
}

func TestExplain(t *testing.T) {
	facts := &fakeFacts{version: 3, run: "r1",
		metrics:  map[string]float64{"auc": 0.91, "log_loss": 0.5},
		vtags:    map[string]string{"owner": "alice"},
		approval: Approval{Status: "approved", Approvers: []string{"alice", "bob"}},
	}
	res := Evaluate(context.Background(), []*Document{mustParse(t, twoGates)}, "fraud-x", Alias("production"), facts)
	want := `Policy check: moving alias 'production' to version 3 of model 'fraud-x'
Verdict: REFUSED (1 of 5 rules failed)

Gate production-readiness (policy.yaml): FAILED
  pass  metrics.auc >= 0.85         auc = 0.91
  FAIL  metrics.log_loss < 0.4      log_loss = 0.5
  pass  tag owner                   owner = alice (version tag)
  pass  approvals >= 2              2 approvers (alice, bob)
  pass  no open alerts >= critical  none open
`
	if got := Explain(res); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}

	facts.metrics["log_loss"] = 0.1
	res = Evaluate(context.Background(), []*Document{mustParse(t, twoGates)}, "fraud-x", Alias("production"), facts)
	if got := Explain(res); !strings.HasPrefix(got, "Policy check: moving alias 'production' to version 3 of model 'fraud-x'\nVerdict: ALLOWED (5 rules of 1 gate passed)\n") {
		t.Error(got)
	}
	res = Evaluate(context.Background(), []*Document{mustParse(t, twoGates)}, "churn", Alias("production"), facts)
	if got := Explain(res); got != "Policy check: moving alias 'production' to version 3 of model 'churn'\nVerdict: ALLOWED (no policy gate guards alias 'production' of model 'churn')\n" {
		t.Error(got)
	}
	res = Evaluate(context.Background(), nil, "churn", Target{Kind: "x"}, facts)
	if got := Explain(res); !strings.Contains(got, "Verdict: REFUSED (unknown move kind \"x\"") {
		t.Error(got)
	}
}

// The engine asks only for the facts the applicable rules need, and for
// each at most once.
func TestFactsAreLazy(t *testing.T) {
	src := `version: 1
gates:
  - name: a
    when: {aliases: [production]}
    require:
      metrics: [metrics.auc > 0.5, metrics.acc > 0.5]
      tags: [x, y]
      tag_values: {z: "1"}
  - name: b
    when: {aliases: [production]}
    require:
      metrics: [metrics.auc > 0.6]
      fairness: {protected_attribute: sex, evaluation_set: e.csv, label_column: label, prediction_column: pred, max_equalized_odds_difference: 0.5}
  - name: c
    when: {aliases: [production]}
    require:
      fairness: {protected_attribute: sex, evaluation_set: e.csv, label_column: label, prediction_column: pred}
  - name: d
    when: {stages: [Production]}
    require: {approvals: 1, no_open_alerts: info, card_fields: [a]}
`
	f := &fakeFacts{version: 1, run: "r", metrics: map[string]float64{"auc": 1, "acc": 1},
		vtags: map[string]string{"x": "1"}, mtags: map[string]string{"y": "1", "z": "1"},
		files: map[string]string{"e.csv": "sex,label,pred\nf,1,1\nm,1,1\nf,0,0\nm,0,0\n"}}
	res := Evaluate(context.Background(), []*Document{mustParse(t, src)}, "m", Alias("production"), f)
	if !res.Allowed {
		t.Fatal(Explain(res))
	}
	for name, want := range map[string]int{"metrics": 1, "vtags": 1, "mtags": 1, "open": 1, "approval": 0, "alerts": 0, "card": 0} {
		if got := f.called(name); got != want {
			t.Errorf("%s called %d times, want %d", name, got, want)
		}
	}
	g := &fakeFacts{version: 1}
	Evaluate(context.Background(), []*Document{mustParse(t, src)}, "m", Alias("staging"), g)
	if len(g.calls) != 0 {
		t.Errorf("no gate applies, yet facts were asked: %v", g.calls)
	}
}

// Documents are shared between concurrent evaluations (run with -race).
func TestEvaluateConcurrently(t *testing.T) {
	doc := mustParse(t, twoGates)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := &fakeFacts{version: int64(i), run: "r", metrics: map[string]float64{"auc": 0.9, "log_loss": 0.1},
				vtags: map[string]string{"owner": "o"}, approval: Approval{Status: "approved", Approvers: []string{"a", "b"}}}
			for range 50 {
				if res := Evaluate(context.Background(), []*Document{doc}, "credit", Alias("production"), f); !res.Allowed {
					t.Error(Explain(res))
					return
				}
			}
		}()
	}
	wg.Wait()
}

func nan() float64 { return math.NaN() }
