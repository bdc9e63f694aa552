package xgboost

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
)

// parseJSON decodes an XGBoost JSON model. XGBoost writes non-finite
// numbers as bare NaN, Infinity and -Infinity tokens, which are not JSON:
// quoteNonFinite turns them into strings first.
func parseJSON(data []byte) (*rawModel, error) {
	dec := json.NewDecoder(bytes.NewReader(quoteNonFinite(data)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, bad("JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, bad("JSON: data after the model")
	}
	root, ok := v.(map[string]any)
	if !ok {
		return nil, bad("JSON: the model is not an object")
	}
	rm, err := fromDoc(root)
	if err != nil {
		return nil, err
	}
	rm.format = "json"
	return rm, nil
}

// quoteNonFinite returns data with the bare tokens NaN, Infinity and
// -Infinity outside strings turned into the strings "NaN", "Infinity"
// and "-Infinity". It returns data itself when there are none.
func quoteNonFinite(data []byte) []byte {
	var out []byte
	last := 0
	inStr := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inStr {
			if c == '\\' {
				i++
			} else if c == '"' {
				inStr = false
			}
			continue
		}
		var tok string
		switch {
		case c == '"':
			inStr = true
			continue
		case c == 'N' && bytes.HasPrefix(data[i:], []byte("NaN")):
			tok = "NaN"
		case c == 'I' && bytes.HasPrefix(data[i:], []byte("Infinity")):
			tok = "Infinity"
		case c == '-' && bytes.HasPrefix(data[i:], []byte("-Infinity")):
			tok = "-Infinity"
		default:
			continue
		}
		out = append(out, data[last:i]...)
		out = append(out, '"')
		out = append(out, tok...)
		out = append(out, '"')
		i += len(tok) - 1
		last = i + 1
	}
	if out == nil {
		return data
	}
	return append(out, data[last:]...)
}

// The document accessors below read the generic values of both decoders:
// JSON gives map[string]any, []any, json.Number, string, bool and nil;
// UBJSON gives the same maps and []any, int64, float32, float64, string,
// bool, nil, and typed slices for typed arrays.

func field(obj map[string]any, path, key string) (any, error) {
	v, ok := obj[key]
	if !ok {
		return nil, bad("%s%s is missing", path, key)
	}
	return v, nil
}

func object(obj map[string]any, path, key string) (map[string]any, error) {
	v, err := field(obj, path, key)
	if err != nil {
		return nil, err
	}
	o, ok := v.(map[string]any)
	if !ok {
		return nil, bad("%s%s is not an object", path, key)
	}
	return o, nil
}

func str(obj map[string]any, path, key string) (string, error) {
	v, err := field(obj, path, key)
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok {
		return "", bad("%s%s is not a string", path, key)
	}
	return s, nil
}

// number parses a scalar (numbers in *_param objects are strings).
func number(v any, bits int) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(x), bits)
		return f, err == nil
	case string:
		s := strings.TrimSpace(x)
		if len(s) >= 2 && s[0] == '[' && s[len(s)-1] == ']' { // 3.x: "[5E-1]"
			s = strings.TrimSpace(s[1 : len(s)-1])
		}
		f, err := strconv.ParseFloat(s, bits)
		return f, err == nil
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int64:
		return float64(x), true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

func intOf(v any) (int64, bool) {
	if n, ok := v.(int64); ok {
		return n, true
	}
	f, ok := number(v, 64)
	if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int64(f), true
}

func intField(obj map[string]any, path, key string, def int64) (int64, error) {
	v, ok := obj[key]
	if !ok {
		if def < 0 {
			return 0, bad("%s%s is missing", path, key)
		}
		return def, nil
	}
	n, ok := intOf(v)
	if !ok {
		return 0, bad("%s%s = %v is not an integer", path, key, v)
	}
	return n, nil
}

func int32s(v any, what string) ([]int32, error) {
	switch a := v.(type) {
	case []int32:
		return a, nil
	case []uint8:
		return convert[int32](a), nil
	case []int8:
		return convert[int32](a), nil
	case []int16:
		return convert[int32](a), nil
	case []int64:
		out := make([]int32, len(a))
		for i, x := range a {
			if x < math.MinInt32 || x > math.MaxInt32 {
				return nil, bad("%s[%d] = %d out of range", what, i, x)
			}
			out[i] = int32(x)
		}
		return out, nil
	case []any:
		out := make([]int32, len(a))
		for i, x := range a {
			n, ok := intOf(x)
			if !ok || n < math.MinInt32 || n > math.MaxInt32 {
				return nil, bad("%s[%d] = %v is not a 32-bit integer", what, i, x)
			}
			out[i] = int32(n)
		}
		return out, nil
	}
	return nil, bad("%s is not an array of integers", what)
}

func int64s(v any, what string) ([]int64, error) {
	if a, ok := v.([]int64); ok {
		return a, nil
	}
	a, err := int32s(v, what)
	if err != nil {
		return nil, err
	}
	return convert[int64](a), nil
}

func float32s(v any, what string) ([]float32, error) {
	switch a := v.(type) {
	case []float32:
		return a, nil
	case []float64:
		return convert[float32](a), nil
	case []any:
		out := make([]float32, len(a))
		for i, x := range a {
			f, ok := number(x, 32)
			if !ok {
				return nil, bad("%s[%d] = %v is not a number", what, i, x)
			}
			out[i] = float32(f)
		}
		return out, nil
	}
	return nil, bad("%s is not an array of numbers", what)
}

func bools(v any, what string) ([]bool, error) {
	a, err := int32s(v, what)
	if err != nil {
		return nil, err
	}
	out := make([]bool, len(a))
	for i, x := range a {
		out[i] = x != 0
	}
	return out, nil
}

func stringList(v any, what string) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	a, ok := v.([]any)
	if !ok {
		return nil, bad("%s is not an array of strings", what)
	}
	out := make([]string, len(a))
	for i, x := range a {
		s, ok := x.(string)
		if !ok {
			return nil, bad("%s[%d] is not a string", what, i)
		}
		out[i] = s
	}
	return out, nil
}

func convert[T, F int32 | int64 | uint8 | int8 | int16 | float32 | float64](a []F) []T {
	out := make([]T, len(a))
	for i, x := range a {
		out[i] = T(x)
	}
	return out
}

// fromDoc reads a decoded JSON or UBJSON model document.
func fromDoc(root map[string]any) (*rawModel, error) {
	learner, err := object(root, "", "learner")
	if err != nil {
		return nil, err
	}
	const lp = "learner.learner_model_param."
	mp, err := object(learner, "learner.", "learner_model_param")
	if err != nil {
		return nil, err
	}
	rm := &rawModel{}
	bs, err := field(mp, lp, "base_score")
	if err != nil {
		return nil, err
	}
	f, ok := number(bs, 32)
	if !ok {
		return nil, bad("%sbase_score = %v is not a number", lp, bs)
	}
	rm.baseScore = f
	if rm.numFeature, err = intField(mp, lp, "num_feature", -1); err != nil {
		return nil, err
	}
	if rm.numClass, err = intField(mp, lp, "num_class", 0); err != nil {
		return nil, err
	}
	if rm.numTarget, err = intField(mp, lp, "num_target", 1); err != nil {
		return nil, err
	}
	obj, err := object(learner, "learner.", "objective")
	if err != nil {
		return nil, err
	}
	if rm.objective, err = str(obj, "learner.objective.", "name"); err != nil {
		return nil, err
	}
	if v, ok := learner["feature_names"]; ok {
		if rm.featureNames, err = stringList(v, "learner.feature_names"); err != nil {
			return nil, err
		}
	}
	if v, ok := learner["feature_types"]; ok {
		if rm.featureTypes, err = stringList(v, "learner.feature_types"); err != nil {
			return nil, err
		}
	}
	if v, ok := learner["attributes"]; ok {
		attrs, ok := v.(map[string]any)
		if !ok {
			return nil, bad("learner.attributes is not an object")
		}
		rm.attributes = make(map[string]string, len(attrs))
		for k, a := range attrs {
			s, ok := a.(string)
			if !ok {
				return nil, bad("learner.attributes.%s is not a string", k)
			}
			rm.attributes[k] = s
		}
	}
	gb, err := object(learner, "learner.", "gradient_booster")
	if err != nil {
		return nil, err
	}
	const gp = "learner.gradient_booster."
	if rm.booster, err = str(gb, gp, "name"); err != nil {
		return nil, err
	}
	switch rm.booster {
	case "gbtree":
		model, err := object(gb, gp, "model")
		if err != nil {
			return nil, err
		}
		return rm, readTrees(rm, model, gp+"model.")
	case "dart":
		inner, err := object(gb, gp, "gbtree")
		if err != nil {
			return nil, err
		}
		model, err := object(inner, gp+"gbtree.", "model")
		if err != nil {
			return nil, err
		}
		if err := readTrees(rm, model, gp+"gbtree.model."); err != nil {
			return nil, err
		}
		wd, err := field(gb, gp, "weight_drop")
		if err != nil {
			return nil, err
		}
		rm.weightDrop, err = float32s(wd, gp+"weight_drop")
		return rm, err
	case "gblinear":
		model, err := object(gb, gp, "model")
		if err != nil {
			return nil, err
		}
		w, err := field(model, gp+"model.", "weights")
		if err != nil {
			return nil, err
		}
		rm.linear, err = float32s(w, gp+"model.weights")
		return rm, err
	}
	return nil, bad("unsupported booster %q", rm.booster)
}

// readTrees reads a gbtree model object.
func readTrees(rm *rawModel, model map[string]any, path string) error {
	mp, err := object(model, path, "gbtree_model_param")
	if err != nil {
		return err
	}
	nt, err := intField(mp, path+"gbtree_model_param.", "num_trees", -1)
	if err != nil {
		return err
	}
	if rm.numParallel, err = intField(mp, path+"gbtree_model_param.", "num_parallel_tree", 1); err != nil {
		return err
	}
	if n, err := intField(mp, path+"gbtree_model_param.", "size_leaf_vector", 0); err != nil {
		return err
	} else if n > 1 {
		return bad("vector leaves (size_leaf_vector %d) are not supported", n)
	}
	tv, err := field(model, path, "trees")
	if err != nil {
		return err
	}
	trees, ok := tv.([]any)
	if !ok {
		return bad("%strees is not an array", path)
	}
	if int64(len(trees)) != nt {
		return bad("%d trees but num_trees is %d", len(trees), nt)
	}
	ti, err := field(model, path, "tree_info")
	if err != nil {
		return err
	}
	if rm.treeInfo, err = int32s(ti, path+"tree_info"); err != nil {
		return err
	}
	rm.trees = make([]rawTree, len(trees))
	for t, v := range trees {
		o, ok := v.(map[string]any)
		if !ok {
			return bad("tree %d is not an object", t)
		}
		if err := readTree(&rm.trees[t], o, t); err != nil {
			return err
		}
	}
	return nil
}

func readTree(rt *rawTree, o map[string]any, t int) error {
	tp, err := object(o, "", "tree_param")
	if err != nil {
		return bad("tree %d: %v", t, err)
	}
	if n, err := intField(tp, "tree_param.", "size_leaf_vector", 0); err != nil {
		return err
	} else if n > 1 {
		return bad("tree %d: vector leaves (size_leaf_vector %d) are not supported", t, n)
	}
	nn, err := intField(tp, "tree_param.", "num_nodes", -1)
	if err != nil {
		return err
	}
	get := func(key string) (any, error) {
		v, ok := o[key]
		if !ok {
			return nil, bad("tree %d: %s is missing", t, key)
		}
		return v, nil
	}
	name := func(key string) string { return "tree " + strconv.Itoa(t) + " " + key }
	var v any
	if v, err = get("left_children"); err == nil {
		rt.left, err = int32s(v, name("left_children"))
	}
	if err == nil {
		if v, err = get("right_children"); err == nil {
			rt.right, err = int32s(v, name("right_children"))
		}
	}
	if err == nil {
		if v, err = get("split_indices"); err == nil {
			rt.feat, err = int32s(v, name("split_indices"))
		}
	}
	if err == nil {
		if v, err = get("split_conditions"); err == nil {
			rt.cond, err = float32s(v, name("split_conditions"))
		}
	}
	if err == nil {
		if v, err = get("default_left"); err == nil {
			rt.defLeft, err = bools(v, name("default_left"))
		}
	}
	if err != nil {
		return err
	}
	if int64(len(rt.left)) != nn {
		return bad("tree %d: %d nodes but num_nodes is %d", t, len(rt.left), nn)
	}
	if v, ok := o["split_type"]; ok {
		if rt.splitType, err = int32s(v, name("split_type")); err != nil {
			return err
		}
	}
	if v, ok := o["categories_nodes"]; ok {
		if rt.catNodes, err = int32s(v, name("categories_nodes")); err != nil {
			return err
		}
		if len(rt.catNodes) == 0 {
			return nil
		}
		for _, k := range []struct {
			key string
			dst *[]int64
		}{{"categories_segments", &rt.catSegs}, {"categories_sizes", &rt.catSizes}} {
			if v, err = get(k.key); err != nil {
				return err
			}
			if *k.dst, err = int64s(v, name(k.key)); err != nil {
				return err
			}
		}
		if v, err = get("categories"); err != nil {
			return err
		}
		if rt.cats, err = int32s(v, name("categories")); err != nil {
			return err
		}
	}
	return nil
}
