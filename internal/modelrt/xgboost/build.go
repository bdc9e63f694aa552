package xgboost

import (
	"math"
	"slices"

	"github.com/ferry-ml/ferry/internal/modelrt"
)

// rawTree is one tree as the file stores it, before validation.
type rawTree struct {
	left, right []int32
	feat        []int32
	cond        []float32
	defLeft     []bool
	splitType   []int32 // nil: all numeric
	// Categorical splits: node catNodes[k] holds the categories
	// cats[catSegs[k] : catSegs[k]+catSizes[k]].
	catNodes          []int32
	catSegs, catSizes []int64
	cats              []int32
}

// rawModel is a model as a file stores it, before validation.
type rawModel struct {
	format       string
	objective    string
	booster      string // gbtree, dart, gblinear
	baseScore    float64
	baseIsMargin bool // legacy binary files of XGBoost < 1.0 store the margin
	numFeature   int64
	numClass     int64 // 0 when not multiclass
	numGroups    int64 // output groups of the booster (0: from numClass)
	numTarget    int64
	numParallel  int64 // trees per group per round (random forests)
	trees        []rawTree
	treeInfo     []int32
	weightDrop   []float32
	linear       []float32
	featureNames []string
	featureTypes []string
	attributes   map[string]string // learner attributes (best_iteration, ...)
}

// maxFeatures bounds the number of features, and so the allocations a
// header can ask for: a row of Predict holds num_feature values, and the
// signature one Feature per feature. Besides, num_feature may not exceed
// 64 times the file's size plus 1024.
const maxFeatures = 1 << 20

// build validates a raw model and flattens its trees.
func build(rm *rawModel, size int) (*Model, error) {
	info, ok := objectives[rm.objective]
	if !ok {
		return nil, bad("unsupported objective %q", rm.objective)
	}
	switch rm.booster {
	case "gbtree", "dart", "gblinear":
	default:
		return nil, bad("unsupported booster %q", rm.booster)
	}
	if rm.numFeature <= 0 || rm.numFeature > maxFeatures || rm.numFeature > 64*int64(size)+1024 {
		return nil, bad("num_feature %d out of range (at most %d, and 64 × the file size + 1024)", rm.numFeature, maxFeatures)
	}
	if rm.numTarget > 1 {
		return nil, bad("num_target %d: multi-target models are not supported", rm.numTarget)
	}
	ng := rm.numGroups
	if ng <= 0 {
		ng = max(rm.numClass, 1)
	}
	if ng > 1<<16 {
		return nil, bad("%d output groups out of range", ng)
	}
	multi := info.transform == tSoftmax || info.transform == tArgmax
	if ng > 1 && !multi {
		return nil, bad("objective %s with %d output groups", rm.objective, ng)
	}
	if rm.numClass > 1 && rm.numClass != ng {
		return nil, bad("num_class %d but %d output groups", rm.numClass, ng)
	}
	b := rm.baseScore
	if math.IsNaN(b) || math.IsInf(b, 0) {
		return nil, bad("base_score %v", b)
	}
	if !rm.baseIsMargin {
		b = info.margin(b)
		if math.IsNaN(b) || math.IsInf(b, 0) {
			return nil, bad("base_score %v out of range for %s", rm.baseScore, rm.objective)
		}
	}
	nf := int(rm.numFeature)
	m := &Model{
		booster: rm.booster,
		nfeat:   nf,
		ngroup:  int(ng),
		tr:      info.transform,
		base:    float32(b),
		attrs:   rm.attributes,
	}
	m.perRound = int(ng) * int(max(1, min(rm.numParallel, 1<<16)))
	outputs := 1
	if info.transform == tSoftmax {
		outputs = int(ng)
	}
	m.sig = modelrt.Signature{Task: info.task, Outputs: outputs, Objective: rm.objective}
	inputs, err := signatureInputs(rm, nf)
	if err != nil {
		return nil, err
	}
	m.sig.Inputs = inputs

	if rm.booster == "gblinear" {
		if want := (int64(nf) + 1) * ng; int64(len(rm.linear)) != want {
			return nil, bad("gblinear has %d weights, want (%d features + 1) × %d groups = %d", len(rm.linear), nf, ng, want)
		}
		for i, w := range rm.linear {
			if math.IsNaN(float64(w)) || math.IsInf(float64(w), 0) {
				return nil, bad("gblinear weight %d is %v", i, w)
			}
		}
		m.linear = rm.linear
		return m, nil
	}

	nt := len(rm.trees)
	if len(rm.treeInfo) != nt {
		return nil, bad("tree_info has %d entries for %d trees", len(rm.treeInfo), nt)
	}
	if rm.booster == "dart" {
		if len(rm.weightDrop) != nt {
			return nil, bad("weight_drop has %d entries for %d trees", len(rm.weightDrop), nt)
		}
		for t, w := range rm.weightDrop {
			if math.IsNaN(float64(w)) || math.IsInf(float64(w), 0) {
				return nil, bad("tree %d: weight_drop %v", t, w)
			}
		}
		m.drop = rm.weightDrop
	}
	total := 0
	for _, t := range rm.trees {
		total += len(t.left)
	}
	if total > math.MaxInt32/2 {
		return nil, bad("%d nodes in all", total)
	}
	m.nodes = make([]node, 0, total)
	m.roots = make([]int32, nt)
	m.groups = make([]int32, nt)
	catFeat := make(map[int32]bool)
	for t := range rm.trees {
		g := rm.treeInfo[t]
		if g < 0 || int64(g) >= ng {
			return nil, bad("tree %d: group %d out of range (%d groups)", t, g, ng)
		}
		m.groups[t] = g
		m.roots[t] = int32(len(m.nodes))
		if err := m.flatten(t, &rm.trees[t], catFeat); err != nil {
			return nil, err
		}
	}
	for f := range catFeat {
		if m.sig.Inputs[f].Type == modelrt.Float && len(rm.featureTypes) == 0 {
			m.sig.Inputs[f].Type = modelrt.Categorical
		}
	}
	return m, nil
}

// signatureInputs makes the input features from the file's names and types.
func signatureInputs(rm *rawModel, nf int) ([]modelrt.Feature, error) {
	if len(rm.featureNames) != 0 && len(rm.featureNames) != nf {
		return nil, bad("%d feature_names for %d features", len(rm.featureNames), nf)
	}
	if len(rm.featureTypes) != 0 && len(rm.featureTypes) != nf {
		return nil, bad("%d feature_types for %d features", len(rm.featureTypes), nf)
	}
	in := make([]modelrt.Feature, nf)
	for i := range in {
		in[i].Type = modelrt.Float
		if len(rm.featureNames) != 0 {
			in[i].Name = rm.featureNames[i]
		}
		if len(rm.featureTypes) != 0 {
			switch ft := rm.featureTypes[i]; ft {
			case "q", "float", "":
			case "int", "i": // "i" is an indicator: 0 or 1
				in[i].Type = modelrt.Integer
			case "c":
				in[i].Type = modelrt.Categorical
			default:
				return nil, bad("feature %d: unknown feature type %q", i, ft)
			}
		}
	}
	return in, nil
}

// flatten validates tree t and appends its reachable nodes to m.nodes in
// breadth-first order, with the children of each node adjacent.
func (m *Model) flatten(t int, rt *rawTree, catFeat map[int32]bool) error {
	n := len(rt.left)
	if n == 0 {
		return bad("tree %d has no nodes", t)
	}
	if len(rt.right) != n || len(rt.feat) != n || len(rt.cond) != n || len(rt.defLeft) != n ||
		(rt.splitType != nil && len(rt.splitType) != n) {
		return bad("tree %d: arrays of different lengths (left_children %d, right_children %d, split_indices %d, split_conditions %d, default_left %d, split_type %d)",
			t, n, len(rt.right), len(rt.feat), len(rt.cond), len(rt.defLeft), len(rt.splitType))
	}
	// Category sets by node.
	var catOf map[int32]int
	if len(rt.catNodes) != 0 {
		if len(rt.catSegs) != len(rt.catNodes) || len(rt.catSizes) != len(rt.catNodes) {
			return bad("tree %d: categories_nodes, categories_segments and categories_sizes differ in length", t)
		}
		catOf = make(map[int32]int, len(rt.catNodes))
		for k, nd := range rt.catNodes {
			seg, size := rt.catSegs[k], rt.catSizes[k]
			if nd < 0 || int(nd) >= n {
				return bad("tree %d: categorical node %d out of range (%d nodes)", t, nd, n)
			}
			if seg < 0 || size < 0 || seg > int64(len(rt.cats)) || size > int64(len(rt.cats))-seg {
				return bad("tree %d node %d: category segment [%d, +%d) out of range (%d categories)", t, nd, seg, size, len(rt.cats))
			}
			set := slices.Clone(rt.cats[seg : seg+size])
			slices.Sort(set)
			catOf[nd] = len(m.cats)
			m.cats = append(m.cats, set)
		}
	}
	seen := make([]bool, n)
	type item struct{ orig, flat int32 }
	queue := []item{{0, int32(len(m.nodes))}}
	m.nodes = append(m.nodes, node{})
	seen[0] = true
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		i := it.orig
		l, r := rt.left[i], rt.right[i]
		if l == -1 {
			v := rt.cond[i]
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return bad("tree %d node %d: leaf value %v", t, i, v)
			}
			m.nodes[it.flat] = node{val: v, feat: -1}
			continue
		}
		if l < 0 || int(l) >= n || r < 0 || int(r) >= n {
			return bad("tree %d node %d: children %d, %d out of range (%d nodes)", t, i, l, r, n)
		}
		if l == r || seen[l] || seen[r] {
			return bad("tree %d node %d: child reached twice (a cycle or a shared node)", t, i)
		}
		seen[l], seen[r] = true, true
		f := rt.feat[i]
		if f < 0 || int(f) >= m.nfeat {
			return bad("tree %d node %d: split feature %d out of range (%d features)", t, i, f, m.nfeat)
		}
		nd := node{feat: f, left: int32(len(m.nodes)), val: rt.cond[i]}
		if rt.defLeft[i] {
			nd.aux |= auxDefaultLeft
		}
		st := int32(0)
		if rt.splitType != nil {
			st = rt.splitType[i]
		}
		switch st {
		case 0:
			if math.IsNaN(float64(nd.val)) {
				return bad("tree %d node %d: split condition is NaN", t, i)
			}
		case 1:
			k, ok := catOf[i]
			if !ok {
				return bad("tree %d node %d: categorical split without categories", t, i)
			}
			nd.aux |= uint32(k+1) << 1
			nd.val = 0
			catFeat[f] = true
		default:
			return bad("tree %d node %d: unknown split_type %d", t, i, st)
		}
		m.nodes[it.flat] = nd
		queue = append(queue, item{l, nd.left}, item{r, nd.left + 1})
		m.nodes = append(m.nodes, node{}, node{})
	}
	return nil
}
