package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"
)

// timeLayout renders timestamps in UTC; the trailing Z says so.
const timeLayout = "2006-01-02 15:04:05Z"

// fmtTime renders milliseconds since the epoch; 0 (unset) is "-".
func fmtTime(ms int64) string {
	if ms <= 0 {
		return "-"
	}
	return time.UnixMilli(ms).UTC().Format(timeLayout)
}

// fmtDuration renders the time between two epoch-millisecond instants
// compactly (850ms, 12.4s, 3m07s, 2h05m, 3d04h); "-" when either is unset.
func fmtDuration(startMs, endMs int64) string {
	if startMs <= 0 || endMs <= 0 || endMs < startMs {
		return "-"
	}
	d := time.Duration(endMs-startMs) * time.Millisecond
	switch {
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	case d < time.Minute:
		return strconv.FormatFloat(math.Floor(d.Seconds()*10)/10, 'f', 1, 64) + "s"
	case d < time.Hour:
		s := int64(d / time.Second)
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	case d < 24*time.Hour:
		m := int64(d / time.Minute)
		return fmt.Sprintf("%dh%02dm", m/60, m%60)
	}
	h := int64(d / time.Hour)
	return fmt.Sprintf("%dd%02dh", h/24, h%24)
}

// fmtFloat renders a metric value; digits is the number of significant
// digits, -1 for the shortest exact representation. Non-finite values
// are NaN, +Inf and -Inf.
func fmtFloat(v float64, digits int) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', digits, 64)
}

// fmtSize renders a byte count with binary units.
func fmtSize(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	f := float64(n)
	for _, unit := range []string{"KiB", "MiB", "GiB", "TiB"} {
		f /= 1024
		if f < 1024 || unit == "TiB" {
			return strconv.FormatFloat(f, 'f', 1, 64) + " " + unit
		}
	}
	return strconv.FormatInt(n, 10) + " B"
}

// cell makes a value safe for one table cell: control characters that
// would break the layout become visible escapes and long values are cut
// to max runes (0: no limit) with an ellipsis.
func cell(s string, max int) string {
	if s == "" {
		return "-"
	}
	if strings.ContainsAny(s, "\t\n\r\v\f") {
		s = strings.NewReplacer("\t", `\t`, "\n", `\n`, "\r", `\r`, "\v", `\v`, "\f", `\f`).Replace(s)
	}
	if max > 0 && utf8.RuneCountInString(s) > max {
		r := []rune(s)
		s = string(r[:max-1]) + "…"
	}
	return s
}

// table writes tab-separated rows aligned into columns.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer) *table {
	return &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
}

// row writes one row; callers pass cells already made safe with cell.
func (t *table) row(cells ...string) {
	io.WriteString(t.tw, strings.Join(cells, "\t")+"\n")
}

func (t *table) flush() error { return t.tw.Flush() }

// writeJSON pretty-prints v (usually built from the server's raw JSON
// objects) without HTML escaping, for scripts.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// writeString writes s to w.
func writeString(w io.Writer, s string) error {
	_, err := io.WriteString(w, s)
	return err
}

// ensureNewline ends a non-empty document with a newline.
func ensureNewline(s string) string {
	if s != "" && !strings.HasSuffix(s, "\n") {
		return s + "\n"
	}
	return s
}
