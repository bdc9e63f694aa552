package alert

import (
	"context"
	"slices"
	"sync"
)

// MemoryHistory is an in-memory History keeping the most recent events,
// for the tests (the server keeps its history in the store).
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
		if q.matches(h.events[i]) {
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

// matches reports whether e is selected by q (Limit aside).
func (q HistoryQuery) matches(e Event) bool {
	return (q.Rule == "" || e.Rule == q.Rule) && (q.Kind == "" || e.Kind == q.Kind) &&
		(q.Target == "" || e.Target == q.Target) && (q.Group == "" || GroupURI(e.Rule, e.GroupKey) == q.Group) &&
		(q.Since.IsZero() || !e.Time.Before(q.Since)) && (q.Until.IsZero() || e.Time.Before(q.Until))
}
