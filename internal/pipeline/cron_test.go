package pipeline

import (
	"testing"
	"time"
)

func TestCron(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse("2006-01-02 15:04 Mon", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		spec, when string
		want       bool
	}{
		{"0 3 * * *", "2026-12-04 03:00 Fri", true},
		{"0 3 * * *", "2026-12-04 03:01 Fri", false},
		{"*/15 * * * *", "2026-12-04 10:45 Fri", true},
		{"*/15 * * * *", "2026-12-04 10:46 Fri", false},
		{"0 9 * * 1-5", "2026-12-05 09:00 Sat", false},
		{"0 9 * * 1-5", "2026-12-04 09:00 Fri", true},
		{"0 0 * * 7", "2026-12-06 00:00 Sun", true},
		{"0 0 1 * 1", "2026-12-07 00:00 Mon", true}, // either day field
		{"0 0 1 * 1", "2026-12-01 00:00 Tue", true},
		{"0 0 1 * 1", "2026-12-02 00:00 Wed", false},
		{"@daily", "2026-12-04 00:00 Fri", true},
		{"30 12 15 6 *", "2026-06-15 12:30 Mon", true},
		{"5,10-12/2 * * * *", "2026-12-04 10:11 Fri", false},
		{"5,10-12/2 * * * *", "2026-12-04 10:12 Fri", true},
	} {
		c, err := ParseCron(tc.spec)
		if err != nil {
			t.Fatalf("%s: %v", tc.spec, err)
		}
		if got := c.Matches(at(tc.when)); got != tc.want {
			t.Errorf("%s at %s: %v, want %v", tc.spec, tc.when, got, tc.want)
		}
	}
	for _, bad := range []string{"", "* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "*/0 * * * *", "a * * * *", "5-1 * * * *", "@yearly"} {
		if _, err := ParseCron(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func FuzzParseCron(f *testing.F) {
	for _, s := range []string{"0 3 * * *", "*/15 1-5 * * 1,3", "@weekly"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCron(s)
		if err == nil {
			c.Matches(time.Unix(1_700_000_000, 0).UTC())
		}
	})
}
