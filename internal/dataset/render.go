package dataset

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// WriteProfileText writes a human-readable profile: a summary line, one
// table row per column, then quantiles and top categories per column.
func WriteProfileText(w io.Writer, p *Profile) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "sha256 %s  %d rows  %d columns  %d bytes\n", p.Digest, p.Rows, len(p.Columns), p.Size)
	if len(p.Malformed) > 0 {
		fmt.Fprintf(ew, "%d malformed rows skipped:\n", len(p.Malformed))
		for _, e := range p.Malformed {
			fmt.Fprintf(ew, "  %s\n", e.Error())
		}
	}
	fmt.Fprintln(ew)
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "COLUMN\tTYPE\tNULLS\tDISTINCT\tMIN\tMEAN\tSTD\tMAX")
	for _, c := range p.Columns {
		distinct := strconv.FormatInt(c.Distinct, 10)
		if !c.DistinctExact {
			distinct = "~" + distinct
		}
		lo, mean, std, hi := "", "", "", ""
		if n := c.Numeric; n != nil {
			lo, mean, std, hi = num(c.Type, n.Min), num(c.Type, n.Mean), fmtFloat(n.Std), num(c.Type, n.Max)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d (%.1f%%)\t%s\t%s\t%s\t%s\t%s\n", c.Name, c.Type, c.Nulls, 100*c.NullFraction(), distinct, lo, mean, std, hi)
	}
	tw.Flush()
	fmt.Fprintln(ew)
	for _, c := range p.Columns {
		switch {
		case c.Numeric != nil:
			approx := ""
			if !c.Numeric.QuantilesExact {
				approx = " (KLL estimates)"
			}
			fmt.Fprintf(ew, "%s quantiles%s:", c.Name, approx)
			for _, q := range c.Numeric.Quantiles {
				fmt.Fprintf(ew, " p%g=%s", q.Q*100, num(c.Type, q.Value))
			}
			fmt.Fprintln(ew)
		case len(c.Top) > 0:
			approx := ""
			if !c.TopExact {
				approx = " (Space-Saving estimates)"
			}
			fmt.Fprintf(ew, "%s top values%s:", c.Name, approx)
			for _, t := range c.Top {
				fmt.Fprintf(ew, " %s=%d", strconv.Quote(t.Value), t.Count)
			}
			fmt.Fprintln(ew)
		}
	}
	return ew.err
}

// WriteDiffText writes a human-readable diff: schema changes, then one row
// per common column with its shift measures, flagged columns marked "!".
func WriteDiffText(w io.Writer, d *ProfileDiff) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "rows %d → %d", d.RowsA, d.RowsB)
	if d.Identical {
		fmt.Fprint(ew, "  (identical content)")
	}
	fmt.Fprintln(ew)
	for _, c := range d.Added {
		fmt.Fprintf(ew, "+ %s %s%s\n", c.Name, c.Type, nullable(c.Nullable))
	}
	for _, c := range d.Removed {
		fmt.Fprintf(ew, "- %s %s%s\n", c.Name, c.Type, nullable(c.Nullable))
	}
	for _, c := range d.Changed {
		fmt.Fprintf(ew, "~ %s %s%s → %s%s\n", c.Name, c.TypeA, nullable(c.NullableA), c.TypeB, nullable(c.NullableB))
	}
	fmt.Fprintln(ew)
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\tCOLUMN\tPSI\tKS\tMEAN\tSTD\tNULL%\tNOTES")
	for _, c := range d.Columns {
		flag := ""
		if c.Flagged {
			flag = "!"
		}
		psi, ks, mean, std := "", "", "", ""
		if c.PSI != nil {
			psi = fmt.Sprintf("%.4f", *c.PSI)
		}
		if c.KS != nil {
			ks = fmt.Sprintf("%.4f", *c.KS)
			mean = fmtFloat(c.MeanA) + " → " + fmtFloat(c.MeanB)
			std = fmtFloat(c.StdA) + " → " + fmtFloat(c.StdB)
		}
		notes := strings.Join(c.Reasons, "; ")
		if len(c.Shares) > 0 {
			top := c.Shares[0]
			notes = strings.TrimPrefix(notes+fmt.Sprintf("; %s %.1f%% → %.1f%%", strconv.Quote(top.Value), 100*top.ShareA, 100*top.ShareB), "; ")
		}
		if c.Approximate {
			notes = strings.TrimPrefix(notes+"; approximate", "; ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%.1f → %.1f\t%s\n", flag, c.Name, psi, ks, mean, std, 100*c.NullFracA, 100*c.NullFracB, notes)
	}
	tw.Flush()
	return ew.err
}

func nullable(b bool) string {
	if b {
		return " (nullable)"
	}
	return ""
}

// num formats a numeric statistic, datetimes as RFC 3339.
func num(t ColumnType, x float64) string {
	if t == TypeDatetime {
		return formatTime(x)
	}
	return fmtFloat(x)
}

func fmtFloat(x float64) string { return strconv.FormatFloat(x, 'g', 6, 64) }

// errWriter remembers the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(b []byte) (int, error) {
	if e.err != nil {
		return len(b), nil
	}
	_, e.err = e.w.Write(b)
	return len(b), nil
}
