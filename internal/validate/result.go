package validate

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Report is the outcome of a suite run, shaped like Great Expectations'
// ExpectationSuiteValidationResult.
type Report struct {
	Suite      string     `json:"suite"`
	Success    bool       `json:"success"`
	Statistics Statistics `json:"statistics"`
	Results    []Result   `json:"results"`
}

// Statistics counts expectations over the whole run, warn checks included.
type Statistics struct {
	EvaluatedExpectations    int     `json:"evaluated_expectations"`
	SuccessfulExpectations   int     `json:"successful_expectations"`
	UnsuccessfulExpectations int     `json:"unsuccessful_expectations"`
	SuccessPercent           float64 `json:"success_percent"`
}

// Result is one expectation's outcome, shaped like GE's
// ExpectationValidationResult.
type Result struct {
	Success       bool              `json:"success"`
	Config        ExpectationConfig `json:"expectation_config"`
	Severity      Severity          `json:"severity"`
	Result        Detail            `json:"result"`
	ExceptionInfo *ExceptionInfo    `json:"exception_info,omitempty"`
}

// ExpectationConfig names the expectation and its arguments.
type ExpectationConfig struct {
	ExpectationType string         `json:"expectation_type"`
	Kwargs          map[string]any `json:"kwargs"`
	// SuiteLine is the suite line that declared it; 0 for generated ones.
	SuiteLine int `json:"suite_line,omitempty"`
}

// Detail is GE's "result" object. Map checks fill the counts; aggregates
// fill ObservedValue. Percentages are 0–100.
type Detail struct {
	ObservedValue               any      `json:"observed_value,omitzero"`
	ElementCount                *int     `json:"element_count,omitzero"`
	MissingCount                *int     `json:"missing_count,omitzero"`
	MissingPercent              *float64 `json:"missing_percent,omitzero"`
	UnexpectedCount             *int     `json:"unexpected_count,omitzero"`
	UnexpectedPercent           *float64 `json:"unexpected_percent,omitzero"`
	UnexpectedPercentTotal      *float64 `json:"unexpected_percent_total,omitzero"`
	UnexpectedPercentNonmissing *float64 `json:"unexpected_percent_nonmissing,omitzero"`
	PartialUnexpectedList       []any    `json:"partial_unexpected_list,omitzero"`
	// PartialUnexpectedIndexList holds 0-based data row indices.
	PartialUnexpectedIndexList []int          `json:"partial_unexpected_index_list,omitzero"`
	Details                    map[string]any `json:"details,omitzero"`
}

// ExceptionInfo explains a check that could not be evaluated.
type ExceptionInfo struct {
	RaisedException  bool   `json:"raised_exception"`
	ExceptionMessage string `json:"exception_message"`
}

// JSON renders the report as indented JSON.
func (r *Report) JSON() ([]byte, error) {
	return json.MarshalIndent(r, "", "  ")
}

// WriteText writes a readable report: one line per expectation, failures
// with their counts and a few unexpected values.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	status := "PASSED"
	if !r.Success {
		status = "FAILED"
	}
	st := r.Statistics
	fmt.Fprintf(&b, "suite %s: %s (%d of %d expectations met, %.1f%%)\n",
		r.Suite, status, st.SuccessfulExpectations, st.EvaluatedExpectations, st.SuccessPercent)
	for _, res := range r.Results {
		mark := "ok  "
		if !res.Success {
			mark = "FAIL"
			if res.Severity == SeverityWarn {
				mark = "WARN"
			}
		}
		fmt.Fprintf(&b, "  %s %s(%s)", mark, res.Config.ExpectationType, kwargsText(res.Config.Kwargs))
		if res.Config.SuiteLine > 0 {
			fmt.Fprintf(&b, " [suite line %d]", res.Config.SuiteLine)
		}
		b.WriteString("\n")
		d := res.Result
		if res.ExceptionInfo != nil {
			fmt.Fprintf(&b, "       error: %s\n", res.ExceptionInfo.ExceptionMessage)
			continue
		}
		if d.ObservedValue != nil {
			fmt.Fprintf(&b, "       observed: %s\n", compact(d.ObservedValue))
		}
		if d.UnexpectedCount != nil && (*d.UnexpectedCount > 0 || !res.Success) {
			fmt.Fprintf(&b, "       unexpected: %d of %d", *d.UnexpectedCount, *d.ElementCount)
			if d.UnexpectedPercent != nil {
				fmt.Fprintf(&b, " (%.2f%%", *d.UnexpectedPercent)
				if d.MissingCount != nil {
					fmt.Fprintf(&b, " of non-null; %d null", *d.MissingCount)
				}
				b.WriteString(")")
			}
			b.WriteString("\n")
			if n := min(len(d.PartialUnexpectedList), 5); n > 0 {
				parts := make([]string, n)
				for i := range n {
					parts[i] = fmt.Sprintf("row %d: %s", d.PartialUnexpectedIndexList[i], compact(d.PartialUnexpectedList[i]))
				}
				more := ""
				if *d.UnexpectedCount > n {
					more = ", …"
				}
				fmt.Fprintf(&b, "       e.g. %s%s\n", strings.Join(parts, ", "), more)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func compact(v any) string {
	j, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(j)
}

func kwargsText(kw map[string]any) string {
	keys := make([]string, 0, len(kw))
	for k := range kw {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		// column(s) first, then alphabetical.
		pi, pj := strings.HasPrefix(keys[i], "column"), strings.HasPrefix(keys[j], "column")
		if pi != pj {
			return pi
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		v := kw[k]
		if s, ok := v.(string); ok {
			parts[i] = k + "=" + s
		} else {
			parts[i] = k + "=" + compact(v)
		}
	}
	return strings.Join(parts, ", ")
}
