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
// registered model as a whole (aliases, tags, policy), newest first. It
// follows renames back to the model's earlier names, and stops at the
// model's creation: what comes before belongs to an earlier model of that
// name.
func (s *Service) historyOf(ctx context.Context, mv registry.ModelVersion) ([]modelcard.Event, error) {
	var out []modelcard.Event
	name, before := mv.Name, int64(0)
	for hop := 0; hop < maxRenames; hop++ {
		recs, err := s.eventsOf(ctx, name, mv.Version, before)
		if err != nil {
			return nil, err
		}
		next := ""
		for _, r := range recs {
			out = append(out, modelcard.Event{Seq: r.Seq, TimeMS: r.Time.UnixMilli(), Actor: r.Actor, Action: r.Action, Resource: r.Resource})
			if len(out) == maxHistory {
				return out, nil
			}
			ok := r.Status < 300
			if ok && r.Action == "registry.create_model" {
				return out, nil
			}
			if ok && r.Action == "registry.rename_model" && r.Before == "" {
				old, err := s.renamedFrom(ctx, r)
				if err != nil {
					return nil, err
				}
				if old != "" && old != name {
					next, before = old, r.Seq
					break
				}
			}
		}
		if next == "" {
			return out, nil
		}
		name = next
	}
	return out, nil
}

// maxRenames bounds how many renames a card's history follows back.
const maxRenames = 20

// eventsOf returns, newest first, the events of version v of the model
// called name and of the model itself, before seq before (0: all).
func (s *Service) eventsOf(ctx context.Context, name string, v int64, before int64) ([]audit.Record, error) {
	var recs []audit.Record
	for _, q := range []audit.Query{
		{Resource: registry.VersionURI(name, v), BeforeSeq: before, Limit: maxHistory, NewestFirst: true},
		{Resource: registry.ModelURI(name), ExactResource: true, BeforeSeq: before, Limit: maxHistory, NewestFirst: true},
	} {
		rs, err := s.history.List(ctx, q)
		if err != nil {
			return nil, err
		}
		recs = append(recs, rs...)
	}
	slices.SortFunc(recs, func(a, b audit.Record) int { return cmp.Compare(b.Seq, a.Seq) })
	return recs, nil
}

// renamedFrom returns the name a rename event's model had before: a
// rename notes the old name, then the new one, in one request, so the
// entry just before r is the old name's.
func (s *Service) renamedFrom(ctx context.Context, r audit.Record) (string, error) {
	prev, err := s.history.List(ctx, audit.Query{AfterSeq: r.Seq - 2, BeforeSeq: r.Seq, Limit: 1})
	if err != nil {
		return "", err
	}
	if len(prev) == 1 && prev[0].Action == "registry.rename_model" && prev[0].RequestID == r.RequestID && prev[0].After == "" {
		if old, ok := strings.CutPrefix(prev[0].Resource, "models:/"); ok {
			return old, nil
		}
	}
	return "", nil
}

// cardField reads a dotted field of a card for a policy rule.
func cardField(c *modelcard.Card, path string) (string, bool) { return modelcard.Field(c, path) }
