package cli

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseWhen(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_000)
	for in, want := range map[string]int64{
		"1000": 1000, "2024-03-01T12:00:00Z": 1709294400000, "90m": now.UnixMilli() - 90*60_000, "7d": now.AddDate(0, 0, -7).UnixMilli(),
	} {
		got, err := parseWhen(in, now)
		if err != nil || got.UnixMilli() != want {
			t.Errorf("%s: %v %v, want %d", in, got.UnixMilli(), err, want)
		}
	}
	for _, in := range []string{"", "-5", "-1h", "yesterday", "3w"} {
		if _, err := parseWhen(in, now); err == nil {
			t.Errorf("%q parsed", in)
		}
	}
}

// parseWhen never panics and never answers a time after now for a
// duration.
func FuzzParseWhen(f *testing.F) {
	for _, s := range []string{"1000", "2024-03-01T12:00:00Z", "90m", "7d", "-1d", "99999999999999999999d", "1e3"} {
		f.Add(s)
	}
	now := time.UnixMilli(1_700_000_000_000)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseWhen(s, now)
		if err != nil {
			return
		}
		trimmed := strings.TrimSpace(s)
		if _, perr := strconv.ParseInt(trimmed, 10, 64); perr == nil {
			return // Unix milliseconds: any time
		}
		if _, perr := time.Parse(time.RFC3339Nano, trimmed); perr == nil {
			return // a time: any
		}
		if got.After(now) {
			t.Fatalf("%q: the duration ago %v is after now %v", s, got, now)
		}
	})
}
