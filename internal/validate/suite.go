package validate

import (
	"regexp"
	"time"
)

// Type is a column's declared type.
type Type string

// Column types.
const (
	TypeString    Type = "string"
	TypeInt       Type = "int"
	TypeFloat     Type = "float"
	TypeBool      Type = "bool"
	TypeTimestamp Type = "timestamp"
)

func (t Type) valid() bool {
	switch t {
	case TypeString, TypeInt, TypeFloat, TypeBool, TypeTimestamp:
		return true
	}
	return false
}

// Severity says whether a failed check fails the suite.
type Severity string

// Severities.
const (
	SeverityError Severity = "error"
	SeverityWarn  Severity = "warn"
)

// Position is a 1-based line and column in the suite YAML.
type Position struct {
	Line, Column int
}

// Suite is a parsed validation suite.
type Suite struct {
	Name string
	// NullValues are the cell texts read as null; nil means [""].
	NullValues []string
	Columns    []Column
	Strict     bool
	Checks     []Check
}

// Column is one schema entry.
type Column struct {
	Name     string
	Type     Type // empty: any
	Nullable bool // default true
	Pos      Position
}

// Range bounds a number; nil bounds are open.
type Range struct {
	Min, Max             *float64
	StrictMin, StrictMax bool
}

// Contains reports whether v lies in the range.
func (r Range) Contains(v float64) bool {
	if r.Min != nil && (v < *r.Min || (r.StrictMin && v == *r.Min)) {
		return false
	}
	if r.Max != nil && (v > *r.Max || (r.StrictMax && v == *r.Max)) {
		return false
	}
	return true
}

// Quantile bounds the q-th quantile of a column.
type Quantile struct {
	Q float64
	Range
}

// Check is one assertion. Exactly one of Column, Columns (compound unique)
// and Table is set, and exactly one assertion field.
type Check struct {
	Column  string
	Columns []string
	Table   string // only "row_count"

	NotNull      bool
	Between      *Range
	InSet        []string
	Regex        string
	Unique       bool
	Min          *Range
	Max          *Range
	Mean         *Range
	Quantile     *Quantile
	NullFraction *Range
	FreshWithin  time.Duration

	Mostly   *float64
	Severity Severity // empty means error
	Pos      Position

	re *regexp.Regexp
}

func (c *Check) severity() Severity {
	if c.Severity == "" {
		return SeverityError
	}
	return c.Severity
}

// isMap reports whether the check is evaluated per row (and so takes mostly).
func (c *Check) isMap() bool {
	if c.Table != "" {
		return false
	}
	return c.NotNull || c.Between != nil || c.InSet != nil || c.Regex != "" || c.Unique
}
