package policy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// Facts is what the engine may learn about the model version being moved.
// The caller implements it (the registry, wired in internal/app); Evaluate
// calls a method only when an applicable rule needs it, and at most once
// per Evaluate (except OpenEvaluationSet, once per distinct fairness
// configuration). An error from a method fails the rules that needed it,
// with the error's message as the reason.
type Facts interface {
	// Version is the version number being moved.
	Version() int64
	// RunID is the run that produced the version; "" when it has none
	// (metric and fairness rules then fail with "no run").
	RunID() string
	// RunMetrics returns the latest value of each metric of the run.
	RunMetrics(ctx context.Context) (map[string]float64, error)
	// VersionTags and ModelTags return the tags of the version and of its
	// registered model.
	VersionTags(ctx context.Context) (map[string]string, error)
	ModelTags(ctx context.Context) (map[string]string, error)
	// CardField looks up a dotted field of the version's model card
	// ("considerations.limitations"); ok is false when the card or the
	// field is missing. Lists and objects are returned in any textual form
	// (JSON, say); "", "[]", "{}" and "null" count as empty.
	CardField(ctx context.Context, path string) (value string, ok bool, err error)
	// Approval returns the version's review state.
	Approval(ctx context.Context) (Approval, error)
	// OpenEvaluationSet opens an artifact of the version's run, by its
	// path relative to the run's artifact root.
	OpenEvaluationSet(ctx context.Context, path string) (io.ReadCloser, error)
	// OpenAlerts returns the alerts open on the model (or version).
	OpenAlerts(ctx context.Context) ([]Alert, error)
}

// Approval is a version's review state: the latest decision's status
// ("approved", "pending" or "rejected") and the distinct reviewers whose
// latest decision approves the version.
type Approval struct {
	Status    string
	Approvers []string
}

// Approval statuses.
const (
	ApprovalApproved = "approved"
	ApprovalPending  = "pending"
	ApprovalRejected = "rejected"
)

// Alert is an open alert; Severity is info, warning or critical (anything
// else counts as critical).
type Alert struct {
	Severity string
	Name     string
}

// Result is the verdict on one move of one version.
type Result struct {
	Model   string
	Version int64
	Target  Target
	// Allowed is true when every rule of every applicable gate passed
	// (vacuously when no gate applies).
	Allowed bool
	// Note explains an Allowed result with no applicable gate, or a
	// target the engine cannot judge.
	Note  string
	Gates []GateResult
	Rules []RuleResult
}

// GateResult is one applicable gate.
type GateResult struct {
	Gate   string
	Source string // Document.Name of the document holding the gate
	Passed bool
}

// RuleResult is one rule's verdict.
type RuleResult struct {
	Gate   string
	Source string
	// Rule is the rule as a reader would write it: "metrics.auc >= 0.85",
	// "approvals >= 2", "demographic_parity_ratio(sex) >= 0.8".
	Rule   string
	Passed bool
	// Detail says what was found: "auc = 0.81", "1 approver (alice)".
	Detail string
}

// ErrGateFailed is matched (errors.Is) by the error of a refused move.
var ErrGateFailed = errors.New("policy gate failed")

// GateError is the error of a refused move. It matches ErrGateFailed and
// errdefs.ErrPermission: the request was well formed, and the policy does
// not permit it (yet): the MLflow surface answers 403 PERMISSION_DENIED
// with the message, which lists every failed rule.
type GateError struct {
	Result Result
}

func (e *GateError) Error() string {
	r := e.Result
	var failed []RuleResult
	for _, rr := range r.Rules {
		if !rr.Passed {
			failed = append(failed, rr)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Policy gate refused %s", describeMove(r.Model, r.Version, r.Target))
	if len(failed) == 0 {
		if r.Note != "" {
			b.WriteString(": " + r.Note)
		}
		return b.String()
	}
	fmt.Fprintf(&b, ": %d of %d %s failed:", len(failed), len(r.Rules), plural(len(r.Rules), "rule", "rules"))
	for _, rr := range failed {
		fmt.Fprintf(&b, "\n- [%s] %s: %s", rr.Gate, rr.Rule, rr.Detail)
	}
	return b.String()
}

// Is makes a GateError match ErrGateFailed and errdefs.ErrPermission.
func (e *GateError) Is(target error) bool {
	return target == ErrGateFailed || target == errdefs.ErrPermission
}

// Error returns nil when the move is allowed, otherwise a *GateError.
func (r Result) Error() error {
	if r.Allowed {
		return nil
	}
	return &GateError{Result: r}
}

func describeMove(model string, version int64, t Target) string {
	switch t.Kind {
	case KindAlias:
		return fmt.Sprintf("moving alias '%s' to version %d of model '%s'", t.Name, version, model)
	case KindStage:
		return fmt.Sprintf("moving version %d of model '%s' to stage '%s'", version, model, t.Name)
	case KindDeploy:
		if t.Name != "" {
			return fmt.Sprintf("deploying version %d of model '%s' as '%s'", version, model, t.Name)
		}
		return fmt.Sprintf("deploying version %d of model '%s'", version, model)
	}
	return fmt.Sprintf("%q %q for version %d of model '%s'", t.Kind, t.Name, version, model)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Applies reports whether gate g of document d guards target for model.
func Applies(d *Document, g *Gate, model string, target Target) bool {
	if d.Model != "" && d.Model != model {
		return false
	}
	if len(g.Models) > 0 {
		match := false
		for _, pat := range g.Models {
			if ok, _ := path.Match(pat, model); ok {
				match = true
				break
			}
		}
		if !match {
			return false
		}
	}
	switch target.Kind {
	case KindAlias:
		return slices.Contains(g.When.Aliases, target.Name)
	case KindStage:
		for _, s := range g.When.Stages {
			if strings.EqualFold(s, target.Name) {
				return true
			}
		}
		return false
	case KindDeploy:
		return g.When.Deploy
	}
	return false
}

// Evaluate applies every gate of set (global and per-model documents; a
// per-model document of another model is skipped) that guards target for
// model, and judges each rule against facts. All applicable gates must
// pass. Evaluate never changes anything; it is safe for concurrent use.
func Evaluate(ctx context.Context, set []*Document, model string, target Target, facts Facts) Result {
	res := Result{Model: model, Version: facts.Version(), Target: target, Allowed: true}
	switch target.Kind {
	case KindAlias, KindStage, KindDeploy:
	default:
		res.Allowed = false
		res.Note = fmt.Sprintf("unknown move kind %q (alias, stage or deploy)", target.Kind)
		return res
	}
	e := &evaluator{ctx: ctx, facts: &memoFacts{Facts: facts}, fairness: map[string]*fairnessOutcome{}}
	for _, d := range set {
		if d == nil {
			continue
		}
		for i := range d.Gates {
			g := &d.Gates[i]
			if !Applies(d, g, model, target) {
				continue
			}
			first := len(res.Rules)
			res.Rules = e.gate(res.Rules, d.Name, g)
			passed := true
			for _, rr := range res.Rules[first:] {
				passed = passed && rr.Passed
			}
			res.Gates = append(res.Gates, GateResult{Gate: g.Name, Source: d.Name, Passed: passed})
			res.Allowed = res.Allowed && passed
		}
	}
	if len(res.Gates) == 0 {
		res.Note = fmt.Sprintf("no policy gate guards %s", describeTarget(target, model))
	}
	return res
}

func describeTarget(t Target, model string) string {
	switch t.Kind {
	case KindAlias:
		return fmt.Sprintf("alias '%s' of model '%s'", t.Name, model)
	case KindStage:
		return fmt.Sprintf("stage '%s' of model '%s'", t.Name, model)
	}
	return fmt.Sprintf("deployments of model '%s'", model)
}

// memoFacts asks the caller for each fact at most once.
type memoFacts struct {
	Facts
	metrics     *factOf[map[string]float64]
	versionTags *factOf[map[string]string]
	modelTags   *factOf[map[string]string]
	approval    *factOf[Approval]
	alerts      *factOf[[]Alert]
}

type factOf[T any] struct {
	v   T
	err error
}

func memo[T any](slot **factOf[T], get func() (T, error)) (T, error) {
	if *slot == nil {
		v, err := get()
		*slot = &factOf[T]{v: v, err: err}
	}
	return (*slot).v, (*slot).err
}

type evaluator struct {
	ctx      context.Context
	facts    *memoFacts
	fairness map[string]*fairnessOutcome
}

type fairnessOutcome struct {
	report *FairnessReport
	err    error
}

func (e *evaluator) gate(out []RuleResult, source string, g *Gate) []RuleResult {
	add := func(rule string, passed bool, format string, args ...any) {
		out = append(out, RuleResult{Gate: g.Name, Source: source, Rule: rule, Passed: passed, Detail: fmt.Sprintf(format, args...)})
	}
	r := &g.Require
	f := e.facts
	for _, m := range r.Metrics {
		e.metric(m, add)
	}
	for _, key := range r.Tags {
		v, where, err := e.tag(key)
		switch {
		case err != nil:
			add("tag "+key, false, "%s", err)
		case where == "":
			add("tag "+key, false, "tag '%s' is not set on the version or the model", key)
		case strings.TrimSpace(v) == "":
			add("tag "+key, false, "%s tag '%s' is empty", where, key)
		default:
			add("tag "+key, true, "%s = %s (%s tag)", key, quoteDetail(v), where)
		}
	}
	for _, tv := range r.TagValues {
		rule := fmt.Sprintf("tag %s == %s", tv.Key, quoteDetail(tv.Value))
		v, where, err := e.tag(tv.Key)
		switch {
		case err != nil:
			add(rule, false, "%s", err)
		case where == "":
			add(rule, false, "tag '%s' is not set on the version or the model", tv.Key)
		default:
			add(rule, v == tv.Value, "%s = %s (%s tag)", tv.Key, quoteDetail(v), where)
		}
	}
	for _, cp := range r.CardFields {
		v, ok, err := f.CardField(e.ctx, cp)
		switch {
		case err != nil:
			add("card "+cp, false, "cannot read the model card: %s", err)
		case !ok:
			add("card "+cp, false, "the model card has no %s", cp)
		case emptyCardValue(v):
			add("card "+cp, false, "%s is empty in the model card", cp)
		default:
			add("card "+cp, true, "%s is filled in", cp)
		}
	}
	if r.Approvals > 0 {
		e.approvals(r.Approvals, add)
	}
	if r.Fairness != nil {
		e.fairnessRules(r.Fairness, add)
	}
	if r.NoOpenAlerts != "" {
		e.alerts(r.NoOpenAlerts, add)
	}
	return out
}

type addFunc func(rule string, passed bool, format string, args ...any)

func (e *evaluator) metric(m MetricRule, add addFunc) {
	f := e.facts
	run := f.RunID()
	if run == "" {
		add(m.Text, false, "no run: version %d was not registered from a run, so it has no metrics", f.Version())
		return
	}
	metrics, err := memo(&f.metrics, func() (map[string]float64, error) { return f.RunMetrics(e.ctx) })
	if err != nil {
		add(m.Text, false, "cannot read the metrics of run %s: %s", run, err)
		return
	}
	v, ok := metrics[m.Key]
	switch {
	case !ok:
		add(m.Text, false, "run %s has no metric '%s'", run, m.Key)
	case math.IsNaN(v):
		add(m.Text, false, "%s = NaN", m.Key)
	default:
		add(m.Text, m.holds(v), "%s = %s", m.Key, formatNumber(v))
	}
}

// tag looks the key up among the version's tags, then the model's; where
// is "version", "model" or "" when neither has it.
func (e *evaluator) tag(key string) (v, where string, err error) {
	f := e.facts
	vt, err := memo(&f.versionTags, func() (map[string]string, error) { return f.VersionTags(e.ctx) })
	if err != nil {
		return "", "", fmt.Errorf("cannot read the version's tags: %w", err)
	}
	if v, ok := vt[key]; ok {
		return v, "version", nil
	}
	mt, err := memo(&f.modelTags, func() (map[string]string, error) { return f.ModelTags(e.ctx) })
	if err != nil {
		return "", "", fmt.Errorf("cannot read the model's tags: %w", err)
	}
	if v, ok := mt[key]; ok {
		return v, "model", nil
	}
	return "", "", nil
}

func emptyCardValue(v string) bool {
	switch strings.TrimSpace(v) {
	case "", "[]", "{}", "null", `""`:
		return true
	}
	return false
}

func (e *evaluator) approvals(n int, add addFunc) {
	f := e.facts
	rule := fmt.Sprintf("approvals >= %d", n)
	a, err := memo(&f.approval, func() (Approval, error) { return f.Approval(e.ctx) })
	if err != nil {
		add(rule, false, "cannot read the approval state: %s", err)
		return
	}
	var who []string
	for _, p := range a.Approvers {
		if p = strings.TrimSpace(p); p != "" && !slices.Contains(who, p) {
			who = append(who, p)
		}
	}
	status := strings.ToLower(strings.TrimSpace(a.Status))
	if status == "" {
		status = ApprovalPending
	}
	count := fmt.Sprintf("%d %s", len(who), plural(len(who), "approver", "approvers"))
	if len(who) > 0 {
		count += " (" + strings.Join(who, ", ") + ")"
	}
	switch {
	case status != ApprovalApproved:
		add(rule, false, "status %s, %s", status, count)
	case len(who) < n:
		add(rule, false, "%s", count)
	default:
		add(rule, true, "%s", count)
	}
}

func (e *evaluator) alerts(sev Severity, add addFunc) {
	f := e.facts
	rule := "no open alerts >= " + string(sev)
	alerts, err := memo(&f.alerts, func() ([]Alert, error) { return f.OpenAlerts(e.ctx) })
	if err != nil {
		add(rule, false, "cannot read open alerts: %s", err)
		return
	}
	var blocking []string
	for _, a := range alerts {
		if Severity(a.Severity).rank() >= sev.rank() {
			blocking = append(blocking, fmt.Sprintf("%s (%s)", a.Name, a.Severity))
		}
	}
	if len(blocking) > 0 {
		add(rule, false, "%d open: %s", len(blocking), strings.Join(blocking, ", "))
		return
	}
	if len(alerts) > 0 {
		add(rule, true, "none at or above %s (%d below)", sev, len(alerts))
		return
	}
	add(rule, true, "none open")
}

func (e *evaluator) fairnessRules(fr *Fairness, add addFunc) {
	dpRule := fmt.Sprintf("demographic_parity_ratio(%s) >= %s", fr.ProtectedAttribute, formatNumber(fr.MinDemographicParityRatio))
	eoRule := ""
	if fr.MaxEqualizedOddsDifference != nil {
		eoRule = fmt.Sprintf("equalized_odds_difference(%s) <= %s", fr.ProtectedAttribute, formatNumber(*fr.MaxEqualizedOddsDifference))
	}
	fail := func(format string, args ...any) {
		add(dpRule, false, format, args...)
		if eoRule != "" {
			add(eoRule, false, format, args...)
		}
	}
	f := e.facts
	run := f.RunID()
	if run == "" {
		fail("no run: version %d was not registered from a run, so it has no evaluation set", f.Version())
		return
	}
	out := e.measure(fr)
	if out.err != nil {
		fail("evaluation set %s of run %s: %s", fr.EvaluationSet, run, out.err)
		return
	}
	rep := out.report
	groups := rep.groupSummary()
	if len(rep.Groups) < 2 {
		fail("needs at least two groups of %s, found %d in %d rows: %s", fr.ProtectedAttribute, len(rep.Groups), rep.Rows, groups)
		return
	}
	if math.IsNaN(rep.DemographicParityRatio) {
		add(dpRule, false, "undefined: no group has a positive prediction; %s", groups)
	} else {
		ok := rep.DemographicParityRatio >= fr.MinDemographicParityRatio-tolerance
		if rep.DemographicParityDifference == 0 {
			add(dpRule, ok, "ratio = %s (every group has the same selection rate); %s", formatRate(rep.DemographicParityRatio), groups)
		} else {
			add(dpRule, ok, "ratio = %s (lowest selection rate %s / highest %s); %s",
				formatRate(rep.DemographicParityRatio), rep.minGroup, rep.maxGroup, groups)
		}
	}
	if eoRule == "" {
		return
	}
	if why := rep.eoUndefined(); why != "" {
		add(eoRule, false, "undefined: %s; %s", why, groups)
		return
	}
	ok := rep.EqualizedOddsDifference <= *fr.MaxEqualizedOddsDifference+tolerance
	add(eoRule, ok, "difference = %s (TPR spread %s, FPR spread %s); %s",
		formatRate(rep.EqualizedOddsDifference), formatRate(rep.TPRDifference), formatRate(rep.FPRDifference), groups)
}

// tolerance absorbs floating-point rounding in fairness comparisons, so
// that a ratio of exactly 4/5 passes a 0.8 bound.
const tolerance = 1e-12

func (e *evaluator) measure(fr *Fairness) *fairnessOutcome {
	key := strings.Join([]string{fr.EvaluationSet, fr.ProtectedAttribute, fr.LabelColumn, fr.PredictionColumn,
		fr.ScoreColumn, strconv.FormatFloat(fr.Threshold, 'g', -1, 64), fr.PositiveLabel}, "\x00")
	if out, ok := e.fairness[key]; ok {
		return out
	}
	out := &fairnessOutcome{}
	e.fairness[key] = out
	rc, err := e.facts.OpenEvaluationSet(e.ctx, fr.EvaluationSet)
	if err != nil {
		out.err = fmt.Errorf("cannot open it: %w", err)
		return out
	}
	defer rc.Close()
	out.report, out.err = MeasureFairness(e.ctx, rc, fr)
	return out
}

func quoteDetail(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\n'\",") || len(s) > 80 {
		if len(s) > 80 {
			s = s[:77] + "..."
		}
		return strconv.Quote(s)
	}
	return s
}

// formatNumber prints a metric value or threshold as it would be logged.
func formatNumber(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// formatRate prints a rate with four decimals, or all of them when four
// would round it onto a simple value it is not.
func formatRate(v float64) string {
	s := strconv.FormatFloat(v, 'f', 4, 64)
	if r, _ := strconv.ParseFloat(s, 64); r != v && math.Abs(r-v) < 1e-6 {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return s
}

// Explain renders every verdict of r for people: the move, the overall
// decision, then each applicable gate with each of its rules.
func Explain(r Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Policy check: %s\n", describeMove(r.Model, r.Version, r.Target))
	failed := 0
	for _, rr := range r.Rules {
		if !rr.Passed {
			failed++
		}
	}
	switch {
	case r.Allowed && len(r.Gates) == 0:
		fmt.Fprintf(&b, "Verdict: ALLOWED (%s)\n", r.Note)
		return b.String()
	case r.Allowed:
		fmt.Fprintf(&b, "Verdict: ALLOWED (%d %s of %d %s passed)\n", len(r.Rules), plural(len(r.Rules), "rule", "rules"),
			len(r.Gates), plural(len(r.Gates), "gate", "gates"))
	case len(r.Rules) == 0:
		fmt.Fprintf(&b, "Verdict: REFUSED (%s)\n", r.Note)
		return b.String()
	default:
		fmt.Fprintf(&b, "Verdict: REFUSED (%d of %d %s failed)\n", failed, len(r.Rules), plural(len(r.Rules), "rule", "rules"))
	}
	width := 0
	for _, rr := range r.Rules {
		width = max(width, len(rr.Rule))
	}
	for _, g := range r.Gates {
		verdict := "passed"
		if !g.Passed {
			verdict = "FAILED"
		}
		fmt.Fprintf(&b, "\nGate %s (%s): %s\n", g.Gate, g.Source, verdict)
		for _, rr := range r.Rules {
			if rr.Gate != g.Gate || rr.Source != g.Source {
				continue
			}
			mark := "pass"
			if !rr.Passed {
				mark = "FAIL"
			}
			fmt.Fprintf(&b, "  %s  %-*s  %s\n", mark, width, rr.Rule, rr.Detail)
		}
	}
	return b.String()
}
