// Package alert is Ferry's alert-rule engine. Rules name a monitored series,
// label matchers, a threshold condition and a `for` duration, the way
// Prometheus alerting rules do; alerts are grouped, silenced, repeated and
// resolved the way Alertmanager routes do, and notifications go to webhook
// (Alertmanager webhook payload), Slack-compatible and log channels. The
// engine does not know where series come from: the caller feeds the current
// samples at each evaluation tick.
package alert

import (
	"fmt"
	"regexp"
	"text/template"
	"time"
)

// Severity of a rule.
type Severity string

// Severities a rule may carry.
const (
	SeverityCritical Severity = "critical"
	SeverityWarning  Severity = "warning"
	SeverityInfo     Severity = "info"
)

// Channel types.
const (
	ChannelWebhook = "webhook"
	ChannelSlack   = "slack"
	ChannelLog     = "log"
	// ChannelPipeline starts a registered pipeline when its group fires
	// (Options.Trigger): alerts that retrain.
	ChannelPipeline = "pipeline"
)

// Defaults applied by ParseRules when a rule leaves a field out.
const (
	DefaultRepeatInterval = 4 * time.Hour
	DefaultGroupInterval  = 5 * time.Minute
)

// Config is a parsed rules file.
type Config struct {
	Rules    []Rule
	Channels []ChannelConfig
}

// RulesDocument is a rules file kept by the server (set through its API),
// with who set it and when (Unix ms).
type RulesDocument struct {
	Document  string
	UpdatedAt int64
	UpdatedBy string
}

// Rule is one alerting rule.
type Rule struct {
	Name     string
	Series   string
	Matchers []Matcher
	// Op is one of > >= < <= == != and Threshold the value compared with.
	Op        string
	Threshold float64
	// For is how long the condition must hold before pending turns firing.
	For time.Duration
	// AbsentFor is how long a series may be missing from the samples before
	// its alert is resolved (firing) or dropped (pending). Zero, the default,
	// resolves at the first evaluation without the series, as Prometheus does.
	AbsentFor      time.Duration
	Severity       Severity
	GroupBy        []string
	GroupWait      time.Duration
	GroupInterval  time.Duration
	RepeatInterval time.Duration
	// Annotations are Go text/templates over {{.Labels}} and {{.Value}}.
	Annotations map[string]string
	Channels    []string

	templates map[string]*template.Template
}

// Matcher selects series by one label: equal to Value, or, when Regex is
// set, fully matching it (written "=~expr" in YAML).
type Matcher struct {
	Name  string
	Value string
	Regex *regexp.Regexp
}

// Matches reports whether labels satisfy the matcher. A missing label is the
// empty string, as in Prometheus.
func (m Matcher) Matches(labels map[string]string) bool {
	v := labels[m.Name]
	if m.Regex != nil {
		return m.Regex.MatchString(v)
	}
	return v == m.Value
}

// ChannelConfig is one notification channel.
type ChannelConfig struct {
	Name string
	Type string // webhook, slack, log or pipeline
	URL  string
	// Pipeline and Params are a pipeline channel's registered pipeline
	// and the parameters its runs get.
	Pipeline string
	Params   map[string]string
}

// compare applies op; NaN never satisfies any comparison, != included.
func compare(op string, v, threshold float64) bool {
	if v != v { // NaN
		return false
	}
	switch op {
	case ">":
		return v > threshold
	case ">=":
		return v >= threshold
	case "<":
		return v < threshold
	case "<=":
		return v <= threshold
	case "==":
		return v == threshold
	case "!=":
		return v != threshold
	}
	return false
}

func (r *Rule) selects(s Sample) bool {
	if s.Series != r.Series {
		return false
	}
	for _, m := range r.Matchers {
		if !m.Matches(s.Labels) {
			return false
		}
	}
	return true
}

// definition renders everything that decides how the rule evaluates
// and notifies (two rules with the same definition evaluate alike; their
// annotations may differ).
func (r *Rule) definition() string {
	c := *r
	c.templates, c.Annotations = nil, nil // annotations change no evaluation
	ms := make([]string, len(c.Matchers))
	for i, m := range c.Matchers {
		ms[i] = fmt.Sprintf("%s=%q/%t", m.Name, m.Value, m.Regex != nil)
	}
	c.Matchers = nil
	return fmt.Sprintf("%+v %v", c, ms)
}

func (r *Rule) String() string {
	return fmt.Sprintf("%s: %s %s %g", r.Name, r.Series, r.Op, r.Threshold)
}
