package monitor

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/ferry-ml/ferry/internal/drift"
	"github.com/ferry-ml/ferry/internal/errdefs"
)

// Drift window bounds.
const (
	// DefaultWindowRows is the count window when none is set: the newest
	// 1,000 logged rows (from a day back at most).
	DefaultWindowRows = 1000
	// MaxWindowRows bounds a count window, and caps a time window: a
	// busy endpoint's range is never read whole, only its newest
	// MaxWindowRows rows.
	MaxWindowRows = 100_000
	// MaxWindow bounds a time window.
	MaxWindow = 30 * 24 * time.Hour
	// countWindowLookback is how far back a count window reaches.
	countWindowLookback = 24 * time.Hour
)

// StatTests are the drift tests an endpoint may ask for (Evidently's
// stattest names); an empty stattest is Evidently's default selection.
func statTests() []drift.Test {
	return []drift.Test{drift.TestKS, drift.TestChiSquare, drift.TestZ,
		drift.TestWasserstein, drift.TestJensenShannon, drift.TestPSI}
}

// StatTests returns the names of the drift tests an endpoint may ask for.
func StatTests() []string {
	tests := statTests()
	out := make([]string, len(tests))
	for i, t := range tests {
		out[i] = string(t)
	}
	return out
}

// DriftSettings are an endpoint's drift settings, kept apart from its
// reference so they apply whether the reference is set for the endpoint
// or derived from the training data of the served version. Zero fields
// are the defaults (Effective fills them in).
type DriftSettings struct {
	Endpoint string `json:"endpoint"`
	// StatTest is the test run on every feature (ks, chisquare, z,
	// wasserstein, jensenshannon, psi); empty is Evidently's default
	// selection per feature.
	StatTest string `json:"stattest"`
	// Threshold is the test's threshold; 0 is the test's default
	// (Evidently's: 0.05 for p-values, 0.1 for distances and PSI).
	Threshold float64 `json:"threshold"`
	// DriftShare is the share of drifted features from which the dataset
	// drifts, in (0, 1]; 0 is 0.5.
	DriftShare float64 `json:"drift_share"`
	// WindowRows is a count window: the newest rows (from a day back at
	// most); 0 is DefaultWindowRows. With Window set it is the cap of the
	// time window (MaxWindowRows).
	WindowRows int `json:"window_rows"`
	// Window is a time window: the rows logged in [now-Window, now), the
	// newest WindowRows of them. 0 is a count window.
	Window time.Duration `json:"-"`
}

// driftSettingsJSON is DriftSettings on the wire: the time window as a
// Go duration ("1h", "" for a count window).
type driftSettingsJSON struct {
	Endpoint   string  `json:"endpoint"`
	StatTest   string  `json:"stattest"`
	Threshold  float64 `json:"threshold"`
	DriftShare float64 `json:"drift_share"`
	WindowRows int     `json:"window_rows"`
	Window     string  `json:"window"`
}

// MarshalJSON writes the time window as a duration ("1h0m0s"; "" for a
// count window).
func (s DriftSettings) MarshalJSON() ([]byte, error) {
	j := driftSettingsJSON{Endpoint: s.Endpoint, StatTest: s.StatTest, Threshold: s.Threshold,
		DriftShare: s.DriftShare, WindowRows: s.WindowRows}
	if s.Window > 0 {
		j.Window = s.Window.String()
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads the time window as a duration ("1h", "30m").
func (s *DriftSettings) UnmarshalJSON(b []byte) error {
	var j driftSettingsJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*s = DriftSettings{Endpoint: j.Endpoint, StatTest: j.StatTest, Threshold: j.Threshold,
		DriftShare: j.DriftShare, WindowRows: j.WindowRows}
	if j.Window != "" {
		d, err := time.ParseDuration(j.Window)
		if err != nil {
			return errdefs.InvalidArgument("Invalid value '%s' for parameter 'window': use a duration such as 1h or 30m.", j.Window)
		}
		s.Window = d
	}
	return nil
}

// Validate checks the settings as given (zero fields are defaults): an
// errdefs.ErrInvalidArgument naming the field otherwise.
func (s DriftSettings) Validate() error {
	if s.StatTest != "" && !validTest(s.StatTest) {
		return errdefs.InvalidArgument("Invalid value '%s' for parameter 'stattest': use one of %s (or leave it empty for Evidently's default selection).",
			s.StatTest, strings.Join(StatTests(), ", "))
	}
	if math.IsNaN(s.Threshold) || math.IsInf(s.Threshold, 0) || s.Threshold < 0 {
		return errdefs.InvalidArgument("Invalid value '%v' for parameter 'threshold': use a finite number > 0 (0 or absent is the test's default).", s.Threshold)
	}
	if s.StatTest != "" && drift.Test(s.StatTest).IsPValue() && s.Threshold > 1 {
		return errdefs.InvalidArgument("Invalid value '%v' for parameter 'threshold': %s compares a p-value, use a threshold in (0, 1].", s.Threshold, s.StatTest)
	}
	if s.StatTest == "" && s.Threshold > 1 {
		// Above 1, every p-value test drifts every feature.
		return errdefs.InvalidArgument("Invalid value '%v' for parameter 'threshold': Evidently's default selection compares p-values (ks, chisquare, z) for references of up to 1,000 rows, so the threshold must be in (0, 1]; or choose a distance test (stattest wasserstein, jensenshannon or psi).", s.Threshold)
	}
	if math.IsNaN(s.DriftShare) || s.DriftShare < 0 || s.DriftShare > 1 {
		return errdefs.InvalidArgument("Invalid value '%v' for parameter 'drift_share': use a share in (0, 1] (0 or absent is %v).", s.DriftShare, drift.DefaultDriftShare)
	}
	if s.WindowRows < 0 || s.WindowRows > MaxWindowRows {
		return errdefs.InvalidArgument("Invalid value '%d' for parameter 'window_rows': use 1 to %d rows.", s.WindowRows, MaxWindowRows)
	}
	if s.Window < 0 || s.Window > MaxWindow || (s.Window > 0 && s.Window < time.Second) {
		return errdefs.InvalidArgument("Invalid value '%s' for parameter 'window': use a duration from 1s to %s.", s.Window, MaxWindow)
	}
	if s.Window > 0 && s.WindowRows > 0 && s.WindowRows != MaxWindowRows {
		return errdefs.InvalidArgument("Parameters 'window' and 'window_rows' are exclusive: set a time window or a count window, not both.")
	}
	return nil
}

func validTest(name string) bool {
	for _, t := range statTests() {
		if string(t) == name {
			return true
		}
	}
	return false
}

// Effective returns the settings with the defaults filled in: the
// threshold of the chosen test (0 with the default selection, whose
// threshold depends on each feature's test), the drift share, and the
// window's rows (the count, or a time window's cap).
func (s DriftSettings) Effective() DriftSettings {
	if s.Threshold == 0 && s.StatTest != "" {
		s.Threshold = drift.Test(s.StatTest).DefaultThreshold()
	}
	if !(s.DriftShare > 0) {
		s.DriftShare = drift.DefaultDriftShare
	}
	switch {
	case s.Window > 0:
		s.WindowRows = MaxWindowRows
	case s.WindowRows <= 0:
		s.WindowRows = DefaultWindowRows
	}
	return s
}

// options are the drift.Options of a numerical feature under the
// settings.
func (s DriftSettings) options() drift.Options {
	return drift.Options{Kind: drift.KindNumerical, Test: drift.Test(s.StatTest), Threshold: s.Threshold}
}

// describe is the window as a log or error message says it.
func (s DriftSettings) describe() string {
	if s.Window > 0 {
		return fmt.Sprintf("in the last %s", s.Window)
	}
	return "in the last 24 hours"
}

// SettingsStore keeps each endpoint's drift settings.
// GetDriftSettings returns the zero settings (the defaults), not an
// error, for an endpoint without any.
type SettingsStore interface {
	SetDriftSettings(ctx context.Context, s DriftSettings) error
	GetDriftSettings(ctx context.Context, endpoint string) (DriftSettings, error)
}
