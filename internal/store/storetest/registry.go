package storetest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/filter"
	"github.com/ferry-ml/ferry/internal/registry"
)

// RegistryStore is what the registry suite exercises.
type RegistryStore interface {
	registry.Store
}

// RunRegistry runs the registry conformance suite; newStore returns a
// fresh, empty store closed by the test's cleanup.
func RunRegistry(t *testing.T, newStore func(t *testing.T) RegistryStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s RegistryStore)
	}{
		{"ModelCRUD", testModelCRUD},
		{"VersionNumbering", testVersionNumbering},
		{"VersionTagsAndUpdate", testVersionTags},
		{"Aliases", testAliases},
		{"Stages", testStages},
		{"SearchModels", testSearchModels},
		{"SearchVersions", testSearchVersions},
		{"Reviews", testReviews},
		{"Policies", testPolicies},
		{"ConcurrentVersionCreates", testConcurrentVersions},
		{"ConcurrentAliasMoves", testConcurrentAliases},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

func newModel(t *testing.T, s RegistryStore, name string, at int64, tags ...registry.Tag) {
	t.Helper()
	must(t, s.CreateRegisteredModel(context.Background(), registry.RegisteredModel{
		Name: name, CreationTime: at, LastUpdatedTime: at, Tags: tags}))
}

func newVersion(t *testing.T, s RegistryStore, name string, at int64, runID string, tags ...registry.Tag) registry.ModelVersion {
	t.Helper()
	mv, err := s.CreateModelVersion(context.Background(), registry.ModelVersion{
		Name: name, CreationTime: at, LastUpdatedTime: at, CurrentStage: registry.StageNone,
		Source: "mlflow-artifacts:/0/" + runID + "/artifacts/model", RunID: runID, Status: registry.StatusReady, Tags: tags})
	must(t, err)
	return mv
}

func testModelCRUD(t *testing.T, s RegistryStore) {
	ctx := context.Background()
	newModel(t, s, "fraud", 10, registry.Tag{Key: "team", Value: "risk"})
	wantErr(t, s.CreateRegisteredModel(ctx, registry.RegisteredModel{Name: "fraud"}), errdefs.ErrAlreadyExists)
	m, err := s.GetRegisteredModel(ctx, "fraud")
	must(t, err)
	if m.Name != "fraud" || m.CreationTime != 10 || len(m.Tags) != 1 || m.Tags[0].Value != "risk" {
		t.Fatalf("model = %+v", m)
	}
	_, err = s.GetRegisteredModel(ctx, "nope")
	wantErr(t, err, errdefs.ErrNotFound)

	must(t, s.UpdateRegisteredModel(ctx, "fraud", "detects fraud", 20))
	must(t, s.SetRegisteredModelTag(ctx, "fraud", registry.Tag{Key: "team", Value: "ops"}))
	must(t, s.SetRegisteredModelTag(ctx, "fraud", registry.Tag{Key: "tier", Value: "1"}))
	must(t, s.DeleteRegisteredModelTag(ctx, "fraud", "tier"))
	must(t, s.DeleteRegisteredModelTag(ctx, "fraud", "never-set")) // no-op, as MLflow
	m, _ = s.GetRegisteredModel(ctx, "fraud")
	if m.Description != "detects fraud" || m.LastUpdatedTime != 20 || len(m.Tags) != 1 || m.Tags[0].Value != "ops" {
		t.Fatalf("after update: %+v", m)
	}

	newVersion(t, s, "fraud", 30, "run1")
	newModel(t, s, "other", 1)
	wantErr(t, s.RenameRegisteredModel(ctx, "fraud", "other", 40), errdefs.ErrAlreadyExists)
	must(t, s.RenameRegisteredModel(ctx, "fraud", "fraud-v2", 40))
	_, err = s.GetRegisteredModel(ctx, "fraud")
	wantErr(t, err, errdefs.ErrNotFound)
	mv, err := s.GetModelVersion(ctx, "fraud-v2", 1)
	must(t, err)
	if mv.Name != "fraud-v2" || mv.LastUpdatedTime != 40 {
		t.Fatalf("version after rename: %+v", mv)
	}

	_, err = s.SetAlias(ctx, "fraud-v2", "champion", 1, 0)
	must(t, err)
	must(t, s.AddReview(ctx, "fraud-v2", 1, registry.Review{Reviewer: "bob", Decision: registry.ApprovalApproved, Time: 50}))
	must(t, s.SetModelPolicy(ctx, "fraud-v2", "version: 1", 50))
	must(t, s.DeleteRegisteredModel(ctx, "fraud-v2"))
	wantErr(t, s.DeleteRegisteredModel(ctx, "fraud-v2"), errdefs.ErrNotFound)
	_, err = s.GetModelVersion(ctx, "fraud-v2", 1)
	wantErr(t, err, errdefs.ErrNotFound)
	// The name is free again and numbering starts over.
	newModel(t, s, "fraud-v2", 60)
	if mv := newVersion(t, s, "fraud-v2", 61, "run2"); mv.Version != 1 {
		t.Fatalf("re-created model's first version = %d", mv.Version)
	}
	if doc, err := s.ModelPolicy(ctx, "fraud-v2"); err != nil || doc != "" {
		t.Fatalf("policy survived delete: %q %v", doc, err)
	}
}

func testVersionNumbering(t *testing.T, s RegistryStore) {
	ctx := context.Background()
	_, err := s.CreateModelVersion(ctx, registry.ModelVersion{Name: "ghost", Source: "s3://b/m"})
	wantErr(t, err, errdefs.ErrNotFound)
	newModel(t, s, "m", 1)
	for i := 1; i <= 3; i++ {
		if mv := newVersion(t, s, "m", int64(10*i), "r"); mv.Version != int64(i) {
			t.Fatalf("version %d numbered %d", i, mv.Version)
		}
	}
	m, _ := s.GetRegisteredModel(ctx, "m")
	if m.LastUpdatedTime != 30 {
		t.Fatalf("creating a version must bump the model: %d", m.LastUpdatedTime)
	}
	_, err = s.SetAlias(ctx, "m", "champion", 3, 0)
	must(t, err)
	must(t, s.DeleteModelVersion(ctx, "m", 3, 40))
	wantErr(t, s.DeleteModelVersion(ctx, "m", 3, 41), errdefs.ErrNotFound)
	_, err = s.GetModelVersion(ctx, "m", 3)
	wantErr(t, err, errdefs.ErrNotFound)
	if mv := newVersion(t, s, "m", 50, "r"); mv.Version != 4 {
		t.Fatalf("a deleted version's number was reused: got %d", mv.Version)
	}
	m, _ = s.GetRegisteredModel(ctx, "m")
	if len(m.Aliases) != 0 {
		t.Fatalf("alias of a deleted version survives: %+v", m.Aliases)
	}
	_, err = s.GetVersionByAlias(ctx, "m", "champion")
	wantErr(t, err, errdefs.ErrInvalidArgument) // MLflow: alias not found is INVALID_PARAMETER_VALUE
	// Versions are not visible to tag or alias writes once deleted.
	wantErr(t, s.SetModelVersionTag(ctx, "m", 3, registry.Tag{Key: "k", Value: "v"}), errdefs.ErrNotFound)
	_, err = s.SetAlias(ctx, "m", "x", 3, 0)
	wantErr(t, err, errdefs.ErrNotFound)
}

func testVersionTags(t *testing.T, s RegistryStore) {
	ctx := context.Background()
	newModel(t, s, "m", 1)
	newVersion(t, s, "m", 5, "r", registry.Tag{Key: "b", Value: "2"}, registry.Tag{Key: "a", Value: "1"})
	must(t, s.SetModelVersionTag(ctx, "m", 1, registry.Tag{Key: "a", Value: "one"}))
	must(t, s.DeleteModelVersionTag(ctx, "m", 1, "b"))
	must(t, s.DeleteModelVersionTag(ctx, "m", 1, "missing"))
	desc := "new"
	mv, archived, err := s.UpdateModelVersion(ctx, "m", 1, registry.VersionUpdate{Description: &desc}, 9)
	must(t, err)
	if len(archived) != 0 || mv.Description != "new" || mv.LastUpdatedTime != 9 || len(mv.Tags) != 1 || mv.Tags[0] != (registry.Tag{Key: "a", Value: "one"}) {
		t.Fatalf("version = %+v", mv)
	}
	if m, _ := s.GetRegisteredModel(ctx, "m"); m.LastUpdatedTime != 5 {
		t.Fatalf("updating a version's description must not bump the model (MLflow): %d", m.LastUpdatedTime)
	}
	_, _, err = s.UpdateModelVersion(ctx, "m", 7, registry.VersionUpdate{Description: &desc}, 9)
	wantErr(t, err, errdefs.ErrNotFound)
	if mv.Approval.Status != registry.ApprovalPending {
		t.Fatalf("new version approval = %+v", mv.Approval)
	}
}

func testAliases(t *testing.T, s RegistryStore) {
	ctx := context.Background()
	newModel(t, s, "m", 1)
	newVersion(t, s, "m", 2, "r1")
	newVersion(t, s, "m", 3, "r2")
	prev, err := s.SetAlias(ctx, "m", "champion", 1, 0)
	must(t, err)
	if prev != 0 {
		t.Fatalf("first set: prev %d", prev)
	}
	prev, err = s.SetAlias(ctx, "m", "champion", 2, 0)
	must(t, err)
	if prev != 1 {
		t.Fatalf("move: prev %d", prev)
	}
	_, err = s.SetAlias(ctx, "m", "challenger", 1, 0)
	must(t, err)
	mv, err := s.GetVersionByAlias(ctx, "m", "champion")
	must(t, err)
	if mv.Version != 2 || len(mv.Aliases) != 1 || mv.Aliases[0] != "champion" {
		t.Fatalf("by alias: %+v", mv)
	}
	m, _ := s.GetRegisteredModel(ctx, "m")
	if fmt.Sprint(m.Aliases) != "[{challenger 1} {champion 2}]" {
		t.Fatalf("model aliases: %v", m.Aliases)
	}
	_, err = s.SetAlias(ctx, "m", "x", 9, 0)
	wantErr(t, err, errdefs.ErrNotFound)
	_, err = s.SetAlias(ctx, "ghost", "x", 1, 0)
	wantErr(t, err, errdefs.ErrNotFound)
	must(t, s.DeleteAlias(ctx, "m", "challenger", 7))
	must(t, s.DeleteAlias(ctx, "m", "challenger", 7)) // no-op
	wantErr(t, s.DeleteAlias(ctx, "ghost", "challenger", 7), errdefs.ErrNotFound)
	_, err = s.GetVersionByAlias(ctx, "m", "challenger")
	wantErr(t, err, errdefs.ErrInvalidArgument)

	// A move judged on an older revision is refused and changes nothing:
	// every write under the model advances its revision.
	m, _ = s.GetRegisteredModel(ctx, "m")
	judged := m.Revision
	must(t, s.AddReview(ctx, "m", 2, registry.Review{Reviewer: "bob", Decision: registry.ApprovalRejected, Time: 8}))
	_, err = s.SetAlias(ctx, "m", "champion", 1, judged)
	wantErr(t, err, errdefs.ErrConflict)
	stage := registry.StageProduction
	_, _, err = s.UpdateModelVersion(ctx, "m", 1, registry.VersionUpdate{Stage: &stage, ExpectRevision: judged}, 9)
	wantErr(t, err, errdefs.ErrConflict)
	if mv, _ := s.GetVersionByAlias(ctx, "m", "champion"); mv.Version != 2 {
		t.Fatalf("a stale move changed the alias: %d", mv.Version)
	}
	m, _ = s.GetRegisteredModel(ctx, "m")
	if _, err := s.SetAlias(ctx, "m", "champion", 1, m.Revision); err != nil {
		t.Fatalf("move at the current revision: %v", err)
	}
	if m2, _ := s.GetRegisteredModel(ctx, "m"); m2.Revision <= m.Revision {
		t.Fatalf("revision did not advance: %d then %d", m.Revision, m2.Revision)
	}
}

func testStages(t *testing.T, s RegistryStore) {
	ctx := context.Background()
	newModel(t, s, "m", 1)
	for i := 0; i < 4; i++ {
		newVersion(t, s, "m", int64(2+i), "r")
	}
	stage := func(st string) *string { return &st }
	_, _, err := s.UpdateModelVersion(ctx, "m", 1, registry.VersionUpdate{Stage: stage(registry.StageProduction)}, 10)
	must(t, err)
	_, _, err = s.UpdateModelVersion(ctx, "m", 2, registry.VersionUpdate{Stage: stage(registry.StageProduction)}, 11)
	must(t, err)
	_, _, err = s.UpdateModelVersion(ctx, "m", 3, registry.VersionUpdate{Stage: stage(registry.StageStaging)}, 12)
	must(t, err)
	latest, err := s.LatestVersions(ctx, "m", nil)
	must(t, err)
	var got []string
	for _, v := range latest {
		got = append(got, fmt.Sprintf("%s:%d", v.CurrentStage, v.Version))
	}
	if strings.Join(got, " ") != "None:4 Staging:3 Production:2" {
		t.Fatalf("latest = %v", got)
	}
	inProd, err := s.VersionsInStage(ctx, "m", registry.StageProduction)
	must(t, err)
	if len(inProd) != 2 {
		t.Fatalf("in production: %d", len(inProd))
	}
	mv, archived, err := s.UpdateModelVersion(ctx, "m", 4, registry.VersionUpdate{Stage: stage(registry.StageProduction), ArchiveExisting: true}, 13)
	must(t, err)
	if mv.CurrentStage != registry.StageProduction || fmt.Sprint(archived) != "[1 2]" {
		t.Fatalf("transition: %+v archived %v", mv, archived)
	}
	for _, v := range []int64{1, 2} {
		o, _ := s.GetModelVersion(ctx, "m", v)
		if o.CurrentStage != registry.StageArchived || o.LastUpdatedTime != 13 {
			t.Fatalf("version %d after archive: %+v", v, o)
		}
	}
	if o, _ := s.GetModelVersion(ctx, "m", 3); o.CurrentStage != registry.StageStaging {
		t.Fatalf("staging version touched: %+v", o)
	}
	if m, _ := s.GetRegisteredModel(ctx, "m"); m.LastUpdatedTime != 13 {
		t.Fatalf("transition must bump the model: %d", m.LastUpdatedTime)
	}
	prod, err := s.LatestVersions(ctx, "m", []string{registry.StageProduction})
	must(t, err)
	if len(prod) != 1 || prod[0].Version != 4 {
		t.Fatalf("latest production: %+v", prod)
	}
}

func modelNames(ms []registry.RegisteredModel) string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Name)
	}
	return strings.Join(out, ",")
}

func testSearchModels(t *testing.T, s RegistryStore) {
	ctx := context.Background()
	newModel(t, s, "alpha", 3, registry.Tag{Key: "team", Value: "risk"})
	newModel(t, s, "Beta", 1, registry.Tag{Key: "team", Value: "growth"})
	newModel(t, s, "gamma", 2)
	newModel(t, s, "prompt", 4, registry.Tag{Key: "mlflow.prompt.is_prompt", Value: "true"})
	search := func(f string, order []string, off, lim int) string {
		t.Helper()
		cl, err := filter.ParseRegisteredModelFilter(f)
		must(t, err)
		ob, err := filter.ParseRegisteredModelOrderBy(order)
		must(t, err)
		ms, err := s.SearchRegisteredModels(ctx, registry.ModelQuery{Filter: cl, OrderBy: ob, Offset: off, Limit: lim})
		must(t, err)
		return modelNames(ms)
	}
	cases := []struct {
		filter string
		order  []string
		want   string
	}{
		{"", nil, "Beta,alpha,gamma,prompt"},
		{"name LIKE 'a%'", nil, "alpha"}, // LIKE is case-sensitive
		{"name ILIKE 'b%'", nil, "Beta"},
		{"name != 'alpha'", nil, "Beta,gamma,prompt"},
		{"tags.team = 'risk'", nil, "alpha"},
		{"tags.team != 'risk'", nil, "Beta"}, // a != tag clause needs the tag
		{"tags.team LIKE '%o%'", nil, "Beta"},
		{"tags.`mlflow.prompt.is_prompt` != 'true'", nil, "Beta,alpha,gamma"},
		{"name = 'alpha' AND tags.`mlflow.prompt.is_prompt` != 'true'", nil, "alpha"},
		{"", []string{"creation_timestamp DESC"}, "prompt,alpha,gamma,Beta"},
		{"", []string{"name DESC"}, "prompt,gamma,alpha,Beta"},
	}
	for _, c := range cases {
		if got := search(c.filter, c.order, 0, 100); got != c.want {
			t.Errorf("search %q %v = %s, want %s", c.filter, c.order, got, c.want)
		}
	}
	if got := search("", nil, 1, 2); got != "alpha,gamma" {
		t.Errorf("page = %s", got)
	}
}

func testSearchVersions(t *testing.T, s RegistryStore) {
	ctx := context.Background()
	newModel(t, s, "a", 1)
	newModel(t, s, "b", 1)
	newVersion(t, s, "a", 10, "run1", registry.Tag{Key: "k", Value: "x"})
	newVersion(t, s, "a", 20, "run2")
	newVersion(t, s, "b", 15, "run1")
	newVersion(t, s, "a", 30, "run3")
	must(t, s.DeleteModelVersion(ctx, "a", 3, 40))
	search := func(f string, order []string) string {
		t.Helper()
		cl, err := filter.ParseModelVersionFilter(f)
		must(t, err)
		ob, err := filter.ParseModelVersionOrderBy(order)
		must(t, err)
		vs, err := s.SearchModelVersions(ctx, registry.VersionQuery{Filter: cl, OrderBy: ob, Limit: 100})
		must(t, err)
		var out []string
		for _, v := range vs {
			out = append(out, fmt.Sprintf("%s/%d", v.Name, v.Version))
		}
		return strings.Join(out, ",")
	}
	cases := []struct {
		filter string
		order  []string
		want   string
	}{
		// Default: last_updated_timestamp DESC, then name, version DESC.
		{"", nil, "a/2,b/1,a/1"},
		{"name = 'a'", nil, "a/2,a/1"},
		{"run_id IN ('run1', 'run9')", nil, "b/1,a/1"},
		{"run_id = 'run2'", nil, "a/2"},
		{"version_number > 1", nil, "a/2"},
		{"version_number < 1.5", []string{"name"}, "a/1,b/1"},
		{"version_number >= 9223372036854775808", nil, ""},
		{"version_number = 1e300", nil, ""},
		{"version_number > -1e300", []string{"name", "version_number"}, "a/1,a/2,b/1"},
		{"version_number <= 1", []string{"name"}, "a/1,b/1"},
		{"source_path LIKE '%run1%'", []string{"name DESC"}, "b/1,a/1"},
		{"tags.k = 'x'", nil, "a/1"},
		{"", []string{"creation_timestamp"}, "a/1,b/1,a/2"},
		{"", []string{"version_number DESC", "name ASC"}, "a/2,a/1,b/1"},
	}
	for _, c := range cases {
		if got := search(c.filter, c.order); got != c.want {
			t.Errorf("search %q %v = %s, want %s", c.filter, c.order, got, c.want)
		}
	}
	vs, err := s.VersionsOfRun(ctx, "run1")
	must(t, err)
	if len(vs) != 2 || vs[0].Name != "a" || vs[1].Name != "b" {
		t.Fatalf("versions of run1: %+v", vs)
	}
}

func testReviews(t *testing.T, s RegistryStore) {
	ctx := context.Background()
	newModel(t, s, "m", 1)
	newVersion(t, s, "m", 2, "r")
	wantErr(t, s.AddReview(ctx, "m", 5, registry.Review{Reviewer: "x", Decision: registry.ApprovalApproved}), errdefs.ErrNotFound)
	steps := []struct {
		r        registry.Review
		status   registry.ApprovalStatus
		approver string
	}{
		{registry.Review{Reviewer: "alice", Decision: registry.ApprovalApproved, Comment: "ok", Time: 3}, registry.ApprovalApproved, "alice"},
		{registry.Review{Reviewer: "bob", Decision: registry.ApprovalRejected, Comment: "bias", Time: 4}, registry.ApprovalRejected, "alice"},
		{registry.Review{Reviewer: "bob", Decision: registry.ApprovalApproved, Comment: "fixed", Time: 5}, registry.ApprovalApproved, "alice,bob"},
	}
	for i, st := range steps {
		must(t, s.AddReview(ctx, "m", 1, st.r))
		mv, err := s.GetModelVersion(ctx, "m", 1)
		must(t, err)
		a := mv.Approval
		if a.Status != st.status || strings.Join(a.Approvers, ",") != st.approver || a.Reviewer != st.r.Reviewer || a.Comment != st.r.Comment || a.Time != st.r.Time {
			t.Fatalf("step %d: approval %+v", i, a)
		}
	}
	rs, err := s.Reviews(ctx, "m", 1)
	must(t, err)
	if len(rs) != 3 || rs[0].Reviewer != "alice" || rs[2].Comment != "fixed" {
		t.Fatalf("reviews: %+v", rs)
	}
}

func testPolicies(t *testing.T, s RegistryStore) {
	ctx := context.Background()
	wantErr(t, s.SetModelPolicy(ctx, "ghost", "x", 1), errdefs.ErrNotFound)
	newModel(t, s, "m", 1)
	newModel(t, s, "n", 1)
	must(t, s.SetModelPolicy(ctx, "m", "version: 1\n", 2))
	must(t, s.SetModelPolicy(ctx, "m", "version: 1\ngates: []\n", 3))
	must(t, s.SetModelPolicy(ctx, "n", "version: 1\n", 3))
	doc, err := s.ModelPolicy(ctx, "m")
	must(t, err)
	if doc != "version: 1\ngates: []\n" {
		t.Fatalf("policy = %q", doc)
	}
	if doc, _ := s.ModelPolicy(ctx, "n"); doc != "version: 1\n" {
		t.Fatalf("other model's policy = %q", doc)
	}
	must(t, s.SetModelPolicy(ctx, "m", "", 4))
	if doc, _ := s.ModelPolicy(ctx, "m"); doc != "" {
		t.Fatalf("removed policy = %q", doc)
	}
}

func testConcurrentVersions(t *testing.T, s RegistryStore) {
	newModel(t, s, "m", 1)
	const n = 40
	got := make([]int64, n)
	parallel(t, n, func(i int) error {
		mv, err := s.CreateModelVersion(context.Background(), registry.ModelVersion{
			Name: "m", CreationTime: int64(i), LastUpdatedTime: int64(i), CurrentStage: registry.StageNone,
			Source: "s3://b/m", Status: registry.StatusReady})
		got[i] = mv.Version
		return err
	})
	sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
	for i, v := range got {
		if v != int64(i+1) {
			t.Fatalf("versions not 1..%d: %v", n, got)
		}
	}
}

func testConcurrentAliases(t *testing.T, s RegistryStore) {
	ctx := context.Background()
	newModel(t, s, "m", 1)
	newVersion(t, s, "m", 2, "r")
	newVersion(t, s, "m", 3, "r")
	for round := 0; round < 10; round++ {
		prevs := make([]int64, 2)
		parallel(t, 2, func(i int) error {
			p, err := s.SetAlias(ctx, "m", "production", int64(i+1), 0)
			prevs[i] = p
			return err
		})
		mv, err := s.GetVersionByAlias(ctx, "m", "production")
		must(t, err)
		// Serialised: one of the two saw the other's write as its previous
		// value (or the value of the round before).
		if mv.Version != 1 && mv.Version != 2 {
			t.Fatalf("round %d: alias points at %d", round, mv.Version)
		}
		m, _ := s.GetRegisteredModel(ctx, "m")
		if len(m.Aliases) != 1 {
			t.Fatalf("round %d: aliases %+v", round, m.Aliases)
		}
	}
}
