package predlog_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/predlog"
	"github.com/ferry-ml/ferry/internal/requestid"
)

func TestCursorToken(t *testing.T) {
	for _, c := range []predlog.Cursor{
		{Time: 0, RequestID: "a"},
		{Time: 1_700_000_000_123, RequestID: "0a1b2c3d4e5f-1z"},
		{Time: 9, RequestID: "x:" + strings.Repeat("-", 126)},
	} {
		got, err := predlog.ParseCursor(c.Token())
		if err != nil || got != c {
			t.Errorf("%+v: parsed %+v, %v", c, got, err)
		}
	}
	if (predlog.Cursor{}).Token() != "" {
		t.Fatal("the start has a token")
	}
	if c, err := predlog.ParseCursor(""); err != nil || !c.IsZero() {
		t.Fatalf("empty token: %+v, %v", c, err)
	}
	for _, bad := range []string{"!", "MTIz", "LTEgYQ", "MDEgYQ", "MSA", "MSBhIGI", strings.Repeat("A", 300)} {
		if _, err := predlog.ParseCursor(bad); !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), "'page_token'") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func FuzzPageToken(f *testing.F) {
	for _, s := range []string{"", "MTIzIGE", "LTEgYQ", "MDEgYQ", "MSBhIGI", "////", predlog.Cursor{Time: 5, RequestID: "r-1"}.Token()} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		c, err := predlog.ParseCursor(token)
		if err != nil {
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Fatalf("%q: error of another kind: %v", token, err)
			}
			return
		}
		if c.IsZero() {
			if token != "" {
				t.Fatalf("%q parsed as the start", token)
			}
			return
		}
		if c.Time < 0 || !requestid.Valid(c.RequestID) {
			t.Fatalf("%q parsed as %+v", token, c)
		}
		again, err := predlog.ParseCursor(c.Token())
		if err != nil || again != c {
			t.Fatalf("%q: %+v re-parsed as %+v, %v", token, c, again, err)
		}
	})
}
