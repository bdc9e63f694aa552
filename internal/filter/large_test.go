package filter

import (
	"strings"
	"testing"
)

// TestLargeAdversarialInputs feeds 100 KB adversarial inputs (unclosed
// quotes and comments, deep parentheses, long clause chains): each must be
// answered without a panic. A quadratic path would show as a test that
// runs for minutes; no wall-clock bound is asserted here.
func TestLargeAdversarialInputs(t *testing.T) {
	if testing.Short() {
		t.Skip("large inputs")
	}
	const n = 100000
	inputs := []string{
		strings.Repeat("'", n), strings.Repeat(`"`, n), strings.Repeat("`", n),
		strings.Repeat("(", n), strings.Repeat(")", n), strings.Repeat("a.", n),
		`"` + strings.Repeat(`\"`, n), "'" + strings.Repeat(`\'`, n), strings.Repeat("'\"`(", n/4),
		strings.Repeat("/*x", n/3), strings.Repeat("/*", n/2), strings.Repeat("NOT ", n/4),
		strings.Repeat("metrics.a > 1 AND ", n/18), "run_id IN (" + strings.Repeat("'a',", n/4) + "'b')",
		strings.Repeat("x'", n/2), strings.Repeat("1", n), strings.Repeat("-", n), strings.Repeat("--\n", n/3),
	}
	for _, s := range inputs {
		_, _ = ParseRunFilter(s)
		_, _ = ParseExperimentFilter(s)
		_, _ = ParseRunOrderBy([]string{s, s})
	}
}
