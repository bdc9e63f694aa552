package policy

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// Run locally, e.g.:
//
//	go test ./internal/policy -run ^$ -fuzz FuzzParse -fuzztime 60s

var errLine = regexp.MustCompile(`^f\.yaml:[1-9][0-9]*:[1-9][0-9]*: \S`)

func FuzzParse(f *testing.F) {
	f.Add(fullPolicy)
	f.Add(twoGates)
	f.Add(gate("fairness: {protected_attribute: sex, evaluation_set: e.csv, label_column: y, prediction_column: p}"))
	f.Add("version: 1\ngates:\n  - name: a\n   when: {deploy: true}\n")
	f.Add("version: 1\ngates:\n\t- name: a\n")
	f.Add("version: 1\ngates:\n  - name: \"a\n")
	f.Add("version: 1\ngates: [{name: a, when: {aliases: [x, y}]\n")
	f.Add("a: &x [*x]\n")
	f.Add("version: 1\ngates: *nope\n")
	f.Add("---\n---\n")
	f.Add("version: 1\ngates:\n  - name: g\n    when: {aliases: [production]}\n    require:\n      metrics: ['metrics.`a b` >= 1e-3']\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, src string) {
		timer := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("Parse hangs on %q", src)) })
		doc, err := Parse("f.yaml", []byte(src))
		timer.Stop()
		if err == nil {
			if doc == nil {
				t.Fatal("nil document without error")
			}
			for _, g := range doc.Gates {
				if g.Name == "" || (len(g.When.Aliases) == 0 && len(g.When.Stages) == 0 && !g.When.Deploy) || g.Require.empty() {
					t.Fatalf("accepted an incomplete gate %+v", g)
				}
			}
			return
		}
		if !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Fatalf("error does not match ErrInvalidArgument: %v", err)
		}
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Line < 1 || pe.Col < 1 {
			t.Fatalf("error without a position: %T %v", err, err)
		}
		lines := strings.Count(src, "\n") + 1
		if pe.Line > lines {
			t.Fatalf("error on line %d of a %d-line file: %v", pe.Line, lines, err)
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			if !errLine.MatchString(line) {
				t.Fatalf("error line without a position: %q", line)
			}
		}
	})
}
