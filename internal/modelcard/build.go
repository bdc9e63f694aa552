package modelcard

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Input is everything the card is made from, in plain values. The caller
// fills it from the registry (model and version), tracking (run and
// datasets), approvals, the policy engine, lineage and the audit trail.
// Times are milliseconds since the Unix epoch; 0 means unknown. Build does
// not modify the Input.
type Input struct {
	// ModelName is the registered model's name.
	ModelName string
	// ModelDescription is the registered model's description.
	ModelDescription string
	// ModelTags are the registered model's tags.
	ModelTags map[string]string

	// Version is the version number.
	Version int64
	// VersionDescription is the version's description.
	VersionDescription string
	// Stage is the version's (MLflow) stage, e.g. "Production".
	Stage string
	// Aliases are the aliases that point at the version.
	Aliases []string
	// Source is the version's source URI as registered, e.g. "runs:/ID/model".
	Source string
	// StorageLocation is where the version's files are (the source with
	// runs:/ resolved); "" when the same as Source.
	StorageLocation string
	// RunID is the run that produced the version ("" if none).
	RunID string
	// UserID is who registered the version.
	UserID string
	// CreatedMS and UpdatedMS are the version's creation and last update.
	CreatedMS int64
	UpdatedMS int64
	// VersionTags are the version's tags; they override ModelTags of the
	// same key when the card's text is read from card.* tags.
	VersionTags map[string]string

	// Run is the producing run; nil when there is none or it is gone.
	Run *RunInput
	// Datasets are the dataset inputs of the producing run.
	Datasets []DatasetInput

	// ApprovalStatus is the version's review state: "pending", "approved"
	// or "rejected".
	ApprovalStatus string
	// Reviews are every review decision on the version.
	Reviews []ReviewInput

	// Policies are the policy verdicts for the version, one per move the
	// policies guard (alias production, stage Production, deploy); empty
	// when no policy applies.
	// none was made.
	Policies []Policy

	// Upstream and Downstream are the version's lineage, flattened.
	Upstream   []LineageNode
	Downstream []LineageNode

	// History are the audit-trail events about the version (and its model,
	// when the caller includes them).
	History []Event

	// GeneratedAt is when the card is generated; the zero time leaves
	// ferry.generated_at out, so that equal inputs give equal cards.
	GeneratedAt time.Time
}

// RunInput is the run that produced a version.
type RunInput struct {
	Name        string
	Status      string // RUNNING, FINISHED, FAILED, KILLED, SCHEDULED
	StartTimeMS int64
	EndTimeMS   int64 // 0 while running
	// Params are the run's parameters.
	Params map[string]string
	// Metrics are the latest value of each run metric. Names of the form
	// "<metric>/<key>:<value>" are per-slice values (see ParseMetricName).
	Metrics map[string]float64
}

// DatasetInput is a dataset the run logged as an input (MLflow log-inputs).
type DatasetInput struct {
	Name       string
	Digest     string
	SourceType string
	Source     string
	Schema     string
	Profile    string
	// Context is the input's mlflow.data.context tag ("training", "eval", ...).
	Context string
}

// ReviewInput is one reviewer's decision on the version.
type ReviewInput struct {
	Reviewer string
	Decision string // "approved" or "rejected"
	Comment  string
	TimeMS   int64
}

// Event is one audit-trail event.
type Event struct {
	Seq      int64
	TimeMS   int64
	Actor    string
	Action   string // e.g. "registry.set_alias"
	Resource string // e.g. "models:/NAME/3"
}

// Tag keys the card reads. A version tag overrides the model tag of the
// same key; an empty or blank value counts as unset (so an empty version
// tag clears the model's value).
const (
	TagOwners                = "card.owners"
	TagOwner                 = "owner"
	TagDocumentation         = "card.model_details.documentation"
	TagLicenses              = "card.model_details.licenses"
	TagReferences            = "card.model_details.references"
	TagCitations             = "card.model_details.citations"
	TagCitationPrefix        = "card.model_details.citations." // + style
	TagVersionDiff           = "card.model_details.version.diff"
	TagArchitecture          = "card.model_parameters.model_architecture"
	TagInputFormat           = "card.model_parameters.input_format"
	TagOutputFormat          = "card.model_parameters.output_format"
	TagUsers                 = "card.considerations.users"
	TagUseCases              = "card.considerations.use_cases"
	TagLimitations           = "card.considerations.limitations"
	TagTradeoffs             = "card.considerations.tradeoffs"
	TagEthicalConsiderations = "card.considerations.ethical_considerations"
)

// Build makes the card of in. The result depends only on in: every list
// is sorted (metrics by type then slice, parameters and tags by key,
// datasets by name, digest and context, reviews by time, lineage by depth,
// history by sequence number).
func Build(in Input) *Card {
	tags := mergeTags(in.ModelTags, in.VersionTags)
	c := &Card{SchemaVersion: SchemaVersion}

	md := &c.ModelDetails
	md.Name = in.ModelName
	md.Overview = strings.TrimSpace(in.VersionDescription)
	if md.Overview == "" {
		md.Overview = strings.TrimSpace(in.ModelDescription)
	}
	md.Documentation = tags[TagDocumentation]
	md.Owners = owners(tags, in.UserID)
	md.Version = Version{Name: versionName(in.Version), Date: date(in.CreatedMS), Diff: tags[TagVersionDiff]}
	for _, item := range splitList(tags[TagLicenses]) {
		md.Licenses = append(md.Licenses, parseLicense(item))
	}
	for _, item := range splitList(tags[TagReferences]) {
		md.References = append(md.References, Reference{Reference: item})
	}
	md.Citations = citations(tags)
	md.Path = cmp.Or(strings.TrimSpace(in.StorageLocation), strings.TrimSpace(in.Source))

	mp := &c.ModelParameters
	mp.ModelArchitecture = tags[TagArchitecture]
	mp.InputFormat = tags[TagInputFormat]
	mp.OutputFormat = tags[TagOutputFormat]
	mp.Data = datasets(in.Datasets)

	if in.Run != nil {
		c.QuantitativeAnalysis.PerformanceMetrics = metrics(in.Run.Metrics)
	}

	cs := &c.Considerations
	for _, item := range splitList(tags[TagUsers]) {
		cs.Users = append(cs.Users, User{Description: item})
	}
	for _, item := range splitList(tags[TagUseCases]) {
		cs.UseCases = append(cs.UseCases, UseCase{Description: item})
	}
	for _, item := range splitList(tags[TagLimitations]) {
		cs.Limitations = append(cs.Limitations, Limitation{Description: item})
	}
	for _, item := range splitList(tags[TagTradeoffs]) {
		cs.Tradeoffs = append(cs.Tradeoffs, Tradeoff{Description: item})
	}
	for _, item := range splitList(tags[TagEthicalConsiderations]) {
		if r := parseRisk(item); r.Name != "" || r.MitigationStrategy != "" {
			cs.EthicalConsiderations = append(cs.EthicalConsiderations, r)
		}
	}

	c.Ferry = ferry(in)
	return c
}

// mergeTags overlays version tags on model tags and drops blank values.
func mergeTags(model, version map[string]string) map[string]string {
	out := make(map[string]string, len(model)+len(version))
	for k, v := range model {
		out[k] = v
	}
	for k, v := range version {
		out[k] = v
	}
	for k, v := range out {
		if v = strings.TrimSpace(v); v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// owners reads card.owners, else owner, else the registering user.
func owners(tags map[string]string, userID string) []Owner {
	for _, k := range []string{TagOwners, TagOwner} {
		if o := parseOwners(tags[k]); len(o) > 0 {
			return o
		}
	}
	if u := strings.TrimSpace(userID); u != "" {
		return []Owner{{Name: u}}
	}
	return nil
}

// citations reads card.model_details.citations (paragraphs, no style)
// and card.model_details.citations.<style> (one citation each, by style).
func citations(tags map[string]string) []Citation {
	var out []Citation
	for _, p := range splitParagraphs(tags[TagCitations]) {
		out = append(out, Citation{Citation: p})
	}
	var styles []string
	for k := range tags {
		if style, ok := strings.CutPrefix(k, TagCitationPrefix); ok && strings.TrimSpace(style) != "" {
			styles = append(styles, k)
		}
	}
	slices.Sort(styles)
	for _, k := range styles {
		out = append(out, Citation{Style: strings.TrimSpace(strings.TrimPrefix(k, TagCitationPrefix)), Citation: tags[k]})
	}
	return out
}

func datasets(in []DatasetInput) []Dataset {
	var out []Dataset
	for _, d := range in {
		out = append(out, Dataset{
			Name:       d.Name,
			Link:       datasetLink(d.Source),
			Digest:     d.Digest,
			SourceType: d.SourceType,
			Source:     d.Source,
			Schema:     d.Schema,
			Profile:    d.Profile,
			Context:    d.Context,
		})
	}
	slices.SortStableFunc(out, func(a, b Dataset) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Digest, b.Digest), cmp.Compare(a.Context, b.Context))
	})
	return out
}

// metrics turns the run's latest metric values into performance metrics,
// overall ones first within each type.
func metrics(in map[string]float64) []PerformanceMetric {
	var out []PerformanceMetric
	for k, v := range in {
		typ, slice := ParseMetricName(k)
		out = append(out, PerformanceMetric{Type: typ, Value: FormatValue(v), Slice: slice})
	}
	slices.SortFunc(out, func(a, b PerformanceMetric) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.Slice, b.Slice), cmp.Compare(a.Value, b.Value))
	})
	return out
}

// FormatValue writes a metric value as the card does: the shortest text
// that reads back as v, or "NaN", "+Inf", "-Inf".
func FormatValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func ferry(in Input) Ferry {
	f := Ferry{
		RegisteredModel: in.ModelName,
		Version:         in.Version,
		Stage:           in.Stage,
		Aliases:         sortedCopy(in.Aliases),
		Source:          in.Source,
		RunID:           in.RunID,
		UserID:          in.UserID,
		CreatedAt:       stamp(in.CreatedMS),
		UpdatedAt:       stamp(in.UpdatedMS),
		ModelTags:       keyValues(in.ModelTags),
		VersionTags:     keyValues(in.VersionTags),
		Approval:        Approval{Status: in.ApprovalStatus},
	}
	if r := in.Run; r != nil {
		f.Run = &Run{
			Name:      r.Name,
			Status:    r.Status,
			StartTime: stamp(r.StartTimeMS),
			EndTime:   stamp(r.EndTimeMS),
			Params:    keyValues(r.Params),
		}
	}

	reviews := slices.Clone(in.Reviews)
	slices.SortStableFunc(reviews, func(a, b ReviewInput) int {
		return cmp.Or(cmp.Compare(a.TimeMS, b.TimeMS), cmp.Compare(a.Reviewer, b.Reviewer))
	})
	for _, r := range reviews {
		f.Approval.Reviews = append(f.Approval.Reviews, Review{Reviewer: r.Reviewer, Decision: r.Decision, Comment: r.Comment, Time: stamp(r.TimeMS)})
	}

	for _, p := range in.Policies {
		p.Rules = slices.Clone(p.Rules)
		slices.SortStableFunc(p.Rules, func(a, b PolicyRule) int {
			return cmp.Or(cmp.Compare(a.Gate, b.Gate), cmp.Compare(a.Rule, b.Rule))
		})
		f.Policies = append(f.Policies, p)
	}
	slices.SortStableFunc(f.Policies, func(a, b Policy) int { return cmp.Compare(a.Target, b.Target) })

	f.Lineage = Lineage{Upstream: lineage(in.Upstream), Downstream: lineage(in.Downstream)}

	history := slices.Clone(in.History)
	slices.SortStableFunc(history, func(a, b Event) int {
		return cmp.Or(cmp.Compare(a.Seq, b.Seq), cmp.Compare(a.TimeMS, b.TimeMS))
	})
	for _, e := range history {
		f.History = append(f.History, HistoryEntry{Seq: e.Seq, Time: stamp(e.TimeMS), Actor: e.Actor, Action: e.Action, Resource: e.Resource})
	}

	if !in.GeneratedAt.IsZero() {
		f.GeneratedAt = in.GeneratedAt.UTC().Format(timeLayout)
	}
	return f
}

func lineage(in []LineageNode) []LineageNode {
	out := slices.Clone(in)
	slices.SortStableFunc(out, func(a, b LineageNode) int {
		return cmp.Or(cmp.Compare(a.Depth, b.Depth), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.URI, b.URI), cmp.Compare(a.Relation, b.Relation))
	})
	return out
}

func keyValues(m map[string]string) []KeyValue {
	var out []KeyValue
	for k, v := range m {
		out = append(out, KeyValue{Key: k, Value: v})
	}
	slices.SortFunc(out, func(a, b KeyValue) int { return cmp.Compare(a.Key, b.Key) })
	return out
}

func sortedCopy(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

func versionName(v int64) string {
	if v == 0 {
		return ""
	}
	return strconv.FormatInt(v, 10)
}

// timeLayout is RFC 3339 in UTC with milliseconds.
const timeLayout = "2006-01-02T15:04:05.000Z"

func stamp(ms int64) string {
	if ms == 0 {
		return ""
	}
	return time.UnixMilli(ms).UTC().Format(timeLayout)
}

func date(ms int64) string {
	if ms == 0 {
		return ""
	}
	return time.UnixMilli(ms).UTC().Format(time.DateOnly)
}
