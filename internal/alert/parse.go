package alert

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// ParseError is a rules-file error at a position of the source.
type ParseError struct {
	Line, Col int
	Msg       string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Col, e.Msg)
}

// Is makes every ParseError an errdefs.ErrInvalidArgument.
func (e *ParseError) Is(target error) bool { return target == errdefs.ErrInvalidArgument }

var (
	yamlLineRE = regexp.MustCompile(`^line (\d+)`)
	labelRE    = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	nameRE     = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.:-]*$`)
)

// ParseRules parses and validates a rules file. Unknown keys, duplicate names,
// references to undeclared channels and malformed values are errors; every
// error is a *ParseError carrying the line and column it refers to.
func ParseRules(src []byte) (*Config, error) {
	root, err := decodeYAML(src)
	if err != nil {
		line := 1
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
			if n, perr := strconv.Atoi(m[1]); perr == nil && n > 0 {
				line = n
			}
			msg = strings.TrimPrefix(msg[len(m[0]):], ": ")
		}
		return nil, &ParseError{Line: line, Col: 1, Msg: "not valid YAML: " + msg}
	}
	if root == nil {
		return nil, &ParseError{Line: 1, Col: 1, Msg: "empty rules file"}
	}
	return parseDoc(root)
}

// decodeYAML parses exactly one document. yaml.v3 is not expected to panic,
// but a rules loader must not take the server down if it does.
func decodeYAML(src []byte) (doc *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("unexpected failure: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var n yaml.Node
	if err := dec.Decode(&n); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("line %d: a rules file holds one YAML document", max(extra.Line, 1))
	} else if !errors.Is(err, io.EOF) {
		return nil, err
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		return n.Content[0], nil
	}
	return &n, nil
}

func errAt(n *yaml.Node, format string, args ...any) error {
	return &ParseError{Line: max(n.Line, 1), Col: max(n.Column, 1), Msg: fmt.Sprintf(format, args...)}
}

func resolve(n *yaml.Node) *yaml.Node {
	for depth := 0; n != nil && n.Kind == yaml.AliasNode && depth < 16; depth++ {
		n = n.Alias
	}
	return n
}

type field struct{ key, val *yaml.Node }

// mapping returns the fields of a mapping node, rejecting unknown and
// duplicate keys.
func mapping(n *yaml.Node, what string, allowed ...string) (map[string]field, error) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, errAt(n, "%s must be a mapping", what)
	}
	out := map[string]field{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k == nil || k.Kind != yaml.ScalarNode {
			return nil, errAt(n.Content[i], "%s: keys must be strings", what)
		}
		if len(allowed) > 0 && !contains(allowed, k.Value) {
			return nil, errAt(k, "unknown field %q in %s (allowed: %s)", k.Value, what, strings.Join(allowed, ", "))
		}
		if f, dup := out[k.Value]; dup {
			return nil, errAt(k, "duplicate field %q in %s (first at line %d)", k.Value, what, f.key.Line)
		}
		out[k.Value] = field{k, v}
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func scalar(n *yaml.Node, what string) (string, error) {
	r := resolve(n)
	if r == nil || r.Kind != yaml.ScalarNode || r.Tag == "!!null" {
		return "", errAt(n, "%s must be a string", what)
	}
	return r.Value, nil
}

func nonEmpty(n *yaml.Node, what string) (string, error) {
	s, err := scalar(n, what)
	if err == nil && strings.TrimSpace(s) == "" {
		err = errAt(n, "%s must not be empty", what)
	}
	return s, err
}

func seq(n *yaml.Node, what string) ([]*yaml.Node, error) {
	r := resolve(n)
	if r == nil || r.Kind != yaml.SequenceNode {
		return nil, errAt(n, "%s must be a list", what)
	}
	return r.Content, nil
}

func strMap(n *yaml.Node, what string) ([]field, error) {
	m, err := mapping(n, what)
	if err != nil {
		return nil, err
	}
	r := resolve(n)
	out := make([]field, 0, len(m))
	for i := 0; i+1 < len(r.Content); i += 2 {
		out = append(out, m[resolve(r.Content[i]).Value])
	}
	return out, nil
}

func duration(n *yaml.Node, what string) (time.Duration, error) {
	s, err := nonEmpty(n, what)
	if err != nil {
		return 0, err
	}
	d, err := ParseDuration(s)
	if err != nil {
		return 0, errAt(n, "%s: %v", what, err)
	}
	return d, nil
}

// ParseDuration parses Go durations ("90s", "1h30m") and the day and week
// units Prometheus adds ("2d", "1w"). Negative durations are errors.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n := len(s); n > 1 && (s[n-1] == 'd' || s[n-1] == 'w') {
		k, err := strconv.ParseUint(s[:n-1], 10, 32)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		unit := 24 * time.Hour
		if s[n-1] == 'w' {
			unit *= 7
		}
		if k > uint64(1<<63-1)/uint64(unit) {
			return 0, fmt.Errorf("duration %q is too long", s)
		}
		return time.Duration(k) * unit, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (use e.g. 30s, 10m, 4h, 1d)", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("duration %q must not be negative", s)
	}
	return d, nil
}

// ParseCondition parses "OP THRESHOLD" such as "> 0.5" or "<=-1e3".
func ParseCondition(s string) (op string, threshold float64, err error) {
	s = strings.TrimSpace(s)
	for _, o := range []string{">=", "<=", "==", "!=", ">", "<"} {
		if strings.HasPrefix(s, o) {
			op = o
			break
		}
	}
	if op == "" {
		return "", 0, fmt.Errorf("condition %q must start with one of > >= < <= == !=", s)
	}
	num := strings.TrimSpace(s[len(op):])
	threshold, err = strconv.ParseFloat(num, 64)
	if err != nil || threshold != threshold {
		return "", 0, fmt.Errorf("condition %q: threshold %q is not a number", s, num)
	}
	return op, threshold, nil
}

func parseDoc(root *yaml.Node) (*Config, error) {
	top, err := mapping(root, "the rules file", "rules", "channels")
	if err != nil {
		return nil, err
	}
	cfg := &Config{}
	channels := map[string]*yaml.Node{}
	if f, ok := top["channels"]; ok {
		items, err := seq(f.val, "channels")
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			ch, err := parseChannel(it)
			if err != nil {
				return nil, err
			}
			if first, dup := channels[ch.Name]; dup {
				return nil, errAt(it, "duplicate channel %q (first at line %d)", ch.Name, first.Line)
			}
			channels[ch.Name] = it
			cfg.Channels = append(cfg.Channels, ch)
		}
	}
	f, ok := top["rules"]
	if !ok {
		return nil, errAt(root, "the rules file has no rules")
	}
	items, err := seq(f.val, "rules")
	if err != nil {
		return nil, err
	}
	names := map[string]*yaml.Node{}
	for _, it := range items {
		r, err := parseRule(it, channels)
		if err != nil {
			return nil, err
		}
		if first, dup := names[r.Name]; dup {
			return nil, errAt(it, "duplicate rule %q (first at line %d)", r.Name, first.Line)
		}
		names[r.Name] = it
		cfg.Rules = append(cfg.Rules, r)
	}
	return cfg, nil
}

func parseChannel(n *yaml.Node) (ChannelConfig, error) {
	var ch ChannelConfig
	m, err := mapping(n, "a channel", "name", "type", "url", "pipeline", "params")
	if err != nil {
		return ch, err
	}
	for _, req := range []string{"name", "type"} {
		if _, ok := m[req]; !ok {
			return ch, errAt(n, "a channel needs %q", req)
		}
	}
	if ch.Name, err = nonEmpty(m["name"].val, "channel name"); err != nil {
		return ch, err
	}
	if !nameRE.MatchString(ch.Name) {
		return ch, errAt(m["name"].val, "channel name %q: use letters, digits, '_', '.', ':' and '-'", ch.Name)
	}
	if ch.Type, err = nonEmpty(m["type"].val, "channel type"); err != nil {
		return ch, err
	}
	switch ch.Type {
	case ChannelWebhook, ChannelSlack:
		f, ok := m["url"]
		if !ok {
			return ch, errAt(n, "channel %q of type %s needs a url", ch.Name, ch.Type)
		}
		if ch.URL, err = nonEmpty(f.val, "url"); err != nil {
			return ch, err
		}
		u, perr := url.Parse(ch.URL)
		if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return ch, errAt(f.val, "url %q must be an absolute http or https URL", ch.URL)
		}
	case ChannelLog:
		if f, ok := m["url"]; ok {
			return ch, errAt(f.key, "a log channel takes no url")
		}
	case ChannelPipeline:
		f, ok := m["pipeline"]
		if !ok {
			return ch, errAt(n, "channel %q of type pipeline needs the pipeline to start", ch.Name)
		}
		if ch.Pipeline, err = nonEmpty(f.val, "pipeline"); err != nil {
			return ch, err
		}
		if f, ok := m["params"]; ok {
			if err := resolve(f.val).Decode(&ch.Params); err != nil {
				return ch, errAt(f.val, "params must map names to values: %v", err)
			}
		}
	default:
		return ch, errAt(m["type"].val, "unknown channel type %q (webhook, slack, log or pipeline)", ch.Type)
	}
	for _, k := range []string{"pipeline", "params"} {
		if f, ok := m[k]; ok && ch.Type != ChannelPipeline {
			return ch, errAt(f.key, "%s applies to pipeline channels", k)
		}
	}
	return ch, nil
}

var ruleFields = []string{"name", "series", "labels", "condition", "for", "absent_for", "severity",
	"group_by", "group_wait", "group_interval", "repeat_interval", "annotations", "channels"}

func parseRule(n *yaml.Node, channels map[string]*yaml.Node) (Rule, error) {
	r := Rule{Severity: SeverityWarning, RepeatInterval: DefaultRepeatInterval, GroupInterval: DefaultGroupInterval}
	m, err := mapping(n, "a rule", ruleFields...)
	if err != nil {
		return r, err
	}
	for _, req := range []string{"name", "series", "condition"} {
		if _, ok := m[req]; !ok {
			return r, errAt(n, "a rule needs %q", req)
		}
	}
	if r.Name, err = nonEmpty(m["name"].val, "rule name"); err != nil {
		return r, err
	}
	if !nameRE.MatchString(r.Name) {
		return r, errAt(m["name"].val, "rule name %q: use letters, digits, '_', '.', ':' and '-'", r.Name)
	}
	if r.Series, err = nonEmpty(m["series"].val, "series"); err != nil {
		return r, err
	}
	cond, err := nonEmpty(m["condition"].val, "condition")
	if err != nil {
		return r, err
	}
	if r.Op, r.Threshold, err = ParseCondition(cond); err != nil {
		return r, errAt(m["condition"].val, "%v", err)
	}
	if f, ok := m["labels"]; ok {
		pairs, err := strMap(f.val, "labels")
		if err != nil {
			return r, err
		}
		for _, p := range pairs {
			if !labelRE.MatchString(p.key.Value) {
				return r, errAt(p.key, "invalid label name %q", p.key.Value)
			}
			v, err := scalar(p.val, "label "+p.key.Value)
			if err != nil {
				return r, err
			}
			mt := Matcher{Name: p.key.Value, Value: v}
			if expr, ok := strings.CutPrefix(v, "=~"); ok {
				re, err := regexp.Compile("^(?:" + expr + ")$")
				if err != nil {
					return r, errAt(p.val, "label %s: invalid regular expression: %v", p.key.Value, err)
				}
				mt.Value, mt.Regex = expr, re
			}
			r.Matchers = append(r.Matchers, mt)
		}
	}
	durs := []struct {
		key string
		dst *time.Duration
	}{{"for", &r.For}, {"absent_for", &r.AbsentFor}, {"group_wait", &r.GroupWait},
		{"group_interval", &r.GroupInterval}, {"repeat_interval", &r.RepeatInterval}}
	for _, d := range durs {
		if f, ok := m[d.key]; ok {
			if *d.dst, err = duration(f.val, d.key); err != nil {
				return r, err
			}
		}
	}
	for _, d := range []string{"group_interval", "repeat_interval"} {
		if f, ok := m[d]; ok && ((d == "group_interval" && r.GroupInterval == 0) || (d == "repeat_interval" && r.RepeatInterval == 0)) {
			return r, errAt(f.val, "%s must be positive", d)
		}
	}
	if f, ok := m["severity"]; ok {
		s, err := nonEmpty(f.val, "severity")
		if err != nil {
			return r, err
		}
		switch Severity(s) {
		case SeverityCritical, SeverityWarning, SeverityInfo:
			r.Severity = Severity(s)
		default:
			return r, errAt(f.val, "unknown severity %q (critical, warning or info)", s)
		}
	}
	if f, ok := m["group_by"]; ok {
		items, err := seq(f.val, "group_by")
		if err != nil {
			return r, err
		}
		for _, it := range items {
			s, err := nonEmpty(it, "group_by label")
			if err != nil {
				return r, err
			}
			if !labelRE.MatchString(s) {
				return r, errAt(it, "invalid label name %q in group_by", s)
			}
			r.GroupBy = append(r.GroupBy, s)
		}
	}
	if f, ok := m["annotations"]; ok {
		pairs, err := strMap(f.val, "annotations")
		if err != nil {
			return r, err
		}
		r.Annotations = map[string]string{}
		r.templates = map[string]*template.Template{}
		for _, p := range pairs {
			text, err := scalar(p.val, "annotation "+p.key.Value)
			if err != nil {
				return r, err
			}
			t, err := template.New(p.key.Value).Option("missingkey=zero").Parse(text)
			if err != nil {
				return r, errAt(p.val, "annotation %s: %v", p.key.Value, err)
			}
			r.Annotations[p.key.Value] = text
			r.templates[p.key.Value] = t
		}
	}
	if f, ok := m["channels"]; ok {
		items, err := seq(f.val, "channels")
		if err != nil {
			return r, err
		}
		for _, it := range items {
			s, err := nonEmpty(it, "channel")
			if err != nil {
				return r, err
			}
			if _, ok := channels[s]; !ok {
				return r, errAt(it, "rule %q uses undeclared channel %q", r.Name, s)
			}
			if contains(r.Channels, s) {
				return r, errAt(it, "channel %q listed twice", s)
			}
			r.Channels = append(r.Channels, s)
		}
	}
	return r, nil
}
