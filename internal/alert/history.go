package alert

import (
	"context"
	"slices"
	"sync"
	"time"
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
	Labels      map[string]string // transitions: the alert's labels
	From, To    State             // transitions
	Value       float64           // transitions: the sample value (NaN if absent)
	GroupKey    string            // notifications
	Channel     string            // notifications
	Status      string            // notifications: "firing" or "resolved"
	Alerts      int               // notifications: alerts in the payload
	Attempt     int               // notifications: 1, 2, ...
	Err         string            // notifications: empty when delivered
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

// Events returns a copy of the recorded events, oldest first.
func (h *MemoryHistory) Events() []Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.events)
}
