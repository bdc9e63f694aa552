package alert

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"maps"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// Sample is the current value of one series, fed to Evaluate.
type Sample struct {
	Series string
	Labels map[string]string
	Value  float64
	Time   time.Time
}

// State of an alert. Inactive and resolved alerts are not kept: they appear
// only in transitions.
type State string

// Alert states.
const (
	StateInactive State = "inactive"
	StatePending  State = "pending"
	StateFiring   State = "firing"
	StateResolved State = "resolved"
)

// Alert is a snapshot of one pending or firing alert.
type Alert struct {
	Rule        string
	Fingerprint string
	Labels      map[string]string
	Annotations map[string]string
	State       State
	Value       float64
	ActiveAt    time.Time // condition first true
	FiredAt     time.Time // zero while pending
	Silenced    bool      // at the last evaluation
}

// Options configure an Engine; the zero value gives the defaults.
type Options struct {
	History     History       // default: discard
	Logger      *slog.Logger  // default: slog.Default()
	HTTPClient  *http.Client  // default: a client without a global timeout
	Timeout     time.Duration // per delivery attempt, default 10s
	MaxAttempts int           // delivery attempts per notification, default 3
	Backoff     time.Duration // wait before the second attempt, doubled after; default 1s
	QueueSize   int           // notifications waiting per channel, default 256
	ExternalURL string        // sent as externalURL and the base of generatorURL
	// Trigger starts pipelines for pipeline channels (nil: such channels
	// are refused).
	Trigger Trigger
}

// Engine evaluates rules against samples and sends group notifications.
// Its methods are safe for concurrent use.
type Engine struct {
	opts Options
	disp *dispatcher

	mu       sync.Mutex
	rules    []*ruleState
	silences map[string]Silence
	retired  bool // adopted by another engine: Evaluate does nothing
}

type ruleState struct {
	rule   *Rule
	alerts map[string]*entry
	groups map[string]*group
}

type entry struct {
	fp          string
	labels      map[string]string
	annotations map[string]string
	value       float64
	state       State
	activeAt    time.Time
	firedAt     time.Time
	resolvedAt  time.Time
	lastSeen    time.Time
	silenced    bool
	group       string
}

type group struct {
	key        string
	labels     map[string]string
	created    time.Time
	notified   bool
	lastSent   time.Time
	sentFiring map[string]bool   // fingerprints in the last notification as firing
	resolved   map[string]*entry // resolved since, and notified as firing before
}

type discardHistory struct{}

func (discardHistory) Record(context.Context, Event) error { return nil }

// New builds an engine for cfg and starts one delivery worker per channel.
// Close stops them.
func New(cfg *Config, opts Options) (*Engine, error) {
	if cfg == nil {
		return nil, errdefs.InvalidArgument("alert: no configuration")
	}
	if opts.History == nil {
		opts.History = discardHistory{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{}
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 3
	}
	if opts.Backoff <= 0 {
		opts.Backoff = time.Second
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 256
	}
	chans := map[string]channel{}
	for _, c := range cfg.Channels {
		ch, err := newChannel(c, opts.HTTPClient, opts.Logger, opts.Trigger)
		if err != nil {
			return nil, errdefs.InvalidArgument("alert: %v", err)
		}
		chans[c.Name] = ch
	}
	e := &Engine{opts: opts, silences: map[string]Silence{}}
	for i := range cfg.Rules {
		r := cfg.Rules[i]
		if r.Name == "" || r.Series == "" {
			return nil, errdefs.InvalidArgument("alert: rule %d needs a name and a series", i+1)
		}
		if !contains([]string{">", ">=", "<", "<=", "==", "!="}, r.Op) {
			return nil, errdefs.InvalidArgument("alert: rule %s: unknown operator %q", r.Name, r.Op)
		}
		for _, c := range r.Channels {
			if _, ok := chans[c]; !ok {
				return nil, errdefs.InvalidArgument("alert: rule %s uses undeclared channel %s", r.Name, c)
			}
		}
		if r.RepeatInterval <= 0 {
			r.RepeatInterval = DefaultRepeatInterval
		}
		if r.GroupInterval <= 0 {
			r.GroupInterval = DefaultGroupInterval
		}
		e.rules = append(e.rules, &ruleState{rule: &r, alerts: map[string]*entry{}, groups: map[string]*group{}})
	}
	e.disp = newDispatcher(chans, opts.QueueSize, opts)
	return e, nil
}

// Flush waits until every notification queued so far has been delivered or
// has failed its last attempt.
func (e *Engine) Flush(ctx context.Context) error { return e.disp.flush(ctx) }

// Close stops the engine: queued notifications are attempted until ctx ends,
// then in-flight deliveries are cancelled.
func (e *Engine) Close(ctx context.Context) error { return e.disp.close(ctx) }

// AddSilence adds or replaces (same ID) a silence.
func (e *Engine) AddSilence(s Silence) error {
	if err := s.Validate(); err != nil {
		return err
	}
	s.Matchers = maps.Clone(s.Matchers)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.silences[s.ID] = s
	return nil
}

// Silences lists the silences, expired ones included, by ID.
func (e *Engine) Silences() []Silence {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := slices.Collect(maps.Values(e.silences))
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Adopt takes over the state — pending and firing alerts, notification
// groups — of old's rules whose definition e holds unchanged, so that
// replacing a rules document neither restarts their `for` nor notifies
// (or starts a pipeline) again; changed and new rules start afresh. It
// returns how many rules kept their state. old evaluates nothing
// afterwards.
func (e *Engine) Adopt(old *Engine) int {
	old.mu.Lock()
	defer old.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	prev := map[string]*ruleState{}
	for _, rs := range old.rules {
		prev[rs.rule.definition()] = rs
	}
	n := 0
	for _, rs := range e.rules {
		if o, ok := prev[rs.rule.definition()]; ok {
			rs.alerts, rs.groups = o.alerts, o.groups
			o.alerts, o.groups = map[string]*entry{}, map[string]*group{}
			n++
		}
	}
	old.retired = true
	return n
}

// Rules returns the rules evaluated, in file order.
func (e *Engine) Rules() []Rule {
	out := make([]Rule, len(e.rules))
	for i, rs := range e.rules {
		out[i] = *rs.rule
	}
	return out
}

// Alerts returns the pending and firing alerts, by rule then fingerprint.
func (e *Engine) Alerts() []Alert {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Alert
	for _, rs := range e.rules {
		for _, fp := range slices.Sorted(maps.Keys(rs.alerts)) {
			a := rs.alerts[fp]
			out = append(out, Alert{Rule: rs.rule.Name, Fingerprint: fp, Labels: maps.Clone(a.labels),
				Annotations: maps.Clone(a.annotations), State: a.state, Value: a.value,
				ActiveAt: a.activeAt, FiredAt: a.firedAt, Silenced: a.silenced})
		}
	}
	return out
}

// Evaluate runs every rule against samples, the current value of each
// monitored series at now, and queues the notifications due. A series the
// samples leave out counts as absent: after the rule's absent_for (default:
// immediately, like Prometheus) its firing alert resolves and its pending
// alert is dropped. Time moves only through now, so callers and tests drive
// it explicitly.
func (e *Engine) Evaluate(ctx context.Context, now time.Time, samples []Sample) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.retired {
		return nil
	}
	for _, rs := range e.rules {
		e.evalRule(ctx, rs, now, samples)
	}
	return nil
}

func (e *Engine) evalRule(ctx context.Context, rs *ruleState, now time.Time, samples []Sample) {
	r := rs.rule
	type cur struct {
		labels map[string]string
		s      Sample
	}
	current := map[string]cur{}
	for _, s := range samples {
		if !r.selects(s) {
			continue
		}
		labels := make(map[string]string, len(s.Labels)+2)
		maps.Copy(labels, s.Labels)
		labels["alertname"] = r.Name
		if r.Severity != "" {
			labels["severity"] = string(r.Severity)
		}
		fp := fingerprint(labels)
		if prev, ok := current[fp]; ok && prev.s.Time.After(s.Time) {
			continue
		}
		current[fp] = cur{labels, s}
	}
	for _, fp := range slices.Sorted(maps.Keys(current)) {
		c := current[fp]
		a := rs.alerts[fp]
		if !compare(r.Op, c.s.Value, r.Threshold) {
			if a != nil {
				e.deactivate(ctx, rs, a, now, c.s.Value)
			}
			continue
		}
		if a == nil {
			a = &entry{fp: fp, labels: c.labels, state: StateInactive, activeAt: now}
			rs.alerts[fp] = a
			e.transition(ctx, r, a, StatePending, now, c.s.Value)
		}
		a.value, a.lastSeen = c.s.Value, now
		a.annotations = render(r, a.labels, a.value)
		if a.state == StatePending && now.Sub(a.activeAt) >= r.For {
			a.firedAt = now
			e.transition(ctx, r, a, StateFiring, now, c.s.Value)
		}
	}
	for _, fp := range slices.Sorted(maps.Keys(rs.alerts)) {
		if _, ok := current[fp]; ok {
			continue
		}
		if a := rs.alerts[fp]; now.Sub(a.lastSeen) >= r.AbsentFor {
			e.deactivate(ctx, rs, a, now, math.NaN())
		}
	}
	e.notifyGroups(ctx, rs, now)
}

// deactivate ends an alert whose condition is false or whose series is gone.
func (e *Engine) deactivate(ctx context.Context, rs *ruleState, a *entry, now time.Time, v float64) {
	delete(rs.alerts, a.fp)
	if a.state == StatePending {
		e.transition(ctx, rs.rule, a, StateInactive, now, v)
		return
	}
	a.resolvedAt = now
	e.transition(ctx, rs.rule, a, StateResolved, now, v)
	if g := rs.groups[a.group]; g != nil && g.sentFiring[a.fp] {
		g.resolved[a.fp] = a
	}
}

func (e *Engine) transition(ctx context.Context, r *Rule, a *entry, to State, now time.Time, v float64) {
	ev := Event{Kind: EventTransition, Time: now, Rule: r.Name, Fingerprint: a.fp,
		Labels: maps.Clone(a.labels), From: a.state, To: to, Value: v}
	a.state = to
	if err := e.opts.History.Record(ctx, ev); err != nil {
		e.opts.Logger.WarnContext(ctx, "alert history", "rule", r.Name, "err", err)
	}
}

func (e *Engine) silenced(labels map[string]string, now time.Time) bool {
	for _, s := range e.silences {
		if s.Active(now) && s.Matches(labels) {
			return true
		}
	}
	return false
}

func (e *Engine) notifyGroups(ctx context.Context, rs *ruleState, now time.Time) {
	r := rs.rule
	firing := map[string][]*entry{} // group key → unsilenced firing alerts
	members := map[string]bool{}    // groups with any firing alert
	for _, fp := range slices.Sorted(maps.Keys(rs.alerts)) {
		a := rs.alerts[fp]
		if a.state != StateFiring {
			continue
		}
		key, labels := groupKey(r, a.labels)
		g := rs.groups[key]
		if g == nil {
			g = &group{key: key, labels: labels, created: now, sentFiring: map[string]bool{}, resolved: map[string]*entry{}}
			rs.groups[key] = g
		}
		a.group = key
		delete(g.resolved, fp) // firing again before its resolution went out
		members[key] = true
		a.silenced = e.silenced(a.labels, now)
		if !a.silenced {
			firing[key] = append(firing[key], a)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(rs.groups)) {
		g := rs.groups[key]
		f := firing[key]
		if e.due(r, g, f, now) {
			e.send(ctx, r, g, f, now)
		}
		if !members[key] && len(g.resolved) == 0 {
			delete(rs.groups, key)
		}
	}
}

// due decides whether group g is notified now, the way an Alertmanager
// aggregation group does: group_wait before the first notification,
// group_interval before an update whose alerts changed, repeat_interval
// before repeating an unchanged one.
func (e *Engine) due(r *Rule, g *group, firing []*entry, now time.Time) bool {
	if len(firing) == 0 && len(g.resolved) == 0 {
		return false
	}
	if !g.notified {
		return len(firing) > 0 && now.Sub(g.created) >= r.GroupWait
	}
	changed := len(g.resolved) > 0 || len(firing) != len(g.sentFiring)
	for _, a := range firing {
		changed = changed || !g.sentFiring[a.fp]
	}
	if changed {
		return now.Sub(g.lastSent) >= r.GroupInterval
	}
	return now.Sub(g.lastSent) >= r.RepeatInterval
}

func (e *Engine) send(ctx context.Context, r *Rule, g *group, firing []*entry, now time.Time) {
	alerts := make([]WebhookAlert, 0, len(firing)+len(g.resolved))
	sent := map[string]bool{}
	for _, a := range firing {
		alerts = append(alerts, e.webhookAlert(r, a, StatusFiring))
		sent[a.fp] = true
	}
	for _, fp := range slices.Sorted(maps.Keys(g.resolved)) {
		alerts = append(alerts, e.webhookAlert(r, g.resolved[fp], StatusResolved))
	}
	starts := len(firing) > 0 && len(g.sentFiring) == 0 // none sent as firing yet, or all resolved since
	g.notified, g.lastSent, g.sentFiring, g.resolved = true, now, sent, map[string]*entry{}
	for _, c := range r.Channels {
		p := buildPayload(c, g.key, e.opts.ExternalURL, g.labels, alerts)
		e.disp.enqueue(ctx, c, job{rule: r.Name, at: now, payload: p, starts: starts})
	}
}

func (e *Engine) webhookAlert(r *Rule, a *entry, status string) WebhookAlert {
	w := WebhookAlert{Status: status, Labels: maps.Clone(a.labels), Annotations: maps.Clone(a.annotations),
		StartsAt: a.firedAt, Fingerprint: a.fp}
	if w.Annotations == nil {
		w.Annotations = map[string]string{}
	}
	if status == StatusResolved {
		w.EndsAt = a.resolvedAt
	}
	if e.opts.ExternalURL != "" {
		w.GeneratorURL = strings.TrimRight(e.opts.ExternalURL, "/") + "/alerts?rule=" + r.Name
	}
	return w
}

// groupKey names the aggregation group of an alert: the rule and the values
// of its group_by labels (labels the alert lacks are left out).
func groupKey(r *Rule, labels map[string]string) (string, map[string]string) {
	gl := map[string]string{}
	for _, k := range r.GroupBy {
		if v, ok := labels[k]; ok {
			gl[k] = v
		}
	}
	var b strings.Builder
	b.WriteString(r.Name + ":{")
	for i, k := range slices.Sorted(maps.Keys(gl)) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + "=" + strconv.Quote(gl[k]))
	}
	b.WriteByte('}')
	return b.String(), gl
}

// fingerprint hashes a label set (FNV-1a over sorted name/value pairs).
func fingerprint(labels map[string]string) string {
	h := fnv.New64a()
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		h.Write([]byte(k))
		h.Write([]byte{0xff})
		h.Write([]byte(labels[k]))
		h.Write([]byte{0xff})
	}
	return fmt.Sprintf("%016x", h.Sum64())
}
