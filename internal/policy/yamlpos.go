package policy

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// yaml.v3 reports a syntax error as "yaml: line N: <problem>", where N is
// often the line of the enclosing construct rather than of the problem (for
// parser errors it is even one less), and it never gives a column. The
// locator below finds the position itself by parsing prefixes of the
// source, which yaml.v3 processes strictly left to right:
//
//   - Most problems are caused by a character that appears at some point
//     (a tab, a stray ':', a key at the wrong indentation): the shortest
//     prefix that fails with the same problem ends at that character.
//   - A few problems are noticed only at the end of the input, because a
//     construct was never closed (a quoted string, a [flow list] or a
//     {flow mapping}): for those the longest prefix that does not fail
//     with that problem ends just before the construct's opening character.
//
// Prefixes are cut at line starts first, then at characters within the
// line found. The work is bounded; past the bound the locator falls back to
// yaml.v3's line and the line's first non-blank character.

// locateBudget bounds the YAML the locator parses for one error (about a
// second's work at worst); past it, huge files get yaml.v3's line.
const locateBudget = 4 << 20

var yamlLinePrefix = regexp.MustCompile(`^line (\d+): `)

// splitYAMLError strips "yaml: " and "line N: " from a yaml.v3 error.
func splitYAMLError(err error) (msg string, line int) {
	msg = strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlLinePrefix.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	}
	return msg, line
}

// unclosedProblems are the problems yaml.v3 notices at the end of input.
func unclosedProblem(msg string) bool {
	return msg == "found unexpected end of stream" ||
		msg == "did not find expected ',' or ']'" ||
		msg == "did not find expected ',' or '}'"
}

var unknownAnchor = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)

// locateYAMLError returns the line and column (1-based, in characters) of a
// yaml.v3 syntax error in src and a message for people.
func locateYAMLError(src []byte, err error) (line, col int, msg string) {
	msg, reported := splitYAMLError(err)
	text := string(src)
	lines := strings.SplitAfter(text, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 {
		return 1, 1, "YAML syntax error: " + msg
	}
	if m := unknownAnchor.FindStringSubmatch(msg); m != nil {
		if l, c, ok := findAlias(lines, m[1]); ok {
			return l, c, "YAML alias *" + m[1] + " refers to no anchor &" + m[1] + " defined before it"
		}
	}
	loc := &locator{lines: lines, msg: msg, budget: locateBudget}
	unclosed := false
	if unclosedProblem(msg) {
		kind := byte('"')
		switch {
		case strings.HasSuffix(msg, "']'"):
			kind = '['
		case strings.HasSuffix(msg, "'}'"):
			kind = '{'
		}
		var ok bool
		switch line, col, ok = unclosedOpener(lines, kind); {
		case ok: // open at the end of the file: point at the opening character
			unclosed = true
		case kind == '"':
			line, col = loc.opener()
			unclosed = true
		default: // closed later: something inside does not belong there
			loc.closeFlows = true
			line, col = loc.trigger(reported)
		}
	} else {
		line, col = loc.trigger(reported)
	}
	if line == 0 { // out of budget: yaml.v3's line
		line = min(max(reported, 1), len(lines))
	}
	if col == 0 { // out of budget: the line's first non-blank (or tab) character
		runes := []rune(strings.TrimRight(lines[line-1], "\r\n"))
		col = refineColumn(msg, runes, firstNonBlank(lines[line-1]))
	}
	return line, col, describeYAMLProblem(msg, lines[line-1], col, unclosed)
}

// describeYAMLProblem makes yaml.v3's terse problems more helpful.
func describeYAMLProblem(msg, line string, col int, unclosed bool) string {
	ch := ""
	if r := []rune(strings.TrimRight(line, "\r\n")); col-1 < len(r) && col >= 1 {
		ch = string(r[col-1])
	}
	switch {
	case strings.Contains(msg, "tab character") || (ch == "\t" && strings.Contains(msg, "cannot start any token")):
		return "YAML syntax error: " + msg + " (indent with spaces, not tabs)"
	case msg == "found unexpected end of stream":
		return "YAML syntax error: quoted string is never closed"
	case msg == "did not find expected ',' or ']'" && unclosed:
		return "YAML syntax error: flow list [ is never closed (" + msg + ")"
	case msg == "did not find expected ',' or '}'" && unclosed:
		return "YAML syntax error: flow mapping { is never closed (" + msg + ")"
	case strings.HasPrefix(msg, "did not find expected ',' or"):
		return "YAML syntax error: " + msg + " (a missing comma, or a ':' in a value that needs quotes?)"
	case msg == "did not find expected key" || msg == "did not find expected '-' indicator":
		return "YAML syntax error: " + msg + " (check the indentation of this line)"
	case msg == "mapping values are not allowed in this context":
		before := string([]rune(line)[:min(max(col-1, 0), utf8.RuneCountInString(line))])
		if strings.Contains(before, ": ") {
			return "YAML syntax error: " + msg + " (a second ': ' on one line: quote the value)"
		}
		return "YAML syntax error: " + msg + " (this line continues the value above it: check its indentation)"
	}
	return "YAML syntax error: " + msg
}

func firstNonBlank(line string) int {
	col := 1
	for _, r := range line {
		if r != ' ' && r != '\t' {
			return col
		}
		col++
	}
	return 1
}

// findAlias finds the first `*name` that is followed by a character that
// cannot continue an anchor name.
func findAlias(lines []string, name string) (line, col int, ok bool) {
	needle := "*" + name
	for i, l := range lines {
		from := 0
		for {
			j := strings.Index(l[from:], needle)
			if j < 0 {
				break
			}
			j += from
			end := j + len(needle)
			if end == len(l) || strings.ContainsRune(" \t\r\n,]}", rune(l[end])) {
				return i + 1, utf8.RuneCountInString(l[:j]) + 1, true
			}
			from = j + 1
		}
	}
	return 0, 0, false
}

// locator parses prefixes of a document to find where a problem arises.
type locator struct {
	lines  []string
	msg    string
	budget int // bytes of YAML it may still parse
	// closeFlows closes the flow collections and quotes a prefix leaves
	// open before parsing it: for problems that a cut alone also causes.
	closeFlows bool
}

// fails reports whether the prefix made of the first k lines and then
// head fails with the problem being located. ok is false when out of
// budget.
func (l *locator) fails(k int, head string) (fails, ok bool) {
	var b strings.Builder
	for _, line := range l.lines[:k] {
		b.WriteString(line)
	}
	b.WriteString(head)
	if l.closeFlows {
		// Close what the prefix leaves open, so that only a problem in
		// its content fails it, not the cut.
		b.WriteString(scanYAML(append(append([]string(nil), l.lines[:k]...), head)).closers())
	}
	src := b.String()
	l.budget -= len(src)
	if l.budget < 0 {
		return false, false
	}
	_, err := decodeYAML([]byte(src))
	if err == nil {
		return false, true
	}
	msg, _ := splitYAMLError(err)
	return msg == l.msg, true
}

// trigger finds the character whose arrival makes the parse fail: the
// end of the shortest failing prefix. from is a line the problem cannot
// precede (yaml.v3's reported line, which is that of the problem or of an
// enclosing construct, never later). It returns line 0 when out of budget
// before the line is found, and column 0 when the line was found but not
// the column.
func (l *locator) trigger(from int) (line, col int) {
	// Shortest k with fails(k lines); fails(all lines) holds. Gallop from
	// the lower bound: the problem is usually near the line yaml.v3 names,
	// and short prefixes are cheap.
	lo, hi := min(max(from, 1), len(l.lines)), len(l.lines)
	for step := 1; lo+step-1 < hi; step *= 2 {
		probe := lo + step - 1
		f, ok := l.fails(probe, "")
		if !ok {
			return 0, 0
		}
		if f {
			hi = probe
			break
		}
		lo = probe + 1
	}
	for lo < hi {
		mid := (lo + hi) / 2
		f, ok := l.fails(mid, "")
		if !ok {
			return 0, 0
		}
		if f {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	k := lo
	runes := []rune(strings.TrimRight(l.lines[k-1], "\r\n"))
	// Shortest c with fails(k-1 lines + c characters).
	lo, hi = 1, len(runes)+1
	for lo < hi {
		mid := (lo + hi) / 2
		var f, ok bool
		if mid > len(runes) {
			f, ok = true, true
		} else {
			f, ok = l.fails(k-1, string(runes[:mid]))
		}
		if !ok {
			return k, 0
		}
		if f {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	col = lo
	if col > len(runes) { // noticed at the line break: point at the line's last character
		col = max(len(runes), 1)
	}
	return k, refineColumn(l.msg, runes, col)
}

// refineColumn moves the column found by trigger from where yaml.v3
// noticed a problem to where a person would look.
func refineColumn(msg string, runes []rune, col int) int {
	// A key in the wrong place is noticed only at its ':': point at the key.
	if strings.HasPrefix(msg, "did not find expected") && col <= len(runes) {
		switch {
		case runes[col-1] == ':':
			return keyStart(runes, col-1)
		case col >= 2 && runes[col-1] == ' ' && runes[col-2] == ':':
			return keyStart(runes, col-2)
		}
	}
	// A tab problem may be noticed only at the next token: point at the tab.
	if strings.Contains(msg, "tab") || strings.Contains(msg, "cannot start any token") {
		for c := min(col, len(runes)); c >= 1; c-- {
			if runes[c-1] == '\t' {
				return c
			}
		}
	}
	return col
}

// opener finds the start of a construct left open at the end of input:
// the character after the longest prefix that does not fail with the
// problem. Returns line 0 when out of budget.
func (l *locator) opener() (line, col int) {
	k := len(l.lines) - 1
	for ; k > 0; k-- {
		f, ok := l.fails(k, "")
		if !ok {
			return 0, 0
		}
		if !f {
			break
		}
	}
	// The construct opens on line k+1 (1-based).
	runes := []rune(l.lines[k])
	c := len(runes) - 1
	for ; c > 0; c-- {
		f, ok := l.fails(k, string(runes[:c]))
		if !ok {
			return 0, 0
		}
		if !f {
			break
		}
	}
	// runes[c] opens the construct; skip blanks a cut may have landed on.
	for c < len(runes) && (runes[c] == ' ' || runes[c] == '\t') {
		c++
	}
	if c >= len(runes) || runes[c] == '\n' || runes[c] == '\r' {
		return k + 1, firstNonBlank(l.lines[k])
	}
	return k + 1, c + 1
}

// opener is where a quoted scalar or flow collection starts.
type opener struct {
	ch        rune
	line, col int
}

// scanState is what scanYAML finds still open at the end of some text.
type scanState struct {
	stack   []opener // open flow collections, outermost first
	quote   rune     // ' or " while inside a quoted scalar, else 0
	quoteAt opener
}

// scanYAML reads lines roughly as YAML tokens (quoted scalars, flow
// brackets, comments, block scalars) and returns what is open at the end.
// It is a heuristic: it does not parse YAML, it only helps to point at an
// opening character.
func scanYAML(lines []string) scanState {
	var st scanState
	blockParent := -1 // indentation of the line that opened a block scalar
	for li, text := range lines {
		runes := []rune(strings.TrimRight(text, "\r\n"))
		indent := 0
		for indent < len(runes) && runes[indent] == ' ' {
			indent++
		}
		if blockParent >= 0 && st.quote == 0 {
			if indent == len(runes) || indent > blockParent {
				continue // block scalar content (or blank)
			}
			blockParent = -1
		}
		tokenStart := func(i int) bool {
			if i == 0 {
				return true
			}
			// In a flow collection a value may follow its ':' directly
			// ({"a":"b"}, as in JSON).
			return strings.ContainsRune(" \t[{,", runes[i-1]) || (len(st.stack) > 0 && runes[i-1] == ':')
		}
	scan:
		for i := 0; i < len(runes); i++ {
			r := runes[i]
			switch st.quote {
			case '\'':
				if r == '\'' {
					if i+1 < len(runes) && runes[i+1] == '\'' {
						i++
					} else {
						st.quote = 0
					}
				}
				continue
			case '"':
				switch r {
				case '\\':
					i++
				case '"':
					st.quote = 0
				}
				continue
			}
			switch {
			case r == '#' && (i == 0 || runes[i-1] == ' ' || runes[i-1] == '\t'):
				break scan
			case (r == '"' || r == '\'') && tokenStart(i):
				st.quote, st.quoteAt = r, opener{r, li + 1, i + 1}
			case (r == '[' || r == '{') && (tokenStart(i) || len(st.stack) > 0):
				st.stack = append(st.stack, opener{r, li + 1, i + 1})
			case (r == ']' || r == '}') && len(st.stack) > 0:
				st.stack = st.stack[:len(st.stack)-1]
			case (r == '|' || r == '>') && len(st.stack) == 0 && tokenStart(i):
				rest := strings.TrimLeft(string(runes[i+1:]), "+-0123456789")
				rest = strings.TrimLeft(rest, " \t")
				if rest == "" || strings.HasPrefix(rest, "#") {
					blockParent = indent
					break scan
				}
			}
		}
	}
	return st
}

// closers is the text that closes what st has open: the quote, then the
// flow collections, innermost first.
func (st scanState) closers() string {
	var b strings.Builder
	if st.quote != 0 {
		b.WriteRune(st.quote)
	}
	for i := len(st.stack) - 1; i >= 0; i-- {
		if st.stack[i].ch == '[' {
			b.WriteByte(']')
		} else {
			b.WriteByte('}')
		}
	}
	return b.String()
}

// unclosedOpener returns the position of the construct of the given kind
// (a quote, '[' or '{') still open at the end of lines: the innermost one.
func unclosedOpener(lines []string, kind byte) (line, col int, ok bool) {
	st := scanYAML(lines)
	if kind == '"' {
		if st.quote != 0 {
			return st.quoteAt.line, st.quoteAt.col, true
		}
		return 0, 0, false
	}
	for i := len(st.stack) - 1; i >= 0; i-- {
		if st.stack[i].ch == rune(kind) {
			return st.stack[i].line, st.stack[i].col, true
		}
	}
	return 0, 0, false
}

// keyStart returns the column where the simple key ending before the ':'
// at index colon starts: after the last indicator that can precede a key
// on the line, or at the first non-blank character.
func keyStart(runes []rune, colon int) int {
	start := 0
	for start < colon && runes[start] == ' ' {
		start++
	}
	for i := colon - 1; i > start; i-- {
		switch {
		case runes[i] == '{' || runes[i] == '[':
			return skipBlanks(runes, i+1, colon) + 1
		case runes[i] == ' ' && strings.ContainsRune(":-?,", runes[i-1]):
			return skipBlanks(runes, i+1, colon) + 1
		}
	}
	return start + 1
}

func skipBlanks(runes []rune, i, limit int) int {
	for i < limit && runes[i] == ' ' {
		i++
	}
	return i
}
