package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ferry-ml/ferry/internal/alert"
)

const alertsListUsage = `Usage: ferry alerts list

List the pending and firing alerts: RULE, STATE, LABELS (the rule's name,
alertname, left out), VALUE (the series' value at the last evaluation), SINCE
(when it started pending, or fired) and SILENCED (a silenced alert keeps its
state but sends nothing). With --json, the server's answer, annotations
included.
`

const alertsRulesUsage = `Usage: ferry alerts rules [--document]

Show the alert rules in force and where they come from: set through the API
(ferry alerts rules set), the server's alert_rules file, or none. A table of
NAME, SERIES, LABELS, CONDITION, FOR, SEVERITY, GROUP BY and CHANNELS.

Flags:
  --document   print the YAML rules document in force instead, so that it can
               be saved, edited and set again:
                 ferry alerts rules --document > rules.yaml
`

const alertsRulesSetUsage = `Usage: ferry alerts rules set FILE

Put the YAML rules document in FILE (the alert_rules file's format: rules and
channels; see docs/monitoring.md) in force at once, over the alert_rules file
and across restarts. Rules whose definition is unchanged keep their alerts'
state. The server checks the document: a mistake is reported with its line,
and the rules in force stay (exit status 1).
`

const alertsRulesResetUsage = `Usage: ferry alerts rules reset

Drop the rules set through the API: the server's alert_rules file (if any) is
in force again, and the rules now in force are shown.
`

const alertsHistoryUsage = `Usage: ferry alerts history [--rule R] [--kind transition|notification] [--since T] [--until T] [--max N]

List the alert history, newest first: TIME, RULE, KIND and WHAT — for a
transition its states, the value and the alert's labels; for a notification
the channel, firing or resolved, the attempt and its outcome (the error of a
failed one) and what it started (a pipeline channel's run).

Flags:
  --rule R     only rule R's events
  --kind K     only transitions or only notifications
  --since T    only events from T on
  --until T    only events before T
  --max N      show at most N events (default 1000, at most 10000)
T is Unix milliseconds, an RFC 3339 time (2024-03-01T12:00:00Z) or a duration
ago (90m, 36h, 7d).
`

const silenceAddUsage = `Usage: ferry alerts silence add MATCHER... [--duration D | --until T] [--comment TEXT]

Silence the alerts whose labels match every MATCHER, from now for --duration
(default 1h) or until --until, and print the new silence's id. A silenced
alert keeps its state but sends no notification; the silence is kept across
restarts. MATCHER is amtool's name=value (name="quoted value" too); a first
argument without '=' is the rule's name, as alertname=NAME:

  ferry alerts silence add data-drift endpoint=fraud --duration 2h --comment "retraining"

Ferry's silences match labels by equality only: name=~regex, name!=value and
name!~regex are refused.

Flags:
  --duration D   how long the silence lasts (30m, 2h, 7d; default 1h)
  --until T      when it ends instead: an RFC 3339 time or Unix milliseconds
  --comment TEXT why (shown by ferry alerts silence list)
`

const silenceListUsage = `Usage: ferry alerts silence list [--expired] [-q]

List the pending and active silences: ID, MATCHERS, STATE, STARTS, ENDS,
CREATED BY, COMMENT. With --json, the server's answer: every silence, with
its state.

Flags:
  --expired   list the expired silences instead
  -q, --quiet print only the ids, one a line:
                ferry alerts silence list -q | xargs -r ferry alerts silence expire
`

const silenceExpireUsage = `Usage: ferry alerts silence expire ID...

End the silences with these ids now (they stay listed, expired, until
monitor_retention prunes them: 'silence list --expired'); the alerts they held
back notify at the next evaluation. An expired silence is left as it is.
Stops at the first id that fails.
`

type alertItem struct {
	Rule        string            `json:"rule"`
	State       string            `json:"state"`
	Labels      map[string]string `json:"labels"`
	Value       *float64          `json:"value"`
	ActiveAt    time.Time         `json:"active_at"`
	FiredAt     *time.Time        `json:"fired_at"`
	Silenced    bool              `json:"silenced"`
	Annotations map[string]string `json:"annotations"`
}

// fmtTimeOf renders a time from the API; the zero time is "-".
func fmtTimeOf(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return fmtTime(t.UnixMilli())
}

// labelsCell renders labels as name=value pairs by name, without those
// named in skip.
func labelsCell(labels map[string]string, skip ...string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		if !slices.Contains(skip, k) {
			parts = append(parts, k+"="+labels[k])
		}
	}
	return cell(strings.Join(parts, ","), 0)
}

func valueCell(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmtFloat(*v, 4)
}

func alertsList(*flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	return func(ctx context.Context, s *session, args []string) error {
		if len(args) > 0 {
			return usagef("unexpected argument %q", args[0])
		}
		var out struct {
			Alerts []alertItem `json:"alerts"`
		}
		raw, err := s.client.callV1(ctx, http.MethodGet, "alerts", nil, nil, &out)
		if err != nil {
			return err
		}
		if s.json {
			return writeJSON(s.stdout, raw)
		}
		if len(out.Alerts) == 0 {
			return writeString(s.stderr, "no pending or firing alerts\n")
		}
		t := newTable(s.stdout)
		t.row("RULE", "STATE", "LABELS", "VALUE", "SINCE", "SILENCED")
		for _, a := range out.Alerts {
			since := a.ActiveAt
			if a.FiredAt != nil && !a.FiredAt.IsZero() {
				since = *a.FiredAt
			}
			silenced := "no"
			if a.Silenced {
				silenced = "yes"
			}
			t.row(cell(a.Rule, 0), cell(a.State, 0), labelsCell(a.Labels, "alertname"), valueCell(a.Value), fmtTimeOf(since), silenced)
		}
		return t.flush()
	}
}

type ruleItem struct {
	Name      string            `json:"name"`
	Series    string            `json:"series"`
	Labels    map[string]string `json:"labels"`
	Condition string            `json:"condition"`
	For       string            `json:"for"`
	Severity  string            `json:"severity"`
	GroupBy   []string          `json:"group_by"`
	Channels  []string          `json:"channels"`
}

type rulesAnswer struct {
	Rules     []ruleItem `json:"rules"`
	Source    string     `json:"source"`
	Document  string     `json:"document"`
	UpdatedAt int64      `json:"updated_at"`
	UpdatedBy string     `json:"updated_by"`
}

// rulesText says where the rules in force come from and lists them.
func rulesText(r rulesAnswer) (string, error) {
	var b strings.Builder
	switch r.Source {
	case "api":
		fmt.Fprintf(&b, "Alert rules: set through the API by %s at %s (ferry alerts rules reset goes back to the alert_rules file)\n",
			cell(r.UpdatedBy, 0), fmtTime(r.UpdatedAt))
	case "file":
		b.WriteString("Alert rules: the server's alert_rules file\n")
	case "":
		b.WriteString("Alert rules: none (the server has no alert_rules file, and none were set through the API)\n")
	default:
		fmt.Fprintf(&b, "Alert rules: %s\n", cell(r.Source, 0))
	}
	if len(r.Rules) == 0 {
		if r.Source != "" {
			b.WriteString("No rules.\n")
		}
		return b.String(), nil
	}
	t := newTable(&b)
	t.row("NAME", "SERIES", "LABELS", "CONDITION", "FOR", "SEVERITY", "GROUP BY", "CHANNELS")
	for _, rl := range r.Rules {
		var labels []string
		for _, k := range slices.Sorted(maps.Keys(rl.Labels)) {
			v := rl.Labels[k]
			if !strings.HasPrefix(v, "=~") { // the API writes a regex matcher as "=~RE"
				v = "=" + v
			}
			labels = append(labels, k+v)
		}
		t.row(cell(rl.Name, 0), cell(rl.Series, 0), cell(strings.Join(labels, ","), 0), cell(rl.Condition, 0), cell(rl.For, 0),
			cell(rl.Severity, 0), cell(strings.Join(rl.GroupBy, ","), 0), cell(strings.Join(rl.Channels, ","), 0))
	}
	if err := t.flush(); err != nil {
		return "", err
	}
	return b.String(), nil
}

// printRules prints the API's rules answer: JSON, or rulesText after head.
func printRules(s *session, raw json.RawMessage, r rulesAnswer, head string) error {
	if s.json {
		return writeJSON(s.stdout, raw)
	}
	text, err := rulesText(r)
	if err != nil {
		return err
	}
	return writeString(s.stdout, head+text)
}

func alertsRules(fs *flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	document := fs.Bool("document", false, "")
	return func(ctx context.Context, s *session, args []string) error {
		if len(args) > 0 {
			if args[0] == "show" || args[0] == "get" {
				args = args[1:] // ferry alerts rules show
			}
			if len(args) > 0 {
				return usagef("unexpected argument %q (ferry alerts rules set FILE sets the rules)", args[0])
			}
		}
		var r rulesAnswer
		raw, err := s.client.callV1(ctx, http.MethodGet, "alerts/rules", nil, nil, &r)
		if err != nil {
			return err
		}
		if *document && !s.json {
			if strings.TrimSpace(r.Document) == "" {
				fmt.Fprintln(s.stderr, "ferry: no alert rules are in force (the server has no alert_rules file, and none were set through the API)")
				return nil
			}
			return writeString(s.stdout, ensureNewline(r.Document))
		}
		return printRules(s, raw, r, "")
	}
}

func alertsRulesSet(*flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	return func(ctx context.Context, s *session, args []string) error {
		file, err := oneArg(args, "FILE (the YAML rules document)")
		if err != nil {
			return err
		}
		doc, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		if strings.TrimSpace(string(doc)) == "" {
			return fmt.Errorf("%s is empty; `ferry alerts rules reset` goes back to the alert_rules file, a document `rules: []` sets no rules", file)
		}
		var r rulesAnswer
		raw, err := s.client.callV1(ctx, http.MethodPut, "alerts/rules", nil, rawBody{contentType: "application/yaml", data: doc}, &r)
		if err != nil {
			var ae *apiError
			if errors.As(err, &ae) && ae.Status == http.StatusBadRequest {
				return fmt.Errorf("%s: %w (the rules in force are unchanged)", file, err)
			}
			return err
		}
		return printRules(s, raw, r, fmt.Sprintf("Set the alert rules from %s; they are in force now.\n", oneLine(file, 0)))
	}
}

func alertsRulesReset(*flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	return func(ctx context.Context, s *session, args []string) error {
		if len(args) > 0 {
			return usagef("unexpected argument %q", args[0])
		}
		var r rulesAnswer
		raw, err := s.client.callV1(ctx, http.MethodDelete, "alerts/rules", nil, nil, &r)
		if err != nil {
			return err
		}
		return printRules(s, raw, r, "Dropped the alert rules set through the API.\n")
	}
}

type alertEvent struct {
	Kind    string            `json:"kind"`
	Time    time.Time         `json:"time"`
	Rule    string            `json:"rule"`
	Labels  map[string]string `json:"labels"`
	From    string            `json:"from"`
	To      string            `json:"to"`
	Value   *float64          `json:"value"`
	Channel string            `json:"channel"`
	Status  string            `json:"status"`
	Alerts  int               `json:"alerts"`
	Attempt int               `json:"attempt"`
	Error   string            `json:"error"`
	Target  string            `json:"target"`
}

// what describes an event for the history's WHAT column.
func (e alertEvent) what() string {
	if e.Kind == string(alert.EventTransition) {
		w := e.From + " → " + e.To
		if e.Value != nil {
			w += " (value " + fmtFloat(*e.Value, 4) + ")"
		}
		if l := labelsCell(e.Labels, "alertname"); l != "-" {
			w += " {" + l + "}"
		}
		return cell(w, 0)
	}
	w := "channel " + e.Channel + ": " + e.Status
	if e.Alerts > 0 {
		w += fmt.Sprintf(" (%d alert%s)", e.Alerts, map[bool]string{true: "", false: "s"}[e.Alerts == 1])
	}
	if e.Attempt > 0 {
		w += fmt.Sprintf(", attempt %d", e.Attempt)
	}
	if e.Error != "" {
		w += ", failed: " + e.Error
	} else {
		w += ", sent"
	}
	if e.Target != "" {
		w += ", started " + e.Target
	}
	return cell(w, 0)
}

func alertsHistory(fs *flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	rule := fs.String("rule", "", "")
	kind := fs.String("kind", "", "")
	since := fs.String("since", "", "")
	until := fs.String("until", "", "")
	maxEvents := fs.Int("max", 0, "")
	return func(ctx context.Context, s *session, args []string) error {
		if len(args) > 0 {
			return usagef("unexpected argument %q", args[0])
		}
		q := url.Values{}
		if *rule != "" {
			q.Set("rule", *rule)
		}
		switch *kind {
		case "":
		case string(alert.EventTransition), string(alert.EventNotification):
			q.Set("kind", *kind)
		default:
			return usagef("--kind must be transition or notification, got %q", *kind)
		}
		now := time.Now()
		for _, f := range []struct{ name, v string }{{"since", *since}, {"until", *until}} {
			if f.v == "" {
				continue
			}
			t, err := parseWhen(f.v, now)
			if err != nil {
				return usagef("--%s: %v", f.name, err)
			}
			q.Set(f.name, strconv.FormatInt(t.UnixMilli(), 10))
		}
		switch {
		case *maxEvents < 0 || *maxEvents > alert.MaxHistoryLimit:
			return usagef("--max must be 1 to %d (0: the server's default, 1000), got %d", alert.MaxHistoryLimit, *maxEvents)
		case *maxEvents > 0:
			q.Set("max_results", strconv.Itoa(*maxEvents))
		}
		var out struct {
			Events []alertEvent `json:"events"`
		}
		raw, err := s.client.callV1(ctx, http.MethodGet, "alerts/history", q, nil, &out)
		if err != nil {
			return err
		}
		if s.json {
			return writeJSON(s.stdout, raw)
		}
		if len(out.Events) == 0 {
			return writeString(s.stderr, "no alert history\n")
		}
		t := newTable(s.stdout)
		t.row("TIME", "RULE", "KIND", "WHAT")
		for _, e := range out.Events {
			t.row(fmtTimeOf(e.Time), cell(e.Rule, 0), cell(e.Kind, 0), e.what())
		}
		return t.flush()
	}
}

var (
	labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	ruleNameRE  = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.:-]*$`)
)

// parseMatcher reads one of amtool's matchers, of which Ferry's silences
// take the equality ones: name=value, or name="value" with Go/PromQL
// escapes. Regex and negative matchers are refused with the reason.
func parseMatcher(arg string) (name, value string, err error) {
	s := strings.TrimSpace(arg)
	i := strings.IndexAny(s, "=!~")
	if i < 0 {
		return "", "", fmt.Errorf("%q is not a matcher: use name=value", arg)
	}
	name, rest := s[:i], s[i:]
	switch {
	case strings.HasPrefix(rest, "=~"), strings.HasPrefix(rest, "!~"):
		return "", "", fmt.Errorf("%q: regex matchers (%s) are not supported: silences match labels by equality only (name=value)", arg, rest[:2])
	case strings.HasPrefix(rest, "!="):
		return "", "", fmt.Errorf("%q: negative matchers (!=) are not supported: silences match labels by equality only (name=value)", arg)
	case !strings.HasPrefix(rest, "="):
		return "", "", fmt.Errorf("%q is not a matcher: use name=value", arg)
	}
	value = rest[1:]
	if !labelNameRE.MatchString(name) {
		return "", "", fmt.Errorf("%q: %q is not a label name (letters, digits and '_', not starting with a digit)", arg, name)
	}
	if strings.HasPrefix(value, `"`) {
		v, err := strconv.Unquote(value)
		if err != nil {
			return "", "", fmt.Errorf("%q: the quoted value is not a complete double-quoted string", arg)
		}
		value = v
	}
	if !utf8.ValidString(value) {
		return "", "", fmt.Errorf("%q: the value is not valid UTF-8", arg)
	}
	return name, value, nil
}

type matcherBody struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	IsRegex bool   `json:"isRegex"`
}

type silenceItem struct {
	ID        string        `json:"id"`
	Matchers  []matcherBody `json:"matchers"`
	StartsAt  time.Time     `json:"startsAt"`
	EndsAt    time.Time     `json:"endsAt"`
	Comment   string        `json:"comment"`
	CreatedBy string        `json:"createdBy"`
	State     string        `json:"state"`
}

// parseUntil reads an end time: RFC 3339 or Unix milliseconds.
func parseUntil(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
		return time.UnixMilli(n), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time (2024-03-01T12:00:00Z) or Unix milliseconds; for a length, use --duration", v)
}

func silenceAdd(fs *flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	duration := fs.String("duration", "", "")
	until := fs.String("until", "", "")
	comment := fs.String("comment", "", "")
	return func(ctx context.Context, s *session, args []string) error {
		if len(args) == 0 {
			return usagef("missing MATCHER (name=value, such as endpoint=fraud)")
		}
		var matchers []matcherBody
		seen := map[string]bool{}
		for i, a := range args {
			name, value := "alertname", a
			if i > 0 || strings.ContainsAny(a, "=!~") || !ruleNameRE.MatchString(a) {
				var err error
				if name, value, err = parseMatcher(a); err != nil {
					return &usageError{msg: err.Error()}
				}
			}
			if seen[name] {
				return usagef("label %q is matched twice", name)
			}
			seen[name] = true
			matchers = append(matchers, matcherBody{Name: name, Value: value})
		}
		body := map[string]any{"matchers": matchers}
		switch {
		case *duration != "" && *until != "":
			return usagef("give --duration or --until, not both")
		case *until != "":
			t, err := parseUntil(*until)
			if err != nil {
				return usagef("--until: %v", err)
			}
			if !t.After(time.Now()) {
				return usagef("--until %s is not in the future", t.UTC().Format(time.RFC3339))
			}
			body["endsAt"] = t.UTC()
		default:
			d := "1h"
			if *duration != "" {
				d = *duration
			}
			if n, err := alert.ParseDuration(d); err != nil || n <= 0 {
				return usagef("--duration: %q is not a positive duration such as 30m, 2h or 7d", d)
			}
			body["duration"] = d
		}
		if *comment != "" {
			body["comment"] = *comment
		}
		var out struct {
			SilenceID string `json:"silenceID"`
		}
		raw, err := s.client.callV1(ctx, http.MethodPost, "alerts/silences", nil, body, &out)
		if err != nil {
			return err
		}
		if s.json {
			return writeJSON(s.stdout, raw)
		}
		return writeString(s.stdout, out.SilenceID+"\n")
	}
}

func silenceList(fs *flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	expired := fs.Bool("expired", false, "")
	var quiet bool
	fs.BoolVar(&quiet, "quiet", false, "")
	fs.BoolVar(&quiet, "q", false, "")
	return func(ctx context.Context, s *session, args []string) error {
		if len(args) > 0 {
			return usagef("unexpected argument %q", args[0])
		}
		var out struct {
			Silences []silenceItem `json:"silences"`
		}
		raw, err := s.client.callV1(ctx, http.MethodGet, "alerts/silences", nil, nil, &out)
		if err != nil {
			return err
		}
		if s.json {
			return writeJSON(s.stdout, raw)
		}
		var shown []silenceItem
		for _, sl := range out.Silences {
			if (sl.State == "expired") == *expired {
				shown = append(shown, sl)
			}
		}
		if quiet {
			var b strings.Builder
			for _, sl := range shown {
				b.WriteString(sl.ID + "\n")
			}
			return writeString(s.stdout, b.String())
		}
		if len(shown) == 0 {
			if *expired {
				return writeString(s.stderr, "no expired silences\n")
			}
			return writeString(s.stderr, "no pending or active silences\n")
		}
		t := newTable(s.stdout)
		t.row("ID", "MATCHERS", "STATE", "STARTS", "ENDS", "CREATED BY", "COMMENT")
		for _, sl := range shown {
			var ms []string
			for _, m := range sl.Matchers {
				ms = append(ms, m.Name+"="+strconv.Quote(m.Value))
			}
			t.row(cell(sl.ID, 0), cell(strings.Join(ms, ","), 0), cell(sl.State, 0), fmtTimeOf(sl.StartsAt), fmtTimeOf(sl.EndsAt),
				cell(sl.CreatedBy, 0), cell(sl.Comment, 40))
		}
		return t.flush()
	}
}

func silenceExpire(*flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	return func(ctx context.Context, s *session, args []string) error {
		if len(args) == 0 {
			return usagef("missing ID (ferry alerts silence list shows the ids)")
		}
		for _, id := range args {
			if strings.TrimSpace(id) == "" {
				return usagef("an ID is empty")
			}
		}
		for _, id := range args {
			raw, err := s.client.callV1(ctx, http.MethodDelete, "alerts/silences/"+url.PathEscape(id), nil, nil, nil)
			if err != nil {
				return err
			}
			if s.json {
				err = writeJSON(s.stdout, raw)
			} else {
				err = writeString(s.stdout, "Expired silence "+cell(id, 0)+".\n")
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
}
