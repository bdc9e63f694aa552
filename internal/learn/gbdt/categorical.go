package gbdt

import (
	"cmp"
	"math"
	"math/bits"
	"slices"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// MaxCategories is the number of category codes (0..MaxCategories-1) a
// categorical training column may use.
const MaxCategories = 64

// catSet is a set of category codes 0..MaxCategories-1, one bit each. A
// categorical split sends the rows whose category is in its set right
// and every other category (unseen, negative or too large ones too)
// left, as XGBoost 1.7 and internal/modelrt/xgboost do; missing values
// take the default direction.
type catSet uint64

func (s catSet) has(c int) bool { return c >= 0 && c < MaxCategories && s&(1<<uint(c)) != 0 }

// codes returns the categories of the set, ascending.
func (s catSet) codes() []int {
	out := make([]int, 0, bits.OnesCount64(uint64(s)))
	for v := uint64(s); v != 0; v &= v - 1 {
		out = append(out, bits.TrailingZeros64(v))
	}
	return out
}

// goesRight reports whether the raw value x (not NaN) is in the set.
func (s catSet) goesRight(x float64) bool {
	f := float32(x)
	if !(f >= 0 && f < MaxCategories) {
		return false
	}
	return s.has(int(f))
}

// isCat reports whether column f of d is categorical.
func isCat(d *Dataset, f int) bool { return f < len(d.Categorical) && d.Categorical[f] }

// checkCategories reports a categorical training column holding a value
// that is not missing and not an integer code 0..MaxCategories-1.
func checkCategories(d *Dataset) error {
	for f := range d.Cols {
		if !isCat(d, f) {
			continue
		}
		for r := range d.Rows {
			x := d.X[r*d.Cols+f]
			if math.IsNaN(x) {
				continue
			}
			if x < 0 || x >= MaxCategories || x != math.Trunc(x) {
				return errdefs.InvalidArgument("gbdt: training set row %d, categorical column %d: %v is not a category code 0..%d (NaN for missing); encode more categories as a numeric column", r, f, x, MaxCategories-1)
			}
		}
	}
	return nil
}

// catCuts returns the cuts of a categorical column whose largest code is
// top, so that every code is a bin of its own.
func catCuts(top int) []float32 {
	cuts := make([]float32, top)
	for k := range cuts {
		cuts[k] = float32(k) + 0.5
	}
	return cuts
}

// bestCat tries the categorical splits of feature f with histogram hf
// (one slot per category code, then missing): one category against the
// rest when the feature has at most MaxCatToOnehot categories, else the
// prefixes of the categories sorted by G/(H+λ). try is called with the
// right-hand set, the missing direction and the left sums.
func (g *grower) bestCat(f int, hf []gh, G, H float64, try func(f int, set catSet, defLeft bool, gl, hl float64)) {
	nb := len(hf) - 1
	miss := hf[nb]
	both := func(set catSet, gs, hs float64) {
		// gs, hs: sums of the categories in set (the right side).
		gl, hl := G-gs-miss.g, H-hs-miss.h
		if miss.h > 0 {
			try(f, set, true, gl+miss.g, hl+miss.h)
			try(f, set, false, gl, hl)
		} else {
			try(f, set, hl >= hs, gl, hl)
		}
	}
	present := make([]int, 0, nb)
	for c := range nb {
		if hf[c].h > 0 {
			present = append(present, c)
		}
	}
	if len(present) < 2 {
		return
	}
	if nb <= g.p.MaxCatToOnehot {
		for _, c := range present {
			both(catSet(1)<<uint(c), hf[c].g, hf[c].h)
		}
		return
	}
	lam := g.p.Lambda
	slices.SortStableFunc(present, func(a, b int) int {
		return cmp.Compare(hf[a].g/(hf[a].h+lam), hf[b].g/(hf[b].h+lam))
	})
	var set catSet
	var gs, hs float64
	for _, c := range present[:len(present)-1] {
		set |= 1 << uint(c)
		gs += hf[c].g
		hs += hf[c].h
		both(set, gs, hs)
	}
}
