package cli

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	driftreport "github.com/ferry-ml/ferry/internal/monitor/report"
)

const monitorReportUsage = `Usage: ferry monitor report ENDPOINT [--html FILE] [--json [FILE]] [--from T] [--to T]

Write the endpoint's drift report: its latest logged traffic compared with its
reference dataset — dataset drift, each feature's and the prediction's test,
statistic, p-value and verdict, histograms of reference and current over
shared bins, and the drift scores recorded over time — as a self-contained
HTML page and as JSON. The server makes the report from one window; the HTML
is rendered here from the JSON it sent, so both files tell the same story.

Without --html or --json, writes ENDPOINT-report.html and ENDPOINT-report.json
in the current directory. With either, writes only what is asked.

Flags:
  --html FILE   write the HTML page to FILE ("-": stdout)
  --json FILE   write the JSON report to FILE; --json alone prints it to stdout
                (give FILE after ENDPOINT: ferry monitor report fraud --json r.json)
  --from T      start of the over-time charts (default: 24 hours before --to)
  --to T        end of the over-time charts (default: now)
T is Unix milliseconds, an RFC 3339 time (2024-03-01T12:00:00Z) or a duration
ago (90m, 36h, 7d).
`

func monitorReport(fs *flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	htmlOut := fs.String("html", "", "")
	fromFlag := fs.String("from", "", "")
	toFlag := fs.String("to", "", "")
	return func(ctx context.Context, s *session, args []string) error {
		if len(args) == 0 {
			return usagef("missing ENDPOINT")
		}
		endpoint, jsonOut := args[0], ""
		switch {
		case len(args) == 2 && s.json:
			jsonOut = args[1]
		case len(args) > 1:
			return usagef("unexpected argument %q", args[1])
		}
		if strings.TrimSpace(endpoint) == "" {
			return usagef("ENDPOINT is empty")
		}
		now := time.Now()
		q := url.Values{}
		for name, v := range map[string]string{"from": *fromFlag, "to": *toFlag} {
			if v == "" {
				continue
			}
			t, err := parseWhen(v, now)
			if err != nil {
				return usagef("--%s: %v", name, err)
			}
			q.Set(name, strconv.FormatInt(t.UnixMilli(), 10))
		}
		var rep driftreport.Report
		raw, err := s.client.callV1(ctx, http.MethodGet, "endpoints/"+url.PathEscape(endpoint)+"/monitor/report", q, nil, &rep)
		if err != nil {
			return err
		}
		page, err := driftreport.HTML(rep)
		if err != nil {
			return err
		}
		var pretty strings.Builder
		if err := writeJSON(&pretty, raw); err != nil {
			return err
		}
		type output struct {
			path, what string
			data       []byte
		}
		var outs []output
		switch {
		case *htmlOut == "" && !s.json:
			outs = []output{{endpoint + "-report.html", "HTML", page}, {endpoint + "-report.json", "JSON", []byte(pretty.String())}}
		default:
			if *htmlOut != "" {
				outs = append(outs, output{*htmlOut, "HTML", page})
			}
			if s.json {
				if jsonOut == "" {
					jsonOut = "-"
				}
				outs = append(outs, output{jsonOut, "JSON", []byte(pretty.String())})
			}
		}
		stdoutUsed := false
		for _, o := range outs {
			if o.path == "-" {
				if stdoutUsed {
					return usagef("only one of --html and --json can write to stdout")
				}
				stdoutUsed = true
			}
		}
		for _, o := range outs {
			if o.path == "-" {
				if _, err := s.stdout.Write(o.data); err != nil {
					return err
				}
				continue
			}
			if err := writeFileAtomic(o.path, o.data); err != nil {
				return err
			}
		}
		if stdoutUsed {
			return nil // stdout holds a document
		}
		status := "no dataset drift"
		if rep.DatasetDrift {
			status = "DATASET DRIFT"
		}
		drifted := 0
		for _, f := range rep.Features {
			if f.Drifted {
				drifted++
			}
		}
		pred := "prediction drift not computed"
		if p := rep.Prediction; p != nil {
			pred = "prediction: no drift"
			if p.Drifted {
				pred = "prediction: DRIFT"
			}
		}
		fmt.Fprintf(s.stdout, "%s: %s (%d of %d features drifted, share %s); %s\n", oneLine(endpoint, 0), status,
			drifted, len(rep.Features), strconv.FormatFloat(rep.DriftShare, 'g', 3, 64), pred)
		for _, o := range outs {
			fmt.Fprintf(s.stdout, "Wrote the %s report (%s) to %s\n", o.what, fmtSize(int64(len(o.data))), o.path)
		}
		return nil
	}
}

// parseWhen reads a time: Unix milliseconds, RFC 3339, or a duration
// before now (Go's syntax, or whole days as 7d).
func parseWhen(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 {
			return time.Time{}, fmt.Errorf("negative time %d", n)
		}
		return time.UnixMilli(n), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 && n <= 100*366 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is not Unix milliseconds, an RFC 3339 time or a duration ago (90m, 36h, 7d)", s)
}
