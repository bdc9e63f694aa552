package lightgbm

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/ferry-ml/ferry/internal/modelrt"
)

// bad makes an error matching modelrt.ErrBadModel.
func bad(format string, args ...any) error {
	return fmt.Errorf("%w: lightgbm: %s", modelrt.ErrBadModel, fmt.Sprintf(format, args...))
}

// clip shortens s for error messages.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// lineReader yields the lines of a model file with their byte offsets.
type lineReader struct {
	s   string
	pos int
	no  int // number (1-based) of the line last returned
}

func (r *lineReader) next() (line string, off int, ok bool) {
	if r.pos >= len(r.s) {
		return "", r.pos, false
	}
	off = r.pos
	if i := strings.IndexByte(r.s[r.pos:], '\n'); i >= 0 {
		line = r.s[r.pos : r.pos+i]
		r.pos += i + 1
	} else {
		line = r.s[r.pos:]
		r.pos = len(r.s)
	}
	r.no++
	return strings.TrimSuffix(line, "\r"), off, true
}

// entry is a key's value and the line it is on.
type entry struct {
	val  string
	line int
}

const endOfTrees = "end of trees"

func isTreeStart(line string) bool { return strings.HasPrefix(line, "Tree=") }

// Load parses a LightGBM text model (the content of a file written by
// LightGBM's save_model / SaveModelToString). Every failure matches
// modelrt.ErrBadModel and says where the file is wrong. Unknown keys are
// ignored; linear trees (is_linear=1) are refused as unsupported.
func Load(data []byte) (*Model, error) {
	return LoadWith(data, Options{})
}

// RFOutput says how a random forest (a model with average_output) turns
// its averaged raw score into a prediction.
type RFOutput uint8

const (
	// RFAuto follows the LightGBM that wrote the file: files of version v3
	// and later apply the objective's transform to the average, as
	// LightGBM ≥ 3 does; v2 files (and files without a version) return the
	// average itself, as LightGBM 2.x did, whose random forests stored
	// already transformed leaf values (LightGBM issue #1843).
	RFAuto RFOutput = iota
	// RFTransform applies the objective's transform to the average.
	RFTransform
	// RFAverage returns the average of the trees without transform.
	RFAverage
)

// Options adjust loading; the zero value is what Load uses.
type Options struct {
	// RandomForest chooses the output of models with average_output.
	RandomForest RFOutput
}

// LoadWith is Load with options.
func LoadWith(data []byte, opt Options) (*Model, error) {
	if len(data) == 0 {
		return nil, bad("empty input")
	}
	if len(data) >= math.MaxInt32 {
		return nil, bad("input of %d bytes is too large", len(data))
	}
	r := &lineReader{s: string(data)}

	// The first non-blank line is "tree".
	var line string
	var off int
	var ok bool
	for {
		if line, _, ok = r.next(); !ok {
			return nil, bad("input holds only blank lines")
		}
		if strings.TrimSpace(line) != "" {
			break
		}
	}
	if strings.TrimSpace(line) != "tree" {
		return nil, bad("line %d: got %q, want \"tree\" (not a LightGBM text model)", r.no, clip(line))
	}

	// Header: key=value lines up to the first tree.
	hdr := map[string]entry{}
	average := false
	for {
		if line, off, ok = r.next(); !ok {
			return nil, bad("truncated: the header (line %d) is not followed by trees and %q", r.no, endOfTrees)
		}
		if isTreeStart(line) || line == endOfTrees {
			break
		}
		t := strings.TrimSpace(line)
		if t == "average_output" {
			average = true
			continue
		}
		k, v, found := strings.Cut(t, "=")
		if !found {
			continue // blank or unknown flag line
		}
		if _, dup := hdr[k]; dup {
			return nil, bad("line %d: header key %q repeated", r.no, k)
		}
		hdr[k] = entry{v, r.no}
	}
	m, treeSizes, err := parseHeader(hdr)
	if err != nil {
		return nil, err
	}
	m.average = average

	// Trees: "Tree=i" blocks up to "end of trees".
	kv := map[string]entry{}
	for line != endOfTrees {
		idx := len(m.trees)
		start, startLine := off, r.no
		if label := strings.TrimSpace(line[len("Tree="):]); label != strconv.Itoa(idx) {
			return nil, bad("line %d: %q where Tree=%d was expected", r.no, clip(line), idx)
		}
		clear(kv)
		for {
			if line, off, ok = r.next(); !ok {
				return nil, bad("truncated: Tree=%d (line %d) is not followed by %q", idx, startLine, endOfTrees)
			}
			if isTreeStart(line) || line == endOfTrees {
				break
			}
			t := strings.TrimSpace(line)
			if t == "" {
				continue
			}
			k, v, found := strings.Cut(t, "=")
			if !found {
				return nil, bad("Tree=%d, line %d: %q is not key=value", idx, r.no, clip(t))
			}
			if _, dup := kv[k]; dup {
				return nil, bad("Tree=%d, line %d: key %q repeated", idx, r.no, k)
			}
			kv[k] = entry{v, r.no}
		}
		if treeSizes != nil {
			if idx >= len(treeSizes) {
				return nil, bad("line %d: Tree=%d is past the %d trees of tree_sizes", startLine, idx, len(treeSizes))
			}
			if off-start != treeSizes[idx] {
				return nil, bad("Tree=%d (line %d) is %d bytes long, tree_sizes says %d", idx, startLine, off-start, treeSizes[idx])
			}
		}
		if err := m.addTree(idx, kv); err != nil {
			return nil, err
		}
	}
	endLine := r.no

	nt := len(m.trees)
	switch {
	case nt == 0:
		return nil, bad("line %d: the model has no trees", endLine)
	case treeSizes != nil && nt != len(treeSizes):
		return nil, bad("line %d: %d trees, tree_sizes lists %d", endLine, nt, len(treeSizes))
	case nt%m.nOutputs != 0:
		return nil, bad("line %d: %d trees is not a multiple of num_tree_per_iteration=%d", endLine, nt, m.nOutputs)
	}
	m.nIter = nt / m.nOutputs
	if m.average {
		switch opt.RandomForest {
		case RFAverage:
			m.rfNoTransform = true
		case RFAuto:
			v := hdr["version"].val
			m.rfNoTransform = v == "" || v == "v2"
		}
	}
	if err := checkTrailer(r, hdr["version"].val != ""); err != nil {
		return nil, err
	}
	return m, nil
}

// parseHeader checks the header's keys and makes a Model without trees,
// and returns the tree_sizes (nil when absent).
func parseHeader(hdr map[string]entry) (*Model, []int, error) {
	if e, ok := hdr["version"]; ok {
		switch e.val {
		case "v2", "v3", "v4":
		default:
			return nil, nil, bad("line %d: unsupported version %q (want v2, v3 or v4)", e.line, clip(e.val))
		}
	}
	intKey := func(key string, required bool, def, lo, hi int) (int, error) {
		e, ok := hdr[key]
		if !ok {
			if required {
				return 0, bad("header has no %s", key)
			}
			return def, nil
		}
		n, err := strconv.Atoi(strings.TrimSpace(e.val))
		if err != nil || n < lo || n > hi {
			return 0, bad("line %d: %s=%q is not an integer in [%d, %d]", e.line, key, clip(e.val), lo, hi)
		}
		return n, nil
	}
	numClass, err := intKey("num_class", true, 0, 1, math.MaxInt32)
	if err != nil {
		return nil, nil, err
	}
	perIter, err := intKey("num_tree_per_iteration", false, numClass, 1, math.MaxInt32)
	if err != nil {
		return nil, nil, err
	}
	if perIter != numClass {
		return nil, nil, bad("line %d: num_tree_per_iteration=%d differs from num_class=%d", hdr["num_tree_per_iteration"].line, perIter, numClass)
	}
	maxFeature, err := intKey("max_feature_idx", true, 0, 0, math.MaxInt32-1)
	if err != nil {
		return nil, nil, err
	}
	nf := maxFeature + 1

	names, ok := hdr["feature_names"]
	if !ok {
		return nil, nil, bad("header has no feature_names")
	}
	nameList := strings.Fields(names.val)
	if len(nameList) != nf {
		return nil, nil, bad("line %d: feature_names has %d names, max_feature_idx=%d wants %d", names.line, len(nameList), maxFeature, nf)
	}
	infos, ok := hdr["feature_infos"]
	if !ok {
		return nil, nil, bad("header has no feature_infos")
	}
	infoList := strings.Fields(infos.val)
	if len(infoList) != nf {
		return nil, nil, bad("line %d: feature_infos has %d entries, max_feature_idx=%d wants %d", infos.line, len(infoList), maxFeature, nf)
	}
	inputs := make([]modelrt.Feature, nf)
	for i, info := range infoList {
		typ, err := featureType(info)
		if err != nil {
			return nil, nil, bad("line %d: feature_infos entry %d (%s): %v", infos.line, i, clip(nameList[i]), err)
		}
		inputs[i] = modelrt.Feature{Name: nameList[i], Type: typ}
	}

	m := &Model{nFeatures: nf, nOutputs: perIter, sigmoid: 1}
	obj := hdr["objective"]
	if err := m.setObjective(obj.val, numClass); err != nil {
		return nil, nil, bad("line %d: %v", obj.line, err)
	}
	m.sig.Inputs = inputs

	var sizes []int
	if e, ok := hdr["tree_sizes"]; ok {
		f := strings.Fields(e.val)
		sizes = make([]int, len(f))
		for i, s := range f {
			n, err := strconv.Atoi(s)
			if err != nil || n <= 0 {
				return nil, nil, bad("line %d: tree_sizes entry %d (%q) is not a positive integer", e.line, i, clip(s))
			}
			sizes[i] = n
		}
	}
	return m, sizes, nil
}

// featureType reads one feature_infos entry: "[min:max]" is a numerical
// feature, "none" an unused one, "a:b:c" the categories of a categorical
// feature.
func featureType(info string) (modelrt.FeatureType, error) {
	switch {
	case info == "none":
		return modelrt.Float, nil
	case strings.HasPrefix(info, "["):
		lo, hi, ok := strings.Cut(strings.TrimSuffix(info[1:], "]"), ":")
		if !ok || !strings.HasSuffix(info, "]") {
			return "", fmt.Errorf("%q is not [min:max]", clip(info))
		}
		if _, err := strconv.ParseFloat(lo, 64); err != nil {
			return "", fmt.Errorf("%q: bad minimum", clip(info))
		}
		if _, err := strconv.ParseFloat(hi, 64); err != nil {
			return "", fmt.Errorf("%q: bad maximum", clip(info))
		}
		return modelrt.Float, nil
	}
	for c := range strings.SplitSeq(info, ":") {
		if _, err := strconv.Atoi(c); err != nil {
			return "", fmt.Errorf("%q is neither [min:max], none nor a list of categories", clip(info))
		}
	}
	return modelrt.Categorical, nil
}

// setObjective reads the objective line ("binary sigmoid:1", "multiclass
// num_class:5", "poisson", ...) and sets the transform and the signature's
// task and outputs. An absent objective means raw regression.
func (m *Model) setObjective(line string, numClass int) error {
	m.objective = strings.TrimSpace(line)
	f := strings.Fields(line)
	name := "regression"
	if len(f) > 0 {
		name = f[0]
	}
	sqrt := false
	for _, p := range f[min(1, len(f)):] {
		k, v, _ := strings.Cut(p, ":")
		switch k {
		case "sigmoid":
			s, err := strconv.ParseFloat(v, 64)
			if err != nil || !(s > 0) || math.IsInf(s, 0) {
				return fmt.Errorf("objective %q: sigmoid %q is not a positive number", clip(line), clip(v))
			}
			m.sigmoid = s
		case "num_class":
			k, err := strconv.Atoi(v)
			if err != nil || k != numClass {
				return fmt.Errorf("objective %q: num_class %q differs from num_class=%d", clip(line), clip(v), numClass)
			}
		case "sqrt":
			sqrt = true
		}
	}
	single := func(task modelrt.Task, t transform) error {
		if numClass != 1 {
			return fmt.Errorf("objective %s with num_class=%d (want 1)", name, numClass)
		}
		m.sig.Task, m.sig.Outputs, m.transform = task, 1, t
		return nil
	}
	m.sig.Objective = name
	switch name {
	case "regression", "regression_l2", "l2", "mean_squared_error", "mse", "l2_root", "root_mean_squared_error", "rmse":
		m.sig.Objective = "regression"
		if sqrt {
			return single(modelrt.Regression, transformSqrt)
		}
		return single(modelrt.Regression, transformIdentity)
	case "regression_l1", "l1", "mean_absolute_error", "mae", "huber", "fair", "quantile", "mape", "mean_absolute_percentage_error", "custom", "none", "null":
		return single(modelrt.Regression, transformIdentity)
	case "poisson", "gamma", "tweedie":
		return single(modelrt.Regression, transformExp)
	case "binary":
		return single(modelrt.Binary, transformSigmoid)
	case "cross_entropy", "xentropy":
		m.sigmoid = 1
		return single(modelrt.Binary, transformSigmoid)
	case "cross_entropy_lambda", "xentlambda":
		return single(modelrt.Regression, transformLog1pExp)
	case "lambdarank", "rank_xendcg", "xendcg", "xe_ndcg", "xe_ndcg_mart", "xendcg_mart":
		return single(modelrt.Ranking, transformIdentity)
	case "multiclass", "softmax", "multiclassova", "multiclass_ova", "ova", "ovr":
		if numClass < 2 {
			return fmt.Errorf("objective %s with num_class=%d (want at least 2)", name, numClass)
		}
		m.sig.Task, m.sig.Outputs = modelrt.Multiclass, numClass
		if name == "multiclass" || name == "softmax" {
			m.transform = transformSoftmax
		} else {
			m.transform = transformSigmoid
		}
		return nil
	}
	return fmt.Errorf("unsupported objective %q", clip(name))
}

// treeKeys reads the arrays of one tree block.
type treeKeys struct {
	idx int
	kv  map[string]entry
}

func (t treeKeys) errf(key string, format string, args ...any) error {
	if e, ok := t.kv[key]; ok {
		return bad("Tree=%d, line %d, %s: %s", t.idx, e.line, key, fmt.Sprintf(format, args...))
	}
	return bad("Tree=%d, %s: %s", t.idx, key, fmt.Sprintf(format, args...))
}

// fields returns the values of key, checking there are want of them. A
// missing key is an error when required, else nil.
func (t treeKeys) fields(key string, want int, required bool) ([]string, error) {
	e, ok := t.kv[key]
	if !ok {
		if required {
			return nil, t.errf(key, "missing")
		}
		return nil, nil
	}
	f := strings.Fields(e.val)
	if len(f) != want {
		return nil, t.errf(key, "%d values, want %d (num_leaves=%s)", len(f), want, t.kv["num_leaves"].val)
	}
	return f, nil
}

func (t treeKeys) floats(key string, want int, required bool) ([]float64, error) {
	f, err := t.fields(key, want, required)
	if err != nil || f == nil {
		return nil, err
	}
	out := make([]float64, len(f))
	for i, s := range f {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, t.errf(key, "value %d (%q) is not a number", i, clip(s))
		}
		out[i] = v
	}
	return out, nil
}

func (t treeKeys) ints(key string, want int, required bool, lo, hi int64) ([]int32, error) {
	f, err := t.fields(key, want, required)
	if err != nil || f == nil {
		return nil, err
	}
	out := make([]int32, len(f))
	for i, s := range f {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v < lo || v > hi {
			return nil, t.errf(key, "value %d (%q) is not an integer in [%d, %d]", i, clip(s), lo, hi)
		}
		out[i] = int32(v)
	}
	return out, nil
}

func (t treeKeys) int(key string, def int, lo, hi int) (int, error) {
	e, ok := t.kv[key]
	if !ok {
		if def < 0 {
			return 0, t.errf(key, "missing")
		}
		return def, nil
	}
	v, err := strconv.Atoi(strings.TrimSpace(e.val))
	if err != nil || v < lo || v > hi {
		return 0, t.errf(key, "%q is not an integer in [%d, %d]", clip(e.val), lo, hi)
	}
	return v, nil
}

// addTree validates one tree block and appends it to the flattened arrays.
func (m *Model) addTree(idx int, kv map[string]entry) error {
	t := treeKeys{idx, kv}
	numLeaves, err := t.int("num_leaves", -1, 1, math.MaxInt32)
	if err != nil {
		return err
	}
	if e, ok := kv["is_linear"]; ok && strings.TrimSpace(e.val) != "0" {
		return t.errf("is_linear", "linear trees are not supported")
	}
	leafValue, err := t.floats("leaf_value", numLeaves, true)
	if err != nil {
		return err
	}
	for i, v := range leafValue {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return t.errf("leaf_value", "value %d is %v", i, v)
		}
	}
	if _, err := t.floats("shrinkage", 1, false); err != nil {
		return err
	}
	leafBase := len(m.leaves)
	if numLeaves == 1 {
		// LightGBM reads no split arrays for a one-leaf tree.
		m.trees = append(m.trees, tree{root: ^int32(leafBase), leafBase: int32(leafBase), numLeaves: 1})
		m.leaves = append(m.leaves, leafValue...)
		return nil
	}
	nn := numLeaves - 1
	// Optional arrays are checked for length and numbers only.
	for _, k := range []string{"split_gain", "internal_value", "internal_weight", "internal_count"} {
		if _, err := t.floats(k, nn, false); err != nil {
			return err
		}
	}
	for _, k := range []string{"leaf_weight", "leaf_count"} {
		if _, err := t.floats(k, numLeaves, false); err != nil {
			return err
		}
	}
	feature, err := t.ints("split_feature", nn, true, 0, int64(m.nFeatures-1))
	if err != nil {
		return err
	}
	threshold, err := t.floats("threshold", nn, true)
	if err != nil {
		return err
	}
	decision, err := t.ints("decision_type", nn, true, 0, 15)
	if err != nil {
		return err
	}
	left, err := t.ints("left_child", nn, true, -int64(numLeaves), int64(nn-1))
	if err != nil {
		return err
	}
	right, err := t.ints("right_child", nn, true, -int64(numLeaves), int64(nn-1))
	if err != nil {
		return err
	}
	numCat, err := t.int("num_cat", 0, 0, nn)
	if err != nil {
		return err
	}
	catBase := len(m.cats)
	var bounds []int32
	if numCat > 0 {
		e, ok := kv["cat_threshold"]
		if !ok {
			return t.errf("cat_threshold", "missing with num_cat=%d", numCat)
		}
		thr := strings.Fields(e.val)
		bounds, err = t.ints("cat_boundaries", numCat+1, true, 0, int64(len(thr)))
		if err != nil {
			return err
		}
		if bounds[0] != 0 || int(bounds[numCat]) != len(thr) {
			return t.errf("cat_boundaries", "must run from 0 to the %d values of cat_threshold", len(thr))
		}
		for i := 1; i <= numCat; i++ {
			if bounds[i] < bounds[i-1] {
				return t.errf("cat_boundaries", "value %d (%d) is below the one before", i, bounds[i])
			}
		}
		for i, s := range thr {
			v, err := strconv.ParseUint(s, 10, 32)
			if err != nil {
				return t.errf("cat_threshold", "value %d (%q) is not a 32-bit unsigned integer", i, clip(s))
			}
			m.cats = append(m.cats, uint32(v))
		}
	}

	// Structure: from the root every node and leaf is reached exactly once.
	nodeBase := len(m.nodes)
	seenNode := make([]bool, nn)
	seenLeaf := make([]bool, numLeaves)
	stack := []int32{0}
	seenNode[0] = true
	visited := 0
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		visited++
		for _, c := range [2]int32{left[n], right[n]} {
			if c >= 0 {
				if seenNode[c] {
					return t.errf("left_child", "node %d is reached twice (cycle or shared child; see right_child too)", c)
				}
				seenNode[c] = true
				stack = append(stack, c)
			} else {
				if seenLeaf[^c] {
					return t.errf("left_child", "leaf %d is reached twice (see right_child too)", ^c)
				}
				seenLeaf[^c] = true
			}
		}
	}
	if visited != nn {
		return t.errf("left_child", "only %d of %d nodes are reachable from the root", visited, nn)
	}
	for i, s := range seenLeaf {
		if !s {
			return t.errf("left_child", "leaf %d is not reachable from the root", i)
		}
	}

	for i := 0; i < nn; i++ {
		d := uint8(decision[i])
		if (d>>missingShift)&3 == 3 {
			return t.errf("decision_type", "value %d (%d) has missing type 3", i, d)
		}
		nd := node{threshold: threshold[i], feature: feature[i], decision: d}
		if d&catMask != 0 {
			if numCat == 0 {
				return t.errf("decision_type", "node %d is categorical but num_cat=0", i)
			}
			ci := threshold[i]
			if ci != math.Trunc(ci) || ci < 0 || ci >= float64(numCat) {
				return t.errf("threshold", "node %d: categorical threshold %v is not a category set index in [0, %d)", i, ci, numCat)
			}
			nd.catLo = int32(catBase) + bounds[int(ci)]
			nd.catHi = int32(catBase) + bounds[int(ci)+1]
		} else if math.IsNaN(threshold[i]) {
			return t.errf("threshold", "node %d: threshold is NaN", i)
		}
		link := func(c int32) int32 {
			if c >= 0 {
				return int32(nodeBase) + c
			}
			return ^(int32(leafBase) + ^c)
		}
		nd.left, nd.right = link(left[i]), link(right[i])
		m.nodes = append(m.nodes, nd)
	}
	m.leaves = append(m.leaves, leafValue...)
	m.trees = append(m.trees, tree{root: int32(nodeBase), leafBase: int32(leafBase), numLeaves: int32(numLeaves)})
	return nil
}

// checkTrailer checks what follows "end of trees": feature importances,
// the parameters section and pandas_categorical. It exists to catch
// truncated files: LightGBM versions that write a version line write the
// parameters section after the feature importances, so there importances
// without it mean a truncation.
func checkTrailer(r *lineReader, versioned bool) error {
	impLine, inImp, sawParams := 0, false, false
	for {
		line, _, ok := r.next()
		if !ok {
			break
		}
		t := strings.TrimSpace(line)
		switch {
		case t == "":
		case t == "feature importances:" || t == "feature_importances:":
			impLine, inImp = r.no, true
		case t == "parameters:":
			start := r.no
			for {
				l, _, ok := r.next()
				if !ok {
					return bad("truncated: parameters (line %d) without \"end of parameters\"", start)
				}
				if strings.TrimSpace(l) == "end of parameters" {
					break
				}
			}
			sawParams, inImp = true, false
		case strings.HasPrefix(t, "pandas_categorical:"):
			if !json.Valid([]byte(t[len("pandas_categorical:"):])) {
				return bad("line %d: pandas_categorical is not valid JSON (truncated?)", r.no)
			}
			inImp = false
		case inImp:
			k, v, found := strings.Cut(t, "=")
			if _, err := strconv.ParseFloat(v, 64); !found || k == "" || err != nil {
				return bad("line %d: feature importance %q is not name=number", r.no, clip(t))
			}
		default:
			if !strings.ContainsAny(t, ":=") {
				return bad("line %d: unexpected %q after %q", r.no, clip(t), endOfTrees)
			}
		}
	}
	if impLine > 0 && !sawParams && versioned {
		return bad("truncated: feature importances (line %d) are not followed by the parameters section", impLine)
	}
	return nil
}
