package policy

import (
	"math"
	"strconv"
	"strings"
	"unicode"
)

// parseMetricRule parses `metrics.<key> <op> <number>`. The key is either
// bare (up to the comparator or a space: metrics.val/auc) or quoted with
// double quotes or backticks, as in MLflow's search syntax
// (metrics."f1 macro"). The comparator is one of >= > <= < == != (= is
// taken as ==). On failure it returns the byte offset of the problem and a
// message.
func parseMetricRule(s string) (m MetricRule, offset int, msg string) {
	i := 0
	skip := func() {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
	}
	skip()
	rest := s[i:]
	switch {
	case strings.HasPrefix(rest, "metrics."):
		i += len("metrics.")
	case strings.HasPrefix(rest, "metric."):
		i += len("metric.")
	default:
		return m, i, `metric rule must look like "metrics.<key> <op> <number>", e.g. "metrics.auc >= 0.85"`
	}
	keyStart := i
	if i < len(s) && (s[i] == '"' || s[i] == '`') {
		q := s[i]
		end := strings.IndexByte(s[i+1:], q)
		if end < 0 {
			return m, i, "unclosed quote in metric key"
		}
		m.Key = s[i+1 : i+1+end]
		i += end + 2
	} else {
		for i < len(s) && !strings.ContainsRune("<>=! \t", rune(s[i])) {
			i++
		}
		m.Key = s[keyStart:i]
	}
	if m.Key == "" {
		return m, keyStart, "metric rule names no metric key after \"metrics.\""
	}
	skip()
	opStart := i
	for _, op := range []string{">=", "<=", "==", "!=", ">", "<", "="} {
		if strings.HasPrefix(s[i:], op) {
			m.Op = op
			break
		}
	}
	if m.Op == "" {
		return m, opStart, "metric rule needs a comparator (>=, >, <=, <, ==, !=) after the key"
	}
	i += len(m.Op)
	if m.Op == "=" {
		m.Op = "=="
	}
	skip()
	numStart := i
	num := strings.TrimRight(s[i:], " \t")
	if num == "" {
		return m, numStart, "metric rule needs a number after " + m.Op
	}
	if strings.IndexFunc(num, func(r rune) bool {
		return !unicode.IsDigit(r) && !strings.ContainsRune(".eE+-", r)
	}) >= 0 {
		return m, numStart, "metric threshold " + strconv.Quote(num) + " is not a number"
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return m, numStart, "metric threshold " + strconv.Quote(num) + " is not a finite number"
	}
	m.Value = v
	m.Text = "metrics." + quoteKey(m.Key) + " " + m.Op + " " + num
	return m, 0, ""
}

// quoteKey writes a metric key so that the rule text parses back.
func quoteKey(k string) string {
	if strings.ContainsAny(k, "<>=! \t\"`") {
		if strings.Contains(k, `"`) {
			return "`" + k + "`"
		}
		return `"` + k + `"`
	}
	return k
}
