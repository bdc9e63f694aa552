package modelcard

import (
	"regexp"
	"strings"
	"testing"
)

// hostile is user text that would be live markup if written as is: HTML
// (a script, an image with a handler), a Markdown heading, a table cell
// break, a fenced code block, a link, emphasis and a setext underline.
const hostile = "<script>alert(1)</script> a | b\n# Injected heading\n<img src=x onerror=alert(2)>\n```\n[click](javascript:alert(3)) **bold**\n===\n- item"

// hostileInput puts hostile text into every kind of place a renderer
// writes user text: paragraphs, list items, table cells, headings, code
// blocks, attributes and links.
func hostileInput() Input {
	in := sampleInput()
	in.ModelName = "evil<script>alert(0)</script>|model"
	in.VersionDescription = hostile
	in.VersionTags = map[string]string{
		"card.owners":                                "Eve <javascript:alert(4)>, Mallory <" + "<b>x</b>" + ">",
		"card.model_details.documentation":           hostile,
		"card.model_details.version.diff":            hostile,
		"card.model_details.references":              "javascript:alert(5)\nhttps://ok.example/?q=<script>",
		"card.model_details.citations.x\"y":          hostile,
		"card.model_details.licenses":                "<b>MIT</b>\n" + "Custom <script>alert(6)</script> licence",
		"card.considerations.limitations":            "<script>alert(7)</script>\n# heading\n| a | b |",
		"card.considerations.ethical_considerations": "<i>risk</i>: <script>alert(8)</script>",
		"card.model_parameters.model_architecture":   hostile,
		"<script>tag</script>":                       hostile,
	}
	in.Datasets = append(in.Datasets, DatasetInput{
		Name: "<script>ds</script>", Digest: "d|g", Context: "<b>train</b>",
		Source: `{"uri": "javascript:alert(9)"}`, Schema: "```\n<script>alert(10)</script>\n```", Profile: hostile,
	})
	in.Run.Params["<script>p</script>"] = hostile
	in.Run.Metrics["acc/sex:<script>"] = 1
	in.Reviews = append(in.Reviews, ReviewInput{Reviewer: "<script>r</script>", Decision: "approved", Comment: hostile, TimeMS: t0})
	in.Policies[0].Target = hostile
	in.Policies[0].Rules = append(in.Policies[0].Rules, PolicyRule{Gate: "<g>", Rule: hostile, Detail: hostile})
	in.Upstream = append(in.Upstream, LineageNode{URI: hostile, Kind: "<k>", Relation: "|", Depth: 3})
	in.History = append(in.History, Event{Seq: 1, Actor: hostile, Action: "<a>", Resource: hostile})
	in.Aliases = append(in.Aliases, "<script>")
	in.Stage = hostile
	return in
}

func TestHTMLEscaping(t *testing.T) {
	page, err := HTML(Build(hostileInput()))
	if err != nil {
		t.Fatal(err)
	}
	s := string(page)
	// html/template writes '<' in text and attributes as an entity, so
	// every '<' left in the page starts one of the template's own tags.
	tags := regexp.MustCompile(`<[^>]*>`).FindAllString(s, -1)
	for _, tag := range tags {
		lower := strings.ToLower(tag)
		for _, bad := range []string{"javascript:", " src=", " on", "<script", "zgotmplz"} {
			if strings.Contains(lower, bad) {
				t.Errorf("tag %q contains %q", tag, bad)
			}
		}
	}
	if !strings.Contains(s, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the hostile description is not shown escaped")
	}
	// The only tags are the page's own: every tag name is one the template
	// writes.
	allowed := map[string]bool{"html": true, "head": true, "meta": true, "title": true, "style": true, "body": true, "main": true,
		"header": true, "h1": true, "h2": true, "h3": true, "p": true, "section": true, "table": true, "tr": true, "th": true, "td": true,
		"ul": true, "li": true, "code": true, "pre": true, "a": true, "strong": true, "span": true, "details": true, "summary": true}
	for _, m := range regexp.MustCompile(`<(/?)([a-zA-Z][a-zA-Z0-9]*)`).FindAllStringSubmatch(s, -1) {
		if !allowed[strings.ToLower(m[2])] {
			t.Errorf("unexpected tag <%s%s>", m[1], m[2])
		}
	}
	if n := strings.Count(s, "<h1>"); n != 1 {
		t.Errorf("%d <h1> elements, want 1", n)
	}
	// Links only to the one safe reference.
	for _, m := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(s, -1) {
		if !strings.HasPrefix(m[1], "https://") {
			t.Errorf("link to %q", m[1])
		}
	}
	// Self-contained: nothing to fetch, nothing to run.
	style := s[strings.Index(s, "<style>"):strings.Index(s, "</style>")]
	for _, bad := range []string{"@import", "url("} {
		if strings.Contains(style, bad) {
			t.Errorf("style sheet loads a resource: %q", bad)
		}
	}
}

func TestMarkdownEscaping(t *testing.T) {
	md := string(Markdown(Build(hostileInput())))
	prose := strings.Join(outsideFences(t, strings.Split(md, "\n")), "\n")
	lower := strings.ToLower(prose)
	for _, bad := range []string{"<script", "<img", "<b>", "<i>", "</", "**bold**", "[click]"} {
		if strings.Contains(lower, bad) {
			t.Errorf("Markdown prose contains %q", bad)
		}
	}
	// No link or image: every "](" comes after an escaped bracket.
	if m := regexp.MustCompile(`(^|[^\\])\]\(`).FindString(prose); m != "" {
		t.Errorf("Markdown prose has a link: %q", m)
	}
	// The only raw tag Ferry writes is <br> in table cells.
	for _, m := range regexp.MustCompile(`<[a-zA-Z/!?]`).FindAllStringIndex(prose, -1) {
		if !strings.HasPrefix(prose[m[0]:], "<br>") {
			t.Errorf("raw HTML at %q", prose[m[0]:min(len(prose), m[0]+20)])
		}
	}
	headings := map[string]bool{}
	for _, h := range []string{"## Model details", "### Owners", "### Documentation", "### Changes from the previous version",
		"### Licenses", "### References", "### Citations", "### Tags", "## Intended use and considerations", "### Intended users",
		"### Use cases", "### Limitations", "### Tradeoffs", "### Ethical considerations", "## Training data", "## Parameters",
		"### Hyperparameters", "## Metrics", "### Overall", "### By slice", "## Approval", "## Policy", "## Lineage", "### Upstream",
		"### Downstream", "## Change history"} {
		headings[h] = true
	}
	lines := outsideFences(t, strings.Split(md, "\n"))
	for i, l := range lines {
		switch {
		case i == 0:
			if !strings.HasPrefix(l, "# Model card: ") {
				t.Errorf("first line %q", l)
			}
		case strings.HasPrefix(l, "#"):
			if !headings[l] {
				t.Errorf("unexpected heading %q", l)
			}
		case strings.HasPrefix(l, "==="), strings.HasPrefix(l, "---"), strings.HasPrefix(l, "    "):
			t.Errorf("setext underline, thematic break or indented code %q", l)
		}
	}
	// Every table row has as many cell separators as its header.
	for _, table := range tables(lines) {
		want := cells(table[0])
		for _, row := range table[1:] {
			if got := cells(row); got != want {
				t.Errorf("row %q has %d cells, header %q has %d", row, got, table[0], want)
			}
		}
	}
	if !strings.Contains(md, "&lt;script&gt;alert(1)&lt;/script&gt; a \\| b") {
		t.Error("the hostile description is not shown escaped")
	}
}

// outsideFences returns the lines that are not inside fenced code blocks
// (whose contents CommonMark shows literally), checking that every block
// is closed by its own fence: a closing fence is a line of at least as
// many backticks as the opening one.
func outsideFences(t *testing.T, lines []string) []string {
	t.Helper()
	var out []string
	open := 0
	for _, l := range lines {
		ticks := len(l) - len(strings.TrimLeft(l, "`"))
		switch {
		case open == 0 && ticks >= 3:
			open = ticks
		case open > 0 && ticks >= open && strings.TrimLeft(l, "`") == "":
			open = 0
		case open == 0:
			out = append(out, l)
		}
	}
	if open > 0 {
		t.Error("a fenced code block is not closed")
	}
	return out
}

// tables returns the runs of lines that start with '|'.
func tables(lines []string) [][]string {
	var out [][]string
	var cur []string
	for _, l := range append(lines, "") {
		if strings.HasPrefix(l, "|") {
			cur = append(cur, l)
			continue
		}
		if len(cur) > 0 {
			out = append(out, cur)
			cur = nil
		}
	}
	return out
}

// cells counts the unescaped '|' in a table row.
func cells(row string) int {
	n, backslashes := 0, 0
	for i := 0; i < len(row); i++ {
		switch row[i] {
		case '\\':
			backslashes++
			continue
		case '|':
			if backslashes%2 == 0 {
				n++
			}
		}
		backslashes = 0
	}
	return n
}

func TestMDInline(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain text", "plain text"},
		{"0.93", "0.93"},
		{"-1.5", "-1.5"},
		{"#fraud-ml", "#fraud-ml"},
		{"# heading", "\\# heading"},
		{"###", "\\###"},
		{"- item", "\\- item"},
		{"+ item", "\\+ item"},
		{"---", "\\---"},
		{"===", "\\==="},
		{"1. item", "1\\. item"},
		{"12) item", "12\\) item"},
		{"a | b", "a \\| b"},
		{"<b>&amp;</b>", "&lt;b&gt;&amp;amp;&lt;/b&gt;"},
		{"*em* _em_ `code` [l](u) ~s~ $m$ \\", "\\*em\\* \\_em\\_ \\`code\\` \\[l\\](u) \\~s\\~ \\$m\\$ \\\\"},
		{"  line one\r\nline two\t\x00 ", "line one<br>line two"},
		{"\x00# h", "\\# h"},
		{"> quote", "&gt; quote"},
	} {
		if got := mdInline(tc.in); got != tc.want {
			t.Errorf("mdInline(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
