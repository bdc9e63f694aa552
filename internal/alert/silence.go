package alert

import (
	"time"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// Silence mutes notifications for alerts whose labels equal every matcher
// while StartsAt <= now < EndsAt. Silenced alerts keep their state; once the
// silence ends, the next evaluation notifies them.
type Silence struct {
	ID        string
	Matchers  map[string]string
	StartsAt  time.Time
	EndsAt    time.Time
	Comment   string
	CreatedBy string
}

// Validate checks a silence before it is added.
func (s Silence) Validate() error {
	switch {
	case s.ID == "":
		return errdefs.InvalidArgument("a silence needs an id")
	case len(s.Matchers) == 0:
		return errdefs.InvalidArgument("silence %s: at least one matcher is required", s.ID)
	case !s.EndsAt.After(s.StartsAt):
		return errdefs.InvalidArgument("silence %s: endsAt must be after startsAt", s.ID)
	}
	return nil
}

// Active reports whether the silence is in force at now.
func (s Silence) Active(now time.Time) bool {
	return !now.Before(s.StartsAt) && now.Before(s.EndsAt)
}

// Matches reports whether labels carry every matcher's value.
func (s Silence) Matches(labels map[string]string) bool {
	for k, v := range s.Matchers {
		if labels[k] != v {
			return false
		}
	}
	return true
}
