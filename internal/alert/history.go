package alert

import (
	"context"
	"fmt"
	"hash/fnv"
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
