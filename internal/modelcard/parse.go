package modelcard

import (
	"encoding/json"
	"net/url"
	"strings"
	"unicode"
)

// splitList splits a tag value written as a list into its items: one item
// per line or per ';'. Items are trimmed, a leading list bullet ("- ", "* "
// or "• ") is dropped, and empty items are skipped.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == ';' }) {
		item = strings.TrimSpace(item)
		for _, bullet := range []string{"- ", "* ", "• "} {
			if rest, ok := strings.CutPrefix(item, bullet); ok {
				item = strings.TrimSpace(rest)
				break
			}
		}
		if item != "" {
			out = append(out, item)
		}
	}
	return out
}

// splitParagraphs splits s at blank lines into trimmed, non-empty
// paragraphs (citations, which may span lines, are listed this way).
func splitParagraphs(s string) []string {
	var out []string
	var cur []string
	flush := func() {
		if p := strings.TrimSpace(strings.Join(cur, "\n")); p != "" {
			out = append(out, p)
		}
		cur = cur[:0]
	}
	for _, line := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		cur = append(cur, strings.TrimRight(line, " \t\r"))
	}
	flush()
	return out
}

// parseOwners reads owners written as "Name <contact>" items separated by
// ',', ';' or newlines, e.g. "Ada Lovelace <ada@example.com>, Fraud team
// <#fraud-ml>". The contact is optional; separators inside <...> do not
// split. An item without a closing '>' is all name.
func parseOwners(s string) []Owner {
	var out []Owner
	var item strings.Builder
	depth := 0
	flush := func() {
		if o, ok := parseOwner(item.String()); ok {
			out = append(out, o)
		}
		item.Reset()
	}
	for _, r := range s {
		switch {
		case r == '<':
			depth++
		case r == '>' && depth > 0:
			depth--
		case depth == 0 && (r == ',' || r == ';' || r == '\n'):
			flush()
			continue
		}
		item.WriteRune(r)
	}
	flush()
	return out
}

// parseOwner reads one "Name <contact>" item.
func parseOwner(s string) (Owner, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Owner{}, false
	}
	if strings.HasSuffix(s, ">") {
		if i := strings.Index(s, "<"); i >= 0 {
			name := strings.TrimSpace(s[:i])
			contact := strings.TrimSpace(s[i+1 : len(s)-1])
			if name != "" || contact != "" {
				return Owner{Name: name, Contact: contact}, true
			}
			return Owner{}, false
		}
	}
	return Owner{Name: s}, true
}

// parseRisk reads an ethical consideration written as "risk: mitigation".
// Without a ':' the whole item names the risk.
func parseRisk(s string) Risk {
	name, mitigation, _ := strings.Cut(s, ":")
	return Risk{Name: strings.TrimSpace(name), MitigationStrategy: strings.TrimSpace(mitigation)}
}

// parseLicense reads one license item: a single word (no white space, at
// most 64 bytes) is an SPDX identifier such as "Apache-2.0" or
// "proprietary"; anything else is the text of a custom license.
func parseLicense(s string) License {
	s = strings.TrimSpace(s)
	if s != "" && len(s) <= 64 && !strings.ContainsFunc(s, unicode.IsSpace) {
		return License{Identifier: s}
	}
	return License{CustomText: s}
}

// ParseMetricName splits a run metric's name into the metric and the slice
// it was computed on. A slice is written after the metric as one or more
// "/"-separated segments of the form key:value or key=value, e.g.
//
//	accuracy/sex:female              → accuracy, "sex=female"
//	eval/recall/sex:f/age:30-39      → eval/recall, "sex=f, age=30-39"
//	val/loss                         → val/loss, "" (not sliced)
//
// A key is letters, digits, '_', '-' and '.'; a value is anything non-blank
// up to the next '/'. Segments are taken from the end of the name while they
// have that form; at least one segment must remain for the metric. The
// slice is returned as "key=value" pairs joined by ", ". MLflow's metric
// names cannot contain '=', so clients logging through the MLflow API use
// ':'.
func ParseMetricName(name string) (metric, slice string) {
	segs := strings.Split(name, "/")
	var pairs []string
	i := len(segs)
	for i > 1 {
		k, v, ok := sliceSegment(segs[i-1])
		if !ok {
			break
		}
		pairs = append(pairs, k+"="+v)
		i--
	}
	metric = strings.Join(segs[:i], "/")
	if len(pairs) == 0 || strings.TrimSpace(metric) == "" {
		return name, ""
	}
	// pairs were collected from the end; restore the logged order.
	for l, r := 0, len(pairs)-1; l < r; l, r = l+1, r-1 {
		pairs[l], pairs[r] = pairs[r], pairs[l]
	}
	return metric, strings.Join(pairs, ", ")
}

// sliceSegment reads "key:value" or "key=value" (the first ':' or '='
// separates).
func sliceSegment(seg string) (key, value string, ok bool) {
	i := strings.IndexAny(seg, ":=")
	if i <= 0 {
		return "", "", false
	}
	key, value = seg[:i], strings.TrimSpace(seg[i+1:])
	if value == "" {
		return "", "", false
	}
	for _, r := range key {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-' || r == '.') {
			return "", "", false
		}
	}
	return key, value, true
}

// datasetLink returns a URI for a dataset from its logged source: the
// source itself when it is an absolute URI, else the "uri", "url" or "path"
// member of a JSON source object when that is one.
func datasetLink(source string) string {
	source = strings.TrimSpace(source)
	if isAbsURI(source) {
		return source
	}
	var obj map[string]any
	if json.Unmarshal([]byte(source), &obj) != nil {
		return ""
	}
	for _, k := range []string{"uri", "url", "path"} {
		if s, ok := obj[k].(string); ok && isAbsURI(s) {
			return s
		}
	}
	return ""
}

// isAbsURI reports whether s is a URI with a scheme and no white space.
func isAbsURI(s string) bool {
	if s == "" || strings.ContainsFunc(s, unicode.IsSpace) {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && (u.Host != "" || u.Opaque != "" || u.Path != "")
}
