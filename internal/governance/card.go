package governance

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/ferry-ml/ferry/internal/audit"
	"github.com/ferry-ml/ferry/internal/lineage"
	"github.com/ferry-ml/ferry/internal/modelcard"
	"github.com/ferry-ml/ferry/internal/registry"
	"github.com/ferry-ml/ferry/internal/tracking"
)

// History reads the audit trail (audit.Log does).
type History interface {
	List(ctx context.Context, q audit.Query) ([]audit.Record, error)
}

// maxHistory bounds the change history a card shows.
const maxHistory = 1000

// Card builds the model card of a version from everything Ferry knows
// about it, with the verdict of every policy target that guards it.
func (s *Service) Card(ctx context.Context, name, version string) (*modelcard.Card, error) {
	mv, err := s.reg.GetModelVersion(ctx, name, version)
	if err != nil {
		return nil, err
	}
	return s.card(ctx, mv, true)
}

// card assembles the card; withPolicy is false while a policy rule is
// itself reading the card (a card_fields rule), which must not recurse.
func (s *Service) card(ctx context.Context, mv registry.ModelVersion, withPolicy bool) (*modelcard.Card, error) {
	m, err := s.reg.GetRegisteredModel(ctx, mv.Name)
	if err != nil {
		return nil, err
	}
	in := modelcard.Input{
		ModelName: m.Name, ModelDescription: m.Description, ModelTags: tagMap(m.Tags),
		Version: mv.Version, VersionDescription: mv.Description, Stage: mv.CurrentStage, Aliases: mv.Aliases,
		Source: mv.Source, RunID: lineage.RunOfVersion(mv), UserID: mv.UserID,
		CreatedMS: mv.CreationTime, UpdatedMS: mv.LastUpdatedTime, VersionTags: tagMap(mv.Tags),
		ApprovalStatus: string(mv.Approval.Status), GeneratedAt: s.now().UTC().Truncate(time.Second),
	}
	if mv.StorageLocation != mv.Source {
		in.StorageLocation = mv.StorageLocation
	}
	if in.RunID != "" {
		if run, err := s.runs.GetRun(ctx, in.RunID); err == nil {
			in.Run, in.Datasets = runInput(run)
		}
	}
	reviews, err := s.reg.Reviews(ctx, mv.Name, registry.VersionString(mv.Version))
	if err != nil {
		return nil, err
	}
	for _, r := range reviews {
		in.Reviews = append(in.Reviews, modelcard.ReviewInput{Reviewer: r.Reviewer, Decision: string(r.Decision), Comment: r.Comment, TimeMS: r.Time})
	}
	if withPolicy {
		if err := s.cardPolicies(ctx, mv, &in); err != nil {
			return nil, err
		}
	}
	uri := registry.VersionURI(mv.Name, mv.Version)
	if s.lineage != nil {
		g, err := s.lineage.Walk(ctx, uri, 0)
		if err != nil {
			return nil, err
		}
		in.Upstream, in.Downstream = lineageNodes(g.Upstream), lineageNodes(g.Downstream)
	}
	if s.history != nil {
		if in.History, err = s.historyOf(ctx, mv); err != nil {
			return nil, err
		}
	}
	return modelcard.Build(in), nil
}

func runInput(run tracking.Run) (*modelcard.RunInput, []modelcard.DatasetInput) {
	ri := &modelcard.RunInput{Name: run.Info.RunName, Status: string(run.Info.Status),
		StartTimeMS: run.Info.StartTime, Params: map[string]string{}, Metrics: map[string]float64{}}
	if run.Info.EndTime != nil {
		ri.EndTimeMS = *run.Info.EndTime
	}
	for _, p := range run.Data.Params {
		ri.Params[p.Key] = p.Value
	}
	for _, m := range run.Data.Metrics {
		ri.Metrics[m.Key] = m.Value
	}
	var ds []modelcard.DatasetInput
	for _, in := range run.Inputs {
		d := modelcard.DatasetInput{Name: in.Dataset.Name, Digest: in.Dataset.Digest, SourceType: in.Dataset.SourceType,
			Source: in.Dataset.Source, Schema: in.Dataset.Schema, Profile: in.Dataset.Profile}
		for _, t := range in.Tags {
			if t.Key == "mlflow.data.context" {
				d.Context = t.Value
			}
		}
		ds = append(ds, d)
	}
	return ri, ds
}

// cardPolicies evaluates every move the policies guard for the model.
func (s *Service) cardPolicies(ctx context.Context, mv registry.ModelVersion, in *modelcard.Input) error {
	targets, err := s.Targets(ctx, mv.Name)
	if err != nil {
		return err
	}
	for _, t := range targets {
		res, err := s.Check(ctx, mv, t)
		if err != nil {
			return err
		}
		p := modelcard.Policy{Allowed: res.Allowed, Target: strings.TrimSpace(t.Kind + " " + t.Name)}
		for _, r := range res.Rules {
			p.Rules = append(p.Rules, modelcard.PolicyRule{Gate: r.Gate, Rule: r.Rule, Passed: r.Passed, Detail: r.Detail})
		}
		in.Policies = append(in.Policies, p)
	}
	return nil
}

func lineageNodes(items []lineage.Item) []modelcard.LineageNode {
	out := make([]modelcard.LineageNode, 0, len(items))
	for _, it := range items {
		out = append(out, modelcard.LineageNode{URI: it.Node.URI, Kind: it.Node.Kind, Relation: it.Relation, Depth: it.Depth})
	}
	return out
}

// historyOf returns the audit events about the version and about its
// registered model as a whole (aliases, tags, descriptions), newest
// first. Events from before the model's creation belong to an earlier
// model of that name and are left out; a renamed model's history starts
// with its rename (the events before it are under the old name).
func (s *Service) historyOf(ctx context.Context, mv registry.ModelVersion) ([]modelcard.Event, error) {
	var recs []audit.Record
	for _, q := range []audit.Query{
		{Resource: registry.VersionURI(mv.Name, mv.Version), Limit: maxHistory, NewestFirst: true},
		{Resource: registry.ModelURI(mv.Name), ExactResource: true, Limit: maxHistory, NewestFirst: true},
	} {
		rs, err := s.history.List(ctx, q)
		if err != nil {
			return nil, err
		}
		recs = append(recs, rs...)
	}
	slices.SortFunc(recs, func(a, b audit.Record) int { return cmp.Compare(b.Seq, a.Seq) })
	var out []modelcard.Event
	for _, r := range recs {
		if len(out) == maxHistory {
			break
		}
		out = append(out, modelcard.Event{Seq: r.Seq, TimeMS: r.Time.UnixMilli(), Actor: r.Actor, Action: r.Action, Resource: r.Resource})
		if r.Action == "registry.create_model" && r.Status < 300 {
			break // what comes before belongs to an earlier model of that name
		}
	}
	return out, nil
}

// cardField reads a dotted field of a card for a policy rule.
func cardField(c *modelcard.Card, path string) (string, bool) { return modelcard.Field(c, path) }
