package validate

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// yamlRange etc. mirror the suite syntax for writing.
type yamlRange struct {
	Q         *float64 `yaml:"q,omitempty"`
	Min       *float64 `yaml:"min,omitempty"`
	Max       *float64 `yaml:"max,omitempty"`
	StrictMin bool     `yaml:"strict_min,omitempty"`
	StrictMax bool     `yaml:"strict_max,omitempty"`
}

type yamlColumn struct {
	Name     string `yaml:"name"`
	Type     Type   `yaml:"type,omitempty"`
	Nullable *bool  `yaml:"nullable,omitempty"`
}

type yamlCheck struct {
	Column       string     `yaml:"column,omitempty"`
	Columns      []string   `yaml:"columns,omitempty"`
	Table        string     `yaml:"table,omitempty"`
	NotNull      bool       `yaml:"not_null,omitempty"`
	Between      *yamlRange `yaml:"between,omitempty"`
	InSet        []string   `yaml:"in_set,omitempty"`
	Regex        string     `yaml:"regex,omitempty"`
	Unique       bool       `yaml:"unique,omitempty"`
	Min          *yamlRange `yaml:"min,omitempty"`
	Max          *yamlRange `yaml:"max,omitempty"`
	Mean         *yamlRange `yaml:"mean,omitempty"`
	Quantile     *yamlRange `yaml:"quantile,omitempty"`
	NullFraction *yamlRange `yaml:"null_fraction,omitempty"`
	FreshWithin  string     `yaml:"fresh_within,omitempty"`
	Mostly       *float64   `yaml:"mostly,omitempty"`
	Severity     Severity   `yaml:"severity,omitempty"`
}

type yamlSuite struct {
	Suite      string       `yaml:"suite"`
	NullValues []string     `yaml:"null_values,omitempty"`
	Columns    []yamlColumn `yaml:"columns,omitempty"`
	Strict     bool         `yaml:"strict,omitempty"`
	Checks     []yamlCheck  `yaml:"checks,omitempty"`
}

func toYAMLRange(r *Range) *yamlRange {
	if r == nil {
		return nil
	}
	return &yamlRange{Min: r.Min, Max: r.Max, StrictMin: r.StrictMin, StrictMax: r.StrictMax}
}

// formatDuration writes whole days as "Nd" and the rest as Go durations.
func formatDuration(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	return d.String()
}

// MarshalYAML implements yaml.Marshaler, writing the suite in the syntax
// ParseSuite reads, one flow mapping per column and check.
func (s *Suite) MarshalYAML() (any, error) {
	ys := yamlSuite{Suite: s.Name, NullValues: s.NullValues, Strict: s.Strict}
	for _, c := range s.Columns {
		yc := yamlColumn{Name: c.Name, Type: c.Type}
		if !c.Nullable {
			yc.Nullable = ptr(false)
		}
		ys.Columns = append(ys.Columns, yc)
	}
	for _, c := range s.Checks {
		yc := yamlCheck{
			Column: c.Column, Columns: c.Columns, Table: c.Table,
			NotNull: c.NotNull, Between: toYAMLRange(c.Between), InSet: c.InSet, Regex: c.Regex, Unique: c.Unique,
			Min: toYAMLRange(c.Min), Max: toYAMLRange(c.Max), Mean: toYAMLRange(c.Mean), NullFraction: toYAMLRange(c.NullFraction),
			Mostly: c.Mostly, Severity: c.Severity,
		}
		if c.Quantile != nil {
			yc.Quantile = toYAMLRange(&c.Quantile.Range)
			yc.Quantile.Q = ptr(c.Quantile.Q)
		}
		if c.FreshWithin > 0 {
			yc.FreshWithin = formatDuration(c.FreshWithin)
		}
		ys.Checks = append(ys.Checks, yc)
	}
	var n yaml.Node
	if err := n.Encode(ys); err != nil {
		return nil, fmt.Errorf("encode suite: %w", err)
	}
	// Flow style for each column and check keeps the file short.
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i].Value; k == "columns" || k == "checks" {
			for _, item := range n.Content[i+1].Content {
				item.Style = yaml.FlowStyle
			}
		}
	}
	return &n, nil
}

// Encode returns the suite as YAML text.
func (s *Suite) Encode() ([]byte, error) {
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(s); err != nil {
		return nil, fmt.Errorf("encode suite: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode suite: %w", err)
	}
	return []byte(b.String()), nil
}
