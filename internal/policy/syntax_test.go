package policy

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// YAML syntax errors: yaml.v3 says only "yaml: line N: ...", and N is often
// not the offending line. Every case states the position a person would
// point at.
func TestParseSyntaxErrors(t *testing.T) {
	cases := []errCase{
		// Indentation.
		{"key less indented than its siblings",
			"version: 1\ngates:\n  - name: a\n   when: {deploy: true}\n",
			"4:4: YAML syntax error: did not find expected '-' indicator (check the indentation of this line)"},
		{"key more indented: continues the value above",
			"version: 1\ngates:\n  - name: a\n     when: {deploy: true}\n",
			"4:10: YAML syntax error: mapping values are not allowed in this context (this line continues the value above it: check its indentation)"},
		{"top-level key indented",
			"version: 1\n  gates: []\n",
			"2:8: YAML syntax error: mapping values are not allowed in this context (this line continues"},
		{"mapping dedented into nothing",
			"version: 1\ngates:\n  - name: a\n    require:\n      approvals: 1\n     metrics: []\n",
			"6:6: YAML syntax error: did not find expected key (check the indentation of this line)"},
		{"sequence item where a key belongs",
			"version: 1\n- gates\n",
			"2:1: YAML syntax error: did not find expected key"},
		{"key after a sequence at the same level",
			"gates:\n  - a\n  version: 1\n",
			"3:3: YAML syntax error: did not find expected '-' indicator"},
		{"block scalar dedent",
			"version: 1\ngates: |\n  text\n stray: 1\n",
			"4:2: YAML syntax error: did not find expected key"},

		// Tabs.
		{"tab indentation",
			"version: 1\ngates:\n\t- name: a\n",
			"3:1: YAML syntax error: found character that cannot start any token (indent with spaces, not tabs)"},
		{"tab after spaces",
			"version: 1\ngates:\n  - name: a\n  \twhen: {deploy: true}\n",
			"4:3: YAML syntax error: found a tab character that violates indentation (indent with spaces, not tabs)"},
		{"tab on the first line",
			"\tversion: 1\n",
			"1:1: YAML syntax error: found character that cannot start any token (indent with spaces, not tabs)"},

		// Quotes.
		{"unclosed double quote",
			"version: 1\ngates:\n  - name: \"a\n    when: {deploy: true}\n",
			"3:11: YAML syntax error: quoted string is never closed"},
		{"unclosed single quote at the end",
			"version: 1\ngates:\n  - name: 'a\n",
			"3:11: YAML syntax error: quoted string is never closed"},
		{"unclosed quote after a valid multi-line one",
			"a: \"multi\n  line\"\nb: \"unclosed\nc: 1\n",
			"3:4: YAML syntax error: quoted string is never closed"},
		{"unclosed quote on the first line",
			"version: \"1\ngates: []\nx: 1\n",
			"1:10: YAML syntax error: quoted string is never closed"},
		{"unclosed quote in JSON style",
			"version: 1\ngates: [{\"name\":\"a}]\n",
			"2:17: YAML syntax error: quoted string is never closed"},
		{"text after a quoted value",
			"version: 1\ngates:\n  - name: \"a\" b\n",
			"3:15: YAML syntax error: did not find expected key"},
		{"bad escape",
			"version: 1\ngates:\n  - name: \"a\\qb\"\n",
			"3:13: YAML syntax error: found unknown escape character"},

		// Flow collections.
		{"unclosed flow list",
			"version: 1\ngates:\n  - name: a\n    models: [x, y\n    when: {deploy: true}\n",
			"4:13: YAML syntax error: flow list [ is never closed"},
		{"unclosed flow list over lines",
			"version: 1\ngates:\n  - name: a\n    when:\n      aliases: [a,\n    require: {}\n",
			"5:16: YAML syntax error: flow list [ is never closed"},
		{"unclosed flow mapping",
			"version: 1\ngates:\n  - name: a\n    when: {deploy: true\n",
			"4:11: YAML syntax error: flow mapping { is never closed"},
		{"missing comma in a flow mapping",
			"version: 1\ngates:\n  - name: a\n    when: {deploy: true\n      aliases: [x]}\n",
			"5:7: YAML syntax error: did not find expected ',' or '}' (a missing comma"},
		{"missing comma in a flow list",
			"version: 1\ngates: [{name: a} {name: b}]\n",
			"2:19: YAML syntax error: did not find expected ',' or ']' (a missing comma"},
		{"extra closing bracket",
			"version: 1\ngates: []]\n",
			"2:10: YAML syntax error: did not find expected key"},

		// Other.
		{"second colon",
			"version: 1\ngates:\n  - name: a: b\n",
			"3:12: YAML syntax error: mapping values are not allowed in this context (a second ': ' on one line: quote the value)"},
		{"second colon on the first line",
			"version: 1: 2\n",
			"1:11: YAML syntax error: mapping values are not allowed in this context"},
		{"reserved character",
			"version: @1\n",
			"1:10: YAML syntax error: found character that cannot start any token"},
		{"backquote",
			"version: 1\ngates: `x`\n",
			"2:8: YAML syntax error: found character that cannot start any token"},
		{"missing colon",
			"version: 1\ngates:\n  - name: a\n  - name b\n  x\n",
			"5:3: YAML syntax error: could not find expected ':'"},
		{"unknown alias",
			"version: 1\ngates: *nope\n",
			"2:8: YAML alias *nope refers to no anchor &nope defined before it"},
		{"wide characters count once",
			"name: \"é\"\nvé: é: c\n",
			"2:6: YAML syntax error: mapping values are not allowed"},

		// Duplicate keys are found after parsing, with both positions.
		{"duplicate key",
			"version: 1\ngates: []\nversion: 1\n",
			`3:1: duplicate field "version" in the policy (first at line 1)`},
		{"duplicate nested key",
			"version: 1\ngates:\n  - name: a\n    when: {deploy: true, deploy: false}\n    require: {approvals: 1}\n",
			`4:26: duplicate field "deploy" in when (first at line 4)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// The case must really be a syntax error for yaml.v3, except for
			// the duplicate keys, which yaml.v3's node parser accepts.
			var n yaml.Node
			if err := yaml.Unmarshal([]byte(c.src), &n); err == nil && c.name[:9] != "duplicate" {
				t.Fatalf("yaml.v3 accepts %q", c.src)
			}
			checkParseError(t, c.src, c.want)
		})
	}
}

func TestSyntaxErrorIsTheOnlyError(t *testing.T) {
	_, err := Parse("p.yaml", []byte("version: 1\ngates:\n\t- x\n"))
	var list ParseErrors
	if errors.As(err, &list) {
		t.Fatalf("a syntax error should come alone, got %v", err)
	}
}

// When the scan cannot tell where a quoted string opens, the locator
// finds it by parsing prefixes.
func TestLocatorOpener(t *testing.T) {
	l := &locator{lines: []string{"a: 1\n", "b: x\n", "c: \"open\n", "d: 2\n"}, msg: "found unexpected end of stream", budget: 1 << 20}
	if line, col := l.opener(); line != 3 || col != 4 {
		t.Errorf("opener at %d:%d, want 3:4", line, col)
	}
}

// The locator falls back to yaml.v3's line when its work budget runs out.
func TestLocatorBudget(t *testing.T) {
	l := &locator{lines: []string{"a: 1\n", "b: \"x\n"}, msg: "found unexpected end of stream", budget: 1}
	if line, _ := l.opener(); line != 0 {
		t.Errorf("opener without budget: line %d", line)
	}
	if line, _ := l.trigger(1); line != 0 {
		t.Errorf("trigger without budget: line %d", line)
	}
}

// Errors in a file near the size limit are still placed exactly (the
// locator's work stays within its budget for such files).
func TestSyntaxErrorsInLargeFile(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\ngates:\n")
	n := 0
	for b.Len() < MaxFileSize-1000 {
		fmt.Fprintf(&b, "  - name: g%d\n    when: {aliases: [production]}\n    require: {approvals: 1}\n", n)
		n++
	}
	base := b.String()
	last := strings.Count(base, "\n") + 1 // line number of a line appended to base
	mid := strings.Index(base[len(base)/2:], "\n  - name:") + len(base)/2 + 1
	midLine := strings.Count(base[:mid], "\n") + 1
	cases := []errCase{
		{"tab at the end", base + "\t- x\n", fmt.Sprintf("%d:1: YAML syntax error: found character that cannot start any token", last)},
		{"unclosed list at the end", base + "  - name: [a\n", fmt.Sprintf("%d:11: YAML syntax error: flow list [ is never closed", last)},
		{"unclosed quote at the top", "version: \"1\n" + base[len("version: 1\n"):], "1:10: YAML syntax error: quoted string is never closed"},
		{"bad indentation in the middle", base[:mid] + "   when: x\n" + base[mid:], fmt.Sprintf("%d:4: YAML syntax error: did not find expected '-' indicator", midLine)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkParseError(t, c.src, c.want)
		})
	}
}
