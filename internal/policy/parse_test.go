package policy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

const fullPolicy = `version: 1
gates:
  - name: production-readiness        # required, unique within the document
    models: ["fraud-*", "credit"]
    when:
      aliases: [production, champion]
      stages: [production]
      deploy: true
    require:
      metrics:
        - metrics.auc >= 0.85
        - metrics.log_loss < 0.4
        - metrics."f1 macro" = 0.5
        - metric.val/acc!=1e-3
      tags: [owner, "model_type"]
      tag_values: {risk_tier: low, reviewed: "true"}
      card_fields: [considerations.limitations, model_details.owners]
      approvals: 2
      fairness:
        protected_attribute: sex
        evaluation_set: ./eval//predictions.csv
        label_column: label
        score_column: score
        threshold: 0.5
        positive_label: 1
        max_equalized_odds_difference: 0.1
      no_open_alerts: Critical
  - name: staging
    when: {stages: [Staging]}
    require: {approvals: 1}
`

func TestParseFull(t *testing.T) {
	doc, err := Parse("policy.yaml", []byte(fullPolicy))
	if err != nil {
		t.Fatal(err)
	}
	eo := 0.1
	want := &Document{Name: "policy.yaml", Gates: []Gate{{
		Name:   "production-readiness",
		Models: []string{"fraud-*", "credit"},
		When:   When{Aliases: []string{"production", "champion"}, Stages: []string{"Production"}, Deploy: true},
		Require: Require{
			Metrics: []MetricRule{
				{Key: "auc", Op: ">=", Value: 0.85, Text: "metrics.auc >= 0.85"},
				{Key: "log_loss", Op: "<", Value: 0.4, Text: "metrics.log_loss < 0.4"},
				{Key: "f1 macro", Op: "==", Value: 0.5, Text: `metrics."f1 macro" == 0.5`},
				{Key: "val/acc", Op: "!=", Value: 1e-3, Text: "metrics.val/acc != 1e-3"},
			},
			Tags:       []string{"owner", "model_type"},
			TagValues:  []TagValue{{"risk_tier", "low"}, {"reviewed", "true"}},
			CardFields: []string{"considerations.limitations", "model_details.owners"},
			Approvals:  2,
			Fairness: &Fairness{
				ProtectedAttribute: "sex", EvaluationSet: "eval/predictions.csv", LabelColumn: "label",
				ScoreColumn: "score", Threshold: 0.5, PositiveLabel: "1",
				MinDemographicParityRatio: 0.8, MaxEqualizedOddsDifference: &eo,
			},
			NoOpenAlerts: SeverityCritical,
		},
		Line: 3, Column: 5,
	}, {
		Name:    "staging",
		When:    When{Stages: []string{"Staging"}},
		Require: Require{Approvals: 1},
		Line:    28, Column: 5,
	}}}
	if !reflect.DeepEqual(doc, want) {
		t.Fatalf("got\n%#v\nwant\n%#v", doc, want)
	}
}

// TestParseDocExample keeps the complete example of docs/policy.md valid.
func TestParseDocExample(t *testing.T) {
	md, err := os.ReadFile("../../docs/policy.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(md), -1)
	if len(blocks) == 0 {
		t.Fatal("docs/policy.md has no yaml block")
	}
	for i, b := range blocks {
		if strings.Contains(b[1], "# not a complete policy") {
			continue
		}
		if _, err := Parse(fmt.Sprintf("policy.md block %d", i+1), []byte(b[1])); err != nil {
			t.Errorf("block %d: %v\n%s", i+1, err, b[1])
		}
	}
}

func TestParseEmptyAndMinimal(t *testing.T) {
	for _, src := range []string{"version: 1\ngates: []\n", "version: 1\ngates:\n", "# policy\nversion: 1\ngates: [] # none yet\n"} {
		doc, err := Parse("p.yaml", []byte(src))
		if err != nil || len(doc.Gates) != 0 {
			t.Errorf("%q: %v %v", src, doc, err)
		}
	}
}

func TestParseAnchors(t *testing.T) {
	src := `version: 1
gates:
  - name: a
    when: {aliases: [production]}
    require: &common
      approvals: 1
      metrics: [metrics.auc >= 0.9]
  - name: b
    when: {stages: [Staging]}
    require: *common
`
	doc, err := Parse("p.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(doc.Gates[0].Require, doc.Gates[1].Require) || doc.Gates[1].Require.Approvals != 1 {
		t.Fatalf("%+v", doc.Gates)
	}
}

// errCase is a bad policy and the error expected: "line:col: message
// substring".
type errCase struct {
	name, src, want string
}

const gateHead = "version: 1\ngates:\n  - name: g\n    when: {aliases: [production]}\n"

func TestParseErrors(t *testing.T) {
	cases := []errCase{
		// Document level.
		{"empty", "", "1:1: policy file is empty"},
		{"comments only", "# nothing\n", "1:1: policy file is empty"},
		{"scalar document", "hello\n", "1:1: a policy file must be a mapping"},
		{"list document", "- a\n", "1:1: a policy file must be a mapping"},
		{"missing version", "gates: []\n", `1:1: missing field "version"`},
		{"missing gates", "version: 1\n", `1:1: missing field "gates"`},
		{"version 2", "version: 2\ngates: []\n", "1:10: unsupported policy version 2"},
		{"version string", "version: one\ngates: []\n", `1:10: version must be an integer, not the string "one"`},
		{"version float", "version: 1.0\ngates: []\n", "1:10: version must be an integer, not a number (1.0)"},
		{"unknown top field", "version: 1\ngates: []\ngate: x\n", `3:1: unknown field "gate" in the policy; did you mean "gates"?`},
		{"unknown far field", "version: 1\ngates: []\nowner: x\n", `3:1: unknown field "owner" in the policy (known fields: version, gates)`},
		{"duplicate key", "version: 1\ngates: []\nversion: 1\n", `3:1: duplicate field "version" in the policy (first at line 1)`},
		{"gates mapping", "version: 1\ngates: {a: 1}\n", "2:8: gates must be a list, not a mapping"},
		{"two documents", "version: 1\ngates: []\n---\nversion: 1\n", "4:1: a policy file holds one YAML document"},
		{"merge key", "version: 1\ngates: []\n<<: {a: 1}\n", "3:1: merge keys (<<) are not supported"},
		{"non-string key", "version: 1\ngates: []\n[a]: 1\n", "3:1: keys of the policy must be strings, not a list"},
		{"not utf8", "version: 1\ngates: []\n# \xff\n", "3:3: policy file is not valid UTF-8"},

		// Gates.
		{"gate scalar", "version: 1\ngates: [x]\n", `2:9: gate must be a mapping, not the string "x"`},
		{"gate no name", "version: 1\ngates:\n  - when: {deploy: true}\n    require: {approvals: 1}\n", `3:5: gate is missing field "name"`},
		{"gate empty name", "version: 1\ngates:\n  - name: ''\n    when: {deploy: true}\n    require: {approvals: 1}\n", "3:11: gate name must not be empty"},
		{"gate name list", "version: 1\ngates:\n  - name: [a]\n    when: {deploy: true}\n    require: {approvals: 1}\n", "3:11: gate name must be a string, not a list"},
		{"gate name spaces", "version: 1\ngates:\n  - name: ' a'\n    when: {deploy: true}\n    require: {approvals: 1}\n", `3:11: gate name " a" must be one line`},
		{"gate unknown field", gateHead + "    require: {approvals: 1}\n    treshold: 1\n", `6:5: unknown field "treshold" in gate (known fields: name, models, when, require)`},
		{"gate typo field", gateHead + "    require: {approvals: 1}\n    model: [a]\n", `6:5: unknown field "model" in gate; did you mean "models"?`},
		{"duplicate gate", gateHead + "    require: {approvals: 1}\n  - name: g\n    when: {deploy: true}\n    require: {approvals: 1}\n", `6:5: duplicate gate name "g" (first at line 3)`},
		{"missing when", "version: 1\ngates:\n  - name: g\n    require: {approvals: 1}\n", `3:5: gate "g" is missing field "when"`},
		{"missing require", gateHead, `3:5: gate "g" is missing field "require"`},

		// models.
		{"bad glob", "version: 1\ngates:\n  - name: g\n    models: [\"fraud-[\"]\n    when: {deploy: true}\n    require: {approvals: 1}\n", `4:14: bad model pattern "fraud-["`},
		{"empty glob", "version: 1\ngates:\n  - name: g\n    models: [\"\"]\n    when: {deploy: true}\n    require: {approvals: 1}\n", "4:14: models entry must not be empty"},
		{"models number list", "version: 1\ngates:\n  - name: g\n    models: {a: b}\n    when: {deploy: true}\n    require: {approvals: 1}\n", "4:13: models must be a list of strings, not a mapping"},

		// when.
		{"empty when", "version: 1\ngates:\n  - name: g\n    when: {}\n    require: {approvals: 1}\n", `4:11: when of gate "g" guards nothing`},
		{"when all empty", "version: 1\ngates:\n  - name: g\n    when: {aliases: [], stages: [], deploy: false}\n    require: {approvals: 1}\n", `4:11: when of gate "g" guards nothing`},
		{"when list", "version: 1\ngates:\n  - name: g\n    when: [production]\n    require: {approvals: 1}\n", "4:11: when must be a mapping, not a list"},
		{"unknown stage", "version: 1\ngates:\n  - name: g\n    when: {stages: [Prod]}\n    require: {approvals: 1}\n", `4:21: unknown stage "Prod"`},
		{"alias with space", "version: 1\ngates:\n  - name: g\n    when: {aliases: [\"my alias\"]}\n    require: {approvals: 1}\n", `4:22: alias "my alias" must not contain spaces`},
		{"deploy string", "version: 1\ngates:\n  - name: g\n    when: {deploy: yes}\n    require: {approvals: 1}\n", `4:20: deploy must be true or false, not the string "yes"`},
		{"when typo", "version: 1\ngates:\n  - name: g\n    when: {alias: [production]}\n    require: {approvals: 1}\n", `4:12: unknown field "alias" in when; did you mean "aliases"?`},

		// require.
		{"empty require", gateHead + "    require: {}\n", `5:14: require of gate "g" states no requirement`},
		{"zero approvals only", gateHead + "    require: {approvals: 0}\n", `5:14: require of gate "g" states no requirement`},
		{"require typo", gateHead + "    require:\n      metric: [metrics.auc > 1]\n", `6:7: unknown field "metric" in require; did you mean "metrics"?`},
		{"negative approvals", gateHead + "    require: {approvals: -1}\n", "5:26: approvals must be 0 or more, not -1"},
		{"huge approvals", gateHead + "    require: {approvals: 1001}\n", "5:26: approvals must be at most 1000"},
		{"approvals float", gateHead + "    require: {approvals: 1.5}\n", "5:26: approvals must be an integer, not a number (1.5)"},
		{"approvals string", gateHead + "    require: {approvals: \"2\"}\n", `5:26: approvals must be an integer, not the string "2"`},
		{"tags mapping", gateHead + "    require: {tags: {a: b}}\n", "5:21: tags must be a list of strings, not a mapping"},
		{"tags null entry", gateHead + "    require: {tags: [a, ~]}\n", "5:25: tags entry must be a string, not null"},
		{"tag_values list", gateHead + "    require: {tag_values: [a]}\n", "5:27: tag_values must be a mapping, not a list"},
		{"tag_values nested", gateHead + "    require: {tag_values: {a: [b]}}\n", `5:31: tag_values "a" must be a string, not a list`},
		{"card path", gateHead + "    require: {card_fields: [\"model details\"]}\n", `5:29: bad model-card field "model details"`},
		{"card path dots", gateHead + "    require: {card_fields: [a..b]}\n", `5:29: bad model-card field "a..b"`},
		{"alerts level", gateHead + "    require: {no_open_alerts: severe}\n", `5:31: no_open_alerts must be critical, warning or info, not "severe"`},
		{"alerts bool", gateHead + "    require: {no_open_alerts: true}\n", "5:31: no_open_alerts must be critical, warning or info"},

		// metric expressions: the column points into the expression.
		{"metric no prefix", gateHead + "    require:\n      metrics: [auc >= 0.8]\n", `6:17: metric rule must look like "metrics.<key> <op> <number>"`},
		{"metric no key", gateHead + "    require:\n      metrics: [metrics. >= 0.8]\n", "6:25: metric rule names no metric key"},
		{"metric no op", gateHead + "    require:\n      metrics: [metrics.auc 0.8]\n", "6:29: metric rule needs a comparator"},
		{"metric bad op", gateHead + "    require:\n      metrics: [metrics.auc => 0.8]\n", "6:30: metric threshold \"> 0.8\" is not a number"},
		{"metric no number", gateHead + "    require:\n      metrics: [metrics.auc >=]\n", "6:31: metric rule needs a number after >="},
		{"metric word", gateHead + "    require:\n      metrics: [metrics.auc >= high]\n", `6:32: metric threshold "high" is not a number`},
		{"metric two numbers", gateHead + "    require:\n      metrics: [metrics.auc >= 0.8 0.9]\n", `6:32: metric threshold "0.8 0.9" is not a number`},
		{"metric overflow", gateHead + "    require:\n      metrics: [metrics.auc >= 1e999]\n", `6:32: metric threshold "1e999" is not a finite number`},
		{"metric unclosed quote", gateHead + "    require:\n      metrics: ['metrics.\"auc >= 1']\n", "6:26: unclosed quote in metric key"},
		{"metric number", gateHead + "    require:\n      metrics: [0.85]\n", `6:17: metric rule must look like`},
		{"metric in block list", gateHead + "    require:\n      metrics:\n        - metrics.auc >= x\n", `7:26: metric threshold "x" is not a number`},

		// fairness.
		{"fairness missing columns", gateHead + "    require:\n      fairness: {evaluation_set: e.csv, prediction_column: p}\n", `6:17: fairness is missing field "protected_attribute"`},
		{"fairness no eval set", gateHead + "    require:\n      fairness: {protected_attribute: sex, label_column: y, prediction_column: p}\n", `6:17: fairness is missing field "evaluation_set"`},
		{"fairness no prediction", gateHead + "    require:\n      fairness: {protected_attribute: sex, evaluation_set: e.csv, label_column: y}\n", "6:17: fairness needs prediction_column"},
		{"fairness both", gateHead + "    require:\n      fairness: {protected_attribute: sex, evaluation_set: e.csv, label_column: y, prediction_column: p, score_column: s, threshold: 0.5}\n", "6:106: fairness takes prediction_column or score_column with threshold, not both"},
		{"fairness score without threshold", gateHead + "    require:\n      fairness: {protected_attribute: sex, evaluation_set: e.csv, label_column: y, score_column: s}\n", "6:84: score_column needs a threshold"},
		{"fairness threshold with prediction", gateHead + "    require:\n      fairness: {protected_attribute: sex, evaluation_set: e.csv, label_column: y, prediction_column: p, threshold: 0.5}\n", "6:106: threshold applies to score_column only"},
		{"fairness same column", gateHead + "    require:\n      fairness: {protected_attribute: y, evaluation_set: e.csv, label_column: y, prediction_column: p}\n", `6:79: protected_attribute and label_column name the same column "y"`},
		{"fairness ratio above 1", gateHead + "    require:\n      fairness: {protected_attribute: sex, evaluation_set: e.csv, label_column: y, prediction_column: p, min_demographic_parity_ratio: 1.2}\n", "6:136: min_demographic_parity_ratio must be between 0 and 1, not 1.2"},
		{"fairness ratio negative", gateHead + "    require:\n      fairness: {protected_attribute: sex, evaluation_set: e.csv, label_column: y, prediction_column: p, min_demographic_parity_ratio: -0.1}\n", "6:136: min_demographic_parity_ratio must be between 0 and 1"},
		{"fairness eo above 1", gateHead + "    require:\n      fairness: {protected_attribute: sex, evaluation_set: e.csv, label_column: y, prediction_column: p, max_equalized_odds_difference: 2}\n", "6:137: max_equalized_odds_difference must be between 0 and 1, not 2"},
		{"fairness ratio nan", gateHead + "    require:\n      fairness: {protected_attribute: sex, evaluation_set: e.csv, label_column: y, prediction_column: p, min_demographic_parity_ratio: .nan}\n", "6:136: min_demographic_parity_ratio must be a finite number"},
		{"fairness eval escapes", gateHead + "    require:\n      fairness: {protected_attribute: sex, evaluation_set: ../x.csv, label_column: y, prediction_column: p}\n", `6:60: evaluation_set "../x.csv" must be a relative artifact path`},
		{"fairness eval absolute", gateHead + "    require:\n      fairness: {protected_attribute: sex, evaluation_set: /x.csv, label_column: y, prediction_column: p}\n", `6:60: evaluation_set "/x.csv" must be a relative artifact path`},
		{"fairness unknown", gateHead + "    require:\n      fairness: {protected_attribute: sex, evaluation_set: e.csv, label_column: y, prediction_column: p, treshold: 1}\n", `6:106: unknown field "treshold" in fairness; did you mean "threshold"?`},
		{"fairness threshold string", gateHead + "    require:\n      fairness: {protected_attribute: sex, evaluation_set: e.csv, label_column: y, score_column: s, threshold: high}\n", `6:112: threshold must be a finite number, not the string "high"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkParseError(t, c.src, c.want) })
	}
}

// checkParseError parses src as p.yaml and checks that the (first) error
// is at want's position with want's message, that it matches
// errdefs.ErrInvalidArgument and that it unwraps to a *ParseError.
func checkParseError(t *testing.T, src, want string) {
	t.Helper()
	doc, err := Parse("p.yaml", []byte(src))
	if err == nil {
		t.Fatalf("parsed %q into %+v, want error %q", src, doc, want)
	}
	if !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("error %v does not match errdefs.ErrInvalidArgument", err)
	}
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %T %v is not a *ParseError", err, err)
	}
	first := strings.SplitN(err.Error(), "\n", 2)[0]
	if !strings.HasPrefix(first, "p.yaml:"+want) {
		t.Errorf("source:\n%s\ngot  %s\nwant p.yaml:%s...", src, err, want)
	}
	if got := fmt.Sprintf("%d:%d: ", pe.Line, pe.Col); !strings.HasPrefix(want, got) {
		t.Errorf("ParseError position %s, want %s", got, want)
	}
}

func TestParseSeveralErrors(t *testing.T) {
	src := "version: 1\ngates:\n  - name: a\n    when: {stages: [Prod]}\n    require: {approvals: -1}\n  - name: b\n    when: {deploy: true}\n    require: {metrics: [x]}\n"
	_, err := Parse("p.yaml", []byte(src))
	var list ParseErrors
	if !errors.As(err, &list) || len(list) != 3 {
		t.Fatalf("got %T %v", err, err)
	}
	want := "p.yaml:4:21: unknown stage \"Prod\" (stages: None, Staging, Production, Archived)\n" +
		"p.yaml:5:26: approvals must be 0 or more, not -1\n" +
		"p.yaml:8:25: metric rule must look like \"metrics.<key> <op> <number>\", e.g. \"metrics.auc >= 0.85\""
	if err.Error() != want {
		t.Errorf("got\n%s\nwant\n%s", err, want)
	}
	if !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Error("ParseErrors does not match errdefs.ErrInvalidArgument")
	}
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 4 || pe.Col != 21 {
		t.Errorf("errors.As gives %+v", pe)
	}
}

func TestParseErrorCap(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\ngates:\n")
	for i := range 50 {
		fmt.Fprintf(&b, "  - name: g%d\n    when: {stages: [bad]}\n    require: {approvals: 1}\n", i)
	}
	_, err := Parse("p.yaml", []byte(b.String()))
	var list ParseErrors
	if !errors.As(err, &list) || len(list) != maxErrors {
		t.Fatalf("got %d errors", len(list))
	}
}

func TestParseTooLarge(t *testing.T) {
	src := "version: 1\ngates: []\n" + strings.Repeat("#", MaxFileSize)
	checkParseError(t, src, "1:1: policy file is larger than")
}

func TestParseForModel(t *testing.T) {
	ok := []string{
		"version: 1\ngates:\n  - name: g\n    when: {deploy: true}\n    require: {approvals: 1}\n",
		"version: 1\ngates:\n  - name: g\n    models: [fraud]\n    when: {deploy: true}\n    require: {approvals: 1}\n",
		"version: 1\ngates:\n  - name: g\n    models: [credit, \"fr*\"]\n    when: {deploy: true}\n    require: {approvals: 1}\n",
	}
	for _, src := range ok {
		doc, err := ParseForModel("fraud.yaml", "fraud", []byte(src))
		if err != nil || doc.Model != "fraud" {
			t.Errorf("%q: %v", src, err)
		}
	}
	src := "version: 1\ngates:\n  - name: g\n    models: [credit]\n    when: {deploy: true}\n    require: {approvals: 1}\n"
	_, err := ParseForModel("fraud.yaml", "fraud", []byte(src))
	if err == nil || err.Error() != `fraud.yaml:4:13: models of gate "g" do not match "fraud", the model this policy belongs to` {
		t.Errorf("got %v", err)
	}
	if _, err := ParseForModel("x.yaml", "", []byte(ok[0])); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("empty model: %v", err)
	}
}

func TestParseErrorFormat(t *testing.T) {
	e := &ParseError{File: "policy.yaml", Line: 7, Col: 9, Msg: `unknown field "treshold" in require`}
	if e.Error() != `policy.yaml:7:9: unknown field "treshold" in require` {
		t.Error(e.Error())
	}
	e.File = ""
	if e.Error() != `7:9: unknown field "treshold" in require` {
		t.Error(e.Error())
	}
}

// TestDocVerdictExample keeps the verdict and error examples of
// docs/policy.md true: they are the output for its complete example.
func TestDocVerdictExample(t *testing.T) {
	md, err := os.ReadFile("../../docs/policy.md")
	if err != nil {
		t.Fatal(err)
	}
	yamlBlock := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindStringSubmatch(string(md))[1]
	texts := regexp.MustCompile("(?s)```text\n(.*?)```").FindAllStringSubmatch(string(md), -1)
	csv, err := os.ReadFile("testdata/penguins_eval.csv")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeFacts{version: 3, run: "8c1d2e",
		metrics: map[string]float64{"auc": 0.81, "log_loss": 0.31, "recall at 1%": 0.64},
		vtags:   map[string]string{"owner": "alice", "model_type": "xgboost"}, mtags: map[string]string{"risk_tier": "low"},
		card: map[string]string{"considerations.limitations": "Trained on 2023 transactions only.",
			"model_details.owners": `[{"name":"Fraud team"}]`},
		approval: Approval{Status: "approved", Approvers: []string{"alice"}},
		files:    map[string]string{"eval/predictions.csv": string(csv)},
		alerts:   []Alert{{"warning", "feature-drift"}}}
	res := Evaluate(context.Background(), []*Document{mustParse(t, yamlBlock)}, "fraud-cards", Alias("production"), f)
	if got := Explain(res); got != texts[0][1] {
		t.Errorf("docs/policy.md's first text block should be\n%s", got)
	}
	if got := res.Error().Error() + "\n"; got != texts[1][1] {
		t.Errorf("docs/policy.md's second text block should be\n%s", got)
	}
}
