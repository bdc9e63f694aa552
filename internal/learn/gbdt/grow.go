package gbdt

// kRtEps is XGBoost's smallest loss change that counts as a split.
const kRtEps = 1e-6

// minParallelWork is the number of histogram updates below which a node's
// histogram is built on one goroutine.
const minParallelWork = 1 << 15

// grower grows one tree depth-first on a binned matrix.
type grower struct {
	p       *Params
	b       *binned
	gpair   []gh
	feats   []int // features the tree may split on, ascending
	workers int
	scratch []int32
	free    [][]gh // histogram buffers to reuse
	t       *tree
	leafOf  []float32 // leaf value per training row, filled as leaves are made
}

// split is a candidate split.
type split struct {
	feat, bin      int
	defLeft        bool
	cat            bool   // a categorical split: set goes right
	set            catSet // categories going right
	gain           float64
	gl, hl, gr, hr float64
}

func (g *grower) hist() []gh {
	if n := len(g.free); n > 0 {
		h := g.free[n-1]
		g.free = g.free[:n-1]
		clear(h)
		return h
	}
	return make([]gh, g.b.slots)
}

// build fills h with the histograms of rows (ascending) over g.feats.
func (g *grower) build(h []gh, rows []int32) {
	b, gp := g.b, g.gpair
	one := func(k int) {
		f := g.feats[k]
		col := b.bins[f*b.rows : (f+1)*b.rows]
		hf := h[b.off[f] : b.off[f]+b.nbins(f)+1]
		for _, r := range rows {
			p := gp[r]
			s := &hf[col[r]]
			s.g += p.g
			s.h += p.h
		}
	}
	w := g.workers
	if len(rows)*len(g.feats) < minParallelWork {
		w = 1
	}
	parallelFor(len(g.feats), w, one)
}

func (g *grower) weight(G, H float64) float64 {
	if H < g.p.MinChildWeight || H <= 0 {
		return 0
	}
	return -G / (H + g.p.Lambda)
}

func (g *grower) score(G, H float64) float64 {
	if H < g.p.MinChildWeight || H <= 0 {
		return 0
	}
	return G * G / (H + g.p.Lambda)
}

// best finds the best split of a node with histograms h and sums G, H.
func (g *grower) best(h []gh, G, H float64) (split, bool) {
	b, mcw := g.b, g.p.MinChildWeight
	parent := g.score(G, H)
	var bs split
	found := false
	consider := func(s split) {
		gl, hl := s.gl, s.hl
		gr, hr := G-gl, H-hl
		if hl < mcw || hr < mcw || hl <= 0 || hr <= 0 {
			return
		}
		gain := gl*gl/(hl+g.p.Lambda) + gr*gr/(hr+g.p.Lambda) - parent
		if !found || gain > bs.gain {
			s.gain, s.gr, s.hr = gain, gr, hr
			bs = s
			found = true
		}
	}
	try := func(f, bin int, defLeft bool, gl, hl float64) {
		consider(split{feat: f, bin: bin, defLeft: defLeft, gl: gl, hl: hl})
	}
	tryCat := func(f int, set catSet, defLeft bool, gl, hl float64) {
		consider(split{feat: f, cat: true, set: set, defLeft: defLeft, gl: gl, hl: hl})
	}
	for _, f := range g.feats {
		nb := b.nbins(f)
		hf := h[b.off[f] : b.off[f]+nb+1]
		if b.cat[f] {
			g.bestCat(f, hf, G, H, tryCat)
			continue
		}
		miss := hf[nb]
		var gl, hl float64
		for bin := 0; bin < nb-1; bin++ {
			gl += hf[bin].g
			hl += hf[bin].h
			if miss.h > 0 {
				try(f, bin, false, gl, hl)
				try(f, bin, true, gl+miss.g, hl+miss.h)
			} else {
				// No missing value here: send unseen ones to the heavier side.
				try(f, bin, hl >= H-hl, gl, hl)
			}
		}
	}
	if !found || !(bs.gain > kRtEps) || bs.gain < g.p.Gamma {
		return bs, false
	}
	return bs, true
}

// grow builds the tree on rows (ascending; reordered in place).
func (g *grower) grow(rows []int32) *tree {
	g.t = &tree{}
	if cap(g.scratch) < len(rows) {
		g.scratch = make([]int32, len(rows))
	}
	h := g.hist()
	g.build(h, rows)
	var G, H float64
	for _, r := range rows {
		G += g.gpair[r].g
		H += g.gpair[r].h
	}
	g.t.nodes = append(g.t.nodes, treeNode{left: -1, right: -1, parent: -1})
	g.expand(0, rows, h, G, H, 0)
	return g.t
}

// expand makes node id a leaf or splits it and recurses; it owns h.
func (g *grower) expand(id int32, rows []int32, h []gh, G, H float64, depth int) {
	n := &g.t.nodes[id]
	n.weight = g.weight(G, H)
	n.hess = H
	n.leaf = float32(n.weight * g.p.LearningRate)
	var s split
	ok := false
	if depth < g.p.MaxDepth && len(rows) > 1 {
		s, ok = g.best(h, G, H)
	}
	if !ok {
		for _, r := range rows {
			g.leafOf[r] = n.leaf
		}
		g.free = append(g.free, h)
		return
	}
	f := s.feat
	n.feat, n.bin, n.defLeft, n.gain = int32(f), int32(s.bin), s.defLeft, s.gain
	n.cat, n.set = s.cat, s.set
	if !s.cat {
		n.cond = g.b.cuts[f][s.bin]
	}
	// Stable partition: left rows stay in front, right rows go through scratch.
	col := g.b.bins[f*g.b.rows : (f+1)*g.b.rows]
	missing := uint16(g.b.nbins(f))
	nl, nr := 0, 0
	for _, r := range rows {
		bin := col[r]
		if n.goesLeftBin(int(bin), int(missing)) {
			rows[nl] = r
			nl++
		} else {
			g.scratch[nr] = r
			nr++
		}
	}
	copy(rows[nl:], g.scratch[:nr])
	left, right := rows[:nl], rows[nl:]

	l := int32(len(g.t.nodes))
	g.t.nodes = append(g.t.nodes, treeNode{left: -1, right: -1, parent: id}, treeNode{left: -1, right: -1, parent: id})
	g.t.nodes[id].left, g.t.nodes[id].right = l, l+1

	// The smaller child gets a fresh histogram; the larger one is the
	// parent's minus the smaller's.
	small := g.hist()
	smallRows := left
	if len(right) < len(left) {
		smallRows = right
	}
	g.build(small, smallRows)
	for i := range h {
		h[i].g -= small[i].g
		h[i].h -= small[i].h
	}
	hl, hr := small, h
	if len(right) < len(left) {
		hl, hr = h, small
	}
	g.expand(l, left, hl, s.gl, s.hl, depth+1)
	g.expand(l+1, right, hr, s.gr, s.hr, depth+1)
}
