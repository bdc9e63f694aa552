package v1

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/ferry-ml/ferry/internal/alert"
	"github.com/ferry-ml/ferry/internal/audit"
	"github.com/ferry-ml/ferry/internal/errdefs"
)

// Alerts is the alerting the API exposes: the engine's rules and alerts,
// the persisted history and silences.
type Alerts interface {
	Rules() []alert.Rule
	// RulesDocument is the rules document in force and its source:
	// "api", "file" (alert_rules) or "" (no rules).
	RulesDocument() (alert.RulesDocument, string)
	PutRules(ctx context.Context, doc string) error
	DeleteRules(ctx context.Context) error
	Active() []alert.Alert
	History(ctx context.Context, q alert.HistoryQuery) ([]alert.Event, error)
	Silences(ctx context.Context) ([]alert.Silence, error)
	AddSilence(ctx context.Context, s alert.Silence) error
	ExpireSilence(ctx context.Context, id string) error
}

func (s *Server) alertsOrUnavailable() (Alerts, error) {
	if s.alerts == nil {
		return nil, errdefs.Unavailable("This server has no alerting.")
	}
	return s.alerts, nil
}

type ruleView struct {
	Name           string            `json:"name"`
	Series         string            `json:"series"`
	Labels         map[string]string `json:"labels,omitempty"`
	Condition      string            `json:"condition"`
	For            string            `json:"for"`
	Severity       string            `json:"severity"`
	GroupBy        []string          `json:"group_by,omitempty"`
	RepeatInterval string            `json:"repeat_interval"`
	Annotations    map[string]string `json:"annotations,omitempty"`
	Channels       []string          `json:"channels,omitempty"`
}

// listAlertRules answers GET /api/v1/alerts/rules.
func (s *Server) listAlertRules(r *http.Request) (any, error) {
	a, err := s.alertsOrUnavailable()
	if err != nil {
		return nil, err
	}
	out := []ruleView{}
	for _, rl := range a.Rules() {
		v := ruleView{Name: rl.Name, Series: rl.Series, Condition: rl.Op + " " + strconv.FormatFloat(rl.Threshold, 'g', -1, 64),
			For: rl.For.String(), Severity: string(rl.Severity), GroupBy: rl.GroupBy, RepeatInterval: rl.RepeatInterval.String(),
			Annotations: rl.Annotations, Channels: rl.Channels}
		for _, m := range rl.Matchers {
			if v.Labels == nil {
				v.Labels = map[string]string{}
			}
			if m.Regex != nil {
				v.Labels[m.Name] = "=~" + m.Value
			} else {
				v.Labels[m.Name] = m.Value
			}
		}
		out = append(out, v)
	}
	doc, source := a.RulesDocument()
	res := map[string]any{"rules": out, "source": source, "document": doc.Document}
	if source == "api" {
		res["updated_at"], res["updated_by"] = doc.UpdatedAt, doc.UpdatedBy
	}
	return res, nil
}

// rulesBodyLimit bounds a rules document.
const rulesBodyLimit = 1 << 20

// putAlertRules answers PUT /api/v1/alerts/rules: the YAML rules document
// (the alert_rules file's format) as the body, or {"document": "..."}.
// It is checked (errors name the line), kept in the store and put in
// force at once, over the alert_rules file; unchanged rules keep their
// alerts' state.
func (s *Server) putAlertRules(r *http.Request) (any, error) {
	a, err := s.alertsOrUnavailable()
	if err != nil {
		return nil, err
	}
	doc, err := yamlDocument(r, "document", "YAML rules")
	if err != nil {
		return nil, err
	}
	if err := a.PutRules(r.Context(), doc); err != nil {
		return nil, err
	}
	return s.listAlertRules(r)
}

// deleteAlertRules answers DELETE /api/v1/alerts/rules: the document set
// through the API is dropped and the alert_rules file (if any) is in
// force again.
func (s *Server) deleteAlertRules(r *http.Request) (any, error) {
	a, err := s.alertsOrUnavailable()
	if err != nil {
		return nil, err
	}
	if err := a.DeleteRules(r.Context()); err != nil {
		return nil, err
	}
	return s.listAlertRules(r)
}

type alertView struct {
	Rule        string            `json:"rule"`
	Fingerprint string            `json:"fingerprint"`
	State       string            `json:"state"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Value       *float64          `json:"value,omitempty"`
	ActiveAt    time.Time         `json:"active_at"`
	FiredAt     *time.Time        `json:"fired_at,omitempty"`
	Silenced    bool              `json:"silenced"`
}

// finite makes a value JSON-safe (NaN and infinities are left out).
func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// listAlerts answers GET /api/v1/alerts: the pending and firing alerts.
func (s *Server) listAlerts(r *http.Request) (any, error) {
	a, err := s.alertsOrUnavailable()
	if err != nil {
		return nil, err
	}
	out := []alertView{}
	for _, al := range a.Active() {
		v := alertView{Rule: al.Rule, Fingerprint: al.Fingerprint, State: string(al.State), Labels: al.Labels,
			Annotations: al.Annotations, Value: finite(al.Value), ActiveAt: al.ActiveAt, Silenced: al.Silenced}
		if !al.FiredAt.IsZero() {
			v.FiredAt = &al.FiredAt
		}
		out = append(out, v)
	}
	return map[string]any{"alerts": out}, nil
}

type eventView struct {
	Kind        string            `json:"kind"`
	Time        time.Time         `json:"time"`
	Rule        string            `json:"rule"`
	Labels      map[string]string `json:"labels,omitempty"`
	Fingerprint string            `json:"fingerprint,omitempty"`
	From        string            `json:"from,omitempty"`
	To          string            `json:"to,omitempty"`
	Value       *float64          `json:"value,omitempty"`
	Group       string            `json:"group,omitempty"`
	GroupKey    string            `json:"group_key,omitempty"`
	Channel     string            `json:"channel,omitempty"`
	Status      string            `json:"status,omitempty"`
	Alerts      int               `json:"alerts,omitempty"`
	Attempt     int               `json:"attempt,omitempty"`
	Error       string            `json:"error,omitempty"`
	Target      string            `json:"target,omitempty"`
}

// alertHistory answers GET /api/v1/alerts/history?rule=&kind=&group=
// &target=&since=MS&until=MS&max_results=N, newest first.
func (s *Server) alertHistory(r *http.Request) (any, error) {
	a, err := s.alertsOrUnavailable()
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	hq := alert.HistoryQuery{Rule: q.Get("rule"), Kind: alert.EventKind(q.Get("kind")), Group: q.Get("group"), Target: q.Get("target")}
	for name, dst := range map[string]*time.Time{"since": &hq.Since, "until": &hq.Until} {
		ms, err := millisParam(q, name)
		if err != nil {
			return nil, err
		}
		if ms != 0 {
			*dst = time.UnixMilli(ms)
		}
	}
	if v := q.Get("max_results"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > alert.MaxHistoryLimit {
			return nil, errdefs.InvalidArgument("Invalid value '%s' for parameter 'max_results': use 1 to %d.", v, alert.MaxHistoryLimit)
		}
		hq.Limit = n
	}
	evs, err := a.History(r.Context(), hq)
	if err != nil {
		return nil, err
	}
	out := make([]eventView, 0, len(evs))
	for _, e := range evs {
		v := eventView{Kind: string(e.Kind), Time: e.Time, Rule: e.Rule, Labels: e.Labels, Fingerprint: e.Fingerprint,
			From: string(e.From), To: string(e.To), Group: alert.GroupURI(e.Rule, e.GroupKey),
			GroupKey: e.GroupKey, Channel: e.Channel, Status: e.Status, Alerts: e.Alerts, Attempt: e.Attempt, Error: e.Err, Target: e.Target}
		if e.Kind == alert.EventTransition {
			v.Value = finite(e.Value)
		}
		out = append(out, v)
	}
	return map[string]any{"events": out}, nil
}

// silenceView is a silence as Alertmanager's API v2 shows it.
type silenceView struct {
	ID        string           `json:"id"`
	Matchers  []silenceMatcher `json:"matchers"`
	StartsAt  time.Time        `json:"startsAt"`
	EndsAt    time.Time        `json:"endsAt"`
	Comment   string           `json:"comment"`
	CreatedBy string           `json:"createdBy"`
	State     string           `json:"state"` // pending, active or expired
}

type silenceMatcher struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	IsRegex bool   `json:"isRegex"`
	IsEqual *bool  `json:"isEqual,omitempty"`
}

func viewSilence(sl alert.Silence, now time.Time) silenceView {
	v := silenceView{ID: sl.ID, StartsAt: sl.StartsAt, EndsAt: sl.EndsAt, Comment: sl.Comment, CreatedBy: sl.CreatedBy, State: "active"}
	for _, k := range slices.Sorted(maps.Keys(sl.Matchers)) {
		v.Matchers = append(v.Matchers, silenceMatcher{Name: k, Value: sl.Matchers[k]})
	}
	switch {
	case now.Before(sl.StartsAt):
		v.State = "pending"
	case !now.Before(sl.EndsAt):
		v.State = "expired"
	}
	return v
}

// listSilences answers GET /api/v1/alerts/silences.
func (s *Server) listSilences(r *http.Request) (any, error) {
	a, err := s.alertsOrUnavailable()
	if err != nil {
		return nil, err
	}
	sls, err := a.Silences(r.Context())
	if err != nil {
		return nil, err
	}
	now := time.Now()
	out := make([]silenceView, 0, len(sls))
	for _, sl := range sls {
		out = append(out, viewSilence(sl, now))
	}
	return map[string]any{"silences": out}, nil
}

// MaxSilence bounds how long a silence may last.
const MaxSilence = 366 * 24 * time.Hour

// postSilence answers POST /api/v1/alerts/silences, Alertmanager's body:
// {"matchers": [{"name","value","isRegex":false}], "startsAt", "endsAt",
// "comment", "createdBy"} ("duration": "2h" may replace endsAt; startsAt
// defaults to now). An id updates that silence.
func (s *Server) postSilence(r *http.Request) (any, error) {
	a, err := s.alertsOrUnavailable()
	if err != nil {
		return nil, err
	}
	var req struct {
		ID        string           `json:"id"`
		Matchers  []silenceMatcher `json:"matchers"`
		StartsAt  *time.Time       `json:"startsAt"`
		EndsAt    *time.Time       `json:"endsAt"`
		Duration  string           `json:"duration"`
		Comment   string           `json:"comment"`
		CreatedBy string           `json:"createdBy"`
	}
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if len(req.Matchers) == 0 {
		return nil, errdefs.InvalidArgument("Missing value for required parameter 'matchers': a silence needs at least one label to match.")
	}
	sl := alert.Silence{ID: req.ID, Matchers: map[string]string{}, Comment: req.Comment, CreatedBy: req.CreatedBy}
	for i, m := range req.Matchers {
		switch {
		case m.Name == "":
			return nil, errdefs.InvalidArgument("Missing value for required parameter 'matchers[%d].name'.", i)
		case m.IsRegex || (m.IsEqual != nil && !*m.IsEqual):
			return nil, errdefs.InvalidArgument("Invalid value for parameter 'matchers[%d]': silences match labels by equality only.", i)
		}
		if _, dup := sl.Matchers[m.Name]; dup {
			return nil, errdefs.InvalidArgument("Invalid value for parameter 'matchers': label '%s' appears twice.", m.Name)
		}
		sl.Matchers[m.Name] = m.Value
	}
	now := time.Now().UTC()
	sl.StartsAt = now
	if req.StartsAt != nil {
		sl.StartsAt = *req.StartsAt
	}
	switch {
	case req.EndsAt != nil && req.Duration != "":
		return nil, errdefs.InvalidArgument("Give either 'endsAt' or 'duration', not both.")
	case req.EndsAt != nil:
		sl.EndsAt = *req.EndsAt
	case req.Duration != "":
		d, err := alert.ParseDuration(req.Duration)
		if err != nil || d <= 0 {
			return nil, errdefs.InvalidArgument("Invalid value '%s' for parameter 'duration': use a positive duration such as 30m or 2h.", req.Duration)
		}
		sl.EndsAt = sl.StartsAt.Add(d)
	default:
		return nil, errdefs.InvalidArgument("Missing value for required parameter 'endsAt' (or 'duration').")
	}
	switch {
	case !sl.EndsAt.After(now):
		return nil, errdefs.InvalidArgument("Invalid value for parameter 'endsAt': the silence would already be over.")
	case !sl.EndsAt.After(sl.StartsAt):
		return nil, errdefs.InvalidArgument("Invalid value for parameter 'endsAt': it must be after startsAt.")
	case sl.EndsAt.Sub(sl.StartsAt) > MaxSilence:
		return nil, errdefs.InvalidArgument("A silence lasts at most %s.", MaxSilence)
	}
	if sl.CreatedBy == "" {
		sl.CreatedBy = audit.Actor(r.Context())
	}
	if sl.ID != "" { // an update, as Alertmanager's: of a silence that exists
		all, err := a.Silences(r.Context())
		if err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(all, func(x alert.Silence) bool { return x.ID == sl.ID }) {
			return nil, errdefs.NotFound("Silence '%s' does not exist: leave 'id' out to create one.", truncate(sl.ID))
		}
	}
	if sl.ID == "" {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		sl.ID = hex.EncodeToString(b)
	}
	if err := a.AddSilence(r.Context(), sl); err != nil {
		return nil, err
	}
	audit.Note(r.Context(), audit.Change{Action: "alert.silence", Resource: "silences:/" + sl.ID})
	return map[string]any{"silenceID": sl.ID, "silence": viewSilence(sl, now)}, nil
}

// deleteSilence answers DELETE /api/v1/alerts/silences/{id}: the
// silence expires now (it stays listed, expired), as Alertmanager's.
func (s *Server) deleteSilence(r *http.Request) (any, error) {
	a, err := s.alertsOrUnavailable()
	if err != nil {
		return nil, err
	}
	id := r.PathValue("id")
	if err := a.ExpireSilence(r.Context(), id); err != nil {
		return nil, err
	}
	audit.Note(r.Context(), audit.Change{Action: "alert.expire_silence", Resource: "silences:/" + id})
	return map[string]any{}, nil
}
