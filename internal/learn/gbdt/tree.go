package gbdt

// treeNode is one node of a trained tree.
type treeNode struct {
	left, right int32 // children; -1 for a leaf
	parent      int32 // -1 for the root
	feat        int32
	bin         int32   // a row goes left iff its bin ≤ bin (missing: defLeft)
	cond        float32 // split threshold: float32(x) < cond goes left
	defLeft     bool
	cat         bool    // categorical split: categories in set go right
	set         catSet  // the categories going right
	leaf        float32 // leaf value (weight × learning rate)
	weight      float64 // −G/(H+λ), unscaled
	gain        float64 // loss change of the split
	hess        float64 // hessian sum
}

// goesLeftBin reports whether a row in bin (missing: the missing bin)
// goes to the left child.
func (n *treeNode) goesLeftBin(bin, missing int) bool {
	switch {
	case bin == missing:
		return n.defLeft
	case n.cat:
		return !n.set.has(bin)
	default:
		return bin <= int(n.bin)
	}
}

// goesLeft reports whether raw value x goes to the left child, as
// XGBoost's predictor decides.
func (n *treeNode) goesLeft(x float64) bool {
	switch {
	case x != x:
		return n.defLeft
	case n.cat:
		return !n.set.goesRight(x)
	default:
		return float32(x) < n.cond
	}
}

// tree is one regression tree of the ensemble.
type tree struct {
	nodes []treeNode
	group int // output group (class) it adds to
}

// predict returns the leaf value of a row of raw features, as XGBoost's
// predictor finds it.
func (t *tree) predict(row []float64) float32 {
	i := int32(0)
	for {
		n := &t.nodes[i]
		if n.left < 0 {
			return n.leaf
		}
		if n.goesLeft(row[n.feat]) {
			i = n.left
		} else {
			i = n.right
		}
	}
}

// predictBinned returns the leaf value of training row r.
func (t *tree) predictBinned(b *binned, r int) float32 {
	i := int32(0)
	for {
		n := &t.nodes[i]
		if n.left < 0 {
			return n.leaf
		}
		f := int(n.feat)
		if n.goesLeftBin(int(b.bins[f*b.rows+r]), b.nbins(f)) {
			i = n.left
		} else {
			i = n.right
		}
	}
}
