package learn

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// newRand returns the generator every split uses: math/rand/v2's PCG
// seeded with (seed, seed^0x9e3779b97f4a7c15). The same seed gives the
// same split on every platform and Go release that keeps PCG's output
// (which math/rand/v2 promises).
func newRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// TrainTestSplit splits d into a training and a test set, like
// scikit-learn's train_test_split: the test set has ceil(testFraction ×
// Rows) rows. With stratify, each distinct label keeps its share in both
// sets (largest remainders decide the rounding). The split depends only on
// d's labels, testFraction, seed and stratify; rows keep their original
// order within each set. It does not reproduce scikit-learn's exact rows,
// which come from numpy's generator.
func TrainTestSplit(d Dataset, testFraction float64, seed uint64, stratify bool) (train, test Dataset, err error) {
	if err := d.Validate(); err != nil {
		return Dataset{}, Dataset{}, err
	}
	tr, te, err := SplitIndices(d.Rows, d.Y, testFraction, seed, stratify)
	if err != nil {
		return Dataset{}, Dataset{}, err
	}
	return d.Subset(tr), d.Subset(te), nil
}

// SplitIndices is TrainTestSplit on row indices: it returns the ascending
// indices of the training and the test rows. y is needed only to stratify.
func SplitIndices(rows int, y []float64, testFraction float64, seed uint64, stratify bool) (train, test []int, err error) {
	if !(testFraction > 0 && testFraction < 1) {
		return nil, nil, errdefs.InvalidArgument("test fraction %v is not in (0, 1)", testFraction)
	}
	nTest := int(math.Ceil(testFraction * float64(rows)))
	if rows < 2 || nTest < 1 || nTest >= rows {
		return nil, nil, errdefs.InvalidArgument("cannot split %d rows with test fraction %v into two non-empty sets", rows, testFraction)
	}
	r := newRand(seed)
	isTest := make([]bool, rows)
	if !stratify {
		for _, i := range r.Perm(rows)[:nTest] {
			isTest[i] = true
		}
	} else {
		if len(y) != rows {
			return nil, nil, errdefs.InvalidArgument("stratify needs one label per row: %d labels for %d rows", len(y), rows)
		}
		groups := groupByLabel(y)
		if len(groups) > rows-nTest || len(groups) > nTest {
			return nil, nil, errdefs.InvalidArgument("cannot stratify %d classes into a test set of %d and a training set of %d rows", len(groups), nTest, rows-nTest)
		}
		counts := apportion(groups, nTest, rows)
		for g, idx := range groups {
			r.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
			for _, i := range idx[:counts[g]] {
				isTest[i] = true
			}
		}
	}
	for i, t := range isTest {
		if t {
			test = append(test, i)
		} else {
			train = append(train, i)
		}
	}
	return train, test, nil
}

// groupByLabel returns the row indices of each distinct label, groups in
// ascending label order.
func groupByLabel(y []float64) [][]int {
	order := make([]int, len(y))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(y[a], y[b]) })
	var groups [][]int
	for k, i := range order {
		if k == 0 || y[i] != y[order[k-1]] {
			groups = append(groups, nil)
		}
		groups[len(groups)-1] = append(groups[len(groups)-1], i)
	}
	return groups
}

// apportion splits total among the groups in proportion to their sizes
// (out of n rows) by largest remainders, ties to the earlier group.
func apportion(groups [][]int, total, n int) []int {
	counts := make([]int, len(groups))
	rem := make([]float64, len(groups))
	left := total
	for g, idx := range groups {
		exact := float64(total) * float64(len(idx)) / float64(n)
		counts[g] = int(math.Floor(exact))
		rem[g] = exact - float64(counts[g])
		left -= counts[g]
	}
	order := make([]int, len(groups))
	for g := range order {
		order[g] = g
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(rem[b], rem[a]) })
	for _, g := range order {
		if left == 0 {
			break
		}
		if counts[g] < len(groups[g]) {
			counts[g]++
			left--
		}
	}
	return counts
}

// Fold is one round of k-fold cross-validation: ascending row indices.
type Fold struct {
	Train []int
	Test  []int
}

// KFold splits rows into k folds like scikit-learn's KFold: the first
// rows%k folds have one row more. With shuffle the rows are permuted first
// with the PCG generator seeded from seed; without it the folds are
// consecutive blocks.
func KFold(rows, k int, shuffle bool, seed uint64) ([]Fold, error) {
	if k < 2 || k > rows {
		return nil, errdefs.InvalidArgument("k-fold needs 2 ≤ k ≤ rows, got k=%d for %d rows", k, rows)
	}
	perm := make([]int, rows)
	for i := range perm {
		perm[i] = i
	}
	if shuffle {
		perm = newRand(seed).Perm(rows)
	}
	folds := make([]Fold, k)
	fold := make([]int, rows)
	start := 0
	for f := range k {
		size := rows / k
		if f < rows%k {
			size++
		}
		for _, i := range perm[start : start+size] {
			fold[i] = f
		}
		start += size
	}
	for f := range folds {
		for i := range rows {
			if fold[i] == f {
				folds[f].Test = append(folds[f].Test, i)
			} else {
				folds[f].Train = append(folds[f].Train, i)
			}
		}
	}
	return folds, nil
}
