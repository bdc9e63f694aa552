package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"

	"github.com/ferry-ml/ferry/internal/dataset"
	"github.com/ferry-ml/ferry/internal/tracking"
	"github.com/ferry-ml/ferry/internal/validate"
)

const dataAddUsage = `Usage: ferry data add NAME FILE.csv|FILE.parquet

Add a version of dataset NAME: the file is profiled here in one streaming
pass (schema, nulls, distinct counts, min/max/mean/std, quantiles,
histograms, top categories), uploaded to the server's artifact store under
its SHA-256 digest, and registered; the server checks the bytes against
the digest. Adding the same bytes again returns the existing version.
Malformed rows are errors with their line numbers. A flat Parquet file is
profiled from its values (validation and pipelines read it as CSV).
`

const dataListUsage = `Usage: ferry data list [NAME]

List the datasets (their latest versions), or the versions of NAME.
`

const dataShowUsage = `Usage: ferry data show NAME[@VERSION]

Show a dataset version's schema and profile (the latest without @VERSION).
`

const dataDiffUsage = `Usage: ferry data diff NAME@V1 NAME@V2

Compare two dataset versions: columns added, removed or retyped, and per
column the shift of the distribution (PSI and Kolmogorov-Smirnov for
numbers, PSI over the top categories otherwise) and of the null fraction;
shifts above PSI 0.2 or a null-fraction change of 0.05 are flagged.
`

const dataValidateUsage = `Usage: ferry data validate NAME[@VERSION] SUITE.yaml

Check a dataset version against a validation suite; exits 1 when a check
of severity error fails. --json prints the Great Expectations-shaped report.
`

const dataSuggestUsage = `Usage: ferry data suggest NAME[@VERSION]

Print a starting validation suite inferred from a dataset version.
`

func dataAdd(*flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	return func(ctx context.Context, s *session, args []string) error {
		if len(args) != 2 {
			return usagef("want NAME FILE")
		}
		name, file := args[0], args[1]
		if err := dataset.ValidateName(name); err != nil {
			return err
		}
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return err
		}
		magic := make([]byte, 4)
		n, _ := io.ReadFull(f, magic)
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		var prof *dataset.Profile
		if dataset.IsParquet(magic[:n]) {
			prof, err = dataset.ProfileParquet(ctx, f, st.Size())
		} else {
			prof, err = dataset.ProfileCSV(ctx, f, dataset.Options{})
		}
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		profile, err := json.Marshal(prof)
		if err != nil {
			return err
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		key := "datasets/" + name + "/" + prof.Digest + "/" + filepath.Base(file)
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, s.client.artifactURL(key), f)
		if err != nil {
			return err
		}
		req.ContentLength = prof.Size
		resp, err := s.client.http.Do(req)
		if err != nil {
			return &unreachableError{server: s.client.base, err: err}
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("uploading %s: %w", file, decodeError(resp.StatusCode, body))
		}
		var out struct {
			Version dataset.Version `json:"version"`
			Created bool            `json:"created"`
		}
		raw, err := s.client.callV1(ctx, "POST", "datasets/"+url.PathEscape(name)+"/versions", nil,
			map[string]any{"source": tracking.ArtifactScheme + "/" + key, "profile": json.RawMessage(profile)}, &out)
		if err != nil {
			return err
		}
		if s.json {
			return writeJSON(s.stdout, raw)
		}
		v := out.Version
		verb := "Added"
		if !out.Created {
			verb = "Already there:"
		}
		return writeString(s.stdout, fmt.Sprintf("%s version %d of dataset %s: %d rows, %d columns, %s, sha256 %s\n",
			verb, v.Version, cell(v.Name, 0), v.Rows, len(v.Schema.Columns), fmtBytes(v.Size), v.Digest))
	}
}

func dataList(*flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	return func(ctx context.Context, s *session, args []string) error {
		path, key := "datasets", "datasets"
		switch len(args) {
		case 0:
		case 1:
			path, key = "datasets/"+url.PathEscape(args[0]), "versions"
		default:
			return usagef("unexpected argument %q", args[1])
		}
		var out map[string][]dataset.Version
		raw, err := s.client.callV1(ctx, "GET", path, nil, nil, &out)
		if err != nil {
			return err
		}
		if s.json {
			return writeJSON(s.stdout, raw)
		}
		t := newTable(s.stdout)
		t.row("DATASET", "VERSION", "ROWS", "COLUMNS", "SIZE", "SHA256", "CREATED (UTC)")
		for _, v := range out[key] {
			t.row(cell(v.Name, 0), strconv.FormatInt(v.Version, 10), strconv.FormatInt(v.Rows, 10),
				strconv.Itoa(len(v.Schema.Columns)), fmtBytes(v.Size), v.Digest[:12], fmtTime(v.CreatedAt))
		}
		return t.flush()
	}
}

// getVersion fetches a version with its profile.
func getVersion(ctx context.Context, c *client, ref string) (dataset.Version, *dataset.Profile, json.RawMessage, error) {
	name, n, err := dataset.ParseRef(ref)
	if err != nil {
		return dataset.Version{}, nil, nil, err
	}
	version := "latest"
	if n > 0 {
		version = strconv.FormatInt(n, 10)
	}
	var out struct {
		Version dataset.Version `json:"version"`
	}
	raw, err := c.callV1(ctx, "GET", "datasets/"+url.PathEscape(name)+"/versions/"+version, nil, nil, &out)
	if err != nil {
		return dataset.Version{}, nil, nil, err
	}
	var p dataset.Profile
	if err := json.Unmarshal(out.Version.Profile, &p); err != nil {
		return dataset.Version{}, nil, nil, fmt.Errorf("the profile of %s: %w", ref, err)
	}
	return out.Version, &p, raw, nil
}

func dataShow(*flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	return func(ctx context.Context, s *session, args []string) error {
		ref, err := oneArg(args, "NAME[@VERSION]")
		if err != nil {
			return err
		}
		v, p, raw, err := getVersion(ctx, s.client, ref)
		if err != nil {
			return err
		}
		if s.json {
			return writeJSON(s.stdout, raw)
		}
		fmt.Fprintf(s.stdout, "Dataset %s version %d (%s, added %s by %s)\n  Source: %s\n", cell(v.Name, 0), v.Version,
			fmtBytes(v.Size), fmtTime(v.CreatedAt), cell(v.CreatedBy, 0), cell(v.Source, 0))
		return dataset.WriteProfileText(s.stdout, p)
	}
}

func dataDiff(*flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	return func(ctx context.Context, s *session, args []string) error {
		if len(args) != 2 {
			return usagef("want two versions, NAME@V1 NAME@V2")
		}
		_, a, _, err := getVersion(ctx, s.client, args[0])
		if err != nil {
			return err
		}
		_, b, _, err := getVersion(ctx, s.client, args[1])
		if err != nil {
			return err
		}
		d := dataset.Diff(a, b)
		if s.json {
			out, err := json.Marshal(d)
			if err != nil {
				return err
			}
			return writeJSON(s.stdout, json.RawMessage(out))
		}
		return dataset.WriteDiffText(s.stdout, d)
	}
}

// openCSV streams a version as CSV (a Parquet version converted).
func openCSV(ctx context.Context, c *client, v dataset.Version) (io.ReadCloser, error) {
	rc, err := openVersion(ctx, c, v)
	if err != nil || v.Format != "parquet" {
		return rc, err
	}
	defer rc.Close()
	return dataset.ParquetStreamToCSV(ctx, rc)
}

// openVersion streams a version's file (its bytes as stored) from the
// artifact store.
func openVersion(ctx context.Context, c *client, v dataset.Version) (io.ReadCloser, error) {
	key, ok := tracking.ArtifactKey(v.Source)
	if !ok {
		return nil, fmt.Errorf("dataset %s version %d is at %s, outside the server's artifact store", v.Name, v.Version, v.Source)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.artifactURL(key), nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, &unreachableError{server: c.base, err: err}
	}
	if resp.StatusCode/100 != 2 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		return nil, fmt.Errorf("downloading %s: %w", v.Source, decodeError(resp.StatusCode, body))
	}
	return resp.Body, nil
}

func dataValidate(*flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	return func(ctx context.Context, s *session, args []string) error {
		if len(args) != 2 {
			return usagef("want NAME[@VERSION] SUITE.yaml")
		}
		src, err := os.ReadFile(args[1])
		if err != nil {
			return err
		}
		suite, err := validate.ParseSuite(src)
		if err != nil {
			return fmt.Errorf("%s: %w", args[1], err)
		}
		v, rows, closer, err := versionRows(ctx, s.client, args[0])
		if err != nil {
			return err
		}
		defer closer.Close()
		rep, err := validate.Validate(ctx, suite, rows, validate.Options{})
		if err != nil {
			return err
		}
		if s.json {
			b, err := rep.JSON()
			if err != nil {
				return err
			}
			err = writeJSON(s.stdout, json.RawMessage(b))
			if err == nil && !rep.Success {
				err = errVerdict
			}
			return err
		}
		fmt.Fprintf(s.stdout, "dataset %s version %d (sha256 %s)\n", cell(v.Name, 0), v.Version, v.Digest[:12])
		if err := rep.WriteText(s.stdout); err != nil {
			return err
		}
		if !rep.Success {
			return errVerdict
		}
		return nil
	}
}

func dataSuggest(*flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	return func(ctx context.Context, s *session, args []string) error {
		ref, err := oneArg(args, "NAME[@VERSION]")
		if err != nil {
			return err
		}
		v, rows, closer, err := versionRows(ctx, s.client, ref)
		if err != nil {
			return err
		}
		defer closer.Close()
		suite, err := validate.Infer(ctx, rows, validate.InferOptions{Name: v.Name})
		if err != nil {
			return err
		}
		b, err := suite.Encode()
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		fmt.Fprintf(&buf, "# inferred from dataset %s version %d (sha256 %s); review before use\n", v.Name, v.Version, v.Digest[:12])
		buf.Write(b)
		return writeString(s.stdout, buf.String())
	}
}

// versionRows opens a dataset version's rows for validation.
func versionRows(ctx context.Context, c *client, ref string) (dataset.Version, *validate.CSVRows, io.Closer, error) {
	v, _, _, err := getVersion(ctx, c, ref)
	if err != nil {
		return v, nil, nil, err
	}
	rc, err := openCSV(ctx, c, v)
	if err != nil {
		return v, nil, nil, err
	}
	rows, err := validate.NewCSVRows(rc)
	if err != nil {
		rc.Close()
		return v, nil, nil, err
	}
	return v, rows, rc, nil
}
