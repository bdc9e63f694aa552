package cli

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/ferry-ml/ferry/internal/dataset"
)

const monitorSettingsUsage = `Usage: ferry monitor settings ENDPOINT [--stattest T] [--threshold X] [--drift-share S]
                              [--window D | --window-rows N] [--reset]

Without flags, show the endpoint's drift settings, defaults filled in. With
flags, set them: they apply to whichever reference the endpoint has, set or
derived from the served version's training data.

A change REPLACES all the settings: a flag not given is back to its default,
not kept. Give every setting you want, every time:

  ferry monitor settings fraud --stattest psi --threshold 0.2 --window 1h

Flags:
  --stattest T      the test run on every feature: ks, chisquare, z,
                    wasserstein, jensenshannon or psi (default: Evidently's
                    selection per feature)
  --threshold X     the test's threshold (default: the test's own, 0.05 for
                    p-values, 0.1 for distances and PSI)
  --drift-share S   the share of drifted features from which the dataset
                    drifts, in (0, 1] (default 0.5)
  --window D        a time window: the rows logged in the last D (1h, 30m;
                    1s to 30 days), the newest 100,000 at most
  --window-rows N   a count window: the newest N rows, from a day back at most
                    (1 to 100,000; default 1,000)
  --reset           restore every default
`

const monitorReferenceUsage = `Usage: ferry monitor reference ENDPOINT [NAME[@VERSION]]

Without NAME, show the dataset version the endpoint's traffic is compared with
for drift: one set for the endpoint, or the training data of the model version
it serves. With NAME[@VERSION] (the latest without @VERSION), set that dataset
version as the endpoint's reference; it takes precedence over the training
data of every version the endpoint serves.
`

type driftSettings struct {
	Endpoint   string  `json:"endpoint"`
	StatTest   string  `json:"stattest"`
	Threshold  float64 `json:"threshold"`
	DriftShare float64 `json:"drift_share"`
	WindowRows int     `json:"window_rows"`
	Window     string  `json:"window"`
}

func (d driftSettings) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Drift settings of endpoint %s:\n", oneLine(d.Endpoint, 0))
	test := "Evidently's default selection per feature (each test with its own threshold)"
	if d.StatTest != "" {
		test = oneLine(d.StatTest, 0)
	}
	if d.Threshold != 0 {
		test += ", threshold " + fmtFloat(d.Threshold, -1)
	}
	fmt.Fprintf(&b, "  Test:         %s\n", test)
	fmt.Fprintf(&b, "  Drift share:  %s\n", fmtFloat(d.DriftShare, -1))
	if d.Window != "" {
		fmt.Fprintf(&b, "  Window:       the rows logged in the last %s (the newest %d at most)\n", oneLine(d.Window, 0), d.WindowRows)
	} else {
		fmt.Fprintf(&b, "  Window:       the newest %d rows, from a day back at most\n", d.WindowRows)
	}
	return b.String()
}

func monitorSettings(fs *flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	stattest := fs.String("stattest", "", "")
	threshold := fs.Float64("threshold", 0, "")
	driftShare := fs.Float64("drift-share", 0, "")
	window := fs.String("window", "", "")
	windowRows := fs.Int("window-rows", 0, "")
	reset := fs.Bool("reset", false, "")
	return func(ctx context.Context, s *session, args []string) error {
		endpoint, err := oneArg(args, "ENDPOINT")
		if err != nil {
			return err
		}
		body := map[string]any{}
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "stattest":
				body["stattest"] = *stattest
			case "threshold":
				body["threshold"] = *threshold
			case "drift-share":
				body["drift_share"] = *driftShare
			case "window":
				body["window"] = *window
			case "window-rows":
				body["window_rows"] = *windowRows
			}
		})
		_, hasWindow := body["window"]
		_, hasRows := body["window_rows"]
		switch {
		case hasWindow && hasRows:
			return usagef("give --window (a time window) or --window-rows (a count window), not both")
		case *reset && len(body) > 0:
			return usagef("--reset restores every default; give it alone")
		}
		path := "endpoints/" + url.PathEscape(endpoint) + "/monitor"
		var out struct {
			Settings driftSettings `json:"settings"`
		}
		if len(body) == 0 && !*reset {
			raw, err := s.client.callV1(ctx, http.MethodGet, path, nil, nil, &out)
			if err != nil {
				return err
			}
			if s.json {
				return writeJSON(s.stdout, raw)
			}
			return writeString(s.stdout, out.Settings.text())
		}
		raw, err := s.client.callV1(ctx, http.MethodPut, path, nil, body, &out)
		if err != nil {
			return err
		}
		if s.json {
			return writeJSON(s.stdout, raw)
		}
		head := "Set the drift settings of endpoint " + oneLine(endpoint, 0) + "; the settings not given are back to their defaults.\n"
		if *reset {
			head = "Restored the default drift settings of endpoint " + oneLine(endpoint, 0) + ".\n"
		}
		return writeString(s.stdout, head+out.Settings.text())
	}
}

type monitorRef struct {
	Endpoint string `json:"endpoint"`
	Dataset  string `json:"dataset"`
	Version  int64  `json:"version"`
	Model    string `json:"model"`
}

func monitorReference(*flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	return func(ctx context.Context, s *session, args []string) error {
		switch {
		case len(args) == 0:
			return usagef("missing ENDPOINT")
		case len(args) > 2:
			return usagef("unexpected argument %q", args[2])
		}
		endpoint := args[0]
		path := "endpoints/" + url.PathEscape(endpoint) + "/reference"
		var out struct {
			Reference monitorRef `json:"reference"`
		}
		if len(args) == 1 {
			raw, err := s.client.callV1(ctx, http.MethodGet, path, nil, nil, &out)
			if err != nil {
				return err
			}
			if s.json {
				return writeJSON(s.stdout, raw)
			}
			r := out.Reference
			how := "set for the endpoint"
			if r.Model != "" {
				how = "the training data of " + oneLine(r.Model, 0) + ", which it serves"
			}
			return writeString(s.stdout, fmt.Sprintf("Endpoint %s is compared with dataset %s@%d (%s).\n", oneLine(endpoint, 0), oneLine(r.Dataset, 0), r.Version, how))
		}
		if _, _, err := dataset.ParseRef(args[1]); err != nil {
			return usagef("%q is not a dataset version: use NAME, NAME@VERSION or NAME@latest", args[1])
		}
		raw, err := s.client.callV1(ctx, http.MethodPut, path, nil, map[string]string{"dataset": args[1]}, &out)
		if err != nil {
			return err
		}
		if s.json {
			return writeJSON(s.stdout, raw)
		}
		r := out.Reference
		return writeString(s.stdout, fmt.Sprintf("Endpoint %s is now compared with dataset %s@%d.\n", oneLine(endpoint, 0), oneLine(r.Dataset, 0), r.Version))
	}
}
