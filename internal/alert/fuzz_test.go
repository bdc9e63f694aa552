package alert

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
)

// FuzzParseRules checks that any input either parses into a configuration
// that satisfies the parser's own invariants, or fails with a ParseError
// pointing inside the input.
func FuzzParseRules(f *testing.F) {
	if src, err := os.ReadFile("testdata/rules.yaml"); err == nil {
		f.Add(string(src))
	}
	for _, s := range []string{"", "rules: []", "rules:\n  - {name: a, series: s, condition: '> 1', for: 2d}\n",
		"rules:\n  - name: a\n    series: s\n    condition: '!= -1e9'\n    labels: {x: '=~a.*'}\n",
		"rules: &a [*a]", "channels:\n  - {name: h, type: webhook, url: 'http://h'}\nrules: []\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		cfg, err := ParseRules([]byte(src))
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line < 1 || pe.Col < 1 {
				t.Fatalf("error without a position: %v", err)
			}
			if lines := strings.Count(strings.ReplaceAll(src, "\r\n", "\n"), "\n") + strings.Count(strings.ReplaceAll(src, "\r\n", ""), "\r") + 1; pe.Line > lines+1 {
				t.Fatalf("error on line %d of a %d-line input: %v", pe.Line, lines, err)
			}
			return
		}
		chans := map[string]bool{}
		for _, c := range cfg.Channels {
			chans[c.Name] = true
		}
		names := map[string]bool{}
		for _, r := range cfg.Rules {
			if r.Name == "" || r.Series == "" || names[r.Name] || r.RepeatInterval <= 0 || r.GroupInterval <= 0 || r.Threshold != r.Threshold {
				t.Fatalf("invalid rule accepted: %+v", r)
			}
			names[r.Name] = true
			for _, c := range r.Channels {
				if !chans[c] {
					t.Fatalf("rule %s uses undeclared channel %s", r.Name, c)
				}
			}
		}
		e, err := New(cfg, Options{})
		if err != nil {
			t.Fatalf("parsed config rejected by New: %v", err)
		}
		if err := e.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}
