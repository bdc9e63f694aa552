// Package filter parses MLflow search expressions — the `filter` strings and
// `order_by` clauses of runs/search, experiments/search and (later) the
// registry searches — into a small typed form. Stores translate that form
// into their own queries; a filter string is never spliced into SQL.
package filter

// Entity is the namespace a search key belongs to.
type Entity int

// The entities of MLflow's search grammar.
const (
	Attribute Entity = iota + 1 // run or experiment attributes: run_name, status, start_time, name, ...
	Metric                      // metrics.<key>: latest value of a run's metric
	Param                       // params.<key>
	Tag                         // tags.<key>
	Dataset                     // datasets.name|digest|context
)

func (e Entity) String() string {
	switch e {
	case Attribute:
		return "attribute"
	case Metric:
		return "metric"
	case Param:
		return "parameter"
	case Tag:
		return "tag"
	case Dataset:
		return "dataset"
	}
	return "unknown"
}

// Op is a comparator.
type Op string

// Comparators MLflow accepts (each entity allows a subset).
const (
	Eq    Op = "="
	Ne    Op = "!="
	Gt    Op = ">"
	Ge    Op = ">="
	Lt    Op = "<"
	Le    Op = "<="
	Like  Op = "LIKE"
	ILike Op = "ILIKE"
	In    Op = "IN"
	NotIn Op = "NOT IN"
)

// Clause is one comparison; a filter is the AND of its clauses.
type Clause struct {
	Entity Entity
	// Key is the metric, param or tag key, or the canonical attribute or
	// dataset field name ("run_name", "start_time", "name", "digest", ...),
	// aliases already resolved.
	Key string
	Op  Op
	// Numeric is true when the operand is a number (metrics and numeric
	// attributes such as start_time); Num holds it. Otherwise Str holds the
	// string operand, or List the operands of IN / NOT IN.
	Numeric bool
	Num     float64
	Str     string
	List    []string
}

// Order is one order_by entry.
type Order struct {
	Entity Entity
	Key    string // canonical, as in Clause.Key
	Asc    bool
}
