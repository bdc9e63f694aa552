package gbdt

import (
	"math"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// Objective is the learning task, named as XGBoost names it.
type Objective string

// The supported objectives.
const (
	BinaryLogistic  Objective = "binary:logistic"  // labels 0/1; predicts P(y=1)
	MultiSoftprob   Objective = "multi:softprob"   // labels 0..K-1; one tree per class per round
	RegSquaredError Objective = "reg:squarederror" // any finite labels
)

// Params are the training parameters. Start from DefaultParams: the zero
// value of a field is a valid setting (Lambda 0, Gamma 0, ...), not "the
// default".
type Params struct {
	Objective Objective
	// NumClass is the number of classes of multi:softprob; 0 takes the
	// largest training label + 1.
	NumClass int
	// NumRounds is the number of boosting rounds (XGBoost's
	// num_boost_round, sklearn's n_estimators).
	NumRounds      int
	LearningRate   float64 // eta, in (0, 1]
	MaxDepth       int     // 1..31
	MinChildWeight float64 // minimum hessian sum of a child
	Lambda         float64 // L2 regularisation of leaf weights
	Gamma          float64 // minimum loss reduction of a split
	MaxBin         int     // bins per feature, 2..65534
	// Subsample is the fraction of rows drawn (without replacement) for
	// each round; ColsampleByTree the fraction of features for each tree.
	Subsample, ColsampleByTree float64
	// Seed seeds the row and column sampling.
	Seed uint64
	// BaseScore is the initial prediction, written into the model as
	// base_score; NaN (the default) means 0.5 for the classifiers (the
	// XGBoost 1.7 default) and the label mean for regression.
	BaseScore float64
	// EarlyStoppingRounds stops training when the validation metric
	// (logloss, mlogloss or rmse) has not improved for this many rounds,
	// and keeps only the rounds up to the best one. 0 disables it; it
	// needs a validation set.
	EarlyStoppingRounds int
	// MaxCatToOnehot: a categorical feature (Dataset.Categorical) with at
	// most this many category codes is split one category against the
	// rest; one with more by the best prefix of its categories sorted by
	// G/(H+λ). 0 always uses the latter.
	MaxCatToOnehot int
}

// DefaultParams returns XGBoost's defaults for the objective, with 100
// rounds.
func DefaultParams(obj Objective) Params {
	return Params{
		Objective:       obj,
		NumRounds:       100,
		LearningRate:    0.3,
		MaxDepth:        6,
		MinChildWeight:  1,
		Lambda:          1,
		MaxBin:          256,
		Subsample:       1,
		ColsampleByTree: 1,
		BaseScore:       math.NaN(),
		MaxCatToOnehot:  4,
	}
}

func (p *Params) check() error {
	switch p.Objective {
	case BinaryLogistic, MultiSoftprob, RegSquaredError:
	default:
		return errdefs.InvalidArgument("gbdt: unsupported objective %q (want %s, %s or %s)", p.Objective, BinaryLogistic, MultiSoftprob, RegSquaredError)
	}
	bad := func(name string, v any, want string) error {
		return errdefs.InvalidArgument("gbdt: %s = %v out of range (want %s)", name, v, want)
	}
	fin := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case p.NumRounds < 1 || p.NumRounds > 1_000_000:
		return bad("NumRounds", p.NumRounds, "1..1000000")
	case !(p.LearningRate > 0 && p.LearningRate <= 1):
		return bad("LearningRate", p.LearningRate, "(0, 1]")
	case p.MaxDepth < 1 || p.MaxDepth > 31:
		return bad("MaxDepth", p.MaxDepth, "1..31")
	case !fin(p.MinChildWeight) || p.MinChildWeight < 0:
		return bad("MinChildWeight", p.MinChildWeight, "≥ 0")
	case !fin(p.Lambda) || p.Lambda < 0:
		return bad("Lambda", p.Lambda, "≥ 0")
	case !fin(p.Gamma) || p.Gamma < 0:
		return bad("Gamma", p.Gamma, "≥ 0")
	case p.MaxBin < 2 || p.MaxBin > 65534:
		return bad("MaxBin", p.MaxBin, "2..65534")
	case !(p.Subsample > 0 && p.Subsample <= 1):
		return bad("Subsample", p.Subsample, "(0, 1]")
	case !(p.ColsampleByTree > 0 && p.ColsampleByTree <= 1):
		return bad("ColsampleByTree", p.ColsampleByTree, "(0, 1]")
	case p.EarlyStoppingRounds < 0:
		return bad("EarlyStoppingRounds", p.EarlyStoppingRounds, "≥ 0")
	case p.NumClass < 0 || p.NumClass > 1<<16:
		return bad("NumClass", p.NumClass, "0..65536")
	case p.MaxCatToOnehot < 0 || p.MaxCatToOnehot > MaxCategories:
		return bad("MaxCatToOnehot", p.MaxCatToOnehot, "0..64")
	case math.IsInf(p.BaseScore, 0):
		return bad("BaseScore", p.BaseScore, "finite, or NaN for the default")
	}
	if p.Objective != MultiSoftprob && p.NumClass > 1 {
		return errdefs.InvalidArgument("gbdt: NumClass %d is only for %s", p.NumClass, MultiSoftprob)
	}
	if p.Objective != RegSquaredError && fin(p.BaseScore) && !(p.BaseScore > 0 && p.BaseScore < 1) {
		return bad("BaseScore", p.BaseScore, "in (0, 1) for "+string(p.Objective))
	}
	return nil
}
