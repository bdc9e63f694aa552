package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// MaxFileSize is the largest policy file Parse accepts.
const MaxFileSize = 256 << 10

// maxErrors caps how many problems one Parse reports.
const maxErrors = 20

// ParseError is a problem in a policy file at a position (1-based line and
// column, counted in characters). It matches errdefs.ErrInvalidArgument.
type ParseError struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *ParseError) Error() string {
	if e.File == "" {
		return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// Is makes a ParseError match errdefs.ErrInvalidArgument.
func (e *ParseError) Is(target error) bool { return target == errdefs.ErrInvalidArgument }

// ParseErrors is every problem found in one file, in source order; Parse
// returns it when there is more than one. errors.As finds the first
// *ParseError through it.
type ParseErrors []*ParseError

func (es ParseErrors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap exposes the individual errors to errors.Is and errors.As.
func (es ParseErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Parse parses the global policy (or any policy not tied to one model).
// name is the file name used in messages. Parsing is strict: unknown or
// duplicate keys, wrong types, bad metric expressions or globs, duplicate
// gate names, a gate guarding nothing and out-of-range numbers are errors,
// each with its line and column, and so is every YAML syntax error. The
// error matches errdefs.ErrInvalidArgument; it is a *ParseError, or
// ParseErrors when there are several problems.
func Parse(name string, src []byte) (*Document, error) {
	return parse(name, "", src)
}

// ParseForModel parses the policy of one registered model: its gates
// apply to that model only. A gate may still list `models`, but at least
// one pattern must match the model's name.
func ParseForModel(name, model string, src []byte) (*Document, error) {
	if model == "" {
		return nil, errdefs.InvalidArgument("a per-model policy needs the registered model's name")
	}
	return parse(name, model, src)
}

func parse(name, model string, src []byte) (doc *Document, err error) {
	p := &parser{file: name, model: model, lines: bytes.Count(src, []byte("\n")) + 1}
	if len(src) > MaxFileSize {
		return nil, p.single(1, 1, "policy file is larger than %d bytes", MaxFileSize)
	}
	if !utf8.Valid(src) {
		line, col := invalidUTF8At(src)
		return nil, p.single(line, col, "policy file is not valid UTF-8")
	}
	docs, yerr := decodeYAML(src)
	if yerr != nil {
		line, col, msg := locateYAMLError(src, yerr)
		return nil, p.single(line, col, "%s", msg)
	}
	if len(docs) == 0 {
		return nil, p.single(1, 1, "policy file is empty (expected \"version: 1\" and \"gates:\")")
	}
	if len(docs) > 1 {
		n := docs[1]
		if len(n.Content) > 0 {
			n = n.Content[0]
		}
		return nil, p.single(n.Line, n.Column, "a policy file holds one YAML document; found another one here")
	}
	root := docs[0]
	if len(root.Content) == 0 || (root.Content[0].ShortTag() == "!!null" && root.Content[0].Value == "") {
		return nil, p.single(1, 1, "policy file is empty (expected \"version: 1\" and \"gates:\")")
	}
	doc = &Document{Name: name, Model: model}
	p.document(root.Content[0], doc)
	if len(p.errs) == 1 {
		return nil, p.errs[0]
	}
	if len(p.errs) > 1 {
		return nil, p.errs
	}
	return doc, nil
}

// decodeYAML parses every document of src into nodes. yaml.v3 is not
// expected to panic, but a policy loader must not take the server down
// if it does.
func decodeYAML(src []byte) (docs []*yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: unexpected failure: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(src))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return docs, err
		}
		docs = append(docs, &n)
	}
}

func invalidUTF8At(src []byte) (line, col int) {
	line, col = 1, 1
	for len(src) > 0 {
		r, size := utf8.DecodeRune(src)
		if r == utf8.RuneError && size <= 1 {
			return line, col
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		src = src[size:]
	}
	return line, col
}

// parser walks the YAML node tree, collecting errors with positions.
type parser struct {
	file  string
	model string
	lines int // of the source; node positions past the end are clamped
	errs  ParseErrors
}

// newError makes a ParseError, keeping the position inside the source
// (yaml.v3 may place the end of a document after the last line).
func (p *parser) newError(line, col int, format string, args ...any) *ParseError {
	if p.lines > 0 && line > p.lines {
		line, col = p.lines, 1
	}
	return &ParseError{File: p.file, Line: max(line, 1), Col: max(col, 1), Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) single(line, col int, format string, args ...any) error {
	return p.newError(line, col, format, args...)
}

func (p *parser) errAt(line, col int, format string, args ...any) {
	if len(p.errs) < maxErrors {
		p.errs = append(p.errs, p.newError(line, col, format, args...))
	}
}

func (p *parser) errf(n *yaml.Node, format string, args ...any) {
	p.errAt(n.Line, n.Column, format, args...)
}

// errIn reports a problem at a character offset inside a scalar, when the
// scalar's text maps one to one onto the source (plain style); otherwise
// at the scalar's start.
func (p *parser) errIn(n *yaml.Node, offset int, format string, args ...any) {
	col := n.Column
	switch n.Style {
	case 0:
		col += utf8.RuneCountInString(n.Value[:offset])
	case yaml.SingleQuotedStyle:
		if !strings.ContainsAny(n.Value, "'\n") {
			col += 1 + utf8.RuneCountInString(n.Value[:offset])
		}
	case yaml.DoubleQuotedStyle:
		if !strings.ContainsAny(n.Value, "\\\"\n") {
			col += 1 + utf8.RuneCountInString(n.Value[:offset])
		}
	}
	p.errAt(n.Line, col, format, args...)
}

// resolve follows YAML aliases (*name) to the node they stand for.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "null"
		case "!!bool":
			return "a boolean (" + n.Value + ")"
		case "!!int", "!!float":
			return "a number (" + n.Value + ")"
		}
		return fmt.Sprintf("the string %q", n.Value)
	}
	return "an alias"
}

// field is one key/value pair of a mapping.
type field struct {
	key, val *yaml.Node
}

// mapping checks that n is a mapping with string keys among allowed and no
// duplicates, and returns its fields by key.
func (p *parser) mapping(n *yaml.Node, what string, allowed []string) (map[string]field, bool) {
	fields, ok := p.pairs(n, what)
	if !ok {
		return nil, false
	}
	out := make(map[string]field, len(fields))
	for _, f := range fields {
		k := f.key.Value
		if !contains(allowed, k) {
			if hint := suggest(k, allowed); hint != "" {
				p.errf(f.key, "unknown field %q in %s; did you mean %q?", k, what, hint)
			} else {
				p.errf(f.key, "unknown field %q in %s (known fields: %s)", k, what, strings.Join(allowed, ", "))
			}
			continue
		}
		out[k] = f
	}
	return out, true
}

// pairs checks that n is a mapping whose keys are distinct strings and
// returns its pairs in document order.
func (p *parser) pairs(n *yaml.Node, what string) ([]field, bool) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		p.errf(n, "%s must be a mapping, not %s", what, kindName(n))
		return nil, false
	}
	seen := map[string]*yaml.Node{}
	var out []field
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!null" {
			p.errf(k, "keys of %s must be strings, not %s", what, kindName(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			p.errf(k, "merge keys (<<) are not supported in policy files")
			continue
		}
		if first, dup := seen[k.Value]; dup {
			p.errf(k, "duplicate field %q in %s (first at line %d)", k.Value, what, first.Line)
			continue
		}
		seen[k.Value] = k
		out = append(out, field{key: k, val: v})
	}
	return out, true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// suggest returns the allowed name closest to s when it is a likely typo.
func suggest(s string, allowed []string) string {
	best, bestD := "", 3
	for _, a := range allowed {
		if d := editDistance(strings.ToLower(s), a); d < bestD {
			best, bestD = a, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		return 1 << 30
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// scalarTags are the tags a string-valued field accepts: whatever a plain
// scalar resolves to, the text as written is the value.
var scalarTags = map[string]bool{"!!str": true, "!!int": true, "!!float": true, "!!bool": true, "!!timestamp": true}

// str reads a string scalar; empty strings are refused unless allowEmpty.
func (p *parser) str(n *yaml.Node, what string, allowEmpty bool) (string, bool) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || !scalarTags[n.ShortTag()] {
		p.errf(n, "%s must be a string, not %s", what, kindName(n))
		return "", false
	}
	if !allowEmpty && strings.TrimSpace(n.Value) == "" {
		p.errf(n, "%s must not be empty", what)
		return "", false
	}
	if i := strings.IndexFunc(n.Value, unicode.IsControl); i >= 0 && !allowEmpty {
		p.errIn(n, i, "%s must not contain control characters", what)
		return "", false
	}
	return n.Value, true
}

// strList reads a list of non-empty strings; a single string is accepted
// as a one-element list.
func (p *parser) strList(n *yaml.Node, what string) ([]*yaml.Node, []string, bool) {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode && n.ShortTag() != "!!null" {
		s, ok := p.str(n, what, false)
		return []*yaml.Node{n}, []string{s}, ok
	}
	if n.Kind != yaml.SequenceNode {
		p.errf(n, "%s must be a list of strings, not %s", what, kindName(n))
		return nil, nil, false
	}
	nodes := make([]*yaml.Node, 0, len(n.Content))
	vals := make([]string, 0, len(n.Content))
	ok := true
	for _, item := range n.Content {
		item = resolve(item)
		s, good := p.str(item, what+" entry", false)
		if !good {
			ok = false
			continue
		}
		nodes = append(nodes, item)
		vals = append(vals, s)
	}
	return nodes, vals, ok
}

func (p *parser) integer(n *yaml.Node, what string) (int, bool) {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int" {
		v, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
		if err == nil && v >= math.MinInt32 && v <= math.MaxInt32 {
			return int(v), true
		}
	}
	p.errf(n, "%s must be an integer, not %s", what, kindName(n))
	return 0, false
}

func (p *parser) number(n *yaml.Node, what string) (float64, bool) {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!int" || n.ShortTag() == "!!float") {
		var v float64
		var err error
		if n.ShortTag() == "!!int" {
			var i int64
			i, err = strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
			v = float64(i)
		} else {
			v, err = strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		}
		if err == nil && !math.IsNaN(v) && !math.IsInf(v, 0) {
			return v, true
		}
	}
	p.errf(n, "%s must be a finite number, not %s", what, kindName(n))
	return 0, false
}

func (p *parser) boolean(n *yaml.Node, what string) (bool, bool) {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" {
		switch strings.ToLower(n.Value) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	p.errf(n, "%s must be true or false, not %s", what, kindName(n))
	return false, false
}

var (
	docFields      = []string{"version", "gates"}
	gateFields     = []string{"name", "models", "when", "require"}
	whenFields     = []string{"aliases", "stages", "deploy"}
	requireFields  = []string{"metrics", "tags", "tag_values", "card_fields", "approvals", "fairness", "no_open_alerts"}
	fairnessFields = []string{"protected_attribute", "evaluation_set", "label_column", "prediction_column", "score_column", "threshold", "positive_label", "min_demographic_parity_ratio", "max_equalized_odds_difference"}
)

func (p *parser) document(n *yaml.Node, doc *Document) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		p.errf(n, "a policy file must be a mapping with \"version\" and \"gates\", not %s", kindName(n))
		return
	}
	f, _ := p.mapping(n, "the policy", docFields)
	if v, ok := f["version"]; !ok {
		p.errf(n, "missing field \"version\" (this server reads \"version: 1\")")
	} else if ver, ok := p.integer(v.val, "version"); ok && ver != 1 {
		p.errf(resolve(v.val), "unsupported policy version %d (this server reads version 1)", ver)
	}
	g, ok := f["gates"]
	if !ok {
		p.errf(n, "missing field \"gates\" (a list of gates; [] for none)")
		return
	}
	list := resolve(g.val)
	if list.Kind == yaml.ScalarNode && list.ShortTag() == "!!null" {
		return // "gates:" with nothing: no gates
	}
	if list.Kind != yaml.SequenceNode {
		p.errf(list, "gates must be a list, not %s", kindName(list))
		return
	}
	names := map[string]int{}
	for _, item := range list.Content {
		gate, ok := p.gate(resolve(item))
		if !ok {
			continue
		}
		if line, dup := names[gate.Name]; dup {
			p.errAt(gate.Line, gate.Column, "duplicate gate name %q (first at line %d)", gate.Name, line)
			continue
		}
		names[gate.Name] = gate.Line
		doc.Gates = append(doc.Gates, gate)
	}
}

func (p *parser) gate(n *yaml.Node) (Gate, bool) {
	g := Gate{Line: n.Line, Column: n.Column}
	f, ok := p.mapping(n, "gate", gateFields)
	if !ok {
		return g, false
	}
	before := len(p.errs)
	if v, ok := f["name"]; !ok {
		p.errf(n, "gate is missing field \"name\"")
	} else if s, ok := p.str(v.val, "gate name", false); ok {
		if s != strings.TrimSpace(s) || strings.ContainsAny(s, "\n\r\t") || utf8.RuneCountInString(s) > 100 {
			p.errf(resolve(v.val), "gate name %q must be one line of at most 100 characters without surrounding spaces", s)
		}
		g.Name = s
	}
	what := "gate"
	if g.Name != "" {
		what = fmt.Sprintf("gate %q", g.Name)
	}
	if v, ok := f["models"]; ok {
		nodes, pats, _ := p.strList(v.val, "models")
		matchesModel := false
		for i, pat := range pats {
			if _, err := path.Match(pat, ""); err != nil {
				p.errf(nodes[i], "bad model pattern %q (%v; patterns use path.Match syntax: *, ?, [a-z], \\ escapes)", pat, err)
				continue
			}
			if ok, _ := path.Match(pat, p.model); ok {
				matchesModel = true
			}
			g.Models = append(g.Models, pat)
		}
		if p.model != "" && len(g.Models) > 0 && !matchesModel {
			p.errf(resolve(v.val), "models of %s do not match %q, the model this policy belongs to", what, p.model)
		}
	}
	if v, ok := f["when"]; !ok {
		p.errf(n, "%s is missing field \"when\" (aliases, stages or deploy)", what)
	} else {
		g.When = p.when(resolve(v.val), what)
	}
	if v, ok := f["require"]; !ok {
		p.errf(n, "%s is missing field \"require\"", what)
	} else {
		g.Require = p.require(resolve(v.val), what)
	}
	return g, len(p.errs) == before
}

func (p *parser) when(n *yaml.Node, gate string) When {
	var w When
	before := len(p.errs)
	f, ok := p.mapping(n, "when", whenFields)
	if !ok {
		return w
	}
	if v, ok := f["aliases"]; ok {
		nodes, names, _ := p.strList(v.val, "aliases")
		for i, a := range names {
			if strings.ContainsFunc(a, unicode.IsSpace) {
				p.errf(nodes[i], "alias %q must not contain spaces", a)
				continue
			}
			w.Aliases = append(w.Aliases, a)
		}
	}
	if v, ok := f["stages"]; ok {
		nodes, names, _ := p.strList(v.val, "stages")
		for i, s := range names {
			st := canonicalStage(s)
			if st == "" {
				p.errf(nodes[i], "unknown stage %q (stages: None, Staging, Production, Archived)", s)
				continue
			}
			w.Stages = append(w.Stages, st)
		}
	}
	if v, ok := f["deploy"]; ok {
		w.Deploy, _ = p.boolean(v.val, "deploy")
	}
	if len(w.Aliases) == 0 && len(w.Stages) == 0 && !w.Deploy && len(p.errs) == before {
		p.errf(n, "when of %s guards nothing: name at least one alias or stage, or set deploy: true", gate)
	}
	return w
}

func (p *parser) require(n *yaml.Node, gate string) Require {
	var r Require
	before := len(p.errs)
	f, ok := p.mapping(n, "require", requireFields)
	if !ok {
		return r
	}
	defer func() {
		if len(p.errs) == before && r.empty() {
			p.errf(n, "require of %s states no requirement", gate)
		}
	}()
	if v, ok := f["metrics"]; ok {
		nodes, exprs, _ := p.strList(v.val, "metrics")
		for i, e := range exprs {
			m, off, msg := parseMetricRule(e)
			if msg != "" {
				p.errIn(nodes[i], off, "%s", msg)
				continue
			}
			r.Metrics = append(r.Metrics, m)
		}
	}
	if v, ok := f["tags"]; ok {
		_, r.Tags, _ = p.strList(v.val, "tags")
	}
	if v, ok := f["tag_values"]; ok {
		pairs, _ := p.pairs(v.val, "tag_values")
		for _, kv := range pairs {
			if strings.TrimSpace(kv.key.Value) == "" {
				p.errf(kv.key, "tag_values keys must not be empty")
				continue
			}
			val, ok := p.str(kv.val, fmt.Sprintf("tag_values %q", kv.key.Value), true)
			if ok {
				r.TagValues = append(r.TagValues, TagValue{Key: kv.key.Value, Value: val})
			}
		}
	}
	if v, ok := f["card_fields"]; ok {
		nodes, paths, _ := p.strList(v.val, "card_fields")
		for i, cp := range paths {
			if !cardPath.MatchString(cp) {
				p.errf(nodes[i], "bad model-card field %q: use dotted names such as model_details.owners or considerations.limitations", cp)
				continue
			}
			r.CardFields = append(r.CardFields, cp)
		}
	}
	if v, ok := f["approvals"]; ok {
		if a, ok := p.integer(v.val, "approvals"); ok {
			switch {
			case a < 0:
				p.errf(resolve(v.val), "approvals must be 0 or more, not %d", a)
			case a > 1000:
				p.errf(resolve(v.val), "approvals must be at most 1000, not %d", a)
			default:
				r.Approvals = a
			}
		}
	}
	if v, ok := f["fairness"]; ok {
		r.Fairness = p.fairness(resolve(v.val))
	}
	if v, ok := f["no_open_alerts"]; ok {
		if s, ok := p.str(v.val, "no_open_alerts", false); ok {
			if sev, ok := parseSeverity(s); ok {
				r.NoOpenAlerts = sev
			} else {
				p.errf(resolve(v.val), "no_open_alerts must be critical, warning or info, not %q", s)
			}
		}
	}
	return r
}

// cardPath is a dotted model-card field path: model_details.owners,
// quantitative_analysis.performance_metrics.0.value.
var cardPath = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$`)

func (p *parser) fairness(n *yaml.Node) *Fairness {
	f, ok := p.mapping(n, "fairness", fairnessFields)
	if !ok {
		return nil
	}
	fr := &Fairness{MinDemographicParityRatio: 0.8}
	column := func(key string, required bool) string {
		v, ok := f[key]
		if !ok {
			if required {
				p.errf(n, "fairness is missing field %q", key)
			}
			return ""
		}
		s, _ := p.str(v.val, key, false)
		return s
	}
	fr.ProtectedAttribute = column("protected_attribute", true)
	fr.LabelColumn = column("label_column", true)
	fr.PredictionColumn = column("prediction_column", false)
	fr.ScoreColumn = column("score_column", false)
	if v, ok := f["evaluation_set"]; !ok {
		p.errf(n, "fairness is missing field \"evaluation_set\" (a CSV artifact path inside the version's run)")
	} else if s, ok := p.str(v.val, "evaluation_set", false); ok {
		if clean, ok := cleanArtifactPath(s); ok {
			fr.EvaluationSet = clean
		} else {
			p.errf(resolve(v.val), "evaluation_set %q must be a relative artifact path inside the run (no leading /, no ..)", s)
		}
	}
	_, hasPred := f["prediction_column"]
	_, hasScore := f["score_column"]
	tv, hasThreshold := f["threshold"]
	switch {
	case hasPred && hasScore:
		p.errf(f["score_column"].key, "fairness takes prediction_column or score_column with threshold, not both")
	case !hasPred && !hasScore:
		p.errf(n, "fairness needs prediction_column (predicted labels) or score_column with threshold")
	case hasScore && !hasThreshold:
		p.errf(f["score_column"].key, "score_column needs a threshold (a score at or above it predicts the positive label)")
	case hasPred && hasThreshold:
		p.errf(tv.key, "threshold applies to score_column only")
	}
	if hasThreshold {
		fr.Threshold, _ = p.number(tv.val, "threshold")
	}
	if v, ok := f["positive_label"]; ok {
		fr.PositiveLabel, _ = p.str(v.val, "positive_label", false)
	}
	cols := map[string]string{}
	for _, c := range []struct{ key, val string }{
		{"protected_attribute", fr.ProtectedAttribute}, {"label_column", fr.LabelColumn},
		{"prediction_column", fr.PredictionColumn}, {"score_column", fr.ScoreColumn},
	} {
		if c.val == "" {
			continue
		}
		if other, dup := cols[c.val]; dup {
			p.errf(resolve(f[c.key].val), "%s and %s name the same column %q", other, c.key, c.val)
		}
		cols[c.val] = c.key
	}
	if v, ok := f["min_demographic_parity_ratio"]; ok {
		if r, ok := p.number(v.val, "min_demographic_parity_ratio"); ok {
			if r < 0 || r > 1 {
				p.errf(resolve(v.val), "min_demographic_parity_ratio must be between 0 and 1, not %v", r)
			}
			fr.MinDemographicParityRatio = r
		}
	}
	if v, ok := f["max_equalized_odds_difference"]; ok {
		if d, ok := p.number(v.val, "max_equalized_odds_difference"); ok {
			if d < 0 || d > 1 {
				p.errf(resolve(v.val), "max_equalized_odds_difference must be between 0 and 1, not %v", d)
			}
			fr.MaxEqualizedOddsDifference = &d
		}
	}
	return fr
}

// cleanArtifactPath normalises a run-relative artifact path and refuses
// anything that could leave the run's artifact directory.
func cleanArtifactPath(s string) (string, bool) {
	if strings.HasPrefix(s, "/") || strings.Contains(s, "\\") || strings.ContainsRune(s, 0) {
		return "", false
	}
	for _, part := range strings.Split(s, "/") {
		if part == ".." {
			return "", false
		}
	}
	clean := path.Clean(s)
	if clean == "." || clean == "" {
		return "", false
	}
	return clean, true
}
