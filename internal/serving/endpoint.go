package serving

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Roles of the variants of an endpoint.
const (
	RoleStable    = "stable"
	RoleCandidate = "candidate"
)

// Variant is one loaded model version behind an endpoint.
type Variant struct {
	Ref
	*Loaded
	Role string
	// Window counts what the variant did since the current analysis
	// window began; nil when no rollout is active (nothing to compare).
	Window *Window
}

// Endpoint is a deployment with its loaded variants: an immutable
// snapshot, replaced as a whole on every change, so a request sees one
// consistent state.
type Endpoint struct {
	Deployment
	Stable *Variant
	// Candidate is the rollout's candidate while one is active.
	Candidate *Variant
	// Previous is the version a blue-green deployment keeps loaded for
	// an instant rollback.
	Previous *Variant

	threshold uint64 // requests whose key%10000 < threshold go to the candidate
	header    string // sticky header
	field     string // sticky feature
	shadow    *shadow
}

func newEndpoint(d Deployment, stable, candidate, previous *Variant, sh *shadow) *Endpoint {
	e := &Endpoint{Deployment: d, Stable: stable, Candidate: candidate, Previous: previous, shadow: sh}
	if r := d.Rollout; r.Active() && candidate != nil {
		e.threshold = uint64(r.Weight) * 100
		if kind, name, ok := strings.Cut(r.Sticky, ":"); ok {
			if kind == "header" {
				e.header = http.CanonicalHeaderKey(name)
			} else {
				e.field = name
			}
		}
	}
	return e
}

// Splits says whether requests are split between stable and candidate
// (canary, A/B); a shadow's candidate sees mirrored requests only.
func (e *Endpoint) Splits() bool {
	return e.Candidate != nil && e.Rollout.Strategy != StrategyShadow
}

// StickyField is the feature whose first-row value keys an A/B split,
// or "".
func (e *Endpoint) StickyField() string { return e.field }

// Route picks the variant of a request from its headers: a sticky
// header's hash, else chance. Endpoints keyed by a field call RouteKey
// once the request is decoded.
func (e *Endpoint) Route(h http.Header) *Variant {
	if !e.Splits() {
		return e.Stable
	}
	if e.header != "" {
		if v := h.Get(e.header); v != "" {
			return e.RouteKey(v)
		}
	}
	return e.pick(rand.Uint64())
}

// RouteKey picks the variant for a sticky key: the same key always
// lands on the same variant while the weight stays.
func (e *Endpoint) RouteKey(key string) *Variant {
	if !e.Splits() {
		return e.Stable
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(key))
	return e.pick(h.Sum64())
}

// RouteValue keys the split by a feature's value.
func (e *Endpoint) RouteValue(v float64) *Variant {
	if math.IsNaN(v) {
		return e.Route(nil)
	}
	return e.RouteKey(strconv.FormatFloat(v, 'g', -1, 64))
}

func (e *Endpoint) pick(k uint64) *Variant {
	if k%10000 < e.threshold {
		return e.Candidate
	}
	return e.Stable
}

// Mirror hands a request the stable version answered to a shadow's
// candidate, off the request path (see StrategyShadow); it does nothing
// for other endpoints and variants. x and out must not change after.
func (e *Endpoint) Mirror(v *Variant, x []float64, rows int, out []float64, took time.Duration) {
	if e.shadow != nil && v == e.Stable {
		e.shadow.mirror(x, rows, out, took)
	}
}

// FeatureIndex returns the position of a named feature in v's
// signature, or -1.
func (v *Variant) FeatureIndex(name string) int {
	for i, f := range v.Sig.Inputs {
		if f.Name == name || (f.Name == "" && "f"+strconv.Itoa(i) == name) {
			return i
		}
	}
	return -1
}
