package gbdt

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// WriteXGBoostJSON writes the model in XGBoost's JSON model format (as
// XGBoost 1.7.4's Booster.save_model("m.json") does), which
// internal/modelrt/xgboost and XGBoost ≥ 1.7 load. Floats are written
// as XGBoost writes them, reading back as the exact float32 values the
// model predicts with. After early stopping the file holds only the rounds up to
// the best one, with best_iteration and best_ntree_limit attributes as the
// sklearn wrapper writes them. The bytes depend only on the model.
func (m *Model) WriteXGBoostJSON(w io.Writer) error {
	bw := bufio.NewWriter(w)
	jw := &jsonWriter{w: bw}
	jw.raw(`{"learner":{"attributes":{`)
	if m.best >= 0 {
		jw.raw(`"best_iteration":`)
		jw.str(strconv.Itoa(m.best))
		jw.raw(`,"best_ntree_limit":`)
		jw.str(strconv.Itoa((m.best + 1) * m.ngroup))
	}
	jw.raw(`},"feature_names":[`)
	for i, n := range m.featureNames {
		jw.comma(i)
		jw.str(n)
	}
	jw.raw(`],"feature_types":[`)
	if len(m.featureNames) != 0 || slices.Contains(m.categorical, true) {
		for i := range m.nfeat {
			jw.comma(i)
			if i < len(m.categorical) && m.categorical[i] {
				jw.str("c")
			} else {
				jw.str("float")
			}
		}
	}
	jw.raw(`],"gradient_booster":{"model":{"gbtree_model_param":{"num_parallel_tree":"1","num_trees":`)
	jw.str(strconv.Itoa(len(m.trees)))
	jw.raw(`,"size_leaf_vector":"0"},"tree_info":[`)
	for i := range m.trees {
		jw.comma(i)
		jw.raw(strconv.Itoa(m.trees[i].group))
	}
	jw.raw(`],"trees":[`)
	for i := range m.trees {
		jw.comma(i)
		m.writeTree(jw, i)
	}
	jw.raw(`]},"name":"gbtree"},"learner_model_param":{"base_score":`)
	jw.str(jsonFloat(m.baseScore))
	jw.raw(`,"boost_from_average":"1","num_class":`)
	nc := 0
	if m.objective == MultiSoftprob {
		nc = m.ngroup
	}
	jw.str(strconv.Itoa(nc))
	jw.raw(`,"num_feature":`)
	jw.str(strconv.Itoa(m.nfeat))
	jw.raw(`,"num_target":"1"},"objective":{"name":`)
	jw.str(string(m.objective))
	if m.objective == MultiSoftprob {
		jw.raw(`,"softmax_multiclass_param":{"num_class":`)
		jw.str(strconv.Itoa(nc))
		jw.raw(`}}`)
	} else {
		jw.raw(`,"reg_loss_param":{"scale_pos_weight":"1"}}`)
	}
	jw.raw(`},"version":[1,7,4]}`)
	if jw.err != nil {
		return fmt.Errorf("gbdt: write model: %w", jw.err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("gbdt: write model: %w", err)
	}
	return nil
}

func (m *Model) writeTree(jw *jsonWriter, id int) {
	nodes := m.trees[id].nodes
	arr := func(name string, v func(n *treeNode) string) {
		jw.raw(`"` + name + `":[`)
		for i := range nodes {
			jw.comma(i)
			jw.raw(v(&nodes[i]))
		}
		jw.raw(`],`)
	}
	f64 := func(v float64) string { return jsonFloat(float32(v)) }
	f32 := jsonFloat
	i32 := func(v int32) string { return strconv.FormatInt(int64(v), 10) }
	leaf := func(n *treeNode) bool { return n.left < 0 }
	jw.raw("{")
	arr("base_weights", func(n *treeNode) string { return f64(n.weight) })
	writeCategories(jw, nodes)
	arr("default_left", func(n *treeNode) string {
		if !leaf(n) && n.defLeft {
			return "1"
		}
		return "0"
	})
	jw.raw(`"id":` + strconv.Itoa(id) + `,`)
	arr("left_children", func(n *treeNode) string { return i32(n.left) })
	arr("loss_changes", func(n *treeNode) string {
		if leaf(n) {
			return "0E0"
		}
		return f64(n.gain)
	})
	arr("parents", func(n *treeNode) string {
		if n.parent < 0 {
			return "2147483647"
		}
		return i32(n.parent)
	})
	arr("right_children", func(n *treeNode) string { return i32(n.right) })
	arr("split_conditions", func(n *treeNode) string {
		switch {
		case leaf(n):
			return f32(n.leaf)
		case n.cat:
			return "0E0"
		}
		return f32(n.cond)
	})
	arr("split_indices", func(n *treeNode) string {
		if leaf(n) {
			return "0"
		}
		return i32(n.feat)
	})
	arr("split_type", func(n *treeNode) string {
		if !leaf(n) && n.cat {
			return "1"
		}
		return "0"
	})
	arr("sum_hessian", func(n *treeNode) string { return f64(n.hess) })
	jw.raw(`"tree_param":{"num_deleted":"0","num_feature":`)
	jw.str(strconv.Itoa(m.nfeat))
	jw.raw(`,"num_nodes":`)
	jw.str(strconv.Itoa(len(nodes)))
	jw.raw(`,"size_leaf_vector":"0"}}`)
}

// writeCategories writes the category sets of a tree's categorical
// splits: categories holds each split's set (the categories going right)
// ascending, node after node; categories_nodes the nodes, ascending;
// categories_segments and categories_sizes where each set starts and how
// long it is.
func writeCategories(jw *jsonWriter, nodes []treeNode) {
	var cats, ids, segs, sizes []string
	for i := range nodes {
		n := &nodes[i]
		if n.left < 0 || !n.cat {
			continue
		}
		codes := n.set.codes()
		ids = append(ids, strconv.Itoa(i))
		segs = append(segs, strconv.Itoa(len(cats)))
		sizes = append(sizes, strconv.Itoa(len(codes)))
		for _, c := range codes {
			cats = append(cats, strconv.Itoa(c))
		}
	}
	for _, a := range []struct {
		name string
		v    []string
	}{{"categories", cats}, {"categories_nodes", ids}, {"categories_segments", segs}, {"categories_sizes", sizes}} {
		jw.raw(`"` + a.name + `":[` + strings.Join(a.v, ",") + `],`)
	}
}

// jsonFloat formats a float32 as XGBoost writes floats: the shortest
// decimal that reads back as exactly v in float32, in E notation without
// '+' or leading zeros in the exponent ("1.1445E2", "5E-1", "0E0").
// XGBoost's readers need that: a number without fraction or exponent is
// an integer to them, and its parameter parser silently drops values
// with more digits than a float32 has (a base_score of
// "152.13348388671875" loads as the default 0.5).
func jsonFloat(v float32) string {
	s := strconv.FormatFloat(float64(v), 'E', -1, 32)
	i := strings.IndexByte(s, 'E')
	mant, exp := s[:i], s[i+1:]
	neg := exp[0] == '-'
	exp = strings.TrimLeft(exp[1:], "0")
	if exp == "" {
		exp = "0"
	}
	if neg {
		exp = "-" + exp
	}
	return mant + "E" + exp
}

// jsonWriter writes JSON tokens and keeps the first error.
type jsonWriter struct {
	w   *bufio.Writer
	err error
}

func (j *jsonWriter) raw(s string) {
	if j.err == nil {
		_, j.err = j.w.WriteString(s)
	}
}

func (j *jsonWriter) comma(i int) {
	if i > 0 {
		j.raw(",")
	}
}

// str writes s as a JSON string.
func (j *jsonWriter) str(s string) {
	b, err := json.Marshal(s)
	if err != nil && j.err == nil {
		j.err = err
	}
	j.raw(string(b))
}
