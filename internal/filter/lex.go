package filter

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The lexer reproduces, for the subset of SQL that MLflow's search grammar
// uses, how sqlparse (which MLflow runs filter strings through) splits text
// into tokens: which characters form a word, a number, a quoted string, a
// comparison operator, a comment. Everything else becomes a tkOther token,
// which never fits any clause and so turns into an "Invalid clause(s)" error.

type tokKind uint8

const (
	tkSpace        tokKind = iota + 1 // a run of white space, line breaks included
	tkWord                            // bare word: letters, digits, '_', and '$' '#' after the first
	tkFunc                            // a word directly followed by '(': a function name to sqlparse
	tkSingle                          // 'single-quoted' string literal
	tkDouble                          // "double-quoted" name (sqlparse: String.Symbol)
	tkBacktick                        // `backticked` name
	tkDot                             // .
	tkNumber                          // integer or decimal literal: 1, -2, 1.5, .5, 1e3
	tkHex                             // 0x1F: a number to sqlparse, but not a numeric value to MLflow
	tkComparator                      // = != < <= > >= <> == ~ ..., LIKE, ILIKE, NOT LIKE, ...
	tkLParen                          // (
	tkRParen                          // )
	tkComma                           // ,
	tkSemicolon                       // ;
	tkLineComment                     // -- ... or "# " ... up to and including the line break
	tkBlockComment                    // /* ... */
	tkOther                           // anything else, unterminated quotes included
)

type token struct {
	kind tokKind
	off  int // byte offset in the source
	text string
}

func (t token) end() int { return t.off + len(t.text) }

// The quoted-token patterns are sqlparse's own. Go's regexp picks the match a
// backtracking engine would pick (leftmost-first), so an unterminated doubled
// quote (the string 'a' plus one more quote) lexes as the string 'a' and a
// stray quote, exactly as in Python.
var (
	singleQuoted = regexp.MustCompile(`^'(?:''|\\\\|\\'|[^'])*'`)
	doubleQuoted = regexp.MustCompile(`^"(?:""|\\\\|\\"|[^"])*"`)
	backQuoted   = regexp.MustCompile("^`(?:``|[^`])*`")
)

// likeWords are the word comparators sqlparse lexes as Operator.Comparison.
var likeWords = map[string]bool{"LIKE": true, "ILIKE": true, "RLIKE": true, "REGEXP": true}

func isSpace(r rune) bool {
	// Python's \s also matches the information separators U+001C..U+001F.
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

func isHexDigit(b byte) bool {
	return isDigit(b) || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F')
}

// isWordStart reports whether r may begin a bare word (Python's \w).
func isWordStart(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r) }

// isWordRune reports whether r may continue a bare word ([_$#\w] in sqlparse).
func isWordRune(r rune) bool { return isWordStart(r) || r == '$' || r == '#' }

// wordLen is the byte length of the run of word runes at the start of s.
func wordLen(s string) int {
	n := 0
	for n < len(s) {
		r, size := utf8.DecodeRuneInString(s[n:])
		if !isWordRune(r) {
			break
		}
		n += size
	}
	return n
}

// nameLen is the byte length of the run of \w runes (no '$', '#') at the
// start of s.
func nameLen(s string) int {
	n := 0
	for n < len(s) {
		r, size := utf8.DecodeRuneInString(s[n:])
		if !isWordStart(r) {
			break
		}
		n += size
	}
	return n
}

func spaceLen(s string) int {
	n := 0
	for n < len(s) {
		r, size := utf8.DecodeRuneInString(s[n:])
		if !isSpace(r) {
			break
		}
		n += size
	}
	return n
}

// lex splits s, which must be valid UTF-8, into tokens covering all of it.
func lex(s string) []token {
	var toks []token
	off := 0
	// Once a "/*" has no closing "*/", no later one has: remember that, so
	// that "/*/*/*..." stays linear.
	unclosedComment := false
	emit := func(k tokKind, n int) {
		toks = append(toks, token{kind: k, off: off, text: s[off : off+n]})
		off += n
	}
	for off < len(s) {
		rest := s[off:]
		r, size := utf8.DecodeRuneInString(rest)
		var prev tokKind
		if len(toks) > 0 {
			prev = toks[len(toks)-1].kind
		}
		afterPart := prev == tkWord || prev == tkDouble || prev == tkBacktick || prev == tkSingle
		switch {
		case strings.HasPrefix(rest, "--"), strings.HasPrefix(rest, "# "):
			emit(tkLineComment, lineCommentLen(rest))
		case strings.HasPrefix(rest, "/*") && !unclosedComment:
			if j := strings.Index(rest[2:], "*/"); j >= 0 {
				emit(tkBlockComment, j+4)
			} else {
				unclosedComment = true
				emit(tkOther, 1)
			}
		case isSpace(r):
			emit(tkSpace, spaceLen(rest))
		case r == '`':
			emit(quoted(backQuoted, rest, tkBacktick))
		case r == '\'':
			emit(quoted(singleQuoted, rest, tkSingle))
		case r == '"':
			emit(quoted(doubleQuoted, rest, tkDouble))
		case r == '(':
			emit(tkLParen, 1)
		case r == ')':
			emit(tkRParen, 1)
		case r == ',':
			emit(tkComma, 1)
		case r == ';':
			emit(tkSemicolon, 1)
		case strings.ContainsRune("<>=~!", r):
			n := 1
			for n < len(rest) && strings.IndexByte("<>=~!", rest[n]) >= 0 {
				n++
			}
			emit(tkComparator, n)
		case prev == tkDot && isWordStart(r):
			// The key after a dot is a name whatever it looks like: tags.key,
			// tags.2nd. Starting with a letter it is sqlparse's (?<=\.)[A-Z]\w*,
			// which leaves out the '$' and '#' other names may contain.
			if unicode.IsLetter(r) {
				emit(tkWord, nameLen(rest))
			} else {
				emit(tkWord, wordLen(rest))
			}
		case r == '.' && afterPart:
			emit(tkDot, 1)
		case startsNumber(rest):
			emit(lexNumber(rest))
		case r == '.':
			emit(tkDot, 1)
		case isWordStart(r):
			n := wordLen(rest)
			after := rest[n:]
			up := strings.ToUpper(rest[:n])
			switch {
			case strings.HasPrefix(after, "."):
				// A name followed by a dot is never a keyword or an operator.
				emit(tkWord, n)
			case strings.HasPrefix(after, "(") && up != "IN":
				// Nor is a function name: like(...), and(...), f(...).
				emit(tkFunc, n)
			case likeWords[up]:
				emit(tkComparator, n)
			case up == "NOT" && notLikeLen(after) > 0:
				emit(tkComparator, n+notLikeLen(after))
			default:
				emit(tkWord, n)
			}
		default:
			emit(tkOther, size)
		}
	}
	return toks
}

// quoted lexes a quoted token. The patterns only fail when no closing quote
// follows at all, so each quote character fails at most once per input.
func quoted(re *regexp.Regexp, rest string, k tokKind) (tokKind, int) {
	if loc := re.FindStringIndex(rest); loc != nil {
		return k, loc[1]
	}
	return tkOther, 1 // unterminated: the lone quote is an error token
}

// lineCommentLen measures a comment that runs to the end of its line,
// including the line break.
func lineCommentLen(s string) int {
	j := strings.IndexAny(s, "\r\n")
	switch {
	case j < 0:
		return len(s)
	case s[j] == '\r' && j+1 < len(s) && s[j+1] == '\n':
		return j + 2
	default:
		return j + 1
	}
}

// notLikeLen measures the `\s+(LIKE|ILIKE|RLIKE|REGEXP)\b` that may follow a
// NOT, or returns 0.
func notLikeLen(s string) int {
	sp := spaceLen(s)
	if sp == 0 {
		return 0
	}
	// The whole word must be the operator (the \b of the pattern).
	w := wordLen(s[sp:])
	if !likeWords[strings.ToUpper(s[sp:sp+w])] {
		return 0
	}
	return sp + w
}

func startsNumber(s string) bool {
	i := 0
	if s[0] == '-' {
		i = 1
	}
	if i < len(s) && isDigit(s[i]) {
		return true
	}
	return i+1 < len(s) && s[i] == '.' && isDigit(s[i+1])
}

// lexNumber lexes a numeric literal at the start of s (startsNumber(s) holds).
// A literal running straight into letters is not a number: "2nd_run" is a
// word (sqlparse: Name), "-1abc" and "1.5x" are error tokens.
func lexNumber(s string) (tokKind, int) {
	j := 0
	neg := s[0] == '-'
	if neg {
		j = 1
	}
	if j+2 < len(s) && s[j] == '0' && (s[j+1] == 'x' || s[j+1] == 'X') && isHexDigit(s[j+2]) {
		j += 2
		for j < len(s) && isHexDigit(s[j]) {
			j++
		}
		return numberTail(s, j, tkHex)
	}
	intStart := j
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	hasInt := j > intStart
	if hasInt && !neg && j < len(s) && s[j] != '.' && expLen(s[j:]) == 0 {
		if r, _ := utf8.DecodeRuneInString(s[j:]); isWordRune(r) {
			return tkWord, wordLen(s)
		}
	}
	if j < len(s) && s[j] == '.' {
		k := j + 1
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		if hasInt || k > j+1 {
			j = k
		}
	}
	j += expLen(s[j:])
	return numberTail(s, j, tkNumber)
}

// expLen measures an exponent `[eE]-?\d+` at the start of s, or returns 0.
func expLen(s string) int {
	if len(s) < 2 || (s[0] != 'e' && s[0] != 'E') {
		return 0
	}
	k := 1
	if s[k] == '-' {
		k++
	}
	n := k
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	if n == k {
		return 0
	}
	return n
}

func numberTail(s string, j int, k tokKind) (tokKind, int) {
	if j < len(s) {
		if r, _ := utf8.DecodeRuneInString(s[j:]); isWordRune(r) {
			return tkOther, j + wordLen(s[j:])
		}
	}
	return k, j
}

// Items are tokens grouped the way sqlparse groups them before MLflow looks
// at a statement: dotted identifiers become one item, a parenthesised group
// becomes one item, keywords are told apart from names.

type itemKind uint8

const (
	itIdent      itemKind = iota + 1 // name, "name", `name`, and dotted forms: metrics.a, tags."x y"
	itNumber                         // tkNumber
	itHex                            // tkHex
	itString                         // tkSingle
	itParen                          // ( ... ), matched
	itFunc                           // name(...): an operand, but never a valid key or value
	itKeyword                        // a bare word that is an SQL keyword: AND, OR, NOT, IN, NULL, ...
	itComparator                     // tkComparator
	itSpace                          // tkSpace
	itOther                          // anything else
)

type item struct {
	kind  itemKind
	text  string  // source text
	inner []token // itParen: the tokens between the parentheses
}

// keywords lists the SQL keywords that matter to the grammar. sqlparse knows
// hundreds; a bare word outside this list is taken as a name, which at worst
// changes which error message an invalid filter gets.
var keywords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`
		ALL ALTER AND ANY AS ASC BEGIN BETWEEN BY CASE CAST COLLATE CREATE CROSS
		DECLARE DEFAULT DELETE DESC DISTINCT DROP ELSE END ESCAPE EXCEPT EXEC
		EXECUTE EXISTS FALSE FETCH FOR FROM FULL GRANT GROUP HAVING IF IN INNER
		INSERT INTERSECT INTO IS ISNULL JOIN LEFT LIMIT MERGE NOT NOTNULL NULL
		OFFSET ON OR ORDER OUTER REPLACE RETURNING REVOKE RIGHT ROLLBACK SELECT
		SET TABLE THEN TRUE TRUNCATE UNION UPDATE USING VALUES WHEN WHERE WITH`) {
		m[w] = true
	}
	return m
}()

func isKeyword(word string) bool { return keywords[strings.ToUpper(word)] }

// group turns the tokens of src into items. Parentheses are matched in one
// pass, so unbalanced input stays linear.
func group(src string, toks []token) []item {
	closeAt := make(map[int]int) // index of '(' -> index of its ')'
	var open []int
	for i, t := range toks {
		switch t.kind {
		case tkLParen:
			open = append(open, i)
		case tkRParen:
			if len(open) > 0 {
				closeAt[open[len(open)-1]] = i
				open = open[:len(open)-1]
			}
		}
	}
	span := func(i, j int) string { return src[toks[i].off:toks[j-1].end()] }

	var out []item
	for i := 0; i < len(toks); {
		t := toks[i]
		// sqlparse's group_functions: a name, then (white space and) a
		// parenthesised group, is a function call.
		if t.kind == tkFunc || (t.kind == tkWord && !isKeyword(t.text) && (i == 0 || toks[i-1].kind != tkDot)) {
			j := i + 1
			if j < len(toks) && toks[j].kind == tkSpace {
				j++
			}
			if k, ok := closeAt[j]; ok && j < len(toks) && toks[j].kind == tkLParen {
				out = append(out, item{kind: itFunc, text: span(i, k+1)})
				i = k + 1
				continue
			}
		}
		switch t.kind {
		case tkFunc:
			out = append(out, item{kind: itOther, text: t.text})
			i++
		case tkWord, tkDouble, tkBacktick:
			followedByDot := i+1 < len(toks) && toks[i+1].kind == tkDot
			if t.kind == tkWord && !followedByDot && isKeyword(t.text) {
				out = append(out, item{kind: itKeyword, text: t.text})
				i++
				continue
			}
			// sqlparse's group_period: part ('.' part?)*, where a part after a
			// dot may also be a 'single-quoted' string; a trailing dot stays
			// in the identifier ("metrics." has the empty key).
			j := i + 1
			for j < len(toks) && toks[j].kind == tkDot {
				j++
				if j < len(toks) && isKeyPart(toks[j].kind) {
					j++
				}
			}
			out = append(out, item{kind: itIdent, text: span(i, j)})
			i = j
		case tkLParen:
			k, ok := closeAt[i]
			if !ok {
				out = append(out, item{kind: itOther, text: t.text})
				i++
				continue
			}
			out = append(out, item{kind: itParen, text: span(i, k+1), inner: toks[i+1 : k]})
			i = k + 1
		default:
			out = append(out, item{kind: itemKindOf(t.kind), text: t.text})
			i++
		}
	}
	return out
}

func isKeyPart(k tokKind) bool {
	return k == tkWord || k == tkDouble || k == tkBacktick || k == tkSingle
}

func itemKindOf(k tokKind) itemKind {
	switch k {
	case tkNumber:
		return itNumber
	case tkHex:
		return itHex
	case tkSingle:
		return itString
	case tkComparator:
		return itComparator
	case tkSpace:
		return itSpace
	}
	return itOther
}

// multipleStatements reports whether sqlparse would split the text into
// more than one statement: whether anything but white space and line
// comments follows the first ';' outside parentheses.
func multipleStatements(toks []token) bool {
	depth := 0
	for i, t := range toks {
		switch t.kind {
		case tkLParen:
			depth++
		case tkRParen:
			depth--
		case tkSemicolon:
			if depth > 0 {
				continue
			}
			for _, u := range toks[i+1:] {
				if u.kind != tkSpace && u.kind != tkLineComment {
					return true
				}
			}
			return false
		}
	}
	return false
}
