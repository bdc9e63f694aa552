package pipeline

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Cron is a five-field cron schedule (minute hour day-of-month month
// day-of-week) with *, lists, ranges and steps (*/15, 1-5, 0,30), and the
// @hourly, @daily, @weekly, @monthly shorthands; day 7 is Sunday too.
// As in Vixie cron, when both day fields are restricted a time matches
// either.
type Cron struct {
	min, hour, dom, month, dow uint64 // bit sets
	domStar, dowStar           bool
	text                       string
}

// String returns the schedule as written.
func (c Cron) String() string { return c.text }

// ParseCron parses a schedule.
func ParseCron(s string) (Cron, error) {
	text := strings.TrimSpace(s)
	switch text {
	case "@hourly":
		s = "0 * * * *"
	case "@daily", "@midnight":
		s = "0 0 * * *"
	case "@weekly":
		s = "0 0 * * 0"
	case "@monthly":
		s = "0 0 1 * *"
	}
	f := strings.Fields(s)
	if len(f) != 5 {
		return Cron{}, fmt.Errorf("cron schedule %q: want 5 fields (minute hour day month weekday) or @hourly/@daily/@weekly/@monthly", text)
	}
	c := Cron{text: text, domStar: f[2] == "*", dowStar: f[4] == "*"}
	var err error
	for _, x := range []struct {
		field    string
		lo, hi   int
		dst      *uint64
		name     string
		sevenSun bool
	}{
		{f[0], 0, 59, &c.min, "minute", false}, {f[1], 0, 23, &c.hour, "hour", false},
		{f[2], 1, 31, &c.dom, "day of month", false}, {f[3], 1, 12, &c.month, "month", false},
		{f[4], 0, 7, &c.dow, "day of week", true},
	} {
		if *x.dst, err = cronField(x.field, x.lo, x.hi); err != nil {
			return Cron{}, fmt.Errorf("cron schedule %q: %s: %w", text, x.name, err)
		}
		if x.sevenSun && *x.dst&(1<<7) != 0 {
			*x.dst |= 1
		}
	}
	return c, nil
}

func cronField(s string, lo, hi int) (uint64, error) {
	var bits uint64
	for _, part := range strings.Split(s, ",") {
		rng, stepText, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n < 1 {
				return 0, fmt.Errorf("bad step %q", stepText)
			}
			step = n
		}
		a, b := lo, hi
		if rng != "*" {
			from, to, isRange := strings.Cut(rng, "-")
			var err error
			if a, err = strconv.Atoi(from); err != nil {
				return 0, fmt.Errorf("bad value %q", from)
			}
			b = a
			if isRange {
				if b, err = strconv.Atoi(to); err != nil {
					return 0, fmt.Errorf("bad value %q", to)
				}
			} else if hasStep {
				b = hi
			}
		}
		if a < lo || b > hi || a > b {
			return 0, fmt.Errorf("%q is outside %d-%d", part, lo, hi)
		}
		for v := a; v <= b; v += step {
			bits |= 1 << v
		}
	}
	return bits, nil
}

// Matches says whether the schedule fires in t's minute.
func (c Cron) Matches(t time.Time) bool {
	if c.min&(1<<t.Minute()) == 0 || c.hour&(1<<t.Hour()) == 0 || c.month&(1<<int(t.Month())) == 0 {
		return false
	}
	dom, dow := c.dom&(1<<t.Day()) != 0, c.dow&(1<<int(t.Weekday())) != 0
	switch {
	case c.domStar && c.dowStar:
		return true
	case c.domStar:
		return dow
	case c.dowStar:
		return dom
	}
	return dom || dow
}
