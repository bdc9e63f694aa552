package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferry-ml/ferry/internal/inference"
	"github.com/ferry-ml/ferry/internal/modelrt"
	"github.com/ferry-ml/ferry/internal/modelrt/mlmodel"
	"github.com/ferry-ml/ferry/internal/tracking"
)

const predictUsage = `Usage: ferry predict --model URI --input FILE [--output FILE] [--no-header]
                     [--keep-columns C,...] [--proba | --raw] [--batch-size N]
                     [--workers N] [--progress | --quiet]

Predict a CSV file with a registered model, in this process: the model
version's files are downloaded from the server's artifact store (at most
1 GiB) and run by Ferry's native XGBoost and LightGBM runtimes, as
'mlflow models predict' does. The file is streamed in chunks, predicted on
all CPUs, and the predictions are written in input order.

URI is models:/NAME/VERSION, models:/NAME@ALIAS, models:/NAME/latest or
models:/NAME/STAGE.

Input: a header row naming the model's features (in any order; other
columns are ignored), or with --no-header the features by position. An
empty cell is a missing value. Output: CSV with a header row, one
'prediction' column (prediction_0, prediction_1, ... for a model with
several outputs, such as class probabilities); a scikit-learn classifier
answers its class label unless --proba is given. Errors name the line and
column; a failed or interrupted run leaves no output file behind.

Flags:
  --model URI            the model version (required)
  -i, --input FILE       the CSV file to predict (required; - for stdin)
  -o, --output FILE      where to write the predictions (default, or -: stdout)
  --no-header            the input has no header row: columns are the features in order
  --keep-columns C,...   copy these input columns (ids) in front of the predictions;
                         with --no-header, column numbers from 1
  --proba                a classifier's probabilities instead of its labels
  --raw                  raw margins (log-odds, untransformed scores)
  --batch-size N         rows per chunk (default 4096)
  --workers N            chunks predicted at once (default: the number of CPUs)
  --progress             draw a progress bar on stderr even when it is not a terminal
  -q, --quiet            no progress bar, no summary
`

// maxModelDownload bounds the bytes of a model version that predict
// downloads.
const maxModelDownload = 1 << 30

// maxBatchSize bounds --batch-size.
const maxBatchSize = 1 << 20

type predictOptions struct {
	model, input, output string
	noHeader             bool
	keep                 string
	proba, raw           bool
	batch, workers       int
	progress, quiet      bool
}

func predictCmd(fs *flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	var o predictOptions
	fs.StringVar(&o.model, "model", "", "")
	fs.StringVar(&o.input, "input", "", "")
	fs.StringVar(&o.input, "i", "", "")
	fs.StringVar(&o.output, "output", "", "")
	fs.StringVar(&o.output, "o", "", "")
	fs.BoolVar(&o.noHeader, "no-header", false, "")
	fs.StringVar(&o.keep, "keep-columns", "", "")
	fs.BoolVar(&o.proba, "proba", false, "")
	fs.BoolVar(&o.raw, "raw", false, "")
	fs.IntVar(&o.batch, "batch-size", 4096, "")
	fs.IntVar(&o.workers, "workers", runtime.GOMAXPROCS(0), "")
	fs.BoolVar(&o.progress, "progress", false, "")
	fs.BoolVar(&o.quiet, "quiet", false, "")
	fs.BoolVar(&o.quiet, "q", false, "")
	return func(ctx context.Context, s *session, args []string) error {
		switch {
		case len(args) > 0:
			return usagef("unexpected argument %q", args[0])
		case o.model == "":
			return usagef("--model is required (models:/NAME/VERSION or models:/NAME@ALIAS)")
		case o.input == "":
			return usagef("--input is required (a CSV file, or - for stdin)")
		case o.batch < 1 || o.batch > maxBatchSize:
			return usagef("--batch-size must be between 1 and %d, got %d", maxBatchSize, o.batch)
		case o.workers < 1:
			return usagef("--workers must be at least 1, got %d", o.workers)
		case o.proba && o.raw:
			return usagef("--proba and --raw exclude each other")
		case o.progress && o.quiet:
			return usagef("--progress and --quiet exclude each other")
		}
		ref, err := parseModelURI(o.model)
		if err != nil {
			return err
		}
		return predict(ctx, s, ref, o)
	}
}

// ---- models:/ URIs

// modelRef is a parsed models:/ URI: one of version, alias, stage and
// latest.
type modelRef struct {
	uri, name, version, alias, stage string
	latest                           bool
}

// stages are the registry's stages, by lower-case name.
var stages = map[string]string{"none": "None", "staging": "Staging", "production": "Production", "archived": "Archived"}

// parseModelURI reads models:/NAME/VERSION, models:/NAME@ALIAS,
// models:/NAME/latest and models:/NAME/STAGE as the registry does: a name
// may hold "/", so the suffix follows the last one.
func parseModelURI(uri string) (modelRef, error) {
	bad := usagef("--model %q: expected models:/NAME/VERSION, models:/NAME@ALIAS, models:/NAME/latest or models:/NAME/STAGE", uri)
	rest, ok := strings.CutPrefix(uri, "models:/")
	if !ok {
		return modelRef{}, bad
	}
	rest = strings.Trim(rest, "/")
	ref := modelRef{uri: uri}
	slash := strings.LastIndexByte(rest, '/')
	if at := strings.LastIndexByte(rest, '@'); at > slash {
		ref.name, ref.alias = rest[:at], rest[at+1:]
		if ref.name == "" || ref.alias == "" {
			return modelRef{}, bad
		}
		return ref, nil
	}
	if slash <= 0 || slash == len(rest)-1 {
		return modelRef{}, bad
	}
	ref.name = rest[:slash]
	suffix := rest[slash+1:]
	if n, err := strconv.ParseInt(suffix, 10, 64); err == nil && n > 0 && strings.Trim(suffix, "0123456789") == "" {
		ref.version = suffix
		return ref, nil
	}
	if strings.EqualFold(suffix, "latest") {
		ref.latest = true
		return ref, nil
	}
	if st, ok := stages[strings.ToLower(suffix)]; ok {
		ref.stage = st
		return ref, nil
	}
	return modelRef{}, bad
}

// resolveVersion finds the version a models:/ URI names through the
// MLflow REST API.
func (c *client) resolveVersion(ctx context.Context, ref modelRef) (modelVersion, error) {
	var out struct {
		ModelVersion modelVersion `json:"model_version"`
	}
	switch {
	case ref.alias != "":
		err := c.call(ctx, http.MethodGet, "registered-models/alias", url.Values{"name": {ref.name}, "alias": {ref.alias}}, nil, &out)
		return out.ModelVersion, err
	case ref.version != "":
		err := c.call(ctx, http.MethodGet, "model-versions/get", url.Values{"name": {ref.name}, "version": {ref.version}}, nil, &out)
		return out.ModelVersion, err
	}
	req := struct {
		Name   string   `json:"name"`
		Stages []string `json:"stages,omitempty"`
	}{Name: ref.name}
	if ref.stage != "" {
		req.Stages = []string{ref.stage}
	}
	var latest struct {
		ModelVersions []modelVersion `json:"model_versions"`
	}
	if err := c.call(ctx, http.MethodPost, "registered-models/get-latest-versions", nil, req, &latest); err != nil {
		return modelVersion{}, err
	}
	var best *modelVersion
	for i, v := range latest.ModelVersions {
		if best == nil || v.Version > best.Version {
			best = &latest.ModelVersions[i]
		}
	}
	if best == nil {
		what := "versions"
		if ref.stage != "" {
			what = "versions in stage " + ref.stage
		}
		return modelVersion{}, fmt.Errorf("registered model '%s' has no %s (%s)", ref.name, what, ref.uri)
	}
	return *best, nil
}

// ---- model files

// artifactURL is the artifact proxy's URL of a key.
func (c *client) artifactURL(key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return c.base + "/api/2.0/mlflow-artifacts/artifacts/" + strings.Join(segs, "/")
}

// listArtifactDir lists a directory of the artifact proxy (nothing for a
// file or a missing directory).
func (c *client) listArtifactDir(ctx context.Context, key string) ([]fileInfo, error) {
	resp, err := c.do(ctx, http.MethodGet, "/api/2.0/mlflow-artifacts/artifacts", url.Values{"path": {key}}, "", nil)
	if err != nil {
		return nil, err
	}
	var out struct {
		Files []fileInfo `json:"files"`
	}
	if err := json.Unmarshal(quoteNonFinite(resp.body), &out); err != nil {
		return nil, fmt.Errorf("listing the artifacts at %s: the server's answer is not the JSON expected (%v)", key, err)
	}
	return out.Files, nil
}

// modelFiles reads a model version's files through the artifact proxy,
// at most left bytes in all.
type modelFiles struct {
	c    *client
	what string // "version 3 of model 'x'"
	left int64
}

// read reads the file at key; a missing one matches fs.ErrNotExist.
func (m *modelFiles) read(ctx context.Context, key string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.c.artifactURL(key), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "ferry-cli")
	resp, err := m.c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &unreachableError{server: m.c.base, err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, fmt.Errorf("%s: %w", key, fs.ErrNotExist)
	}
	if resp.StatusCode/100 != 2 {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return nil, fmt.Errorf("downloading %s: %w", key, decodeError(resp.StatusCode, data))
	}
	if resp.ContentLength > m.left {
		return nil, m.tooLarge()
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, m.left+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("downloading %s: %w", key, err)
	}
	if int64(len(b)) > m.left {
		return nil, m.tooLarge()
	}
	m.left -= int64(len(b))
	return b, nil
}

func (m *modelFiles) tooLarge() error {
	return fmt.Errorf("the files of %s are larger than %d MiB, the most ferry predict downloads", m.what, maxModelDownload>>20)
}

// loadedModel is a model version ready to predict.
type loadedModel struct {
	mv     modelVersion
	opened *mlmodel.Opened
}

// loadModel resolves ref and loads its version's files, downloaded
// through the server's artifact proxy, into a native runtime.
func loadModel(ctx context.Context, c *client, ref modelRef) (*loadedModel, error) {
	mv, err := c.resolveVersion(ctx, ref)
	if err != nil {
		return nil, err
	}
	what := fmt.Sprintf("version %d of model '%s'", mv.Version, mv.Name)
	var dl struct {
		ArtifactURI string `json:"artifact_uri"`
	}
	v := strconv.FormatInt(int64(mv.Version), 10)
	if err := c.call(ctx, http.MethodGet, "model-versions/get-download-uri", url.Values{"name": {mv.Name}, "version": {v}}, nil, &dl); err != nil {
		return nil, err
	}
	loc := dl.ArtifactURI
	if rest, ok := strings.CutPrefix(loc, "runs:/"); ok {
		// A runs:/RUN_ID/PATH source: the run's artifact location.
		id, rel, _ := strings.Cut(rest, "/")
		r, err := c.getRun(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("finding the files of %s (%s): %w", what, loc, err)
		}
		loc = strings.TrimRight(r.Info.ArtifactURI, "/")
		if rel = strings.Trim(rel, "/"); rel != "" {
			loc += "/" + rel
		}
	}
	key, ok := tracking.ArtifactKey(loc) // what the server stores under mlflow-artifacts:
	if !ok && (strings.HasPrefix(loc, "http://") || strings.HasPrefix(loc, "https://")) {
		return nil, fmt.Errorf("%s is an external runtime at %s: ferry predict runs XGBoost and LightGBM models in this process only; deploy it (ferry deploy) and send the rows to its endpoint", what, loc)
	}
	if !ok {
		return nil, fmt.Errorf("the files of %s are at %s, outside Ferry's artifact store: ferry predict downloads models through the server's artifact proxy (%s/ locations) only", what, loc, tracking.ArtifactScheme)
	}
	files, err := c.listArtifactDir(ctx, key)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if f.Path == "ferry-runtime.yaml" && !f.IsDir {
			return nil, fmt.Errorf("%s is an external runtime (it has a ferry-runtime.yaml): ferry predict runs XGBoost and LightGBM models in this process only; deploy it (ferry deploy) and send the rows to its endpoint", what)
		}
	}
	mf := &modelFiles{c: c, what: what, left: maxModelDownload}
	o, err := mlmodel.Open(ctx, mlmodel.Location{
		Read: func(ctx context.Context, rel string) ([]byte, error) { return mf.read(ctx, path.Join(key, rel)) },
		ReadFile: func(ctx context.Context) ([]byte, error) {
			if len(files) > 0 {
				// A directory (without an MLmodel).
				return nil, fmt.Errorf("%s: %w", key, fs.ErrNotExist)
			}
			return mf.read(ctx, key)
		},
		Name: loc,
	}, mlmodel.Options{MaxDataBytes: maxModelDownload})
	if err != nil {
		if errors.Is(err, modelrt.ErrBadModel) {
			return nil, fmt.Errorf("%s cannot be loaded: %w", what, err)
		}
		return nil, err
	}
	return &loadedModel{mv: mv, opened: o}, nil
}

// ---- the command

// predict runs ferry predict.
func predict(ctx context.Context, s *session, ref modelRef, o predictOptions) error {
	in, total, inName, err := openInput(o.input)
	if err != nil {
		return err
	}
	defer in.Close()

	// A file output is written to a temporary file next to it, renamed
	// over it once complete: removed instead on any error.
	var out io.Writer = s.stdout
	outName := "stdout"
	var tmp *os.File
	if o.output != "" && o.output != "-" {
		outName = o.output
		if tmp, err = os.CreateTemp(filepath.Dir(o.output), "."+filepath.Base(o.output)+".*.tmp"); err != nil {
			return fmt.Errorf("creating the output file: %w", err)
		}
		defer func() {
			if tmp != nil {
				tmp.Close()
				os.Remove(tmp.Name())
			}
		}()
		out = tmp
	}

	loadStart := time.Now()
	m, err := loadModel(ctx, s.client, ref)
	if err != nil {
		return err
	}
	counted := &countingReader{r: in}
	chunks := inference.NewCSVChunks(counted)
	first, err := chunks.First(o.noHeader)
	empty := errors.Is(err, io.EOF)
	if err != nil && !(empty && o.noHeader) {
		if empty {
			return fmt.Errorf("%s is empty: expected a header row naming the model's features (or --no-header)", inName)
		}
		return fmt.Errorf("%s: %w", inName, err)
	}
	sig := m.opened.Runtime.Signature()
	p := &scorer{model: m.opened.Runtime, raw: o.raw, batch: o.batch, workers: o.workers, chunks: chunks, inName: inName,
		outputsPerRow: sig.Outputs}
	if m.opened.Labels != nil && !o.proba && !o.raw {
		p.labels = m.opened.Labels
	}
	var keepNames []string
	switch {
	case empty:
		// No rows at all: only the header is written.
		if o.keep != "" {
			for _, k := range strings.Split(o.keep, ",") {
				keepNames = append(keepNames, "column_"+strings.TrimSpace(k))
			}
		}
	default:
		if o.noHeader {
			p.cols, err = inference.PositionalCSVColumns(sig, len(first))
		} else {
			p.cols, err = inference.NewCSVColumns(sig, first)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", inName, err)
		}
		if p.keep, keepNames, err = keepColumns(o.keep, first, o.noHeader); err != nil {
			return err
		}
	}
	p.header = outputHeader(keepNames, p.outputs(sig))

	if !o.quiet {
		flavor := m.opened.Flavor
		if m.opened.MLmodel != nil {
			flavor = m.opened.MLmodel.ModelClass
		}
		answer := "predictions"
		switch {
		case o.raw:
			answer = "raw margins"
		case p.labels != nil:
			answer = "class labels (--proba for probabilities)"
		}
		fmt.Fprintf(s.stderr, "Model %s version %d (%s, %d features) loaded in %s: %s\n",
			m.mv.Name, m.mv.Version, flavor, len(sig.Inputs), fmtElapsed(time.Since(loadStart)), answer)
	}
	start := time.Now()
	var bar *progressBar
	if !o.quiet && (o.progress || isTerminal(s.stderr)) {
		bar = newProgressBar(s.stderr, total, &counted.n, &p.rows)
		bar.start()
	}

	bw := bufio.NewWriterSize(out, 1<<20)
	runErr := p.run(ctx, bw, empty)
	if runErr == nil {
		runErr = bw.Flush()
		if runErr != nil {
			runErr = fmt.Errorf("writing the predictions: %w", runErr)
		}
	}
	if bar != nil {
		bar.stop(runErr == nil)
	}
	if runErr != nil {
		return runErr
	}
	if tmp != nil {
		err := commitOutput(tmp, o.output)
		tmp = nil // renamed, or removed by commitOutput
		if err != nil {
			return err
		}
	}
	if !o.quiet {
		d := time.Since(start)
		rows := p.rows.Load()
		rate := ""
		if d > 0 {
			rate = " (" + thousands(int64(float64(rows)/d.Seconds())) + " rows/s)"
		}
		fmt.Fprintf(s.stderr, "%s rows in %s%s → %s\n", thousands(rows), fmtElapsed(d), rate, outName)
	}
	return nil
}

// openInput opens the input file (- is stdin) and returns its size when
// known (0 otherwise) and how messages name it.
func openInput(name string) (io.ReadCloser, int64, string, error) {
	if name == "-" {
		var size int64
		if fi, err := os.Stdin.Stat(); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
		}
		return io.NopCloser(os.Stdin), size, "stdin", nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, 0, "", fmt.Errorf("opening the input: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, "", fmt.Errorf("opening the input: %w", err)
	}
	if fi.IsDir() {
		f.Close()
		return nil, 0, "", fmt.Errorf("the input %s is a directory", name)
	}
	var size int64
	if fi.Mode().IsRegular() {
		size = fi.Size()
	}
	return f, size, name, nil
}

// commitOutput makes the finished temporary file the output: synced,
// with the mode of the file it replaces (0644 for a new one), renamed
// over it. The temporary file is gone afterwards either way.
func commitOutput(tmp *os.File, name string) error {
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(name); err == nil {
		mode = fi.Mode().Perm()
	}
	err := tmp.Chmod(mode)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), name)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}

// keepColumns finds the --keep-columns columns: names of the header, or
// with noHeader column numbers from 1.
func keepColumns(spec string, header []string, noHeader bool) ([]int, []string, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, nil, nil
	}
	var idx []int
	var names []string
	for _, k := range strings.Split(spec, ",") {
		k = strings.TrimSpace(k)
		if noHeader {
			n, err := strconv.Atoi(k)
			if err != nil || n < 1 || n > len(header) {
				return nil, nil, usagef("--keep-columns %q: without a header, columns are numbers from 1 to %d", k, len(header))
			}
			idx, names = append(idx, n-1), append(names, "column_"+strconv.Itoa(n))
			continue
		}
		j := -1
		for i, h := range header {
			if h == k {
				j = i
				break
			}
		}
		if j < 0 {
			return nil, nil, usagef("--keep-columns: the input has no column %q (it has %s)", k, cell(strings.Join(header, ", "), 300))
		}
		idx, names = append(idx, j), append(names, k)
	}
	return idx, names, nil
}

// outputHeader is the output's header row.
func outputHeader(keep []string, preds []string) []byte {
	var b []byte
	for i, n := range append(append([]string(nil), keep...), preds...) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCSVField(b, n)
	}
	return append(b, '\n')
}

// appendCSVField appends s as a CSV field, quoted when it must be (as
// encoding/csv's Writer does).
func appendCSVField(b []byte, s string) []byte {
	if s == "" || !(strings.ContainsAny(s, ",\"\r\n") || s[0] == ' ' || s[0] == '\t') {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

// appendValue appends a prediction: the shortest text that reads back as
// the same value (as float32 when it is one, as XGBoost's predictions
// are); a NaN is an empty cell.
func appendValue(b []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return b
	case float64(float32(v)) == v:
		return strconv.AppendFloat(b, v, 'g', -1, 32)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// ---- the scorer

// scorer predicts a CSV stream: one goroutine cuts it into chunks,
// workers decode, predict and format chunks, and run writes the results
// in input order. At most 3×workers chunks are in memory.
type scorer struct {
	model   modelrt.Model
	labels  func(x []float64, rows int, out []float64) error
	raw     bool
	cols    *inference.CSVColumns
	keep    []int
	header  []byte
	batch   int
	workers int
	chunks  *inference.CSVChunks
	// outputsPerRow is the model's Signature().Outputs.
	outputsPerRow int
	inName        string

	rows    atomic.Int64 // rows written
	buffers sync.Pool    // *[]byte: chunk data and formatted output
}

// outputs names the prediction columns.
func (p *scorer) outputs(sig modelrt.Signature) []string {
	n := sig.Outputs
	if p.labels != nil || n == 1 {
		return []string{"prediction"}
	}
	names := make([]string, n)
	for i := range names {
		names[i] = "prediction_" + strconv.Itoa(i)
	}
	return names
}

// job is one chunk on its way through the scorer.
type job struct {
	chunk inference.CSVChunk
	buf   *[]byte
	done  chan chunkResult // receives one result
}

type chunkResult struct {
	out  *[]byte // the chunk's output lines
	rows int
	err  error
}

func (p *scorer) buffer() *[]byte {
	if b, ok := p.buffers.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, 0, 1<<20)
	return &b
}

// run streams the input through the workers to w; with empty there are
// no rows and only the header is written.
func (p *scorer) run(ctx context.Context, w io.Writer, empty bool) error {
	if empty {
		_, err := w.Write(p.header)
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	// The workers are waited for; the reader is not: it may be blocked
	// reading a pipe or a terminal, and stops at its next chunk.
	var workers sync.WaitGroup
	defer func() {
		cancel()
		workers.Wait()
	}()
	jobs := make(chan *job, p.workers)
	order := make(chan *job, 2*p.workers)
	go func() {
		defer close(order)
		defer close(jobs)
		p.read(ctx, jobs, order)
	}()
	for range p.workers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			var st workerState
			for {
				select {
				case j, ok := <-jobs:
					if !ok {
						return
					}
					j.done <- p.process(ctx, j, &st)
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	wroteHeader := false
	for {
		var j *job
		var more bool
		select {
		case j, more = <-order:
		case <-ctx.Done():
			return ctx.Err()
		}
		if !more {
			break
		}
		var r chunkResult
		select {
		case r = <-j.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if r.err != nil {
			return r.err
		}
		if !wroteHeader {
			if _, err := w.Write(p.header); err != nil {
				return fmt.Errorf("writing the predictions: %w", err)
			}
			wroteHeader = true
		}
		if _, err := w.Write(*r.out); err != nil {
			return fmt.Errorf("writing the predictions: %w", err)
		}
		p.buffers.Put(r.out)
		p.rows.Add(int64(r.rows))
	}
	if err := ctx.Err(); err != nil {
		return err // interrupted: the reader stopped early
	}
	if !wroteHeader {
		if _, err := w.Write(p.header); err != nil {
			return fmt.Errorf("writing the predictions: %w", err)
		}
	}
	return nil
}

// read cuts the input into chunks and hands each to the workers and, in
// order, to the writer.
func (p *scorer) read(ctx context.Context, jobs, order chan<- *job) {
	for ctx.Err() == nil {
		buf := p.buffer()
		ch, err := p.chunks.Next(p.batch, *buf)
		if errors.Is(err, io.EOF) {
			p.buffers.Put(buf)
			return
		}
		j := &job{chunk: ch, buf: buf, done: make(chan chunkResult, 1)}
		if err != nil {
			j.done <- chunkResult{err: fmt.Errorf("%s: %w", p.inName, err)}
			select {
			case order <- j:
			case <-ctx.Done():
			}
			return
		}
		*buf = ch.Data
		select {
		case order <- j:
		case <-ctx.Done():
			return
		}
		select {
		case jobs <- j:
		case <-ctx.Done():
			return
		}
	}
}

// workerState is what a worker reuses from chunk to chunk.
type workerState struct {
	rows inference.CSVRows
	pred []float64
}

// process decodes, predicts and formats one chunk.
func (p *scorer) process(ctx context.Context, j *job, st *workerState) chunkResult {
	defer p.buffers.Put(j.buf)
	if err := ctx.Err(); err != nil {
		return chunkResult{err: err}
	}
	if err := p.cols.Decode(j.chunk, p.keep, &st.rows); err != nil {
		return chunkResult{err: fmt.Errorf("%s: %w", p.inName, err)}
	}
	n := st.rows.Rows
	per := 1 // values per row
	if p.labels == nil {
		per = p.outputsPerRow
	}
	if cap(st.pred) < n*per {
		st.pred = make([]float64, n*per)
	}
	pred := st.pred[:n*per]
	var err error
	if p.labels != nil {
		err = p.labels(st.rows.X, n, pred)
	} else {
		err = p.model.Predict(st.rows.X, n, pred, p.raw)
	}
	if err != nil {
		return chunkResult{err: fmt.Errorf("%s: predicting the rows from line %d: %w", p.inName, j.chunk.Line, err)}
	}
	out := p.buffer()
	b := (*out)[:0]
	nk := len(p.keep)
	for r := range n {
		for k := range nk {
			b = appendCSVField(b, st.rows.Kept[r*nk+k])
			b = append(b, ',')
		}
		for i, v := range pred[r*per : (r+1)*per] {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendValue(b, v)
		}
		b = append(b, '\n')
	}
	*out = b
	return chunkResult{out: out, rows: n}
}

// countingReader counts the bytes read.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n.Add(int64(n))
	return n, err
}

// ---- progress

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progressBar redraws one line on w, at most 10 times a second: the
// input bytes read of total (when known), rows done, rows/s and the time
// left.
type progressBar struct {
	w          io.Writer
	total      int64
	read, rows *atomic.Int64
	begin      time.Time
	width      int // of the last line drawn
	quit, done chan struct{}
}

func newProgressBar(w io.Writer, total int64, read, rows *atomic.Int64) *progressBar {
	return &progressBar{w: w, total: total, read: read, rows: rows, begin: time.Now(),
		quit: make(chan struct{}), done: make(chan struct{})}
}

func (b *progressBar) start() {
	go func() {
		defer close(b.done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-b.quit:
				return
			case now := <-t.C:
				b.draw(now)
			}
		}
	}()
}

// stop ends the redrawing; after a finished run the bar is drawn once
// more, complete, then the line is cleared for the summary.
func (b *progressBar) stop(finished bool) {
	close(b.quit)
	<-b.done
	if finished {
		b.draw(time.Now())
	}
	if b.width > 0 {
		fmt.Fprintf(b.w, "\r%s\r", strings.Repeat(" ", b.width))
	}
}

func (b *progressBar) draw(now time.Time) {
	line := b.line(b.read.Load(), b.rows.Load(), now.Sub(b.begin))
	pad := ""
	if n := len([]rune(line)); n < b.width {
		pad = strings.Repeat(" ", b.width-n)
	} else {
		b.width = n
	}
	fmt.Fprint(b.w, "\r"+line+pad)
}

// line renders the bar.
func (b *progressBar) line(read, rows int64, elapsed time.Duration) string {
	var s strings.Builder
	secs := elapsed.Seconds()
	if b.total > 0 {
		frac := min(float64(read)/float64(b.total), 1)
		const width = 24
		full := int(frac * width)
		s.WriteString("[" + strings.Repeat("=", full))
		if full < width {
			s.WriteString(">" + strings.Repeat(" ", width-full-1))
		}
		fmt.Fprintf(&s, "] %5.1f%% %s/%s", 100*frac, fmtBytes(read), fmtBytes(b.total))
	} else {
		s.WriteString(fmtBytes(read) + " read")
	}
	fmt.Fprintf(&s, "  %s rows", thousands(rows))
	if secs > 0 {
		fmt.Fprintf(&s, "  %s rows/s", thousands(int64(float64(rows)/secs)))
	}
	if b.total > 0 && read > 0 && secs > 0 {
		left := time.Duration(float64(b.total-read) / (float64(read) / secs) * float64(time.Second))
		fmt.Fprintf(&s, "  ETA %s", fmtClock(left))
	}
	return s.String()
}

// fmtBytes is a size in B, KiB, MiB or GiB.
func fmtBytes(n int64) string {
	switch {
	case n < 1<<10:
		return strconv.FormatInt(n, 10) + " B"
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
}

// fmtClock is a duration as m:ss or h:mm:ss.
func fmtClock(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// fmtElapsed is an elapsed time for the summary: 350ms, 2.41s, 3m12s.
func fmtElapsed(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}

// thousands writes n with thousands separators: 1,234,567.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
