// Package pipeline runs pipelines as code: a YAML file of steps, each
// either `uses:` a built-in operation or `run:`s a command in any
// language, wired into a DAG by their dependencies and by the outputs they
// read from each other, with typed parameters, `when` conditions, retries
// with backoff, timeouts, a parallelism limit and a content-addressed run
// cache: a step whose definition, resolved parameters, input files and
// upstream outputs hash to a key seen before is skipped and its outputs
// are restored, as DVC's run cache does.
//
//	name: credit-risk
//	params:
//	  depth: {type: int, default: 6}
//	  learner: {type: string, default: gbdt}
//	concurrency: 2
//	steps:
//	  - name: prepare
//	    run: python3 prep.py --out "$FERRY_OUTPUTS/train.csv"
//	    inputs: [data/raw.csv]          # files hashed into the cache key
//	    outputs: [train.csv]            # files the step must write to $FERRY_OUTPUTS
//	  - name: train
//	    run: ./train --data ${{ steps.prepare.outputs.train.csv }} --depth ${{ params.depth }}
//	    when: ${{ params.learner == 'gbdt' }}
//	    outputs: [model.json]
//	    retry: {limit: 2, backoff: 1s}
//	    timeout: 10m
//	  - name: evaluate
//	    needs: [train]
//	    uses: evaluate
//	    with: {model: "${{ steps.train.outputs.model.json }}"}
//
// References `${{ params.NAME }}` and `${{ steps.STEP.outputs.NAME }}`
// are replaced before a step runs — inside `run:` by one shell-quoted
// word each (so a value cannot inject a command; do not put references
// inside quotes), in `with:` and `env:` by the plain value; a
// reference to a step's outputs makes it a dependency. Parse checks the
// whole file — unknown keys, types, unknown steps, parameters and outputs,
// cycles — and reports each problem with its line.
package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// Spec is a parsed, checked pipeline.
type Spec struct {
	Name   string
	Params map[string]Param
	// Concurrency bounds the steps running at once (default 4).
	Concurrency int
	// Schedule (cron) and Triggers (new versions of datasets) start runs
	// of a pipeline registered in the server.
	Schedule *Cron
	Triggers []Trigger
	Steps    []Step
	// Order is the steps' indices in a dependency order.
	Order []int
}

// Trigger starts a run of a registered pipeline when a new version of
// the dataset is added.
type Trigger struct {
	Dataset string `yaml:"dataset" json:"dataset"`
}

// Param is a typed parameter.
type Param struct {
	Type     string `yaml:"type"` // string, int, float, bool
	Default  any    `yaml:"default"`
	Required bool   `yaml:"required"`
}

// Retry is a step's retry policy: Limit more attempts, waiting Backoff,
// multiplied by Factor each time, at most Max.
type Retry struct {
	Limit   int           `yaml:"limit"`
	Backoff time.Duration `yaml:"backoff"`
	Factor  float64       `yaml:"factor"`
	Max     time.Duration `yaml:"max"`
}

// Step is one node of the DAG.
type Step struct {
	Name    string            `yaml:"name"`
	Uses    string            `yaml:"uses"`
	With    map[string]string `yaml:"with"`
	Run     string            `yaml:"run"`
	Env     map[string]string `yaml:"env"`
	Needs   []string          `yaml:"needs"`
	Inputs  []string          `yaml:"inputs"`
	Outputs []string          `yaml:"outputs"`
	When    string            `yaml:"when"`
	Retry   Retry             `yaml:"retry"`
	Timeout time.Duration     `yaml:"timeout"`
	// Cache, when false, runs the step every time.
	Cache *bool `yaml:"cache"`
	// Line is where the step starts in the file.
	Line int `yaml:"-"`
	// deps are the indices of the steps this one depends on.
	deps []int
}

// Caching says whether the step may be restored from the run cache.
func (s Step) Caching() bool { return s.Cache == nil || *s.Cache }

// DefaultConcurrency bounds a pipeline's parallel steps when it says
// nothing.
const DefaultConcurrency = 4

var (
	nameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]{0,63}$`)
	// refRE matches ${{ ... }}.
	refRE = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)
	// outputRE is an output file name: no separators, no "..".
	outputRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
)

type rawSpec struct {
	Name        string           `yaml:"name"`
	Params      map[string]Param `yaml:"params"`
	Concurrency int              `yaml:"concurrency"`
	Schedule    string           `yaml:"schedule"`
	Triggers    []Trigger        `yaml:"triggers"`
	Steps       []Step           `yaml:"steps"`
}

// Parse reads and checks a pipeline file; every problem found is
// reported (errdefs.ErrInvalidArgument), each with its line.
func Parse(src []byte, known Ops) (*Spec, error) {
	var raw rawSpec
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil {
		return nil, errdefs.InvalidArgument("pipeline: %v", cleanYAMLError(err))
	}
	var doc yaml.Node
	_ = yaml.Unmarshal(src, &doc)
	lines := stepLines(&doc)
	sp := &Spec{Name: raw.Name, Params: raw.Params, Concurrency: raw.Concurrency, Steps: raw.Steps, Triggers: raw.Triggers}
	var errs []string
	bad := func(line int, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		if line > 0 {
			msg = fmt.Sprintf("line %d: %s", line, msg)
		}
		errs = append(errs, msg)
	}
	if raw.Schedule != "" {
		c, err := ParseCron(raw.Schedule)
		if err != nil {
			bad(0, "schedule: %v", err)
		}
		sp.Schedule = &c
	}
	for _, tr := range raw.Triggers {
		if tr.Dataset == "" {
			bad(0, "a trigger names a dataset: triggers: [{dataset: NAME}]")
		}
	}
	if sp.Name == "" {
		bad(0, "the pipeline needs a name")
	}
	if sp.Concurrency == 0 {
		sp.Concurrency = DefaultConcurrency
	}
	if sp.Concurrency < 0 || sp.Concurrency > 256 {
		bad(0, "concurrency must be between 1 and 256, got %d", sp.Concurrency)
	}
	for _, name := range sortedKeys(sp.Params) {
		p := sp.Params[name]
		if !nameRE.MatchString(name) {
			bad(0, "parameter %q: use letters, digits, '_' and '-'", name)
		}
		if p.Type == "" {
			p.Type = "string"
		}
		switch p.Type {
		case "string", "int", "float", "bool":
		default:
			bad(0, "parameter %q: type must be string, int, float or bool, got %q", name, p.Type)
			continue
		}
		if p.Default != nil {
			v, err := convert(p.Type, fmt.Sprint(p.Default))
			if err != nil {
				bad(0, "parameter %q: default: %v", name, err)
			}
			p.Default = v
		}
		sp.Params[name] = p
	}
	if len(sp.Steps) == 0 {
		bad(0, "the pipeline has no steps")
	}
	index := map[string]int{}
	for i := range sp.Steps {
		s := &sp.Steps[i]
		if i < len(lines) {
			s.Line = lines[i]
		}
		switch {
		case !nameRE.MatchString(s.Name):
			bad(s.Line, "step %d: name %q: use 1 to 64 letters, digits, '_' and '-', starting with a letter or '_'", i+1, s.Name)
		case index[s.Name] > 0:
			bad(s.Line, "step %q is defined twice", s.Name)
		}
		index[s.Name] = i + 1
		switch {
		case (s.Run == "") == (s.Uses == ""):
			bad(s.Line, "step %q: give exactly one of run and uses", s.Name)
		case s.Uses != "" && known != nil && known[s.Uses] == nil:
			bad(s.Line, "step %q: unknown operation %q (known: %s)", s.Name, s.Uses, strings.Join(known.names(), ", "))
		case s.Run != "" && len(s.With) > 0:
			bad(s.Line, "step %q: with applies to uses steps; a run step reads ${{ }} references and env", s.Name)
		}
		seen := map[string]bool{}
		for _, o := range s.Outputs {
			if !outputRE.MatchString(o) || strings.Contains(o, "..") {
				bad(s.Line, "step %q: output %q: use a file name (letters, digits, '_', '-', '.')", s.Name, o)
			}
			if seen[o] {
				bad(s.Line, "step %q: output %q is declared twice", s.Name, o)
			}
			seen[o] = true
		}
		for _, in := range s.Inputs {
			if in == "" || strings.HasPrefix(in, "/") || hasDotDot(in) {
				bad(s.Line, "step %q: input %q: use a path inside the pipeline's directory", s.Name, in)
			}
		}
		if s.Retry.Limit < 0 || s.Retry.Limit > 100 {
			bad(s.Line, "step %q: retry.limit must be between 0 and 100", s.Name)
		}
		if s.Retry.Backoff <= 0 {
			s.Retry.Backoff = time.Second
		}
		if s.Retry.Factor == 0 {
			s.Retry.Factor = 2
		}
		if s.Retry.Factor < 1 {
			bad(s.Line, "step %q: retry.factor must be at least 1", s.Name)
		}
		if s.Retry.Max <= 0 {
			s.Retry.Max = 5 * time.Minute
		}
		if s.Timeout < 0 {
			bad(s.Line, "step %q: timeout must not be negative", s.Name)
		}
		if s.When != "" {
			if _, err := parseExpr(unwrap(s.When)); err != nil {
				bad(s.Line, "step %q: when: %v", s.Name, err)
			}
		}
	}
	// Dependencies: needs, and the steps whose outputs a step reads.
	for i := range sp.Steps {
		s := &sp.Steps[i]
		deps := map[int]bool{}
		for _, n := range s.Needs {
			j, ok := index[n]
			if !ok {
				bad(s.Line, "step %q needs unknown step %q", s.Name, n)
				continue
			}
			deps[j-1] = true
		}
		for _, text := range s.texts() {
			for _, m := range refRE.FindAllStringSubmatch(text, -1) {
				if err := sp.checkRef(m[1], index, deps, false); err != nil {
					bad(s.Line, "step %q: ${{ %s }}: %v", s.Name, m[1], err)
				}
			}
		}
		if s.When != "" {
			if e, err := parseExpr(unwrap(s.When)); err == nil {
				for _, ref := range e.refs() {
					if err := sp.checkRef(ref, index, deps, true); err != nil {
						bad(s.Line, "step %q: when: %v", s.Name, err)
					}
				}
			}
		}
		delete(deps, i)
		for j := range deps {
			s.deps = append(s.deps, j)
		}
		sort.Ints(s.deps)
	}
	if len(errs) == 0 {
		order, cycle := topoOrder(sp.Steps)
		if cycle != nil {
			names := make([]string, len(cycle))
			for k, j := range cycle {
				names[k] = sp.Steps[j].Name
			}
			bad(sp.Steps[cycle[0]].Line, "the steps form a cycle: %s", strings.Join(names, " -> "))
		}
		sp.Order = order
	}
	if len(errs) > 0 {
		return nil, errdefs.InvalidArgument("pipeline %s:\n  %s", sp.Name, strings.Join(errs, "\n  "))
	}
	return sp, nil
}

// texts are the strings of a step that may hold references.
func (s Step) texts() []string {
	t := []string{s.Run}
	for _, k := range sortedKeys(s.With) {
		t = append(t, s.With[k])
	}
	for _, k := range sortedKeys(s.Env) {
		t = append(t, s.Env[k])
	}
	return t
}

// checkRef checks a reference (params.X, steps.S.outputs.O, or in a
// when condition steps.S.status) and records the step it depends on.
func (sp *Spec) checkRef(ref string, index map[string]int, deps map[int]bool, inWhen bool) error {
	if strings.ContainsAny(ref, " =!<>&|()'\"") && !inWhen {
		return errors.New("expressions are allowed in when only; use params.NAME or steps.STEP.outputs.NAME")
	}
	if strings.ContainsAny(ref, " =!<>&|()'\"") {
		return nil // a when expression: its references are checked one by one
	}
	switch parts := strings.SplitN(ref, ".", 4); {
	case len(parts) == 2 && parts[0] == "params":
		if _, ok := sp.Params[parts[1]]; !ok {
			return fmt.Errorf("unknown parameter %q", parts[1])
		}
		return nil
	case len(parts) >= 3 && parts[0] == "steps":
		j, ok := index[parts[1]]
		if !ok {
			return fmt.Errorf("unknown step %q", parts[1])
		}
		deps[j-1] = true
		switch {
		case len(parts) == 4 && parts[2] == "outputs":
			for _, o := range sp.Steps[j-1].Outputs {
				if o == parts[3] {
					return nil
				}
			}
			return fmt.Errorf("step %q declares no output %q", parts[1], parts[3])
		case len(parts) == 3 && parts[2] == "status" && inWhen:
			return nil
		}
	}
	return errors.New("use params.NAME or steps.STEP.outputs.NAME (steps.STEP.status in when)")
}

// topoOrder returns the steps in dependency order (stable by file order),
// or a cycle.
func topoOrder(steps []Step) (order, cycle []int) {
	state := make([]int, len(steps)) // 0 new, 1 on the path, 2 done
	var path []int
	var visit func(i int) bool
	visit = func(i int) bool {
		switch state[i] {
		case 1:
			for k, j := range path {
				if j == i {
					cycle = append(append([]int(nil), path[k:]...), i)
				}
			}
			return false
		case 2:
			return true
		}
		state[i] = 1
		path = append(path, i)
		for _, d := range steps[i].deps {
			if !visit(d) {
				return false
			}
		}
		path = path[:len(path)-1]
		state[i] = 2
		order = append(order, i)
		return true
	}
	for i := range steps {
		if !visit(i) {
			return nil, cycle
		}
	}
	return order, nil
}

// stepLines returns the line of each item of the top-level steps list.
func stepLines(doc *yaml.Node) []int {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "steps" && m.Content[i+1].Kind == yaml.SequenceNode {
			var lines []int
			for _, n := range m.Content[i+1].Content {
				lines = append(lines, n.Line)
			}
			return lines
		}
	}
	return nil
}

func cleanYAMLError(err error) string {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	s = strings.ReplaceAll(s, "unmarshal errors:\n  ", "")
	return strings.ReplaceAll(s, " in type pipeline.", " in ")
}

func hasDotDot(p string) bool {
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return true
		}
	}
	return false
}

// unwrap strips ${{ }} around a when condition (both forms are taken).
func unwrap(s string) string {
	s = strings.TrimSpace(s)
	if m := refRE.FindStringSubmatch(s); m != nil && m[0] == s {
		return m[1]
	}
	return s
}

// convert parses a parameter value as its type.
func convert(typ, v string) (any, error) {
	switch typ {
	case "int":
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", v)
		}
		return n, nil
	case "float":
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", v)
		}
		return f, nil
	case "bool":
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("%q is not true or false", v)
		}
		return b, nil
	}
	return v, nil
}

// ResolveParams checks given values against the parameters' types and
// fills in defaults; a missing required parameter or an unknown one is an
// error.
func (sp *Spec) ResolveParams(given map[string]string) (map[string]any, error) {
	out := map[string]any{}
	var errs []string
	for _, k := range sortedKeys(given) {
		p, ok := sp.Params[k]
		if !ok {
			errs = append(errs, fmt.Sprintf("unknown parameter %q (the pipeline has: %s)", k, strings.Join(sortedKeys(sp.Params), ", ")))
			continue
		}
		v, err := convert(p.Type, given[k])
		if err != nil {
			errs = append(errs, fmt.Sprintf("parameter %q: %v", k, err))
			continue
		}
		out[k] = v
	}
	for _, k := range sortedKeys(sp.Params) {
		if _, ok := out[k]; ok {
			continue
		}
		p := sp.Params[k]
		switch {
		case p.Default != nil:
			out[k] = p.Default
		case p.Required:
			errs = append(errs, fmt.Sprintf("parameter %q is required", k))
		default:
			out[k] = zero(p.Type)
		}
	}
	if len(errs) > 0 {
		return nil, errdefs.InvalidArgument("%s", strings.Join(errs, "; "))
	}
	return out, nil
}

func zero(typ string) any {
	switch typ {
	case "int":
		return int64(0)
	case "float":
		return 0.0
	case "bool":
		return false
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
