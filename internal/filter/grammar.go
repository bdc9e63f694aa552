package filter

import (
	"sort"
	"strings"
)

// A grammar declares one search surface: which entity prefixes it knows,
// which keys each entity has, what type their operands are and which
// comparators they take. The parser itself (parse.go) is shared; adding a
// surface means declaring a grammar: runGrammar, experimentGrammar,
// registeredModelGrammar and modelVersionGrammar below.

// valueType is the operand type a key takes.
type valueType uint8

const (
	stringValue  valueType = iota + 1 // 'quoted' or "quoted" string
	numericValue                      // integer or decimal literal
)

// opSet is a set of comparators, kept in MLflow's order for error messages.
type opSet []Op

func (s opSet) has(op Op) bool {
	for _, o := range s {
		if o == op {
			return true
		}
	}
	return false
}

// String renders the set as Python prints it, as MLflow's messages do.
func (s opSet) String() string {
	parts := make([]string, len(s))
	for i, o := range s {
		parts[i] = pyRepr(string(o))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// The comparator sets of MLflow's SearchUtils.
var (
	numericOps  = opSet{Gt, Ge, Ne, Eq, Lt, Le}         // VALID_METRIC_COMPARATORS, numeric attributes
	stringOps   = opSet{Ne, Eq, Like, ILike}            // VALID_PARAM_COMPARATORS, VALID_TAG_COMPARATORS
	stringInOps = opSet{Ne, Eq, Like, ILike, In, NotIn} // VALID_STRING_ATTRIBUTE_COMPARATORS, VALID_DATASET_COMPARATORS
)

// field is a fixed key of an entity: a run attribute, a dataset field.
type field struct {
	key     string   // canonical name, as stored in Clause.Key / Order.Key
	aliases []string // further spellings accepted in filters
	typ     valueType
	ops     opSet
	list    bool // takes a parenthesised list of strings (with IN / NOT IN)
}

// freeEntity describes an entity whose keys are user-chosen: metrics, params, tags.
type freeEntity struct {
	typ valueType
	ops opSet
}

// keySet maps every accepted spelling of a fixed key to its canonical name.
type keySet struct {
	canon map[string]string
	repr  string // the spellings as a Python set, for "Valid keys are ..."
}

func newKeySet(canon map[string]string) keySet {
	names := make([]string, 0, len(canon))
	for k := range canon {
		names = append(names, k)
	}
	sort.Strings(names)
	for i, n := range names {
		names[i] = pyRepr(n)
	}
	return keySet{canon: canon, repr: "{" + strings.Join(names, ", ") + "}"}
}

// orderKeys builds the spelling->canonical map of order_by attribute keys;
// "alias=canonical" declares an alias.
func orderKeys(keys ...string) map[string]string {
	m := make(map[string]string, len(keys))
	for _, k := range keys {
		if alias, canon, ok := strings.Cut(k, "="); ok {
			m[alias] = canon
		} else {
			m[k] = k
		}
	}
	return m
}

// grammarSpec is the declaration of a search surface.
type grammarSpec struct {
	// prefixes maps each entity prefix, with its aliases, to the entity.
	// A key without prefix is an attribute.
	prefixes map[string]Entity
	// trimPrefixBackticks accepts `metrics`.x for metrics.x (runs do,
	// experiments and the registry do not).
	trimPrefixBackticks bool
	// badEntity is the message for an unknown prefix; %s is the prefix.
	badEntity string
	// quoteInvalidClauses quotes each offending token in the
	// "Invalid clause(s) in filter string" message (runs do, experiments not).
	quoteInvalidClauses bool

	freeEntities map[Entity]freeEntity // metrics, params, tags
	attributes   []field               // searchable attributes
	datasets     []field               // dataset fields (runs only)

	orderKeys     map[string]string // attribute keys accepted in order_by
	orderEntities []Entity          // entities that may be ordered on
	orderReject   string            // message for any other entity; %s is its name
	orderDedupe   bool              // reject the same field twice in order_by
}

// grammar is a compiled grammarSpec.
type grammar struct {
	grammarSpec
	attrKeys    keySet           // filter attribute spellings
	attrFields  map[string]field // canonical attribute -> field
	dsKeys      keySet
	dsFields    map[string]field
	orderAttrs  keySet
	orderEntSet map[Entity]bool
}

func newGrammar(spec grammarSpec) *grammar {
	g := &grammar{grammarSpec: spec}
	g.attrKeys, g.attrFields = compileFields(spec.attributes)
	g.dsKeys, g.dsFields = compileFields(spec.datasets)
	g.orderAttrs = newKeySet(spec.orderKeys)
	g.orderEntSet = make(map[Entity]bool, len(spec.orderEntities))
	for _, e := range spec.orderEntities {
		g.orderEntSet[e] = true
	}
	return g
}

func compileFields(fields []field) (keySet, map[string]field) {
	canon := make(map[string]string)
	byKey := make(map[string]field, len(fields))
	for _, f := range fields {
		byKey[f.key] = f
		canon[f.key] = f.key
		for _, a := range f.aliases {
			canon[a] = f.key
		}
	}
	return newKeySet(canon), byKey
}

// runGrammar is MLflow's SearchUtils: runs/search.
var runGrammar = newGrammar(grammarSpec{
	prefixes: map[string]Entity{
		"metric": Metric, "metrics": Metric,
		"parameter": Param, "parameters": Param, "param": Param, "params": Param,
		"tag": Tag, "tags": Tag,
		"attribute": Attribute, "attr": Attribute, "attributes": Attribute, "run": Attribute,
		"dataset": Dataset, "datasets": Dataset,
	},
	trimPrefixBackticks: true,
	badEntity:           "Invalid entity type '%s'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset']",
	quoteInvalidClauses: true,
	freeEntities: map[Entity]freeEntity{
		Metric: {numericValue, numericOps},
		Param:  {stringValue, stringOps},
		Tag:    {stringValue, stringOps},
	},
	// RunInfo.get_searchable_attributes() plus the aliases of translate_key_alias.
	attributes: []field{
		{key: "run_id", typ: stringValue, ops: stringInOps, list: true},
		{key: "run_name", aliases: []string{"run name", "Run name", "Run Name"}, typ: stringValue, ops: stringInOps},
		{key: "user_id", typ: stringValue, ops: stringInOps},
		{key: "status", typ: stringValue, ops: stringInOps},
		{key: "artifact_uri", typ: stringValue, ops: stringInOps},
		{key: "start_time", aliases: []string{"created", "Created"}, typ: numericValue, ops: numericOps},
		{key: "end_time", typ: numericValue, ops: numericOps},
	},
	datasets: []field{
		{key: "name", typ: stringValue, ops: stringInOps, list: true},
		{key: "digest", typ: stringValue, ops: stringInOps, list: true},
		{key: "context", typ: stringValue, ops: stringInOps, list: true},
	},
	// RunInfo.get_orderable_attributes() plus "created"; no "run name" here.
	orderKeys: orderKeys("run_id", "run_name", "user_id", "status", "artifact_uri",
		"start_time", "end_time", "created=start_time", "Created=start_time"),
	orderEntities: []Entity{Metric, Param, Tag, Attribute},
	// What SqlAlchemyStore._get_orderby_clauses says of datasets.
	orderReject: "Invalid identifier type '%s'",
	orderDedupe: true,
})

// experimentGrammar is MLflow's SearchExperimentsUtils: experiments/search.
var experimentGrammar = newGrammar(grammarSpec{
	prefixes:     map[string]Entity{"attribute": Attribute, "tag": Tag, "tags": Tag},
	badEntity:    "Invalid entity type '%s'. Valid entity types are ('attribute', 'tag', 'tags')",
	freeEntities: map[Entity]freeEntity{Tag: {stringValue, stringOps}},
	attributes: []field{
		{key: "name", typ: stringValue, ops: stringOps},
		{key: "creation_time", typ: numericValue, ops: numericOps},
		{key: "last_update_time", typ: numericValue, ops: numericOps},
	},
	orderKeys:     orderKeys("name", "experiment_id", "creation_time", "last_update_time"),
	orderEntities: []Entity{Attribute},
	orderReject:   "Invalid order_by entity: %s",
})

// registryPrefixes are the entity prefixes of both registry searches.
var registryPrefixes = map[string]Entity{"attribute": Attribute, "tag": Tag, "tags": Tag}

const registryBadEntity = "Invalid entity type '%s'. Valid entity types are ('attribute', 'tag', 'tags')"

// registeredModelGrammar is MLflow's SearchModelUtils: registered-models/search.
var registeredModelGrammar = newGrammar(grammarSpec{
	prefixes:     registryPrefixes,
	badEntity:    registryBadEntity,
	freeEntities: map[Entity]freeEntity{Tag: {stringValue, stringOps}},
	attributes: []field{
		{key: "name", typ: stringValue, ops: stringOps},
	},
	// MLflow's SQL store takes "timestamp" for last_updated_timestamp;
	// its file store also orders on creation_timestamp.
	orderKeys:     orderKeys("name", "creation_timestamp", "last_updated_timestamp", "timestamp=last_updated_timestamp"),
	orderEntities: []Entity{Attribute},
	orderReject:   "Invalid order_by entity: %s",
})

// modelVersionOps are the comparators of model-version string attributes:
// no NOT IN.
var modelVersionOps = opSet{Ne, Eq, Like, ILike, In}

// modelVersionGrammar is MLflow's SearchModelVersionUtils: model-versions/search.
var modelVersionGrammar = newGrammar(grammarSpec{
	prefixes:     registryPrefixes,
	badEntity:    registryBadEntity,
	freeEntities: map[Entity]freeEntity{Tag: {stringValue, stringOps}},
	attributes: []field{
		{key: "name", typ: stringValue, ops: stringOps},
		{key: "version_number", typ: numericValue, ops: numericOps},
		{key: "run_id", typ: stringValue, ops: modelVersionOps, list: true},
		{key: "source_path", typ: stringValue, ops: stringOps},
	},
	orderKeys:     orderKeys("name", "version_number", "creation_timestamp", "last_updated_timestamp"),
	orderEntities: []Entity{Attribute},
	orderReject:   "Invalid order_by entity: %s",
})
