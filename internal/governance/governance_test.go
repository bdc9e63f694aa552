package governance_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-ml/ferry/internal/audit"
	"github.com/ferry-ml/ferry/internal/blob/fs"
	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/governance"
	"github.com/ferry-ml/ferry/internal/lineage"
	"github.com/ferry-ml/ferry/internal/policy"
	"github.com/ferry-ml/ferry/internal/registry"
	"github.com/ferry-ml/ferry/internal/store/sqlite"
	"github.com/ferry-ml/ferry/internal/tracking"
)

type env struct {
	reg    *registry.Service
	gov    *governance.Service
	track  *tracking.Service
	blobs  *fs.Store
	policy string // global policy file
	ctx    context.Context
}

const globalPolicy = `version: 1
gates:
  - name: production
    models: ["credit-*"]
    when: {aliases: [production], stages: [Production]}
    require:
      metrics: [metrics.auc >= 0.85]
      card_fields: [considerations.limitations]
`

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "ferry.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	blobs, err := fs.New(filepath.Join(dir, "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { blobs.Close() })
	track := tracking.NewService(st, blobs, tracking.Options{})
	if err := track.Init(context.Background()); err != nil {
		t.Fatal(err)
	}
	reg := registry.NewService(st, track, registry.Options{AllowSelfApproval: true})
	file := filepath.Join(dir, "policy.yaml")
	writeFile(t, file, globalPolicy)
	graph := lineage.New(lineage.TrackingSource{Runs: track, Datasets: st}, lineage.RegistrySource{Versions: reg})
	gov, err := governance.New(reg, st, track, governance.Options{PolicyFile: file, Artifacts: blobs, Lineage: graph})
	if err != nil {
		t.Fatal(err)
	}
	reg.SetGate(gov)
	ctx, _ := audit.WithNotes(context.Background(), "alice")
	return &env{reg: reg, gov: gov, track: track, blobs: blobs, policy: file, ctx: ctx}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// version registers a version of model from a new run with metric auc.
func (e *env) version(t *testing.T, model string, auc float64, tags ...registry.Tag) (registry.ModelVersion, tracking.Run) {
	t.Helper()
	run, err := e.track.CreateRun(e.ctx, tracking.CreateRunRequest{ExperimentID: "0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.track.LogMetric(e.ctx, run.Info.RunID, tracking.Metric{Key: "auc", Value: auc, Timestamp: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.reg.GetRegisteredModel(e.ctx, model); errors.Is(err, errdefs.ErrNotFound) {
		if _, err := e.reg.CreateRegisteredModel(e.ctx, model, "", nil); err != nil {
			t.Fatal(err)
		}
	}
	mv, err := e.reg.CreateModelVersion(e.ctx, registry.CreateVersion{Name: model, RunID: run.Info.RunID,
		Source: run.Info.ArtifactURI + "/model", Tags: tags})
	if err != nil {
		t.Fatal(err)
	}
	return mv, run
}

func TestGateRefusesAndExplains(t *testing.T) {
	e := newEnv(t)
	weak, _ := e.version(t, "credit-risk", 0.81)
	err := e.reg.SetAlias(e.ctx, "credit-risk", "production", "1")
	if !errors.Is(err, policy.ErrGateFailed) || !errors.Is(err, errdefs.ErrPermission) {
		t.Fatalf("weak version took production: %v", err)
	}
	for _, want := range []string{"metrics.auc >= 0.85", "auc = 0.81", "considerations.limitations"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q lacks %q", err, want)
		}
	}
	// Another model is outside the gate's `models` glob.
	other, _ := e.version(t, "churn", 0.5)
	if err := e.reg.SetAlias(e.ctx, "churn", "production", "1"); err != nil {
		t.Fatalf("ungated model refused: %v", err)
	}
	_ = other
	// A passing version with the card field gets it, through the stage path too.
	good, _ := e.version(t, "credit-risk", 0.9, registry.Tag{Key: "card.considerations.limitations", Value: "Trained on 2024 applications only."})
	if err := e.reg.SetAlias(e.ctx, "credit-risk", "production", "2"); err != nil {
		t.Fatalf("passing version refused: %v", err)
	}
	if _, err := e.reg.TransitionStage(e.ctx, "credit-risk", "1", "production", false); !errors.Is(err, policy.ErrGateFailed) {
		t.Fatalf("stage move of weak version: %v", err)
	}
	if _, err := e.reg.TransitionStage(e.ctx, "credit-risk", "2", "production", true); err != nil {
		t.Fatalf("stage move of good version: %v", err)
	}
	res, err := e.gov.Check(e.ctx, weak, registry.Target{Kind: registry.TargetAlias, Name: "production"})
	if err != nil || res.Allowed || len(res.Rules) != 2 {
		t.Fatalf("check: %+v %v", res, err)
	}
	if res, _ := e.gov.Check(e.ctx, good, registry.Target{Kind: registry.TargetAlias, Name: "production"}); !res.Allowed {
		t.Fatalf("good version check: %+v", res)
	}
	targets, err := e.gov.Targets(e.ctx, "credit-risk")
	if err != nil || len(targets) != 2 {
		t.Fatalf("targets: %v %v", targets, err)
	}
}

func TestPolicyReloadKeepsOldOnError(t *testing.T) {
	e := newEnv(t)
	e.version(t, "credit-risk", 0.81)
	writeFile(t, e.policy, "version: 1\ngates:\n  - name: broken\n    when: {aliases: [production]\n")
	err := e.gov.ReloadPolicy(e.ctx)
	var pe *policy.ParseError
	if err == nil || !errors.As(err, &pe) || pe.Line == 0 || pe.Col == 0 {
		t.Fatalf("reload of a broken file: %v", err)
	}
	if !strings.Contains(err.Error(), "policy.yaml:") {
		t.Errorf("error does not name the file: %v", err)
	}
	// The old policy is still in force.
	if err := e.reg.SetAlias(e.ctx, "credit-risk", "production", "1"); !errors.Is(err, policy.ErrGateFailed) {
		t.Fatalf("old policy not in force after a failed reload: %v", err)
	}
	writeFile(t, e.policy, "version: 1\ngates: []\n")
	if err := e.gov.ReloadPolicy(e.ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.reg.SetAlias(e.ctx, "credit-risk", "production", "1"); err != nil {
		t.Fatalf("new empty policy still refuses: %v", err)
	}
}

func TestModelPolicy(t *testing.T) {
	e := newEnv(t)
	e.version(t, "churn", 0.7)
	bad := "version: 1\ngates:\n  - name: g\n    when: {aliases: [champion]}\n    require: {approvalz: 1}\n"
	err := e.gov.SetModelPolicy(e.ctx, "churn", bad)
	if err == nil || !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), ":5:") {
		t.Fatalf("bad per-model policy: %v", err)
	}
	if doc, _ := e.gov.ModelPolicy(e.ctx, "churn"); doc != "" {
		t.Fatalf("a refused policy was stored: %q", doc)
	}
	good := "version: 1\ngates:\n  - name: g\n    when: {aliases: [champion]}\n    require: {approvals: 1}\n"
	if err := e.gov.SetModelPolicy(e.ctx, "churn", good); err != nil {
		t.Fatal(err)
	}
	err = e.reg.SetAlias(e.ctx, "churn", "champion", "1")
	if !errors.Is(err, policy.ErrGateFailed) || !strings.Contains(err.Error(), "approvals >= 1") {
		t.Fatalf("per-model gate: %v", err)
	}
	if _, err := e.reg.Review(e.ctx, "churn", "1", registry.ApprovalApproved, "ok"); err != nil {
		t.Fatal(err)
	}
	if err := e.reg.SetAlias(e.ctx, "churn", "champion", "1"); err != nil {
		t.Fatalf("approved version refused: %v", err)
	}
	if err := e.gov.SetModelPolicy(e.ctx, "ghost", good); !errors.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("policy for a missing model: %v", err)
	}
}

// TestFairnessGateReadsTheRunsEvaluationSet: the evaluation set is an
// artifact of the version's run (real data: Palmer penguins predictions,
// see internal/policy/testdata); female and male selection rates are
// 0.345 and 0.5125 (sklearn oracle), a ratio of 0.673 < 0.8.
func TestFairnessGateReadsTheRunsEvaluationSet(t *testing.T) {
	e := newEnv(t)
	_, run := e.version(t, "penguins", 0.95)
	csv, err := os.ReadFile("../policy/testdata/penguins_eval.csv")
	if err != nil {
		t.Fatal(err)
	}
	key, _ := tracking.ArtifactKey(run.Info.ArtifactURI + "/eval/predictions.csv")
	if _, err := e.blobs.Put(e.ctx, key, strings.NewReader(string(csv))); err != nil {
		t.Fatal(err)
	}
	doc := `version: 1
gates:
  - name: fair
    when: {aliases: [production]}
    require:
      fairness:
        protected_attribute: sex
        evaluation_set: eval/predictions.csv
        label_column: label
        prediction_column: prediction
`
	if err := e.gov.SetModelPolicy(e.ctx, "penguins", doc); err != nil {
		t.Fatal(err)
	}
	err = e.reg.SetAlias(e.ctx, "penguins", "production", "1")
	if !errors.Is(err, policy.ErrGateFailed) || !strings.Contains(err.Error(), "0.67") {
		t.Fatalf("fairness gate: %v", err)
	}
	// A missing evaluation set fails the rule, never passes it.
	if err := e.gov.SetModelPolicy(e.ctx, "penguins", strings.Replace(doc, "eval/predictions.csv", "eval/missing.csv", 1)); err != nil {
		t.Fatal(err)
	}
	err = e.reg.SetAlias(e.ctx, "penguins", "production", "1")
	if !errors.Is(err, policy.ErrGateFailed) || !strings.Contains(err.Error(), "missing.csv") {
		t.Fatalf("missing evaluation set: %v", err)
	}
}

func TestCardCarriesPolicyVerdicts(t *testing.T) {
	e := newEnv(t)
	e.version(t, "credit-risk", 0.81)
	card, err := e.gov.Card(e.ctx, "credit-risk", "1")
	if err != nil {
		t.Fatal(err)
	}
	if len(card.Ferry.Policies) != 2 || card.Ferry.Policies[0].Allowed {
		t.Fatalf("card policies: %+v", card.Ferry.Policies)
	}
	if len(card.Ferry.Lineage.Upstream) != 1 || card.Ferry.Lineage.Upstream[0].Kind != lineage.KindRun {
		t.Fatalf("card lineage: %+v", card.Ferry.Lineage)
	}
}
