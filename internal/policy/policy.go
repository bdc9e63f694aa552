// Package policy is Ferry's policy-gate engine: "policy gates as code".
//
// A policy is a small YAML document (see docs/policy.md) that states what a
// registered model version needs before it may take an alias (production,
// champion, ...), move to a stage, or be deployed: metric thresholds on its
// run, tags, model-card fields, approvals, a fairness check on an evaluation
// set (the four-fifths rule on the demographic-parity ratio and a bound on
// the equalized-odds difference, as Fairlearn defines them) and the absence
// of open alerts.
//
// The package is pure domain logic. Parse and ParseForModel turn a file
// into a Document, refusing anything doubtful with a ParseError that
// carries the line and column. Evaluate applies the gates of a policy set
// (the global document plus per-model documents) to one move of one
// version; it learns about the version only through the Facts interface,
// which the caller (the registry, wired in internal/app) implements, and
// asks only for the facts that the applicable rules need. A rule that
// cannot be evaluated fails with the reason; nothing passes by default.
// Result.Error turns a refusal into an error listing every failed rule,
// and Explain renders every verdict for `ferry policy check`.
//
// The package imports no HTTP, store or registry code.
package policy

import "strings"

// Target kinds: what a move does to a version.
const (
	KindAlias  = "alias"  // set a registered-model alias to the version
	KindStage  = "stage"  // transition the version to a stage
	KindDeploy = "deploy" // deploy the version
)

// Target is the move a gate may guard: an alias or stage name, or a
// deployment (Name is then the deployment's name, possibly empty).
type Target struct {
	Kind string
	Name string
}

// Alias, Stage and Deploy build targets.
func Alias(name string) Target  { return Target{Kind: KindAlias, Name: name} }
func Stage(name string) Target  { return Target{Kind: KindStage, Name: name} }
func Deploy(name string) Target { return Target{Kind: KindDeploy, Name: name} }

// Stages are the MLflow stage names a `when.stages` entry may use (matched
// case-insensitively, stored in this spelling).
var Stages = [...]string{"None", "Staging", "Production", "Archived"}

// canonicalStage returns the MLflow spelling of a stage name, or "".
func canonicalStage(s string) string {
	for _, st := range Stages {
		if strings.EqualFold(st, s) {
			return st
		}
	}
	return ""
}

// Document is one parsed policy file. Documents are immutable after
// parsing and safe for concurrent use.
type Document struct {
	// Name is the file name given to Parse; messages and GateResult.Source
	// use it.
	Name string
	// Model is "" for the global policy, or the registered model a
	// per-model policy belongs to (see ParseForModel).
	Model string
	Gates []Gate
}

// Gate is one named set of requirements guarding some moves of some models.
type Gate struct {
	Name string
	// Models holds path.Match patterns on registered model names; empty
	// means every model (of the document's scope).
	Models  []string
	When    When
	Require Require
	// Line and Column locate the gate in its file.
	Line, Column int
}

// When says which moves a gate guards.
type When struct {
	Aliases []string // exact alias names
	Stages  []string // MLflow stage names, canonical spelling
	Deploy  bool
}

// Require holds a gate's requirements; zero values are absent rules.
type Require struct {
	Metrics    []MetricRule
	Tags       []string   // keys that must be present and non-empty
	TagValues  []TagValue // exact values, in document order
	CardFields []string   // dotted model-card paths that must be non-empty
	// Approvals is the number of distinct approvers needed, together with
	// the approval status "approved"; 0 means no approval rule.
	Approvals int
	Fairness  *Fairness
	// NoOpenAlerts is the severity at or above which an open alert blocks
	// the move; "" means no alert rule.
	NoOpenAlerts Severity
}

// MetricRule is one threshold on the latest value of a run metric.
type MetricRule struct {
	Key   string
	Op    string // one of >= > <= < == !=
	Value float64
	// Text is the rule as written, normalised: "metrics.auc >= 0.85".
	Text string
}

// holds reports whether v satisfies the rule. NaN satisfies nothing.
func (m MetricRule) holds(v float64) bool {
	if v != v {
		return false
	}
	switch m.Op {
	case ">=":
		return v >= m.Value
	case ">":
		return v > m.Value
	case "<=":
		return v <= m.Value
	case "<":
		return v < m.Value
	case "==":
		return v == m.Value
	case "!=":
		return v != m.Value
	}
	return false
}

// TagValue requires a tag to hold exactly Value.
type TagValue struct {
	Key, Value string
}

// Fairness configures the fairness check on an evaluation set: a CSV
// artifact of the version's run with a header row, one row per evaluated
// example.
type Fairness struct {
	ProtectedAttribute string // column whose distinct values are the groups
	EvaluationSet      string // artifact path inside the run
	LabelColumn        string // true labels
	// Exactly one of PredictionColumn (predicted labels) and ScoreColumn
	// (scores, positive when score >= Threshold) is set.
	PredictionColumn string
	ScoreColumn      string
	Threshold        float64
	// PositiveLabel is the label (and predicted-label) value that counts as
	// positive; every other value is negative. Empty means labels must be
	// binary: 0/1 (also 0.0/1.0, false/true).
	PositiveLabel string
	// MinDemographicParityRatio is the least acceptable min/max ratio of
	// the groups' selection rates (0.8: the four-fifths rule).
	MinDemographicParityRatio float64
	// MaxEqualizedOddsDifference, when set, bounds the equalized-odds
	// difference (the larger of the TPR and FPR spreads between groups).
	MaxEqualizedOddsDifference *float64
}

// Severity of an alert, ordered info < warning < critical.
type Severity string

// Severities.
const (
	SeverityInfo     Severity = "info"
	SeverityWarning  Severity = "warning"
	SeverityCritical Severity = "critical"
)

// rank orders severities; an unknown severity ranks as critical so that an
// alert nobody can classify still blocks.
func (s Severity) rank() int {
	switch Severity(strings.ToLower(strings.TrimSpace(string(s)))) {
	case SeverityInfo:
		return 1
	case SeverityWarning:
		return 2
	}
	return 3
}

func parseSeverity(s string) (Severity, bool) {
	switch Severity(strings.ToLower(s)) {
	case SeverityInfo:
		return SeverityInfo, true
	case SeverityWarning:
		return SeverityWarning, true
	case SeverityCritical:
		return SeverityCritical, true
	}
	return "", false
}

func (r *Require) empty() bool {
	return len(r.Metrics) == 0 && len(r.Tags) == 0 && len(r.TagValues) == 0 && len(r.CardFields) == 0 &&
		r.Approvals == 0 && r.Fairness == nil && r.NoOpenAlerts == ""
}
