package gbdt

// treeNode is one node of a trained tree.
type treeNode struct {
	left, right int32 // children; -1 for a leaf
	parent      int32 // -1 for the root
	feat        int32
	bin         int32   // a row goes left iff its bin ≤ bin (missing: defLeft)
	cond        float32 // split threshold: float32(x) < cond goes left
	defLeft     bool
	leaf        float32 // leaf value (weight × learning rate)
	weight      float64 // −G/(H+λ), unscaled
	gain        float64 // loss change of the split
	hess        float64 // hessian sum
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
		x := row[n.feat]
		switch {
		case x != x:
			if n.defLeft {
				i = n.left
			} else {
				i = n.right
			}
		case float32(x) < n.cond:
			i = n.left
		default:
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
		bin := int(b.bins[f*b.rows+r])
		switch {
		case bin == b.nbins(f):
			if n.defLeft {
				i = n.left
			} else {
				i = n.right
			}
		case bin <= int(n.bin):
			i = n.left
		default:
			i = n.right
		}
	}
}
