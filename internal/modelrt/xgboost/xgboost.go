// Package xgboost is Ferry's native runtime of XGBoost models: it loads a
// model file written by XGBoost and predicts with it in pure Go, giving
// the predictions XGBoost itself gives (bit-identical to XGBoost 1.7.4 on
// the test fixtures).
//
// Load detects the format of the file:
//
//   - JSON, what Booster.save_model("m.json") writes since XGBoost 1.0
//     (including the bare NaN tokens of categorical splits);
//   - UBJSON, the default of XGBoost ≥ 2 and what "m.ubj" gives since 1.6;
//   - the legacy binary format of XGBoost < 2 ("m.model", "m.xgb", what
//     MLflow's xgboost flavor writes with 1.x), with or without its
//     "binf" header.
//
// Boosters gbtree, dart and gblinear are supported, with numeric and
// categorical splits, and the common objectives (see Objectives). A
// loaded Model is immutable and safe for concurrent use; Predict does not
// allocate.
//
// Arithmetic follows XGBoost's: inputs are rounded to float32, a row goes
// left at a numeric split iff float32(x) < threshold, NaN takes the
// node's default direction, and margins are accumulated in float32
// starting from the objective's ProbToMargin(base_score).
package xgboost

import (
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/ferry-ml/ferry/internal/modelrt"
)

// node is one node of a flattened tree. The children of an inner node are
// adjacent: left at index left, right at left+1.
type node struct {
	val  float32 // threshold of a numeric split, or the leaf value
	feat int32   // split feature; -1 for a leaf
	left int32   // index of the left child in Model.nodes
	aux  uint32  // bit 0: missing goes left; bits 1..: categorical set index + 1 (0: numeric split)
}

const auxDefaultLeft = 1

// transform is what turns margins into predictions.
type transform int

const (
	tIdentity transform = iota
	tSigmoid
	tExp
	tSoftmax
	tArgmax
	tHinge
)

// objectiveInfo describes one supported objective.
type objectiveInfo struct {
	task      modelrt.Task
	transform transform
	margin    func(float64) float64 // ProbToMargin of base_score
}

// The ProbToMargin functions of XGBoost's objectives, in float32 as there.
func identity(b float64) float64 { return b }
func logit(b float64) float64 { // -logf(1.0f/base_score - 1.0f)
	d := float32(1)/float32(b) - float32(1)
	return float64(-float32(math.Log(float64(d))))
}
func logMargin(b float64) float64 { return float64(float32(math.Log(float64(float32(b))))) }

// objectives maps the supported objective names to their semantics.
var objectives = map[string]objectiveInfo{
	"binary:logistic":      {modelrt.Binary, tSigmoid, logit},
	"binary:logitraw":      {modelrt.Binary, tIdentity, identity}, // 1.7: ProbToMargin is the identity
	"binary:hinge":         {modelrt.Binary, tHinge, identity},
	"reg:squarederror":     {modelrt.Regression, tIdentity, identity},
	"reg:linear":           {modelrt.Regression, tIdentity, identity},
	"reg:squaredlogerror":  {modelrt.Regression, tIdentity, identity},
	"reg:pseudohubererror": {modelrt.Regression, tIdentity, identity},
	"reg:absoluteerror":    {modelrt.Regression, tIdentity, identity},
	"reg:logistic":         {modelrt.Regression, tSigmoid, logit},
	"reg:gamma":            {modelrt.Regression, tExp, logMargin},
	"reg:tweedie":          {modelrt.Regression, tExp, logMargin},
	"count:poisson":        {modelrt.Regression, tExp, logMargin},
	"survival:cox":         {modelrt.Regression, tExp, logMargin},
	"multi:softprob":       {modelrt.Multiclass, tSoftmax, identity},
	"multi:softmax":        {modelrt.Multiclass, tArgmax, identity},
	"rank:pairwise":        {modelrt.Ranking, tIdentity, identity},
	"rank:ndcg":            {modelrt.Ranking, tIdentity, identity},
	"rank:map":             {modelrt.Ranking, tIdentity, identity},
}

// Objectives lists the objective names Load accepts, sorted.
func Objectives() []string {
	names := make([]string, 0, len(objectives))
	for n := range objectives {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Model is a loaded XGBoost model. It implements modelrt.Model and is
// safe for concurrent use.
type Model struct {
	sig     modelrt.Signature
	booster string // "gbtree", "dart" or "gblinear"
	nfeat   int
	ngroup  int
	tr      transform
	base    float32 // initial margin of every group

	nodes  []node
	roots  []int32   // per tree: index of its root in nodes
	groups []int32   // per tree: output group
	drop   []float32 // per tree DART weight; nil for gbtree
	cats   [][]int32 // sorted category sets of categorical splits

	linear []float32 // gblinear: weights[f*ngroup+g], then the biases

	perRound int // trees per boosting round: groups × num_parallel_tree

	attrs map[string]string // learner attributes as saved
}

var _ modelrt.Model = (*Model)(nil)

// Signature describes the inputs and outputs of the model.
func (m *Model) Signature() modelrt.Signature {
	s := m.sig
	s.Inputs = slices.Clone(m.sig.Inputs)
	return s
}

// Booster is the model's booster: "gbtree", "dart" or "gblinear".
func (m *Model) Booster() string { return m.booster }

// NumTrees is the number of trees (0 for gblinear).
func (m *Model) NumTrees() int { return len(m.roots) }

// NumGroups is the number of margins per row: the number of classes of a
// multiclass model, else 1.
func (m *Model) NumGroups() int { return m.ngroup }

// Attribute returns a learner attribute saved with the model, such as
// "best_iteration" (written by the sklearn wrapper after early stopping).
func (m *Model) Attribute(key string) (string, bool) {
	v, ok := m.attrs[key]
	return v, ok
}

// BestRounds returns the number of boosting rounds the sklearn wrapper
// predicts with — best_iteration+1 when the model saved a best_iteration
// — or 0 when the model has none.
func (m *Model) BestRounds() int {
	v, ok := m.attrs["best_iteration"]
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 || m.perRound == 0 || n+1 > len(m.roots)/m.perRound {
		return 0
	}
	return n + 1
}

// FirstRounds returns a model that uses only the trees of the first n
// boosting rounds, as XGBoost's predict(iteration_range=(0, n)) (or the
// older ntree_limit) does; the sklearn wrapper predicts so with
// best_iteration+1 after early stopping. The receiver is unchanged.
func (m *Model) FirstRounds(n int) (*Model, error) {
	if m.linear != nil {
		return nil, errors.New("xgboost: gblinear has no rounds of trees")
	}
	if n <= 0 || n > len(m.roots)/m.perRound {
		return nil, fmt.Errorf("xgboost: %d rounds out of range (the model has %d)", n, len(m.roots)/m.perRound)
	}
	c := *m
	nt := n * m.perRound
	c.roots, c.groups = m.roots[:nt:nt], m.groups[:nt:nt]
	if m.drop != nil {
		c.drop = m.drop[:nt:nt]
	}
	return &c, nil
}

// LoadFile reads and loads the model file at path. An error reading the
// file is returned as is; an error of its contents matches
// modelrt.ErrBadModel.
func LoadFile(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := Load(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Load loads a model from the contents of a JSON, UBJSON or legacy binary
// XGBoost model file. Every error matches modelrt.ErrBadModel and says
// what is wrong.
func Load(data []byte) (*Model, error) {
	var (
		rm  *rawModel
		err error
	)
	switch detect(data) {
	case formatJSON:
		rm, err = parseJSON(data)
	case formatUBJSON:
		rm, err = parseUBJSON(data)
	default:
		rm, err = parseBinary(data)
	}
	if err != nil {
		return nil, err
	}
	return build(rm, len(data))
}

type format int

const (
	formatBinary format = iota
	formatJSON
	formatUBJSON
)

// detect tells the format from the first bytes, as XGBoost does: a file
// starting with '{' is JSON or UBJSON (UBJSON follows the '{' with a
// length marker of the first key, JSON with a quote, '}' or space).
func detect(b []byte) format {
	i := 0
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	if i >= len(b) || b[i] != '{' {
		return formatBinary
	}
	if i+1 < len(b) {
		switch b[i+1] {
		case 'i', 'U', 'I', 'l', 'L', '}', 'N':
			if i == 0 && b[i+1] != '}' {
				return formatUBJSON
			}
		}
	}
	return formatJSON
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// bad makes a load error matching modelrt.ErrBadModel.
func bad(format string, args ...any) error {
	return fmt.Errorf("%w: xgboost: %s", modelrt.ErrBadModel, fmt.Sprintf(format, args...))
}

// errArgs is returned for wrong buffer sizes.
var errArgs = errors.New("xgboost: wrong buffer size")

func (m *Model) checkArgs(x []float64, rows int, out []float64, width int) error {
	if rows < 0 {
		return fmt.Errorf("%w: %d rows", errArgs, rows)
	}
	if m.nfeat == 0 || rows > len(x)/m.nfeat || len(x) != rows*m.nfeat {
		return fmt.Errorf("%w: %d values for %d rows of %d features", errArgs, len(x), rows, m.nfeat)
	}
	if len(out) != rows*width {
		return fmt.Errorf("%w: %d outputs for %d rows of %d values", errArgs, len(out), rows, width)
	}
	return nil
}

// Predict writes Signature().Outputs predictions per row of x (rows of
// len(Signature().Inputs) features, NaN for missing) into out. With raw
// it writes the margins instead; multi:softmax, whose one output is the
// class index, writes the class index either way (see PredictMargins).
func (m *Model) Predict(x []float64, rows int, out []float64, raw bool) error {
	no := m.sig.Outputs
	if err := m.checkArgs(x, rows, out, no); err != nil {
		return err
	}
	nf := m.nfeat
	if m.ngroup == 1 {
		for r := range rows {
			s := m.margin1(x[r*nf : (r+1)*nf])
			if !raw {
				s = apply1(m.tr, s)
			}
			out[r] = float64(s)
		}
		return nil
	}
	var stack [32]float32
	var acc []float32
	if m.ngroup <= len(stack) {
		acc = stack[:m.ngroup]
	} else {
		p := scratch.Get().(*[]float32)
		defer scratch.Put(p)
		if cap(*p) < m.ngroup {
			*p = make([]float32, m.ngroup)
		}
		acc = (*p)[:m.ngroup]
	}
	for r := range rows {
		m.marginK(x[r*nf:(r+1)*nf], acc)
		o := out[r*no : (r+1)*no]
		switch {
		case m.tr == tArgmax:
			o[0] = float64(argmax(acc))
		case !raw && m.tr == tSoftmax:
			softmax(acc)
			fallthrough
		default:
			for g, v := range acc {
				o[g] = float64(v)
			}
		}
	}
	return nil
}

var scratch = sync.Pool{New: func() any { return new([]float32) }}

// PredictMargins writes NumGroups() margins per row of x into out: the
// untransformed scores, one per class for multiclass models (also for
// multi:softmax, whose Predict gives only the class index).
func (m *Model) PredictMargins(x []float64, rows int, out []float64) error {
	if err := m.checkArgs(x, rows, out, m.ngroup); err != nil {
		return err
	}
	nf, ng := m.nfeat, m.ngroup
	var stack [32]float32
	acc := stack[:0]
	if ng <= len(stack) {
		acc = stack[:ng]
	} else {
		acc = make([]float32, ng)
	}
	for r := range rows {
		m.marginK(x[r*nf:(r+1)*nf], acc)
		for g, v := range acc {
			out[r*ng+g] = float64(v)
		}
	}
	return nil
}

// apply1 transforms a single margin.
func apply1(tr transform, s float32) float32 {
	switch tr {
	case tSigmoid:
		return float32(1) / (float32(1) + float32(math.Exp(float64(-s))))
	case tExp:
		return float32(math.Exp(float64(s)))
	case tHinge:
		if s > 0 {
			return 1
		}
		return 0
	case tSoftmax:
		return 1 // one class
	case tArgmax:
		return 0 // one class
	}
	return s
}

// softmax transforms margins into probabilities as XGBoost does.
func softmax(v []float32) {
	wmax := v[0]
	for _, x := range v[1:] {
		if x > wmax {
			wmax = x
		}
	}
	var wsum float64
	for i, x := range v {
		e := float32(math.Exp(float64(x - wmax)))
		v[i] = e
		wsum += float64(e)
	}
	for i := range v {
		v[i] /= float32(wsum)
	}
}

// argmax is the index of the first largest value.
func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// margin1 is the margin of a one-group model.
func (m *Model) margin1(row []float64) float32 {
	s := m.base
	if m.linear != nil {
		return m.linearMargin(row, 0, s)
	}
	if m.drop != nil {
		// As XGBoost 1.7's Dart::PredictBatch: margin += float32(leaf × weight_drop).
		for t, root := range m.roots {
			s += float32(m.leaf(root, row) * m.drop[t])
		}
		return s
	}
	for _, root := range m.roots {
		s += m.leaf(root, row)
	}
	return s
}

// marginK writes the margins of every group into acc.
func (m *Model) marginK(row []float64, acc []float32) {
	for g := range acc {
		acc[g] = m.base
	}
	if m.linear != nil {
		for g := range acc {
			acc[g] = m.linearMargin(row, g, m.base)
		}
		return
	}
	if m.drop != nil {
		for t, root := range m.roots {
			acc[m.groups[t]] += float32(m.leaf(root, row) * m.drop[t])
		}
		return
	}
	for t, root := range m.roots {
		acc[m.groups[t]] += m.leaf(root, row)
	}
}

// linearMargin is gblinear's margin of group g: bias + base + Σ x·w over
// the present features, in float32.
func (m *Model) linearMargin(row []float64, g int, base float32) float32 {
	ng := m.ngroup
	s := float32(m.linear[m.nfeat*ng+g] + base)
	for f, x := range row {
		if x != x {
			continue
		}
		s += float32(float32(x) * m.linear[f*ng+g])
	}
	return s
}

// leaf walks one tree from root and returns its leaf value.
func (m *Model) leaf(i int32, row []float64) float32 {
	nodes := m.nodes
	for {
		n := &nodes[i]
		if n.feat < 0 {
			return n.val
		}
		x := row[n.feat]
		i = n.left
		switch {
		case x != x:
			if n.aux&auxDefaultLeft == 0 {
				i++
			}
		case n.aux > 1:
			if inCats(m.cats[n.aux>>1-1], float32(x)) {
				i++
			}
		case !(float32(x) < n.val):
			i++
		}
	}
}

// inCats reports whether the category x is in the sorted set: such a
// value goes right. Negative, huge and absent categories go left.
func inCats(set []int32, x float32) bool {
	if x < 0 || x >= 1<<24 {
		return false
	}
	c := int32(x)
	_, found := slices.BinarySearch(set, c)
	return found
}
