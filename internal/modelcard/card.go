package modelcard

// SchemaVersion is the version of Google's Model Card Toolkit schema whose
// field names the four standard sections of a Card follow.
const SchemaVersion = "0.0.2"

// Card is the model card of one model version. Its JSON encoding uses the
// Model Card Toolkit schema's property names for the four standard
// sections and keeps Ferry's own records in Ferry ("ferry"). Empty fields
// are left out of the JSON.
type Card struct {
	// SchemaVersion is the Model Card Toolkit schema version, SchemaVersion.
	SchemaVersion        string               `json:"schema_version"`
	ModelDetails         ModelDetails         `json:"model_details"`
	ModelParameters      ModelParameters      `json:"model_parameters"`
	QuantitativeAnalysis QuantitativeAnalysis `json:"quantitative_analysis"`
	Considerations       Considerations       `json:"considerations"`
	// Ferry is the extension section: what Ferry records about the
	// version that the schema has no slot for.
	Ferry Ferry `json:"ferry"`
}

// ModelDetails is the schema's model_details section: what the model is,
// who owns it and how to cite it.
type ModelDetails struct {
	// Name is the registered model's name.
	Name string `json:"name,omitempty"`
	// Overview is the version's description, else the model's.
	Overview string `json:"overview,omitempty"`
	// Documentation is a longer description of the model and its use.
	Documentation string `json:"documentation,omitempty"`
	// Owners are the people or teams who own the model.
	Owners []Owner `json:"owners,omitempty"`
	// Version names this version, when it was created and what changed.
	Version Version `json:"version,omitzero"`
	// Licenses are the licenses the model is used under.
	Licenses []License `json:"licenses,omitempty"`
	// References are links to more information.
	References []Reference `json:"references,omitempty"`
	// Citations say how to cite the model.
	Citations []Citation `json:"citations,omitempty"`
	// Path is where the model's files are: the version's storage location,
	// else its source.
	Path string `json:"path,omitempty"`
}

// Owner is a person or team who owns the model.
type Owner struct {
	Name    string `json:"name,omitempty"`
	Contact string `json:"contact,omitempty"`
}

// Version is the schema's version object.
type Version struct {
	// Name is the version number.
	Name string `json:"name,omitempty"`
	// Date is the day the version was registered, YYYY-MM-DD in UTC.
	Date string `json:"date,omitempty"`
	// Diff describes the changes from the previous version.
	Diff string `json:"diff,omitempty"`
}

// License is a license of the model: an SPDX identifier or a custom text
// (one of the two).
type License struct {
	Identifier string `json:"identifier,omitempty"`
	CustomText string `json:"custom_text,omitempty"`
}

// Reference is a link to further information about the model.
type Reference struct {
	Reference string `json:"reference,omitempty"`
}

// Citation says how to cite the model, optionally in a named style.
type Citation struct {
	Style    string `json:"style,omitempty"`
	Citation string `json:"citation,omitempty"`
}

// ModelParameters is the schema's model_parameters section: the model's
// construction and the data it was trained and evaluated on.
type ModelParameters struct {
	ModelArchitecture string    `json:"model_architecture,omitempty"`
	Data              []Dataset `json:"data,omitempty"`
	InputFormat       string    `json:"input_format,omitempty"`
	OutputFormat      string    `json:"output_format,omitempty"`
}

// Dataset is a dataset the producing run used. Name, Link, Sensitive,
// Graphics and Description are the schema's; the other fields are Ferry's
// extension, with the dataset as MLflow's log-inputs records it.
type Dataset struct {
	Name string `json:"name,omitempty"`
	// Link is a URI for the dataset, taken from its source when the source
	// names one.
	Link        string              `json:"link,omitempty"`
	Sensitive   SensitiveData       `json:"sensitive,omitzero"`
	Graphics    *GraphicsCollection `json:"graphics,omitempty"`
	Description string              `json:"description,omitempty"`

	// Digest is the dataset's digest as logged.
	Digest string `json:"digest,omitempty"`
	// SourceType is MLflow's source type ("local", "s3", "http", ...).
	SourceType string `json:"source_type,omitempty"`
	// Source is the dataset source as logged (usually JSON).
	Source string `json:"source,omitempty"`
	// Schema is the dataset schema as logged (raw JSON text).
	Schema string `json:"schema,omitempty"`
	// Profile is the dataset profile as logged (raw JSON text).
	Profile string `json:"profile,omitempty"`
	// Context is how the run used the dataset ("training", "eval", ...),
	// MLflow's mlflow.data.context input tag.
	Context string `json:"context,omitempty"`
}

// SensitiveData describes sensitive data (e.g. personal data) in a dataset.
type SensitiveData struct {
	SensitiveData []string `json:"sensitive_data,omitempty"`
}

// GraphicsCollection is the schema's collection of inline graphics. Ferry
// does not generate graphics; the type is here so that the card's shape
// is the schema's.
type GraphicsCollection struct {
	Description string    `json:"description,omitempty"`
	Collection  []Graphic `json:"collection,omitempty"`
}

// Graphic is a named image, base64-encoded.
type Graphic struct {
	Name  string `json:"name,omitempty"`
	Image string `json:"image,omitempty"`
}

// QuantitativeAnalysis is the schema's quantitative_analysis section.
type QuantitativeAnalysis struct {
	// PerformanceMetrics are the run's metrics, overall and per slice,
	// sorted by type and then slice (overall first).
	PerformanceMetrics []PerformanceMetric `json:"performance_metrics,omitempty"`
	Graphics           *GraphicsCollection `json:"graphics,omitempty"`
}

// PerformanceMetric is one reported metric value.
type PerformanceMetric struct {
	// Type is the metric's name, e.g. "accuracy".
	Type string `json:"type,omitempty"`
	// Value is the metric's value as text (the schema's value is a
	// string): Go's shortest representation, "NaN", "+Inf" or "-Inf".
	Value string `json:"value,omitempty"`
	// Slice names the subset of the data the value was computed on, e.g.
	// "sex=female"; empty for the whole evaluation set.
	Slice string `json:"slice,omitempty"`
	// ConfidenceInterval bounds the value; Ferry does not derive it yet.
	ConfidenceInterval *ConfidenceInterval `json:"confidence_interval,omitempty"`
}

// ConfidenceInterval bounds a metric's value (as text, like the value).
type ConfidenceInterval struct {
	LowerBound string `json:"lower_bound,omitempty"`
	UpperBound string `json:"upper_bound,omitempty"`
}

// Considerations is the schema's considerations section: intended users
// and uses, limitations, tradeoffs and ethical risks.
type Considerations struct {
	Users                 []User       `json:"users,omitempty"`
	UseCases              []UseCase    `json:"use_cases,omitempty"`
	Limitations           []Limitation `json:"limitations,omitempty"`
	Tradeoffs             []Tradeoff   `json:"tradeoffs,omitempty"`
	EthicalConsiderations []Risk       `json:"ethical_considerations,omitempty"`
}

// User is an intended user of the model.
type User struct {
	Description string `json:"description,omitempty"`
}

// UseCase is an intended use of the model.
type UseCase struct {
	Description string `json:"description,omitempty"`
}

// Limitation is a known limitation of the model.
type Limitation struct {
	Description string `json:"description,omitempty"`
}

// Tradeoff is a known accuracy or performance tradeoff of the model.
type Tradeoff struct {
	Description string `json:"description,omitempty"`
}

// Risk is an ethical risk of using the model and how it is mitigated.
type Risk struct {
	Name               string `json:"name,omitempty"`
	MitigationStrategy string `json:"mitigation_strategy,omitempty"`
}

// Ferry is the card's extension section: the version as Ferry's registry,
// tracking, approval, policy, lineage and audit records know it. Times are
// RFC 3339 in UTC with milliseconds.
type Ferry struct {
	RegisteredModel string   `json:"registered_model"`
	Version         int64    `json:"version"`
	Stage           string   `json:"stage,omitempty"`
	Aliases         []string `json:"aliases,omitempty"`
	Source          string   `json:"source,omitempty"`
	RunID           string   `json:"run_id,omitempty"`
	// UserID is who registered the version.
	UserID    string `json:"user_id,omitempty"`
	CreatedAt string `json:"created_at,omitempty"`
	UpdatedAt string `json:"updated_at,omitempty"`
	// Run is the run that produced the version; nil when it has none or
	// the run is gone.
	Run *Run `json:"run,omitempty"`
	// ModelTags and VersionTags are all tags, including the card.* tags the
	// card's text came from, sorted by key.
	ModelTags   []KeyValue `json:"model_tags,omitempty"`
	VersionTags []KeyValue `json:"version_tags,omitempty"`
	Approval    Approval   `json:"approval"`
	// Policies are the policy verdicts, one per guarded move (sorted by
	// target); empty when no policy applies to the model.
	Policies []Policy       `json:"policies,omitempty"`
	Lineage  Lineage        `json:"lineage,omitzero"`
	History  []HistoryEntry `json:"history,omitempty"`
	// GeneratedAt is when the card was generated (Input.GeneratedAt).
	GeneratedAt string `json:"generated_at,omitempty"`
}

// KeyValue is a parameter or a tag.
type KeyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Run is the run that produced the version.
type Run struct {
	Name      string `json:"name,omitempty"`
	Status    string `json:"status,omitempty"`
	StartTime string `json:"start_time,omitempty"`
	EndTime   string `json:"end_time,omitempty"`
	// Params are the run's parameters, sorted by key.
	Params []KeyValue `json:"params,omitempty"`
}

// Approval is the version's review state and every review, oldest first.
type Approval struct {
	// Status is "pending", "approved" or "rejected" ("" when the caller
	// did not say).
	Status  string   `json:"status,omitempty"`
	Reviews []Review `json:"reviews,omitempty"`
}

// Review is one reviewer's decision.
type Review struct {
	Reviewer string `json:"reviewer"`
	Decision string `json:"decision"`
	Comment  string `json:"comment,omitempty"`
	Time     string `json:"time,omitempty"`
}

// Policy is a policy evaluation: whether a move of the version to Target
// is allowed, and the result of each rule.
type Policy struct {
	Allowed bool `json:"allowed"`
	// Target is what the evaluation was for, e.g. "alias champion" or
	// "stage Production".
	Target string       `json:"target,omitempty"`
	Rules  []PolicyRule `json:"rules,omitempty"`
}

// PolicyRule is the result of one rule of a gate.
type PolicyRule struct {
	Gate   string `json:"gate"`
	Rule   string `json:"rule"`
	Passed bool   `json:"passed"`
	Detail string `json:"detail,omitempty"`
}

// Lineage is what the version was made from (Upstream) and what was made
// from it (Downstream), flattened: each node carries its distance from the
// version.
type Lineage struct {
	Upstream   []LineageNode `json:"upstream,omitempty"`
	Downstream []LineageNode `json:"downstream,omitempty"`
}

// LineageNode is one artifact in the version's lineage.
type LineageNode struct {
	// URI names the artifact: "runs:/ID", "datasets:/NAME@DIGEST",
	// "models:/NAME/V", ...
	URI string `json:"uri"`
	// Kind is the artifact's kind: "run", "dataset", "model_version", ...
	Kind string `json:"kind,omitempty"`
	// Relation is the edge that reached the node, e.g. "produced_by".
	Relation string `json:"relation,omitempty"`
	// Depth is the number of edges from the version (1 = direct).
	Depth int `json:"depth"`
}

// HistoryEntry is one audit-trail event about the version.
type HistoryEntry struct {
	Seq      int64  `json:"seq"`
	Time     string `json:"time,omitempty"`
	Actor    string `json:"actor,omitempty"`
	Action   string `json:"action"`
	Resource string `json:"resource,omitempty"`
}
