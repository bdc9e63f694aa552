package monitor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/ferry-ml/ferry/internal/concept"
	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/learn"
	"github.com/ferry-ml/ferry/internal/modelrt"
	"github.com/ferry-ml/ferry/internal/monitor/report"
	"github.com/ferry-ml/ferry/internal/predlog"
)

// Performance series, labelled by endpoint, model and version (and
// detector for the concept-drift series).
const (
	SeriesAccuracy      = "accuracy"       // classifiers: share of rows whose predicted class is the truth
	SeriesROCAUC        = "roc_auc"        // binary; multiclass one-vs-rest, macro
	SeriesF1            = "f1"             // binary: of class 1; multiclass: macro
	SeriesLogLoss       = "log_loss"       // classifiers
	SeriesRMSE          = "rmse"           // regression
	SeriesMAE           = "mae"            // regression
	SeriesLabelledRows  = "labelled_rows"  // rows of the window with valid ground truth
	SeriesInvalidLabels = "invalid_labels" // rows of the window whose ground truth (or prediction) cannot be scored

	SeriesConceptDrift = "concept_drift" // 1 when the detector flagged a drift on the rows fed since the last tick
	SeriesDDMWarning   = "ddm_warning"   // 1 while DDM is in its warning zone

	SeriesEstimatedAccuracy  = "estimated_accuracy" // CBPE, binary classifiers, over the window's unlabelled rows
	SeriesEstimatedROCAUC    = "estimated_roc_auc"
	SeriesEstimatedF1        = "estimated_f1"
	SeriesEstimatedPrecision = "estimated_precision"
	SeriesEstimatedRecall    = "estimated_recall"
)

// Detector names (the detector label of SeriesConceptDrift).
const (
	DetectorDDM         = "ddm"
	DetectorADWIN       = "adwin"
	DetectorPageHinkley = "page_hinkley"
)

// States of a version's performance (VersionPerformance.State and the
// State of its detectors and estimate).
const (
	StateOK              = "ok"
	StateNotEnoughData   = "not_enough_data"
	StateUnknownTask     = "unknown_task"     // the version is not loaded: what it predicts is unknown
	StateUnsupportedTask = "unsupported_task" // ranking: no ground-truth metric applies
	StateError           = "error"            // the check of the version failed (logged; Reason says why)
)

// Endpoints lists the endpoints whose performance is watched (the
// deployed ones).
type Endpoints interface {
	MonitoredEndpoints(ctx context.Context) ([]string, error)
}

// Tasks says what a model version served by an endpoint predicts; an
// error wrapping errdefs.ErrNotFound means it cannot be known (the
// version is no longer loaded).
type Tasks interface {
	Signature(ctx context.Context, endpoint, model string, version int64) (modelrt.Signature, error)
}

// Defaults of Performance.
const (
	DefaultPerformanceWindow = time.Hour
	DefaultMaxWindowRequests = 50_000
	DefaultRecentRequests    = 5_000
	DefaultMinReference      = 100
	DefaultMaxReference      = 5000
	// MinDetectorRows is how many labelled rows a detector must have seen
	// before its state is recorded (river's warm-up of DDM and
	// Page-Hinkley); before, it is "not enough data".
	MinDetectorRows = 30
	// ClassThreshold turns a binary classifier's probability into its
	// predicted class (class 1 at or above).
	ClassThreshold = 0.5
)

// Performance measures each served model version against the ground truth
// sent later through the feedback API, per time window of prediction
// time: accuracy, ROC AUC, F1 and log loss for classifiers, RMSE and MAE
// for regressions. It feeds the error stream of newly labelled rows to
// online concept-drift detectors (DDM, ADWIN, Page-Hinkley) kept between
// checks, and for binary classifiers estimates the performance of the
// window's still unlabelled rows with CBPE, calibrated on the labelled
// rows seen so far.
//
// Each labelled request is fed to the detectors once, in the order its
// feedback arrived: every check reads the whole window, and the requests
// with feedback that were not fed yet are fed, sorted by feedback time.
// So feedback arriving late for a request still inside the window is
// counted; feedback for a request older than the window reaches neither
// the window's metrics nor the detectors; replaced feedback is not fed
// again. The set of fed request ids is kept for the window only, in
// memory: after a restart the labelled rows of the window are fed again
// to fresh detectors.
type Performance struct {
	Log       Predictions
	Endpoints Endpoints
	Tasks     Tasks
	Store     Store
	// Window is the span of prediction time each check measures
	// (DefaultPerformanceWindow). MaxRequests bounds the labelled
	// requests read per endpoint and check, the latest kept
	// (DefaultMaxWindowRequests); RecentRequests the latest requests
	// read beside them, the unlabelled ones CBPE estimates
	// (DefaultRecentRequests).
	Window         time.Duration
	MaxRequests    int
	RecentRequests int
	// MinReference is how many labelled rows (of both classes) CBPE needs
	// before estimating (DefaultMinReference); MaxReference how many of
	// the first labelled rows it keeps as its reference
	// (DefaultMaxReference).
	MinReference int
	MaxReference int
	Now          func() time.Time
	Logger       *slog.Logger

	mu       sync.Mutex
	versions map[versionKey]*versionState
}

type versionKey struct {
	endpoint, model string
	version         int64
}

// VersionPerformance is the latest check of one model version of an
// endpoint.
type VersionPerformance struct {
	Endpoint string `json:"endpoint"`
	Model    string `json:"model"`
	Version  int64  `json:"version"`
	Task     string `json:"task,omitempty"`
	// Time is when the check ran; the window is [WindowStart, WindowEnd)
	// of prediction time, Unix milliseconds.
	Time        int64 `json:"time"`
	WindowStart int64 `json:"window_start"`
	WindowEnd   int64 `json:"window_end"`
	// Rows are the rows read of the window (its labelled requests and the
	// latest RecentRequests), LabelledRows those with
	// valid ground truth, InvalidLabels those whose ground truth (or
	// prediction) cannot be scored, for the reason InvalidReason gives.
	Rows          int    `json:"rows"`
	LabelledRows  int    `json:"labelled_rows"`
	InvalidLabels int    `json:"invalid_labels"`
	InvalidReason string `json:"invalid_reason,omitempty"`
	// Metrics are the window's measured metrics by series name;
	// Undefined says why a metric of the task is missing.
	Metrics   map[string]float64 `json:"metrics"`
	Undefined map[string]string  `json:"undefined,omitempty"`
	Detectors []DetectorState    `json:"detectors"`
	Estimated *EstimateState     `json:"estimated,omitempty"`
	// State is StateOK when the window had labelled rows to measure;
	// otherwise Reason says what is missing.
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
}

// DetectorState is one concept-drift detector of a version.
type DetectorState struct {
	Detector string `json:"detector"`
	// Stream is what it reads: "error" (1 when the predicted class was
	// wrong) or "absolute_error" (regressions).
	Stream string `json:"stream"`
	// Rows are the labelled rows fed since the server started.
	Rows int `json:"rows"`
	// Drift is whether the rows fed at the last check that fed any
	// flagged a drift; Warning DDM's warning zone after its last row.
	Drift     bool   `json:"drift"`
	Warning   bool   `json:"warning,omitempty"`
	Drifts    int    `json:"drifts"`
	LastDrift int64  `json:"last_drift,omitempty"`
	State     string `json:"state"`
	Reason    string `json:"reason,omitempty"`
}

// EstimateState is CBPE's estimate of a binary classifier over the
// window's unlabelled rows.
type EstimateState struct {
	ReferenceRows int                `json:"reference_rows"`
	Rows          int                `json:"rows"`
	Calibrated    bool               `json:"calibrated"`
	Metrics       map[string]float64 `json:"metrics,omitempty"`
	State         string             `json:"state"`
	Reason        string             `json:"reason,omitempty"`
}

// versionState is what a version keeps between checks.
type versionState struct {
	sig  *modelrt.Signature // nil until known
	fed  map[string]int64   // request ids fed to the detectors → prediction time
	dets []*detector
	// refScores and refLabels are CBPE's reference: the first labelled
	// rows (binary classifiers).
	refScores []float64
	refLabels []bool
	cbpe      *concept.CBPE
	refN      int // reference rows cbpe was fitted on
	last      VersionPerformance
	alive     bool  // seen in the current check's window
	lastSeen  int64 // end of the last window with rows of the version (Unix ms)
}

// detector is one online detector of a version.
type detector struct {
	name, stream string
	update       func(x float64) (warning, drift bool)
	rows         int
	drift        bool
	warning      bool
	drifts       int
	lastDrift    int64
}

// scored is one labelled row made ready for the metrics.
type scored struct {
	truth float64
	class float64   // predicted class (classifiers) or value (regression)
	prob  []float64 // binary: [p1]; multiclass: k probabilities
}

// Check measures every model version of one endpoint over the window
// ending now, feeds the newly labelled rows to the detectors, records the
// points and returns them. A version whose window has no labelled rows
// records no metric and says so in its state (Latest); a version that
// fails is logged, says so in its state, and the others are still
// recorded. A version without traffic for more than two windows is
// forgotten.
func (p *Performance) Check(ctx context.Context, endpoint string) ([]Point, error) {
	now := p.now()
	window := p.Window
	if window <= 0 {
		window = DefaultPerformanceWindow
	}
	start := now.Add(-window).UnixMilli()
	end := now.UnixMilli()
	rows, err := p.read(ctx, endpoint, start, end)
	if err != nil {
		return nil, err
	}
	groups := map[versionKey][]predlog.Logged{}
	for _, r := range rows {
		k := versionKey{endpoint, r.Model, r.Version}
		groups[k] = append(groups[k], r)
	}
	keys := make([]versionKey, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b versionKey) int {
		return cmp.Or(cmp.Compare(a.model, b.model), cmp.Compare(a.version, b.version))
	})
	tasks := p.tasks(ctx, keys)

	p.mu.Lock()
	if p.versions == nil {
		p.versions = map[versionKey]*versionState{}
	}
	var points []Point
	for k, st := range p.versions {
		if k.endpoint == endpoint {
			st.alive = false
		}
	}
	for _, k := range keys {
		st := p.versions[k]
		if st == nil {
			st = &versionState{fed: map[string]int64{}}
			p.versions[k] = st
		}
		st.alive, st.lastSeen = true, end
		pts, err := p.checkVersion(k, st, tasks[k], groups[k], start, end)
		if err != nil {
			// The other versions are still measured and recorded.
			err = fmt.Errorf("endpoint %s, model %s version %d: %w", endpoint, k.model, k.version, err)
			p.logger().Error("monitor: performance", "endpoint", endpoint, "model", k.model, "version", k.version, "error", err.Error())
			st.last = VersionPerformance{Endpoint: k.endpoint, Model: k.model, Version: k.version, Time: end,
				WindowStart: start, WindowEnd: end, Rows: requestRows(groups[k]), Metrics: map[string]float64{},
				Detectors: st.detectorStates(), State: StateError, Reason: err.Error()}
			if st.sig != nil {
				st.last.Task = string(st.sig.Task)
			}
			continue
		}
		points = append(points, pts...)
	}
	// Versions seen before but without traffic in this window.
	for k, st := range p.versions {
		if k.endpoint != endpoint || st.alive {
			continue
		}
		if end-st.lastSeen > 2*window.Milliseconds() {
			delete(p.versions, k)
			continue
		}
		for id, t := range st.fed {
			if t < start {
				delete(st.fed, id)
			}
		}
		last := st.last
		last.Time, last.WindowStart, last.WindowEnd = end, start, end
		last.Rows, last.LabelledRows, last.InvalidLabels, last.InvalidReason = 0, 0, 0, ""
		last.Metrics, last.Undefined = map[string]float64{}, nil
		last.State, last.Reason = StateNotEnoughData, "no traffic in the window"
		if last.Estimated != nil {
			e := *last.Estimated
			e.Rows, e.Metrics, e.State, e.Reason = 0, nil, StateNotEnoughData, "no traffic in the window"
			last.Estimated = &e
		}
		last.Detectors = st.detectorStates()
		st.last = last
	}
	p.mu.Unlock()

	if len(points) > 0 {
		if err := p.Store.AppendPoints(ctx, points); err != nil {
			return nil, err
		}
	}
	return points, nil
}

// taskLookup is what a version predicts, or why that is not known.
type taskLookup struct {
	sig *modelrt.Signature
	err error
}

// tasks looks up, outside the lock, the signature of each version whose
// state does not know it yet.
func (p *Performance) tasks(ctx context.Context, keys []versionKey) map[versionKey]taskLookup {
	out := make(map[versionKey]taskLookup, len(keys))
	p.mu.Lock()
	for _, k := range keys {
		if st := p.versions[k]; st != nil && st.sig != nil {
			out[k] = taskLookup{sig: st.sig}
		}
	}
	p.mu.Unlock()
	for _, k := range keys {
		if _, ok := out[k]; ok {
			continue
		}
		sig, err := p.Tasks.Signature(ctx, k.endpoint, k.model, k.version)
		if err != nil {
			out[k] = taskLookup{err: err}
			continue
		}
		out[k] = taskLookup{sig: &sig}
	}
	return out
}

// requestRows is the number of rows of requests.
func requestRows(requests []predlog.Logged) int {
	n := 0
	for _, r := range requests {
		n += r.Rows
	}
	return n
}

// read returns the endpoint's logged requests of [start, end) that
// matter, oldest first: those with ground truth (the latest MaxRequests)
// wherever they are in the window — feedback comes late, for old
// requests — and the latest RecentRequests without, whose scores CBPE
// estimates. A busy window is never read whole.
func (p *Performance) read(ctx context.Context, endpoint string, start, end int64) ([]predlog.Logged, error) {
	maxReq := cmp.Or(max(p.MaxRequests, 0), DefaultMaxWindowRequests)
	recentReq := cmp.Or(max(p.RecentRequests, 0), DefaultRecentRequests)
	labelled, err := latest(ctx, p.Log, endpoint, true, start, end, maxReq)
	if err != nil {
		return nil, fmt.Errorf("endpoint %s: reading the prediction log: %w", endpoint, err)
	}
	recent, err := latest(ctx, p.Log, endpoint, false, start, end, recentReq)
	if err != nil {
		return nil, fmt.Errorf("endpoint %s: reading the prediction log: %w", endpoint, err)
	}
	seen := make(map[string]bool, len(labelled))
	for _, l := range labelled {
		seen[l.RequestID] = true
	}
	rows := labelled
	for _, r := range recent {
		if !seen[r.RequestID] {
			rows = append(rows, r)
		}
	}
	slices.SortFunc(rows, func(a, b predlog.Logged) int {
		return cmp.Or(cmp.Compare(a.Time, b.Time), cmp.Compare(a.RequestID, b.RequestID))
	})
	return rows, nil
}

// checkVersion measures one version's window (under p.mu), with what
// the version predicts.
func (p *Performance) checkVersion(k versionKey, st *versionState, lookup taskLookup, rows []predlog.Logged, start, end int64) ([]Point, error) {
	out := VersionPerformance{Endpoint: k.endpoint, Model: k.model, Version: k.version, Time: end,
		WindowStart: start, WindowEnd: end, Metrics: map[string]float64{}, Rows: requestRows(rows)}
	for id, t := range st.fed {
		if t < start {
			delete(st.fed, id)
		}
	}
	if st.sig == nil {
		switch {
		case errors.Is(lookup.err, errdefs.ErrNotFound):
			out.State, out.Reason = StateUnknownTask, "the version is not loaded by the endpoint: what it predicts is unknown"
			st.last = out
			return nil, nil
		case lookup.err != nil:
			return nil, lookup.err
		case lookup.sig == nil:
			return nil, errors.New("what the version predicts was not looked up")
		}
		st.sig = lookup.sig
	}
	task := st.sig.Task
	out.Task = string(task)
	switch task {
	case modelrt.Binary, modelrt.Multiclass, modelrt.Regression:
	default:
		out.State, out.Reason = StateUnsupportedTask, fmt.Sprintf("no ground-truth metric is computed for the %q task", task)
		st.last = out
		return nil, nil
	}
	if len(st.dets) == 0 {
		dets, err := newDetectors(task)
		if err != nil {
			return nil, err
		}
		st.dets = dets
	}

	// Score the labelled rows; collect the unlabelled binary scores and
	// the requests not fed to the detectors yet.
	var labelled []scored
	var unlabelled []float64
	type fresh struct {
		l    predlog.Logged
		rows []scored
	}
	var news []fresh
	newInvalid, newReason := 0, ""
	for _, r := range rows {
		if r.Rows < 0 || r.Outputs < 0 || len(r.Predictions) != r.Rows*r.Outputs {
			continue // not a shape the log stores; never indexed
		}
		if r.Truth == nil {
			if task == modelrt.Binary {
				for i := range r.Rows {
					if pr, ok := binaryProb(r.Predictions, r.Outputs, i); ok {
						unlabelled = append(unlabelled, pr)
					}
				}
			}
			continue
		}
		sc, invalid, reason := scoreRows(task, st.sig.Outputs, r)
		out.InvalidLabels += invalid
		if reason != "" && out.InvalidReason == "" {
			out.InvalidReason = reason
		}
		labelled = append(labelled, sc...)
		if _, done := st.fed[r.RequestID]; !done {
			st.fed[r.RequestID] = r.Time
			news = append(news, fresh{r, sc})
			if invalid > 0 {
				newInvalid += invalid
				newReason = cmp.Or(newReason, reason)
			}
		}
	}
	out.LabelledRows = len(labelled)
	if newInvalid > 0 {
		p.logger().Warn("monitor: feedback that cannot be scored", "endpoint", k.endpoint, "model", k.model,
			"version", k.version, "rows", newInvalid, "reason", newReason)
	}

	// Detectors and the CBPE reference, in the order feedback arrived.
	slices.SortFunc(news, func(a, b fresh) int {
		return cmp.Or(cmp.Compare(a.l.FeedbackTime, b.l.FeedbackTime), cmp.Compare(a.l.Time, b.l.Time),
			cmp.Compare(a.l.RequestID, b.l.RequestID))
	})
	for _, d := range st.dets {
		d.drift = false
	}
	fedAny := false
	for _, n := range news {
		for _, s := range n.rows {
			fedAny = true
			x := 0.0
			if task == modelrt.Regression {
				x = math.Abs(s.truth - s.class)
			} else if s.truth != s.class {
				x = 1
			}
			for _, d := range st.dets {
				w, dr := d.update(x)
				d.rows++
				d.warning = w
				if dr {
					d.drift = true
					d.drifts++
					d.lastDrift = end
				}
			}
			if task == modelrt.Binary && len(st.refScores) < p.maxReference() {
				st.refScores = append(st.refScores, s.prob[0])
				st.refLabels = append(st.refLabels, s.truth == 1)
			}
		}
	}
	if !fedAny {
		// Nothing new: the detectors keep the state of their last rows.
		for _, d := range st.dets {
			d.drift = st.lastDrift(d.name)
		}
	}
	out.Detectors = st.detectorStates()

	labels := map[string]string{"endpoint": k.endpoint, "model": k.model, "version": strconv.FormatInt(k.version, 10)}
	ms := end
	var points []Point
	add := func(series string, v float64, extra ...string) {
		l := labels
		if len(extra) == 2 {
			l = map[string]string{"endpoint": k.endpoint, "model": k.model, "version": labels["version"], extra[0]: extra[1]}
		}
		points = append(points, Point{Series: series, Labels: l, Time: ms, Value: v})
	}
	if out.Rows > 0 {
		add(SeriesLabelledRows, float64(out.LabelledRows))
		add(SeriesInvalidLabels, float64(out.InvalidLabels))
	}
	for _, d := range out.Detectors {
		if d.State != StateOK {
			continue
		}
		add(SeriesConceptDrift, boolValue(d.Drift), "detector", d.Detector)
		if d.Detector == DetectorDDM {
			add(SeriesDDMWarning, boolValue(d.Warning))
		}
	}

	switch {
	case len(labelled) == 0 && out.InvalidLabels > 0:
		out.State, out.Reason = StateNotEnoughData, "no valid ground truth in the window: "+out.InvalidReason
	case len(labelled) == 0:
		out.State, out.Reason = StateNotEnoughData, "no ground truth in the window yet"
	default:
		out.State = StateOK
		out.Metrics, out.Undefined = measure(task, st.sig.Outputs, labelled)
		for _, name := range slices.Sorted(maps.Keys(out.Metrics)) {
			add(name, out.Metrics[name])
		}
	}

	if task == modelrt.Binary {
		out.Estimated = p.estimate(st, unlabelled)
		if e := out.Estimated; e.State == StateOK {
			for _, m := range []struct {
				series, name string
			}{{SeriesEstimatedAccuracy, "accuracy"}, {SeriesEstimatedROCAUC, "roc_auc"}, {SeriesEstimatedF1, "f1"},
				{SeriesEstimatedPrecision, "precision"}, {SeriesEstimatedRecall, "recall"}} {
				if v, ok := e.Metrics[m.name]; ok {
					add(m.series, v)
				}
			}
		}
	}
	st.last = out
	return points, nil
}

// estimate runs CBPE over the window's unlabelled scores, refitting it
// when the reference grew.
func (p *Performance) estimate(st *versionState, unlabelled []float64) *EstimateState {
	e := &EstimateState{ReferenceRows: len(st.refScores), Rows: len(unlabelled)}
	minRef := p.MinReference
	if minRef <= 0 {
		minRef = DefaultMinReference
	}
	pos := 0
	for _, l := range st.refLabels {
		if l {
			pos++
		}
	}
	switch {
	case len(st.refScores) < minRef:
		e.State, e.Reason = StateNotEnoughData, fmt.Sprintf("CBPE needs %d labelled rows to calibrate on, has %d", minRef, len(st.refScores))
		return e
	case pos == 0 || pos == len(st.refLabels):
		e.State, e.Reason = StateNotEnoughData, "the labelled rows hold one class only: CBPE cannot calibrate on them"
		return e
	}
	if st.cbpe == nil || st.refN != len(st.refScores) {
		c, err := concept.FitCBPE(st.refScores, st.refLabels, concept.CBPEConfig{Threshold: ClassThreshold})
		if err != nil {
			e.State, e.Reason = StateNotEnoughData, err.Error()
			return e
		}
		st.cbpe, st.refN = c, len(st.refScores)
	}
	e.Calibrated = st.cbpe.Calibrated()
	if len(unlabelled) == 0 {
		e.State, e.Reason = StateNotEnoughData, "no unlabelled rows in the window to estimate"
		return e
	}
	m, err := st.cbpe.Estimate(unlabelled, nil)
	if err != nil {
		e.State, e.Reason = StateNotEnoughData, err.Error()
		return e
	}
	e.Metrics = map[string]float64{}
	for name, v := range map[string]float64{"accuracy": m.Accuracy, "roc_auc": m.ROCAUC, "f1": m.F1,
		"precision": m.Precision, "recall": m.Recall} {
		if report.IsFinite(v) {
			e.Metrics[name] = v
		}
	}
	e.State = StateOK
	return e
}

// scoreRows checks a labelled request's ground truth against the task and
// returns its scorable rows, the number of rows that are not and why.
func scoreRows(task modelrt.Task, outputs int, r predlog.Logged) (rows []scored, invalid int, reason string) {
	if len(r.Truth) != r.Rows {
		return nil, r.Rows, fmt.Sprintf("%d ground-truth values for %d predicted rows", len(r.Truth), r.Rows)
	}
	k := r.Outputs
	for i, t := range r.Truth {
		switch task {
		case modelrt.Binary:
			pr, ok := binaryProb(r.Predictions, k, i)
			switch {
			case !ok:
				invalid++
				reason = cmp.Or(reason, "the prediction is not a probability (a raw margin?)")
				continue
			case t != 0 && t != 1:
				invalid++
				reason = cmp.Or(reason, fmt.Sprintf("ground truth %v for a binary classifier: 0 or 1 is expected", t))
				continue
			}
			cls := 0.0
			if pr >= ClassThreshold {
				cls = 1
			}
			rows = append(rows, scored{truth: t, class: cls, prob: []float64{pr}})
		case modelrt.Multiclass:
			if k < 2 || k != outputs {
				invalid++
				reason = cmp.Or(reason, fmt.Sprintf("%d outputs per row for a classifier of %d classes", k, outputs))
				continue
			}
			row := r.Predictions[i*k : (i+1)*k]
			if !allProbabilities(row) {
				invalid++
				reason = cmp.Or(reason, "the prediction is not a probability (a raw margin?)")
				continue
			}
			if t < 0 || t >= float64(k) || t != math.Trunc(t) {
				invalid++
				reason = cmp.Or(reason, fmt.Sprintf("ground truth %v for a classifier of %d classes: a class index from 0 to %d is expected", t, k, k-1))
				continue
			}
			rows = append(rows, scored{truth: t, class: float64(argmaxRow(row)), prob: row})
		default: // regression
			if k < 1 || !report.IsFinite(r.Predictions[i*k]) {
				invalid++
				reason = cmp.Or(reason, "the prediction is not a finite number")
				continue
			}
			if !report.IsFinite(math.Abs(t - r.Predictions[i*k])) {
				// The error Page-Hinkley reads must be a number.
				invalid++
				reason = cmp.Or(reason, fmt.Sprintf("the error of ground truth %v for prediction %v is not a finite number", t, r.Predictions[i*k]))
				continue
			}
			rows = append(rows, scored{truth: t, class: r.Predictions[i*k]})
		}
	}
	return rows, invalid, reason
}

// binaryProb is row i's probability of class 1: the only output, or the
// second of two.
func binaryProb(preds []float64, k, i int) (float64, bool) {
	var pr float64
	switch k {
	case 1:
		pr = preds[i]
	case 2:
		pr = preds[2*i+1]
	default:
		return 0, false
	}
	return pr, pr >= 0 && pr <= 1
}

func allProbabilities(row []float64) bool {
	for _, v := range row {
		if !(v >= 0 && v <= 1) {
			return false
		}
	}
	return true
}

func argmaxRow(row []float64) int {
	best := 0
	for j, v := range row {
		if v > row[best] {
			best = j
		}
	}
	return best
}

// measure computes the task's metrics over valid labelled rows; a metric
// that is not defined on them (ROC AUC with one class) is left out and
// said why.
func measure(task modelrt.Task, outputs int, rows []scored) (map[string]float64, map[string]string) {
	yTrue := make([]float64, len(rows))
	yPred := make([]float64, len(rows))
	var prob []float64
	for i, r := range rows {
		yTrue[i], yPred[i] = r.truth, r.class
		prob = append(prob, r.prob...)
	}
	metrics := map[string]float64{}
	undefined := map[string]string{}
	put := func(name string, v float64, err error) {
		switch {
		case err != nil:
			undefined[name] = err.Error()
		case !report.IsFinite(v):
			undefined[name] = "not a finite number"
		default:
			metrics[name] = v
		}
	}
	switch task {
	case modelrt.Regression:
		v, err := learn.RMSE(yTrue, yPred)
		put(SeriesRMSE, v, err)
		v, err = learn.MAE(yTrue, yPred)
		put(SeriesMAE, v, err)
	case modelrt.Binary:
		v, err := learn.Accuracy(yTrue, yPred)
		put(SeriesAccuracy, v, err)
		_, _, f1, err := learn.BinaryPRF(yTrue, yPred)
		put(SeriesF1, f1, err)
		v, err = learn.ROCAUC(yTrue, prob)
		put(SeriesROCAUC, v, err)
		v, err = learn.LogLoss(yTrue, prob, 2)
		put(SeriesLogLoss, v, err)
	case modelrt.Multiclass:
		k := len(prob) / len(rows)
		v, err := learn.Accuracy(yTrue, yPred)
		put(SeriesAccuracy, v, err)
		_, _, f1, err := learn.MacroPRF(yTrue, yPred)
		put(SeriesF1, f1, err)
		v, err = learn.ROCAUCOvR(yTrue, prob, k)
		put(SeriesROCAUC, v, err)
		v, err = learn.LogLoss(yTrue, prob, k)
		put(SeriesLogLoss, v, err)
	}
	if len(undefined) == 0 {
		undefined = nil
	}
	return metrics, undefined
}

// newDetectors builds a version's detectors: DDM, ADWIN and Page-Hinkley
// on the error bits of a classifier, Page-Hinkley on the absolute error
// of a regression (river's defaults).
func newDetectors(task modelrt.Task) ([]*detector, error) {
	ph, err := concept.NewPageHinkley(concept.PageHinkleyConfig{})
	if err != nil {
		return nil, err
	}
	phd := &detector{name: DetectorPageHinkley, stream: "error",
		update: func(x float64) (bool, bool) { return false, ph.Update(x) }}
	if task == modelrt.Regression {
		phd.stream = "absolute_error"
		return []*detector{phd}, nil
	}
	ddm, err := concept.NewDDM(concept.DDMConfig{})
	if err != nil {
		return nil, err
	}
	adwin, err := concept.NewADWIN(concept.ADWINConfig{})
	if err != nil {
		return nil, err
	}
	return []*detector{
		{name: DetectorDDM, stream: "error", update: func(x float64) (bool, bool) { return ddm.Update(x == 1) }},
		{name: DetectorADWIN, stream: "error", update: func(x float64) (bool, bool) { return false, adwin.Update(x) }},
		phd,
	}, nil
}

// lastDrift is the drift a detector reported at the previous check.
func (st *versionState) lastDrift(name string) bool {
	for _, d := range st.last.Detectors {
		if d.Detector == name {
			return d.Drift
		}
	}
	return false
}

func (st *versionState) detectorStates() []DetectorState {
	out := make([]DetectorState, 0, len(st.dets))
	for _, d := range st.dets {
		s := DetectorState{Detector: d.name, Stream: d.stream, Rows: d.rows, Drift: d.drift, Warning: d.warning,
			Drifts: d.drifts, LastDrift: d.lastDrift, State: StateOK}
		if d.rows < MinDetectorRows {
			s.Drift, s.Warning = false, false
			s.State, s.Reason = StateNotEnoughData, fmt.Sprintf("%d labelled rows seen, %d needed", d.rows, MinDetectorRows)
		}
		out = append(out, s)
	}
	return out
}

// CheckAll checks every monitored endpoint; an endpoint that fails is
// logged and skipped. States of endpoints no longer monitored are
// dropped.
func (p *Performance) CheckAll(ctx context.Context) ([]Point, error) {
	eps, err := p.Endpoints.MonitoredEndpoints(ctx)
	if err != nil {
		return nil, fmt.Errorf("monitor: listing endpoints: %w", err)
	}
	p.mu.Lock()
	for k := range p.versions {
		if !slices.Contains(eps, k.endpoint) {
			delete(p.versions, k)
		}
	}
	p.mu.Unlock()
	var all []Point
	for _, e := range eps {
		points, err := p.Check(ctx, e)
		if err != nil {
			p.logger().Error("monitor: performance", "endpoint", e, "error", err.Error())
			continue
		}
		all = append(all, points...)
	}
	return all, nil
}

// Latest returns the last check of each version of an endpoint, by model
// and version (none before the first check that saw its traffic).
func (p *Performance) Latest(endpoint string) []VersionPerformance {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := []VersionPerformance{}
	for k, st := range p.versions {
		if k.endpoint == endpoint {
			out = append(out, st.last)
		}
	}
	slices.SortFunc(out, func(a, b VersionPerformance) int {
		return cmp.Or(cmp.Compare(a.Model, b.Model), cmp.Compare(a.Version, b.Version))
	})
	return out
}

func (p *Performance) maxReference() int {
	if p.MaxReference > 0 {
		return p.MaxReference
	}
	return DefaultMaxReference
}

func (p *Performance) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Performance) logger() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.Default()
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
