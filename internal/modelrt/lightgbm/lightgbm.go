// Package lightgbm is Ferry's native runtime for LightGBM models saved in
// LightGBM's text format (model files of versions v2, v3 and v4 without
// linear trees), written in pure Go.
//
// Load and LoadFile parse and validate a model; the result implements
// modelrt.Model and predicts exactly as LightGBM's own Predict does:
//
//   - children ≥ 0 are internal nodes, children < 0 are leaves ^c;
//   - numerical splits go left iff x <= threshold (float64), with the
//     node's missing type deciding how NaN and zero are routed
//     (NaN is read as 0 unless the missing type is NaN; zero-as-missing
//     uses LightGBM's kZeroThreshold, float32(1e-35));
//   - categorical splits test the category bitset of the node, with NaN,
//     negative and out-of-range categories going right;
//   - the raw score of class k sums the leaves of trees i with
//     i % num_tree_per_iteration == k (random forests, average_output,
//     divide it by the number of iterations), and the objective's
//     transform turns it into a prediction (sigmoid, softmax, exp, ...).
//
// Every load failure matches modelrt.ErrBadModel and names where the file
// is wrong (line, tree and key). A loaded Model is immutable and safe for
// concurrent use; Predict allocates nothing.
package lightgbm

import (
	"errors"
	"fmt"
	"math"
	"os"

	"github.com/ferry-ml/ferry/internal/modelrt"
)

// kZeroThreshold is LightGBM's kZeroThreshold: the C++ constant is the
// float literal 1e-35f stored in a double.
var kZeroThreshold = float64(float32(1e-35))

// Decision type bits of a node (LightGBM's decision_type).
const (
	catMask         = 1 // categorical split
	defaultLeftMask = 2 // missing values go left
	missingShift    = 2 // bits 2-3: missing type
	missingNone     = 0
	missingZero     = 1
	missingNaN      = 2
)

// node is one internal node of a flattened tree. Children ≥ 0 index
// Model.nodes; children < 0 are ^i with i an index into Model.leaves.
type node struct {
	threshold    float64 // numerical threshold
	feature      int32   // input column
	left, right  int32
	catLo, catHi int32 // categorical: the bitset is Model.cats[catLo:catHi]
	decision     uint8 // decision_type
}

// tree locates one tree in the flattened arrays.
type tree struct {
	root      int32 // first node, or ^leaf for a one-leaf tree
	leafBase  int32 // index of the tree's leaf 0 in Model.leaves
	numLeaves int32
}

// transform is what turns raw scores into predictions.
type transform uint8

const (
	transformIdentity transform = iota
	transformSigmoid            // 1/(1+exp(-sigmoid·x)) per output
	transformSoftmax            // softmax over the outputs
	transformExp                // exp(x)
	transformSqrt               // sign(x)·x² (regression sqrt)
	transformLog1pExp           // log1p(exp(x)) (cross_entropy_lambda)
)

// Model is a loaded LightGBM model. It implements modelrt.Model and is
// safe for concurrent use.
type Model struct {
	sig       modelrt.Signature
	nFeatures int
	nOutputs  int // = num_tree_per_iteration
	nIter     int // number of boosting iterations (trees / nOutputs)
	average   bool
	transform transform
	sigmoid   float64
	trees     []tree
	nodes     []node
	leaves    []float64
	cats      []uint32
	objective string // the objective line, as written
	// rfNoTransform: a random forest whose prediction is the plain
	// average (see RFOutput).
	rfNoTransform bool
}

var _ modelrt.Model = (*Model)(nil)

// LoadFile reads and loads a LightGBM text model file. An I/O error is
// returned as is; a file that is not a valid model gives an error
// matching modelrt.ErrBadModel.
func LoadFile(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("lightgbm: %w", err)
	}
	m, err := Load(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Signature describes the model's inputs (from feature_names and
// feature_infos) and outputs (from the objective and num_class).
func (m *Model) Signature() modelrt.Signature {
	s := m.sig
	s.Inputs = append([]modelrt.Feature(nil), m.sig.Inputs...)
	return s
}

// NumTrees is the number of trees of the model.
func (m *Model) NumTrees() int { return len(m.trees) }

// ObjectiveString is the model file's objective line as written, with its
// parameters (for example "binary sigmoid:1").
func (m *Model) ObjectiveString() string { return m.objective }

var errRows = errors.New("lightgbm: negative number of rows")

// checkSizes validates Predict's buffers: x must hold rows×nFeatures
// values and out rows×per values.
func (m *Model) checkSizes(x []float64, rows, outLen, per int) error {
	if rows < 0 {
		return errRows
	}
	nf := m.nFeatures
	if rows > 0 && (len(x)/nf < rows || outLen/per < rows) {
		return fmt.Errorf("lightgbm: %d rows need %d inputs and %d outputs, got %d and %d", rows, rows*nf, rows*per, len(x), outLen)
	}
	if len(x) != rows*nf {
		return fmt.Errorf("lightgbm: %d rows of %d features need %d values, got %d", rows, nf, rows*nf, len(x))
	}
	if outLen != rows*per {
		return fmt.Errorf("lightgbm: %d rows of %d outputs need %d values, got %d", rows, per, rows*per, outLen)
	}
	return nil
}

// Predict implements modelrt.Model: it reads rows of
// len(Signature().Inputs) features from x (row-major, NaN for missing)
// and writes Signature().Outputs values per row into out: the objective's
// predictions, or with raw the raw scores (margins). It allocates nothing.
func (m *Model) Predict(x []float64, rows int, out []float64, raw bool) error {
	if err := m.checkSizes(x, rows, len(out), m.nOutputs); err != nil {
		return err
	}
	nf, no := m.nFeatures, m.nOutputs
	for r := 0; r < rows; r++ {
		row := x[r*nf : (r+1)*nf : (r+1)*nf]
		o := out[r*no : (r+1)*no : (r+1)*no]
		m.predictRow(row, o, raw)
	}
	return nil
}

// PredictLeaves writes, for each row of x, the index of the leaf each tree
// puts the row in (NumTrees values per row, in tree order, leaf indices as
// in the model file), as LightGBM's predict with pred_leaf does.
func (m *Model) PredictLeaves(x []float64, rows int, out []int) error {
	if err := m.checkSizes(x, rows, len(out), len(m.trees)); err != nil {
		return err
	}
	nf, nt := m.nFeatures, len(m.trees)
	for r := 0; r < rows; r++ {
		row := x[r*nf : (r+1)*nf : (r+1)*nf]
		for i := range m.trees {
			t := &m.trees[i]
			out[r*nt+i] = int(m.leaf(t.root, row) - t.leafBase)
		}
	}
	return nil
}

// predictRow writes one row's outputs into o (len nOutputs).
func (m *Model) predictRow(row, o []float64, raw bool) {
	if m.nOutputs == 1 {
		s := 0.0
		for i := range m.trees {
			s += m.leaves[m.leaf(m.trees[i].root, row)]
		}
		o[0] = s
	} else {
		for k := range o {
			o[k] = 0
		}
		no := len(o)
		for i := range m.trees {
			o[i%no] += m.leaves[m.leaf(m.trees[i].root, row)]
		}
	}
	if m.average {
		n := float64(m.nIter)
		for k := range o {
			o[k] /= n
		}
	}
	if raw || m.rfNoTransform {
		return
	}
	switch m.transform {
	case transformSigmoid:
		for k, v := range o {
			o[k] = 1 / (1 + math.Exp(-m.sigmoid*v))
		}
	case transformSoftmax:
		softmax(o)
	case transformExp:
		for k, v := range o {
			o[k] = math.Exp(v)
		}
	case transformSqrt:
		for k, v := range o {
			if v < 0 {
				o[k] = -v * v
			} else {
				o[k] = v * v
			}
		}
	case transformLog1pExp:
		for k, v := range o {
			o[k] = math.Log1p(math.Exp(v))
		}
	}
}

// softmax is LightGBM's Common::Softmax, in place.
func softmax(o []float64) {
	mx := o[0]
	for _, v := range o[1:] {
		if v > mx {
			mx = v
		}
	}
	sum := 0.0
	for k, v := range o {
		e := math.Exp(v - mx)
		o[k] = e
		sum += e
	}
	for k := range o {
		o[k] /= sum
	}
}

// leaf walks from n (a node, or ^leaf) to a leaf and returns the leaf's
// index in m.leaves. This is LightGBM's Tree::GetLeaf with its
// NumericalDecision and CategoricalDecision.
func (m *Model) leaf(n int32, row []float64) int32 {
	nodes := m.nodes
	for n >= 0 {
		nd := &nodes[n]
		v := row[nd.feature]
		if nd.decision&catMask == 0 {
			mt := (nd.decision >> missingShift) & 3
			if v != v && mt != missingNaN {
				v = 0
			}
			if (mt == missingZero && v >= -kZeroThreshold && v <= kZeroThreshold) || (mt == missingNaN && v != v) {
				if nd.decision&defaultLeftMask != 0 {
					n = nd.left
				} else {
					n = nd.right
				}
			} else if v <= nd.threshold {
				n = nd.left
			} else {
				n = nd.right
			}
			continue
		}
		// Categorical: static_cast<int> truncates toward zero; NaN,
		// negative values and values past int32 go right, and so does a
		// category past the end of the bitset.
		n = nd.right
		if v > -1 && v < 2147483648 {
			c := int(v)
			w := int(nd.catLo) + c>>5
			if w < int(nd.catHi) && (m.cats[w]>>(uint(c)&31))&1 != 0 {
				n = nd.left
			}
		}
	}
	return ^n
}
