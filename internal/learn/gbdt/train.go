package gbdt

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// Train fits a model to train. valid, when not nil, is evaluated after
// every round (and drives EarlyStoppingRounds). Errors of the inputs or
// parameters match errdefs.ErrInvalidArgument; a cancelled ctx stops
// training with ctx's error.
func Train(ctx context.Context, train *Dataset, valid *Dataset, p Params) (*Model, error) {
	if train == nil {
		return nil, errdefs.InvalidArgument("gbdt: no training set")
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	if err := check(train, "training", 0); err != nil {
		return nil, err
	}
	if err := checkCategories(train); err != nil {
		return nil, err
	}
	if valid != nil {
		if err := check(valid, "validation", train.Cols); err != nil {
			return nil, err
		}
	}
	if p.EarlyStoppingRounds > 0 && valid == nil {
		return nil, errdefs.InvalidArgument("gbdt: EarlyStoppingRounds needs a validation set")
	}
	ng, err := groups(&p, train, valid)
	if err != nil {
		return nil, err
	}
	base := p.BaseScore
	if math.IsNaN(base) {
		base = 0.5
		if p.Objective == RegSquaredError {
			var s float64
			for _, y := range train.Y {
				s += y
			}
			base = s / float64(len(train.Y))
		}
	}
	m := &Model{
		objective:    p.Objective,
		ngroup:       ng,
		nfeat:        train.Cols,
		baseScore:    float32(base),
		featureNames: slices.Clone(train.FeatureNames),
		categorical:  slices.Clone(train.Categorical),
		best:         -1,
	}
	m.baseMargin = m.baseScore
	if p.Objective == BinaryLogistic {
		m.baseMargin = logit(m.baseScore)
	}

	workers := max(1, runtime.GOMAXPROCS(0))
	b := binMatrix(train, p.MaxBin, workers)
	n := train.Rows
	margin := make([]float32, n*ng)
	for i := range margin {
		margin[i] = m.baseMargin
	}
	var vmargin []float32
	if valid != nil {
		vmargin = make([]float32, valid.Rows*ng)
		for i := range vmargin {
			vmargin[i] = m.baseMargin
		}
	}
	rng := rand.New(rand.NewPCG(p.Seed, 0x6762647421))
	g := &grower{p: &p, b: b, gpair: make([]gh, n), workers: workers, leafOf: make([]float32, n)}
	all := make([]int32, n)
	for i := range all {
		all[i] = int32(i)
	}
	rows := make([]int32, n)
	var prob []float32
	if ng > 1 {
		prob = make([]float32, n*ng)
	}
	inSample := make([]bool, n)
	bestLoss, sinceBest := math.Inf(1), 0
	for round := range p.NumRounds {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if ng > 1 {
			copy(prob, margin)
			for r := range n {
				softmax(prob[r*ng : (r+1)*ng])
			}
		}
		sample := sampleRows(rng, all, p.Subsample)
		clear(inSample)
		for _, r := range sample {
			inSample[r] = true
		}
		for k := range ng {
			g.feats = sampleFeatures(rng, train.Cols, p.ColsampleByTree)
			gradients(p.Objective, train.Y, margin, ng, k, g.gpair, prob)
			rows = append(rows[:0], sample...)
			t := g.grow(rows)
			t.group = k
			m.trees = append(m.trees, *t)
			for r := range n {
				v := g.leafOf[r]
				if !inSample[r] {
					v = t.predictBinned(b, r)
				}
				margin[r*ng+k] += v
			}
			if valid != nil {
				nf := valid.Cols
				for r := range valid.Rows {
					vmargin[r*ng+k] += t.predict(valid.X[r*nf : (r+1)*nf])
				}
			}
		}
		if valid == nil {
			continue
		}
		loss := evalLoss(p.Objective, valid.Y, vmargin, ng)
		if loss < bestLoss {
			bestLoss, sinceBest, m.best = loss, 0, round
		} else if sinceBest++; p.EarlyStoppingRounds > 0 && sinceBest >= p.EarlyStoppingRounds {
			slog.DebugContext(ctx, "gbdt: early stop", "round", round, "best_iteration", m.best, "loss", bestLoss)
			break
		}
	}
	if p.EarlyStoppingRounds > 0 && m.best >= 0 {
		m.trees = m.trees[:(m.best+1)*ng]
	} else {
		m.best = -1
	}
	return m, nil
}

// groups checks the labels for the objective and returns the number of
// output groups.
func groups(p *Params, train, valid *Dataset) (int, error) {
	sets := []*Dataset{train}
	if valid != nil {
		sets = append(sets, valid)
	}
	switch p.Objective {
	case BinaryLogistic:
		for _, d := range sets {
			for i, y := range d.Y {
				if y != 0 && y != 1 {
					return 0, errdefs.InvalidArgument("gbdt: row %d: label %v is not 0 or 1 (binary:logistic)", i, y)
				}
			}
		}
		return 1, nil
	case MultiSoftprob:
		top := 0.0
		for _, y := range train.Y {
			top = max(top, y)
		}
		k := p.NumClass
		if k == 0 {
			k = int(min(top, 1<<16)) + 1
		}
		if k < 2 {
			return 0, errdefs.InvalidArgument("gbdt: multi:softprob needs at least 2 classes, the labels have %d", k)
		}
		for _, d := range sets {
			for i, y := range d.Y {
				if y < 0 || y >= float64(k) || y != math.Trunc(y) {
					return 0, errdefs.InvalidArgument("gbdt: row %d: label %v is not a class index in 0..%d", i, y, k-1)
				}
			}
		}
		return k, nil
	}
	return 1, nil
}

// sampleRows returns the ascending indices of a fraction of all rows.
func sampleRows(rng *rand.Rand, all []int32, frac float64) []int32 {
	if frac >= 1 {
		return all
	}
	k := max(1, int(math.Round(frac*float64(len(all)))))
	perm := rng.Perm(len(all))[:k]
	out := make([]int32, k)
	for i, v := range perm {
		out[i] = int32(v)
	}
	slices.Sort(out)
	return out
}

// sampleFeatures returns the ascending indices of a fraction of nf features.
func sampleFeatures(rng *rand.Rand, nf int, frac float64) []int {
	if frac >= 1 {
		out := make([]int, nf)
		for i := range out {
			out[i] = i
		}
		return out
	}
	k := max(1, int(math.Round(frac*float64(nf))))
	out := rng.Perm(nf)[:k]
	slices.Sort(out)
	return out
}

// String describes the model briefly.
func (m *Model) String() string {
	return fmt.Sprintf("gbdt %s: %d trees, %d features, %d groups", m.objective, len(m.trees), m.nfeat, m.ngroup)
}
