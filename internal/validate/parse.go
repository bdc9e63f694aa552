package validate

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// ParseSuite parses and checks a suite. Errors are errdefs.InvalidArgument
// and start with "line:column:".
func ParseSuite(data []byte) (*Suite, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, errdefs.InvalidArgument("suite: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, errdefs.InvalidArgument("suite: empty document")
	}
	p := parser{}
	s, err := p.suite(doc.Content[0])
	if err != nil {
		return nil, err
	}
	return s, nil
}

type parser struct{}

func errAt(n *yaml.Node, format string, args ...any) error {
	return errdefs.InvalidArgument("%d:%d: %s", n.Line, n.Column, fmt.Sprintf(format, args...))
}

func posOf(n *yaml.Node) Position { return Position{Line: n.Line, Column: n.Column} }

// fields returns a mapping's key/value pairs, rejecting aliases, duplicate
// keys and keys outside allowed.
func fields(n *yaml.Node, what string, allowed ...string) ([][2]*yaml.Node, error) {
	if n.Kind == yaml.AliasNode {
		return nil, errAt(n, "%s: YAML aliases are not supported", what)
	}
	if n.Kind != yaml.MappingNode {
		return nil, errAt(n, "%s must be a mapping", what)
	}
	seen := map[string]bool{}
	var out [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, errAt(k, "%s: keys must be strings", what)
		}
		ok := false
		for _, a := range allowed {
			if k.Value == a {
				ok = true
				break
			}
		}
		if !ok {
			return nil, errAt(k, "%s: unknown field %q", what, k.Value)
		}
		if seen[k.Value] {
			return nil, errAt(k, "%s: duplicate field %q", what, k.Value)
		}
		seen[k.Value] = true
		if v.Kind == yaml.AliasNode {
			return nil, errAt(v, "%s: YAML aliases are not supported", k.Value)
		}
		out = append(out, [2]*yaml.Node{k, v})
	}
	return out, nil
}

func scalar(n *yaml.Node, field string) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", errAt(n, "%s must be a scalar", field)
	}
	return n.Value, nil
}

func str(n *yaml.Node, field string) (string, error) {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!str" && n.Tag != "!!int" && n.Tag != "!!float" && n.Tag != "!!bool") {
		return "", errAt(n, "%s must be a string", field)
	}
	return n.Value, nil
}

func nonEmptyStr(n *yaml.Node, field string) (string, error) {
	s, err := str(n, field)
	if err == nil && s == "" {
		err = errAt(n, "%s must not be empty", field)
	}
	return s, err
}

func boolean(n *yaml.Node, field string) (bool, error) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		return false, errAt(n, "%s must be true or false", field)
	}
	var b bool
	if err := n.Decode(&b); err != nil {
		return false, errAt(n, "%s must be true or false", field)
	}
	return b, nil
}

func number(n *yaml.Node, field string) (float64, error) {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
		return 0, errAt(n, "%s must be a number", field)
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
	if err != nil {
		var i int64
		if derr := n.Decode(&i); derr != nil {
			return 0, errAt(n, "%s must be a number", field)
		}
		f = float64(i)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, errAt(n, "%s must be a finite number", field)
	}
	return f, nil
}

func strList(n *yaml.Node, field string) ([]string, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, errAt(n, "%s must be a list", field)
	}
	out := make([]string, 0, len(n.Content))
	for _, e := range n.Content {
		if e.Kind == yaml.AliasNode {
			return nil, errAt(e, "%s: YAML aliases are not supported", field)
		}
		s, err := str(e, field+" item")
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func (p parser) suite(n *yaml.Node) (*Suite, error) {
	fs, err := fields(n, "suite", "suite", "null_values", "columns", "strict", "checks")
	if err != nil {
		return nil, err
	}
	s := &Suite{}
	var nameSeen bool
	for _, kv := range fs {
		k, v := kv[0], kv[1]
		switch k.Value {
		case "suite":
			if s.Name, err = nonEmptyStr(v, "suite"); err != nil {
				return nil, err
			}
			nameSeen = true
		case "null_values":
			if s.NullValues, err = strList(v, "null_values"); err != nil {
				return nil, err
			}
		case "strict":
			if s.Strict, err = boolean(v, "strict"); err != nil {
				return nil, err
			}
		case "columns":
			if s.Columns, err = p.columns(v); err != nil {
				return nil, err
			}
		case "checks":
			if v.Kind != yaml.SequenceNode {
				return nil, errAt(v, "checks must be a list")
			}
			for _, e := range v.Content {
				c, err := p.check(e)
				if err != nil {
					return nil, err
				}
				s.Checks = append(s.Checks, c)
			}
		}
	}
	if !nameSeen {
		return nil, errAt(n, "suite: missing field \"suite\" (the suite name)")
	}
	if s.Strict && len(s.Columns) == 0 {
		return nil, errAt(n, "strict: true needs a columns schema")
	}
	return s, nil
}

func (p parser) columns(n *yaml.Node) ([]Column, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, errAt(n, "columns must be a list")
	}
	seen := map[string]bool{}
	var out []Column
	for _, e := range n.Content {
		fs, err := fields(e, "column", "name", "type", "nullable")
		if err != nil {
			return nil, err
		}
		c := Column{Nullable: true, Pos: posOf(e)}
		for _, kv := range fs {
			k, v := kv[0], kv[1]
			switch k.Value {
			case "name":
				if c.Name, err = nonEmptyStr(v, "name"); err != nil {
					return nil, err
				}
				if seen[c.Name] {
					return nil, errAt(v, "name: column %q declared twice", c.Name)
				}
				seen[c.Name] = true
			case "type":
				t, err := scalar(v, "type")
				if err != nil {
					return nil, err
				}
				c.Type = Type(t)
				if !c.Type.valid() {
					return nil, errAt(v, "type: unknown type %q (want string, int, float, bool or timestamp)", t)
				}
			case "nullable":
				if c.Nullable, err = boolean(v, "nullable"); err != nil {
					return nil, err
				}
			}
		}
		if c.Name == "" {
			return nil, errAt(e, "column: missing field \"name\"")
		}
		out = append(out, c)
	}
	return out, nil
}

func (p parser) rangeOf(n *yaml.Node, field string) (*Range, error) {
	fs, err := fields(n, field, "min", "max", "strict_min", "strict_max")
	if err != nil {
		return nil, err
	}
	r := &Range{}
	if err := fillRange(r, fs); err != nil {
		return nil, err
	}
	if r.Min == nil && r.Max == nil {
		return nil, errAt(n, "%s: needs min or max", field)
	}
	if r.Min != nil && r.Max != nil && *r.Min > *r.Max {
		return nil, errAt(n, "%s: min %v is greater than max %v", field, *r.Min, *r.Max)
	}
	return r, nil
}

func fillRange(r *Range, fs [][2]*yaml.Node) error {
	for _, kv := range fs {
		k, v := kv[0], kv[1]
		switch k.Value {
		case "min", "max":
			f, err := number(v, k.Value)
			if err != nil {
				return err
			}
			if k.Value == "min" {
				r.Min = &f
			} else {
				r.Max = &f
			}
		case "strict_min":
			b, err := boolean(v, k.Value)
			if err != nil {
				return err
			}
			r.StrictMin = b
		case "strict_max":
			b, err := boolean(v, k.Value)
			if err != nil {
				return err
			}
			r.StrictMax = b
		}
	}
	return nil
}

func (p parser) quantile(n *yaml.Node) (*Quantile, error) {
	fs, err := fields(n, "quantile", "q", "min", "max", "strict_min", "strict_max")
	if err != nil {
		return nil, err
	}
	q := &Quantile{Q: -1}
	var rest [][2]*yaml.Node
	for _, kv := range fs {
		if kv[0].Value == "q" {
			if q.Q, err = number(kv[1], "q"); err != nil {
				return nil, err
			}
			if q.Q < 0 || q.Q > 1 {
				return nil, errAt(kv[1], "q must be between 0 and 1")
			}
			continue
		}
		rest = append(rest, kv)
	}
	if q.Q < 0 {
		return nil, errAt(n, "quantile: missing field \"q\"")
	}
	if err := fillRange(&q.Range, rest); err != nil {
		return nil, err
	}
	if q.Min == nil && q.Max == nil {
		return nil, errAt(n, "quantile: needs min or max")
	}
	if q.Min != nil && q.Max != nil && *q.Min > *q.Max {
		return nil, errAt(n, "quantile: min %v is greater than max %v", *q.Min, *q.Max)
	}
	return q, nil
}

// parseDuration accepts Go durations and whole or fractional days ("7d").
func parseDuration(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		f, err := strconv.ParseFloat(d, 64)
		if err != nil || math.IsNaN(f) || f <= 0 || f > 100000 {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		return time.Duration(f * 24 * float64(time.Hour)), nil
	}
	dur, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	return dur, nil
}

var assertionKeys = []string{"not_null", "between", "in_set", "regex", "unique", "min", "max", "mean", "quantile", "null_fraction", "fresh_within"}

func (p parser) check(n *yaml.Node) (Check, error) {
	allowed := append([]string{"column", "columns", "table", "mostly", "severity"}, assertionKeys...)
	fs, err := fields(n, "check", allowed...)
	if err != nil {
		return Check{}, err
	}
	c := Check{Pos: posOf(n)}
	var assertion *yaml.Node
	targets := 0
	var mostlyNode *yaml.Node
	for _, kv := range fs {
		k, v := kv[0], kv[1]
		for _, a := range assertionKeys {
			if k.Value == a {
				if assertion != nil {
					return Check{}, errAt(k, "check: %q and %q in one check; write one assertion per check", assertion.Value, k.Value)
				}
				assertion = k
			}
		}
		switch k.Value {
		case "column":
			targets++
			if c.Column, err = nonEmptyStr(v, "column"); err != nil {
				return Check{}, err
			}
		case "columns":
			targets++
			if c.Columns, err = strList(v, "columns"); err != nil {
				return Check{}, err
			}
			if len(c.Columns) == 0 {
				return Check{}, errAt(v, "columns must not be empty")
			}
		case "table":
			targets++
			if c.Table, err = scalar(v, "table"); err != nil {
				return Check{}, err
			}
			if c.Table != "row_count" {
				return Check{}, errAt(v, "table: unknown table check %q (want row_count)", c.Table)
			}
		case "severity":
			s, err := scalar(v, "severity")
			if err != nil {
				return Check{}, err
			}
			if s != string(SeverityError) && s != string(SeverityWarn) {
				return Check{}, errAt(v, "severity must be error or warn, not %q", s)
			}
			c.Severity = Severity(s)
		case "mostly":
			f, err := number(v, "mostly")
			if err != nil {
				return Check{}, err
			}
			if f < 0 || f > 1 {
				return Check{}, errAt(v, "mostly must be between 0 and 1")
			}
			c.Mostly = &f
			mostlyNode = k
		case "not_null", "unique":
			b, err := boolean(v, k.Value)
			if err != nil {
				return Check{}, err
			}
			if !b {
				return Check{}, errAt(v, "%s: only true is meaningful; remove the check instead", k.Value)
			}
			if k.Value == "unique" {
				c.Unique = true
			} else {
				c.NotNull = true
			}
		case "between", "min", "max", "mean", "null_fraction":
			r, err := p.rangeOf(v, k.Value)
			if err != nil {
				return Check{}, err
			}
			switch k.Value {
			case "between":
				c.Between = r
			case "min":
				c.Min = r
			case "max":
				c.Max = r
			case "mean":
				c.Mean = r
			case "null_fraction":
				c.NullFraction = r
			}
		case "quantile":
			if c.Quantile, err = p.quantile(v); err != nil {
				return Check{}, err
			}
		case "in_set":
			if c.InSet, err = strList(v, "in_set"); err != nil {
				return Check{}, err
			}
			if len(c.InSet) == 0 {
				return Check{}, errAt(v, "in_set must not be empty")
			}
		case "regex":
			if c.Regex, err = nonEmptyStr(v, "regex"); err != nil {
				return Check{}, err
			}
			if c.re, err = regexp.Compile(c.Regex); err != nil {
				return Check{}, errAt(v, "regex: invalid regular expression: %v", err)
			}
		case "fresh_within":
			s, err := scalar(v, "fresh_within")
			if err != nil {
				return Check{}, err
			}
			if c.FreshWithin, err = parseDuration(s); err != nil || c.FreshWithin <= 0 {
				return Check{}, errAt(v, "fresh_within: want a positive duration such as 24h or 7d, got %q", s)
			}
		}
	}
	if targets != 1 {
		return Check{}, errAt(n, "check: needs exactly one of column, columns or table")
	}
	if assertion == nil {
		return Check{}, errAt(n, "check: needs one assertion (%s)", strings.Join(assertionKeys, ", "))
	}
	switch {
	case c.Table != "" && c.Between == nil:
		return Check{}, errAt(assertion, "table: row_count takes only between")
	case c.Columns != nil && !c.Unique:
		return Check{}, errAt(assertion, "columns: only unique applies to a list of columns")
	case mostlyNode != nil && !c.isMap():
		return Check{}, errAt(mostlyNode, "mostly applies only to row checks (not_null, between, in_set, regex, unique)")
	}
	return c, nil
}
