package filter

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// The grammar follows MLflow 2.x's mlflow/utils/search_utils.py (SearchUtils,
// SearchExperimentsUtils) together with the comparator checks its
// SqlAlchemyStore applies, and its error messages. A filter is a sequence of
// comparisons joined by AND (like MLflow, stray or missing ANDs between
// comparisons are tolerated; anything else, OR included, is an error):
//
//	filter     = comparison { "AND" comparison }
//	comparison = identifier comparator value
//	           | identifier ["NOT"] "IN" "(" string { "," string } ")"
//	identifier = [prefix "."] key        prefix: metrics, params, tags, attributes, datasets, or an alias
//	key        = name | "name" | `name` | 'name'   (a key may contain dots: tags.mlflow.runName)
//	value      = 'string' | "string" | number
//
// Every error is an errdefs.InvalidArgument carrying MLflow's message.

// ParseRunFilter parses a runs/search filter string. An empty or blank
// filter yields no clauses.
func ParseRunFilter(s string) ([]Clause, error) { return runGrammar.parseFilter(s) }

// ParseRunOrderBy parses runs/search order_by entries such as
// "metrics.rmse DESC" or "attributes.start_time".
func ParseRunOrderBy(list []string) ([]Order, error) { return runGrammar.parseOrderBy(list) }

// ParseExperimentFilter parses an experiments/search filter string. An empty
// or blank filter yields no clauses.
func ParseExperimentFilter(s string) ([]Clause, error) { return experimentGrammar.parseFilter(s) }

// ParseExperimentOrderBy parses experiments/search order_by entries such as
// "name" or "last_update_time DESC".
func ParseExperimentOrderBy(list []string) ([]Order, error) {
	return experimentGrammar.parseOrderBy(list)
}

func invalid(format string, args ...any) error { return errdefs.InvalidArgument(format, args...) }

// readable makes text that could not be tokenized printable in a message.
func readable(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", `\x00`)
}

// lexable reports whether s can be tokenized at all. NUL is refused too: no
// store can hold it in a key or value.
func lexable(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// comparison is one `left comparator right` group of a filter.
type comparison struct {
	left, right item
	op          string
}

func (g *grammar) parseFilter(s string) ([]Clause, error) {
	if strings.TrimFunc(s, isSpace) == "" {
		return nil, nil
	}
	if !lexable(s) {
		return nil, invalid("Invalid filter '%s'. Could not be parsed.", readable(s))
	}
	toks := lex(s)
	if multipleStatements(toks) {
		return nil, invalid("Search filter contained multiple expression '%s'. Provide AND-ed expression list.", s)
	}
	var items []item
	for _, it := range group(s, toks) {
		if it.kind != itSpace {
			items = append(items, it)
		}
	}

	// Like MLflow: group comparisons, skip ANDs, and report every other
	// top-level token as an invalid clause before looking into any comparison.
	var comps []comparison
	var bad []string
	for i := 0; i < len(items); {
		it := items[i]
		switch {
		case it.kind == itKeyword && strings.EqualFold(it.text, "AND"):
			i++
		case isOperand(it) && i+2 < len(items) && items[i+1].kind == itComparator && isOperand(items[i+2]):
			comps = append(comps, comparison{left: it, op: items[i+1].text, right: items[i+2]})
			i += 3
		case it.kind == itIdent && i+2 < len(items) && isWord(items[i+1], "IN") && items[i+2].kind == itParen:
			comps = append(comps, comparison{left: it, op: string(In), right: items[i+2]})
			i += 3
		case it.kind == itIdent && i+3 < len(items) && isWord(items[i+1], "NOT") && isWord(items[i+2], "IN") &&
			items[i+3].kind == itParen:
			comps = append(comps, comparison{left: it, op: string(NotIn), right: items[i+3]})
			i += 4
		default:
			if g.quoteInvalidClauses {
				bad = append(bad, "'"+it.text+"'")
			} else {
				bad = append(bad, it.text)
			}
			i++
		}
	}
	if len(bad) > 0 {
		return nil, invalid("Invalid clause(s) in filter string: %s", strings.Join(bad, ", "))
	}
	// Keys and values of all clauses are checked before any comparator, as
	// MLflow parses the whole filter before its store looks at comparators.
	clauses := make([]Clause, len(comps))
	fields := make([]field, len(comps))
	for i, c := range comps {
		var err error
		if clauses[i], fields[i], err = g.clause(c); err != nil {
			return nil, err
		}
	}
	for i, c := range comps {
		if err := checkComparator(&clauses[i], fields[i], c); err != nil {
			return nil, err
		}
	}
	return clauses, nil
}

// isOperand reports whether sqlparse would take it as a side of a comparison.
func isOperand(it item) bool {
	switch it.kind {
	case itIdent, itNumber, itHex, itString, itParen, itFunc:
		return true
	case itKeyword:
		return strings.EqualFold(it.text, "NULL")
	}
	return false
}

func isWord(it item, kw string) bool {
	return it.kind == itKeyword && strings.EqualFold(it.text, kw)
}

// clause checks the identifier, then the value of one comparison, and
// returns the clause without its comparator together with the key's rules.
func (g *grammar) clause(c comparison) (Clause, field, error) {
	if c.left.kind != itIdent {
		return Clause{}, field{}, invalid("Invalid comparison clause. Expected 'Identifier' found '%s'", c.left.text)
	}
	ent, key, err := g.identifier(c.left.text, g.attrKeys)
	if err != nil {
		return Clause{}, field{}, err
	}
	f, err := g.field(ent, key)
	if err != nil {
		return Clause{}, field{}, err
	}
	cl := Clause{Entity: ent, Key: f.key}
	if err := setValue(&cl, key, f, c.right); err != nil {
		return Clause{}, field{}, err
	}
	return cl, f, nil
}

// checkComparator checks the comparator of c against the key's rules and
// sets it on cl.
func checkComparator(cl *Clause, f field, c comparison) error {
	op := Op(strings.ToUpper(c.op))
	if !f.ops.has(op) {
		return invalid("Invalid comparator '%s' not one of '%s'", op, f.ops)
	}
	if isList, wantsList := cl.List != nil, op == In || op == NotIn; isList != wantsList {
		if isList {
			return invalid("Invalid comparator '%s' for a list of values. Expected one of {'IN', 'NOT IN'}", op)
		}
		return invalid("Comparator '%s' expects a list of quoted string values. Got value %s", op, c.right.text)
	}
	cl.Op = op
	return nil
}

// identifier splits an identifier into its entity and key the way MLflow's
// _get_identifier does: at the first dot of the source text; backticks are
// trimmed off the prefix (runs only) and quotes, then backticks, off the key;
// attribute and dataset keys must be known.
func (g *grammar) identifier(raw string, attrs keySet) (Entity, string, error) {
	prefix, key, dotted := strings.Cut(raw, ".")
	ent := Attribute
	if !dotted {
		key = raw
	} else {
		if g.trimPrefixBackticks {
			prefix = trimBackticks(prefix)
		}
		e, ok := g.prefixes[prefix]
		if !ok {
			return 0, "", invalid(g.badEntity, prefix)
		}
		ent = e
	}
	key = trimBackticks(stripQuotes(key))
	switch ent {
	case Attribute:
		if _, ok := attrs.canon[key]; !ok {
			return 0, "", invalid("Invalid attribute key '%s' specified. Valid keys are '%s'", key, attrs.repr)
		}
	case Dataset:
		if _, ok := g.dsKeys.canon[key]; !ok {
			return 0, "", invalid("Invalid dataset key '%s' specified. Valid keys are '%s'", key, g.dsKeys.repr)
		}
	}
	return ent, key, nil
}

// field returns the rules for key of entity ent, with the canonical key.
func (g *grammar) field(ent Entity, key string) (field, error) {
	switch ent {
	case Attribute:
		return g.attrFields[g.attrKeys.canon[key]], nil
	case Dataset:
		return g.dsFields[g.dsKeys.canon[key]], nil
	}
	if fe, ok := g.freeEntities[ent]; ok {
		return field{key: key, typ: fe.typ, ops: fe.ops}, nil
	}
	return field{}, invalid("Invalid search expression type '%s'", ent)
}

// setValue checks the operand v against field f and stores it in cl;
// typedKey is the key as written, for messages.
func setValue(cl *Clause, typedKey string, f field, v item) error {
	if f.typ == numericValue {
		if v.kind != itNumber {
			if cl.Entity == Metric {
				return invalid("Expected numeric value type for metric. Found %s", v.text)
			}
			return invalid("Expected numeric value type for numeric attribute: %s. Found %s", typedKey, v.text)
		}
		n, err := strconv.ParseFloat(v.text, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) { // out of range is ±Inf, as in Python
			return invalid("Expected numeric value type for %s. Found %s", cl.Entity, v.text)
		}
		cl.Numeric, cl.Num = true, n
		return nil
	}
	switch v.kind {
	case itString:
		cl.Str = v.text[1 : len(v.text)-1]
		return nil
	case itIdent:
		s, err := stripValueQuotes(v.text)
		cl.Str = s
		return err
	case itParen:
		if cl.Entity == Attribute || cl.Entity == Dataset {
			if !f.list {
				return invalid("Only the 'run_id' attribute supports comparison with a list of quoted string values.")
			}
			list, err := parseList(v)
			cl.List = list
			return err
		}
	}
	switch cl.Entity {
	case Attribute:
		return invalid("Expected a quoted string value for attributes. Got value %s", v.text)
	case Dataset:
		return invalid("Expected a quoted string value for dataset attributes. Got value %s", v.text)
	}
	return invalid("Expected a quoted string value for %s (e.g. 'my-value'). Got value %s", cl.Entity, v.text)
}

func isQuoted(s string, q byte) bool { return len(s) >= 2 && s[0] == q && s[len(s)-1] == q }

// stripQuotes is MLflow's _strip_quotes for keys.
func stripQuotes(s string) string {
	if isQuoted(s, '\'') || isQuoted(s, '"') {
		return s[1 : len(s)-1]
	}
	return s
}

// shlexWord unquotes s, which holds no white space outside quotes, the way
// Python's shlex.split does in POSIX mode once backticks are double quotes.
// It reports false where shlex would raise (an unclosed quote, a trailing
// backslash).
func shlexWord(s string) (string, bool) {
	var b strings.Builder
	var quote rune // 0, '"' or '\''
	escaped := false
	for _, r := range strings.ReplaceAll(s, "`", `"`) {
		switch {
		case escaped:
			if quote == '"' && r != '\\' && r != '"' { // only \\ and \" escape inside "..."
				b.WriteByte('\\')
			}
			b.WriteRune(r)
			escaped = false
		case quote == '\'':
			if r == '\'' {
				quote = 0
			} else {
				b.WriteRune(r)
			}
		case r == '\\':
			escaped = true
		case quote == '"':
			if r == '"' {
				quote = 0
			} else {
				b.WriteRune(r)
			}
		case r == '"' || r == '\'':
			quote = r
		default:
			b.WriteRune(r)
		}
	}
	return b.String(), quote == 0 && !escaped
}

func trimBackticks(s string) string {
	if isQuoted(s, '`') {
		return s[1 : len(s)-1]
	}
	return s
}

// stripValueQuotes is MLflow's _strip_quotes(expect_quoted_value=True).
// The text between the quotes is taken verbatim, escapes included, as MLflow
// does.
func stripValueQuotes(s string) (string, error) {
	if isQuoted(s, '\'') || isQuoted(s, '"') {
		return s[1 : len(s)-1], nil
	}
	return "", invalid("Parameter value is either not quoted or unidentified quote types used for string value %s. Use either single or double quotes.", s)
}

// parseList reads the operand of IN / NOT IN: a parenthesised,
// comma-separated list of single-quoted strings (MLflow's
// _check_valid_identifier_list).
func parseList(p item) ([]string, error) {
	toks := p.inner
	if len(toks) == 0 {
		return nil, invalid("While parsing a list in the query, expected a non-empty list of string values, but got empty list")
	}
	illFormed := func() ([]string, error) {
		return nil, invalid("While parsing a list in the query, expected a non-empty list of string values, but got ill-formed list.")
	}
	vals := []string{}
	nonString := false
	wantElem := true
	for _, t := range toks {
		switch {
		case t.kind == tkSpace:
		case wantElem:
			switch t.kind {
			case tkSingle:
				vals = append(vals, t.text[1:len(t.text)-1])
			case tkDouble, tkBacktick, tkWord, tkNumber, tkHex:
				vals = append(vals, "")
				nonString = true
			default:
				return illFormed()
			}
			wantElem = false
		case t.kind == tkComma:
			wantElem = true
		default:
			return illFormed()
		}
	}
	if wantElem || (nonString && len(vals) == 1) {
		return illFormed()
	}
	if nonString {
		return nil, invalid("While parsing a list in the query, expected string value, punctuation, or whitespace, but got different type in list: %s", p.text)
	}
	return vals, nil
}

func (g *grammar) parseOrderBy(list []string) ([]Order, error) {
	if len(list) == 0 {
		return nil, nil
	}
	orders := make([]Order, 0, len(list))
	seen := make(map[Order]bool, len(list))
	for _, s := range list {
		o, err := g.orderEntry(s)
		if err != nil {
			return nil, err
		}
		if g.orderDedupe {
			k := Order{Entity: o.Entity, Key: o.Key}
			if seen[k] {
				return nil, invalid("`order_by` contains duplicate fields: %s", pyList(list))
			}
			seen[k] = true
		}
		orders = append(orders, o)
	}
	return orders, nil
}

// orderEntry parses one order_by entry: an identifier, optionally followed
// by white space and ASC or DESC (any case).
func (g *grammar) orderEntry(s string) (Order, error) {
	if !lexable(s) {
		return Order{}, invalid("Invalid order_by clause '%s'. Could not be parsed.", readable(s))
	}
	items := group(s, lex(s))
	asc := true
	ident := ""
	switch {
	case len(items) == 1 && items[0].kind == itIdent:
		ident = items[0].text
	case len(items) == 3 && items[0].kind == itIdent && items[1].kind == itSpace &&
		(items[2].kind == itIdent || isWord(items[2], "ASC") || isWord(items[2], "DESC")):
		// With a direction, MLflow splits the entry with shlex after turning
		// backticks into double quotes: quotes vanish from both words, so
		// `desc` is a direction and `tags`.x DESC names tags.x.
		key, okKey := shlexWord(items[0].text)
		dir, okDir := shlexWord(items[2].text)
		if !okKey || !okDir {
			return Order{}, invalid("Invalid order_by clause '%s'. Could not be parsed.", s)
		}
		switch strings.ToLower(dir) {
		case "asc":
		case "desc":
			asc = false
		default:
			return Order{}, invalid("Invalid ordering key in order_by clause '%s'.", s)
		}
		ident = key
	default:
		return Order{}, invalid("Invalid order_by clause '%s'. Could not be parsed.", s)
	}
	ent, key, err := g.identifier(ident, g.orderAttrs)
	if err != nil {
		return Order{}, err
	}
	if !g.orderEntSet[ent] {
		return Order{}, invalid(g.orderReject, ent)
	}
	if ent == Attribute {
		key = g.orderAttrs.canon[key]
	}
	return Order{Entity: ent, Key: key, Asc: asc}, nil
}

// pyRepr quotes s the way Python's repr does, closely enough for messages.
func pyRepr(s string) string {
	q := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(q):
			b.WriteByte('\\')
			b.WriteByte(q)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatInt(int64(r)|0x100, 16)[1:])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// pyList renders a list of strings as Python prints it.
func pyList(list []string) string {
	parts := make([]string, len(list))
	for i, s := range list {
		parts[i] = pyRepr(readable(s))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// ParseRegisteredModelFilter parses a registered-models/search filter
// (name and tags).
func ParseRegisteredModelFilter(s string) ([]Clause, error) {
	return registeredModelGrammar.parseFilter(s)
}

// ParseRegisteredModelOrderBy parses registered-models/search order_by.
func ParseRegisteredModelOrderBy(list []string) ([]Order, error) {
	return registeredModelGrammar.parseOrderBy(list)
}

// ParseModelVersionFilter parses a model-versions/search filter (name,
// version_number, run_id, source_path and tags).
func ParseModelVersionFilter(s string) ([]Clause, error) {
	return modelVersionGrammar.parseFilter(s)
}

// ParseModelVersionOrderBy parses model-versions/search order_by.
func ParseModelVersionOrderBy(list []string) ([]Order, error) {
	return modelVersionGrammar.parseOrderBy(list)
}
