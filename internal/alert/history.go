package alert

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"sync"
	"time"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// EventKind tells transitions from notification attempts.
type EventKind string

// Event kinds.
const (
	EventTransition   EventKind = "transition"
	EventNotification EventKind = "notification"
)

// Event is one history entry: an alert's state transition, or one delivery
// attempt of a group notification to a channel.
type Event struct {
	Kind EventKind
	// Time is the evaluation time that caused the event; for a delivery
	// attempt, the time of the evaluation that queued the notification.
	Time        time.Time
	Rule        string
	Fingerprint string            // transitions
	Labels      map[string]string // transitions: the alert's labels; notifications: the group's
	From, To    State             // transitions
	Value       float64           // transitions: the sample value (NaN if absent)
	GroupKey    string            // notifications
	Channel     string            // notifications
	Status      string            // notifications: "firing" or "resolved"
	Alerts      int               // notifications: alerts in the payload
	Attempt     int               // notifications: 1, 2, ...
	Err         string            // notifications: empty when delivered
	// Target names what a delivery started (a pipeline channel's run,
	// pipelines:/ID); empty otherwise.
	Target string
}

// HistoryQuery selects events: those of Rule, of Kind, whose Target is
// Target, whose group is Group (GroupURI), in [Since, Until) — each
// condition only when set — newest first, at most Limit (0: 1000).
type HistoryQuery struct {
	Rule, Target, Group string
	Kind                EventKind
	Since, Until        time.Time
	Limit               int
}

// MaxHistoryLimit bounds one history query.
const MaxHistoryLimit = 10000

// Matches reports whether e is selected by q (Limit aside).
func (q HistoryQuery) Matches(e Event) bool {
	return (q.Rule == "" || e.Rule == q.Rule) && (q.Kind == "" || e.Kind == q.Kind) &&
		(q.Target == "" || e.Target == q.Target) && (q.Group == "" || GroupURI(e.Rule, e.GroupKey) == q.Group) &&
		(q.Since.IsZero() || !e.Time.Before(q.Since)) && (q.Until.IsZero() || e.Time.Before(q.Until))
}

// Validate checks a query and applies the default limit.
func (q *HistoryQuery) Validate() error {
	switch {
	case q.Limit < 0 || q.Limit > MaxHistoryLimit:
		return errdefs.InvalidArgument("A history query returns at most %d events, got a limit of %d.", MaxHistoryLimit, q.Limit)
	case q.Kind != "" && q.Kind != EventTransition && q.Kind != EventNotification:
		return errdefs.InvalidArgument("An event kind is %q or %q, got %q.", EventTransition, EventNotification, q.Kind)
	case !q.Until.IsZero() && q.Until.Before(q.Since):
		return errdefs.InvalidArgument("The query's end is before its start.")
	}
	if q.Limit == 0 {
		q.Limit = 1000
	}
	return nil
}

// GroupURI is the lineage name of an alert group: alerts:/RULE/HASH,
// the hash of its group key. A notification event carries the group key;
// a pipeline run started for the group is linked to it.
func GroupURI(rule, groupKey string) string {
	if groupKey == "" {
		return ""
	}
	h := fnv.New64a()
	h.Write([]byte(groupKey))
	return fmt.Sprintf("alerts:/%s/%016x", rule, h.Sum64())
}

// History records events. Implementations must be safe for concurrent use:
// transitions are recorded on the evaluation path, delivery attempts from
// the channel workers.
type History interface {
	Record(ctx context.Context, e Event) error
}

// MemoryHistory is an in-memory History keeping the most recent events.
type MemoryHistory struct {
	mu     sync.Mutex
	max    int
	events []Event
}

// NewMemoryHistory keeps up to max events (10000 when max <= 0).
func NewMemoryHistory(max int) *MemoryHistory {
	if max <= 0 {
		max = 10000
	}
	return &MemoryHistory{max: max}
}

// Record appends e, dropping the oldest event when full.
func (h *MemoryHistory) Record(_ context.Context, e Event) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.events) >= h.max {
		h.events = slices.Delete(h.events, 0, len(h.events)-h.max+1)
	}
	h.events = append(h.events, e)
	return nil
}

// ListAlertEvents answers q from the kept events.
func (h *MemoryHistory) ListAlertEvents(_ context.Context, q HistoryQuery) ([]Event, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []Event
	for i := len(h.events) - 1; i >= 0 && len(out) < q.Limit; i-- {
		if q.Matches(h.events[i]) {
			out = append(out, h.events[i])
		}
	}
	return out, nil
}

// Events returns a copy of the recorded events, oldest first.
func (h *MemoryHistory) Events() []Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.events)
}
