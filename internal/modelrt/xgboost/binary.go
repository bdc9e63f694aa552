package xgboost

import (
	"bytes"
	"encoding/binary"
	"math"
)

// The legacy binary format (XGBoost < 2, little-endian C structs):
//
//	["binf"]                       header, written since 1.0
//	LearnerModelParam  136 bytes   base_score f32, num_feature u32, num_class i32,
//	                               contain_extra_attrs i32, contain_eval_metrics i32,
//	                               major_version u32, minor_version u32, ...
//	objective, booster             strings: u64 length + bytes
//	gbtree/dart:
//	  GBTreeModelParam 160 bytes   num_trees i32 @0, num_feature i32 @8,
//	                               num_output_group i32 @24, size_leaf_vector i32 @28
//	  per tree: TreeParam 148 bytes (num_nodes i32 @4, num_deleted @8,
//	            size_leaf_vector @20), num_nodes × Node (20 bytes: parent i32,
//	            left i32, right i32, sindex u32 (bit 31: default left),
//	            value f32), num_nodes × NodeStat (16 bytes)
//	  tree_info                    num_trees × i32
//	  dart: weight_drop            u64 count + f32s
//	gblinear:
//	  GBLinearModelParam 136 bytes num_feature u32 @0, num_output_group i32 @4
//	  weights                      u64 count + f32s
//	[attributes]                   if contain_extra_attrs: u64 count + string pairs
//	[max_delta_step]               before 1.0, for count:poisson: a string
//	[metrics]                      if contain_eval_metrics: u64 count + strings
//
// Before 1.0 (major_version 0) base_score is stored as a margin.

const (
	learnerParamSize = 136
	gbtreeParamSize  = 160
	treeParamSize    = 148
	nodeSize         = 20
	nodeStatSize     = 16
	linearParamSize  = 136
)

type binReader struct {
	b []byte
	p int
}

func (r *binReader) take(n int, what string) ([]byte, error) {
	if n < 0 || n > len(r.b)-r.p {
		return nil, bad("binary: %s at offset %d: unexpected end of file (%d bytes wanted, %d left)", what, r.p, n, len(r.b)-r.p)
	}
	s := r.b[r.p : r.p+n]
	r.p += n
	return s, nil
}

// count reads a u64 count of items of at least itemSize bytes each.
func (r *binReader) count(itemSize int, what string) (int, error) {
	s, err := r.take(8, what)
	if err != nil {
		return 0, err
	}
	n := binary.LittleEndian.Uint64(s)
	if n > uint64(len(r.b)-r.p)/uint64(itemSize) {
		return 0, bad("binary: %s at offset %d: count %d exceeds the file", what, r.p-8, n)
	}
	return int(n), nil
}

func (r *binReader) str(what string) (string, error) {
	n, err := r.count(1, what)
	if err != nil {
		return "", err
	}
	s, err := r.take(n, what)
	return string(s), err
}

func (r *binReader) floats(what string) ([]float32, error) {
	n, err := r.count(4, what)
	if err != nil {
		return nil, err
	}
	s, err := r.take(4*n, what)
	if err != nil {
		return nil, err
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(s[4*i:]))
	}
	return out, nil
}

func i32(s []byte, off int) int32 { return int32(binary.LittleEndian.Uint32(s[off:])) }

// parseBinary decodes a legacy binary model.
func parseBinary(data []byte) (*rawModel, error) {
	r := &binReader{b: data}
	if bytes.HasPrefix(data, []byte("binf")) {
		r.p = 4
	} else if bytes.HasPrefix(data, []byte("bs64")) {
		return nil, bad("binary: base64 models are not supported")
	}
	mp, err := r.take(learnerParamSize, "learner parameters")
	if err != nil {
		return nil, err
	}
	rm := &rawModel{format: "binary", numTarget: 1}
	rm.baseScore = float64(math.Float32frombits(binary.LittleEndian.Uint32(mp)))
	rm.numFeature = int64(binary.LittleEndian.Uint32(mp[4:]))
	rm.numClass = int64(i32(mp, 8))
	extraAttrs := i32(mp, 12) != 0
	evalMetrics := i32(mp, 16) != 0
	rm.baseIsMargin = binary.LittleEndian.Uint32(mp[20:]) < 1 // major_version
	if rm.objective, err = r.str("objective"); err != nil {
		return nil, err
	}
	if _, ok := objectives[rm.objective]; !ok {
		return nil, bad("unsupported objective %q", rm.objective)
	}
	if rm.booster, err = r.str("booster"); err != nil {
		return nil, err
	}
	switch rm.booster {
	case "gbtree", "dart":
		if err := binaryTrees(r, rm); err != nil {
			return nil, err
		}
	case "gblinear":
		p, err := r.take(linearParamSize, "gblinear parameters")
		if err != nil {
			return nil, err
		}
		rm.numGroups = max(int64(i32(p, 4)), rm.numClass, 1)
		if rm.linear, err = r.floats("gblinear weights"); err != nil {
			return nil, err
		}
	default:
		return nil, bad("unsupported booster %q", rm.booster)
	}
	if extraAttrs {
		n, err := r.count(16, "attributes")
		if err != nil {
			return nil, err
		}
		rm.attributes = make(map[string]string, n)
		for range n {
			k, err := r.str("attribute name")
			if err != nil {
				return nil, err
			}
			v, err := r.str("attribute value")
			if err != nil {
				return nil, err
			}
			rm.attributes[k] = v
		}
	}
	if rm.objective == "count:poisson" && rm.baseIsMargin && r.p < len(r.b) {
		// max_delta_step, written by some versions before 1.0 (1.x keeps
		// it in the "objective" attribute).
		if _, err := r.str("max_delta_step"); err != nil {
			return nil, err
		}
	}
	if evalMetrics {
		n, err := r.count(8, "eval metrics")
		if err != nil {
			return nil, err
		}
		for range n {
			if _, err := r.str("eval metric"); err != nil {
				return nil, err
			}
		}
	}
	if r.p != len(r.b) {
		return nil, bad("binary: %d unexpected bytes at offset %d after the model", len(r.b)-r.p, r.p)
	}
	return rm, nil
}

func binaryTrees(r *binReader, rm *rawModel) error {
	p, err := r.take(gbtreeParamSize, "gbtree parameters")
	if err != nil {
		return err
	}
	nt := i32(p, 0)
	if nt < 0 || int64(nt) > int64(len(r.b)-r.p)/(treeParamSize+4) {
		return bad("binary: num_trees %d out of range for a file of %d bytes", nt, len(r.b))
	}
	// XGBoost 1.x keeps the number of classes in the learner parameters
	// only; older files also in num_output_group.
	rm.numGroups = max(int64(i32(p, 24)), rm.numClass, 1)
	rm.numParallel = int64(i32(p, 4)) // num_parallel_tree (num_roots, 1, before 1.0)
	if n := i32(p, 28); n > 1 {
		return bad("binary: vector leaves (size_leaf_vector %d) are not supported", n)
	}
	rm.trees = make([]rawTree, nt)
	for t := range rm.trees {
		tp, err := r.take(treeParamSize, "tree parameters")
		if err != nil {
			return err
		}
		nn := i32(tp, 4)
		if nn <= 0 || int64(nn) > int64(len(r.b)-r.p)/(nodeSize+nodeStatSize) {
			return bad("binary: tree %d: num_nodes %d out of range", t, nn)
		}
		if n := i32(tp, 20); n > 1 {
			return bad("binary: tree %d: vector leaves (size_leaf_vector %d) are not supported", t, n)
		}
		ns, err := r.take(int(nn)*nodeSize, "tree nodes")
		if err != nil {
			return err
		}
		if _, err := r.take(int(nn)*nodeStatSize, "tree node statistics"); err != nil {
			return err
		}
		rt := &rm.trees[t]
		rt.left = make([]int32, nn)
		rt.right = make([]int32, nn)
		rt.feat = make([]int32, nn)
		rt.cond = make([]float32, nn)
		rt.defLeft = make([]bool, nn)
		for i := range int(nn) {
			s := ns[i*nodeSize:]
			rt.left[i] = i32(s, 4)
			rt.right[i] = i32(s, 8)
			si := binary.LittleEndian.Uint32(s[12:])
			rt.feat[i] = int32(si & (1<<31 - 1))
			rt.defLeft[i] = si>>31 != 0
			rt.cond[i] = math.Float32frombits(binary.LittleEndian.Uint32(s[16:]))
		}
	}
	ti, err := r.take(4*int(nt), "tree_info")
	if err != nil {
		return err
	}
	rm.treeInfo = make([]int32, nt)
	for i := range rm.treeInfo {
		rm.treeInfo[i] = i32(ti, 4*i)
	}
	if rm.booster == "dart" && nt > 0 {
		if rm.weightDrop, err = r.floats("weight_drop"); err != nil {
			return err
		}
	}
	return nil
}
