package remote

import (
	"encoding/json"
	"math"
	"net/url"
	"strconv"
	"strings"

	"github.com/ferry-ml/ferry/internal/modelrt"
)

// tensor is one input tensor of an OIP request.
type tensor struct {
	name     string
	datatype string // as declared: FP64 unless the server's metadata says otherwise
	// features are the positions of the tensor's features: one for a
	// per-feature tensor, all of them for the matrix.
	features []int
	// column: a per-feature tensor with shape [rows, 1] (else [rows]).
	column bool
	quoted []byte // name as a JSON string
}

// wire encodes requests of one protocol for one signature.
type wire struct {
	protocol Protocol
	path     string // of the prediction route
	nf       int
	integer  []bool // per feature: int or categorical
	prefix   []byte // MLflow: the body up to the first row
	tensors  []tensor
	matrix   bool // OIP: one tensor of shape [rows, nf]
}

// newWire prepares the encoding of requests. tensors, when not nil, are
// the inputs the server's metadata declared.
func newWire(p Protocol, modelName string, sig modelrt.Signature, tensors []tensor) wire {
	w := wire{protocol: p, nf: len(sig.Inputs), integer: make([]bool, len(sig.Inputs))}
	for i, f := range sig.Inputs {
		w.integer[i] = f.Type == modelrt.Integer || f.Type == modelrt.Categorical
	}
	named := len(sig.Inputs) > 0 && sig.Inputs[0].Name != ""
	switch p {
	case MLflow:
		w.path = "/invocations"
		cols := make([]string, len(sig.Inputs))
		for i, f := range sig.Inputs {
			cols[i] = f.Name
			if !named {
				cols[i] = "f" + strconv.Itoa(i)
			}
		}
		b, _ := json.Marshal(cols) // strings always marshal
		w.prefix = append(append([]byte(`{"dataframe_split":{"columns":`), b...), `,"data":[`...)
	case OIP:
		w.path = "/v2/models/" + url.PathEscape(modelName) + "/infer"
		switch {
		case tensors != nil:
			w.tensors = append([]tensor(nil), tensors...)
			w.matrix = len(tensors) == 1 && len(tensors[0].features) > 1
		case named:
			for i, f := range sig.Inputs {
				dt := "FP64"
				if w.integer[i] {
					dt = "INT64"
				}
				w.tensors = append(w.tensors, tensor{name: f.Name, datatype: dt, features: []int{i}})
			}
		default:
			all := make([]int, len(sig.Inputs))
			for i := range all {
				all[i] = i
			}
			w.tensors = []tensor{{name: "input-0", datatype: "FP64", features: all}}
			w.matrix = true
		}
	}
	for i := range w.tensors {
		w.tensors[i].quoted, _ = json.Marshal(w.tensors[i].name) // strings always marshal
	}
	return w
}

// encode returns the body of a request for rows rows of x.
func (w *wire) encode(x []float64, rows int) []byte {
	if w.protocol == MLflow {
		return w.encodeMLflow(x, rows)
	}
	return w.encodeOIP(x, rows)
}

// encodeMLflow writes {"dataframe_split": {"columns": [...], "data":
// [[...], ...]}}. NaN is null; ±Inf are Python's Infinity and -Infinity
// tokens (MLflow's server reads its body with Python's json module).
func (w *wire) encodeMLflow(x []float64, rows int) []byte {
	b := make([]byte, 0, len(w.prefix)+rows*(w.nf*10+3)+8)
	b = append(b, w.prefix...)
	for r := range rows {
		if r > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		for j, v := range x[r*w.nf : (r+1)*w.nf] {
			if j > 0 {
				b = append(b, ',')
			}
			switch {
			case math.IsNaN(v):
				b = append(b, "null"...)
			case math.IsInf(v, 1):
				b = append(b, "Infinity"...)
			case math.IsInf(v, -1):
				b = append(b, "-Infinity"...)
			case w.integer[j] && isInt64(v):
				b = strconv.AppendInt(b, int64(v), 10)
			default:
				b = appendFloat(b, v)
			}
		}
		b = append(b, ']')
	}
	return append(b, "]}}"...)
}

// encodeOIP writes {"inputs": [{"name", "shape", "datatype", "data"}]}:
// the declared tensors, or one FP64/INT64 tensor per named feature, or
// one FP64 matrix input-0. NaN is null and ±Inf the strings "Infinity"
// and "-Infinity" (JSON has no such numbers; Ferry's own server and
// numpy read these). An integer tensor holding a value that is not an
// integer is sent as FP64 instead.
func (w *wire) encodeOIP(x []float64, rows int) []byte {
	b := make([]byte, 0, rows*(w.nf*10+2)+64*len(w.tensors)+16)
	b = append(b, `{"inputs":[`...)
	for k, t := range w.tensors {
		if k > 0 {
			b = append(b, ',')
		}
		dt := dataType(t.datatype, x, rows, w.nf, t.features)
		b = append(b, `{"name":`...)
		b = append(b, t.quoted...)
		b = append(b, `,"shape":[`...)
		b = strconv.AppendInt(b, int64(rows), 10)
		if w.matrix {
			b = append(b, ',')
			b = strconv.AppendInt(b, int64(len(t.features)), 10)
		} else if t.column {
			b = append(b, ",1"...)
		}
		b = append(b, `],"datatype":"`...)
		b = append(b, dt...)
		b = append(b, `","data":[`...)
		first := true
		for r := range rows {
			row := x[r*w.nf : (r+1)*w.nf]
			for _, j := range t.features {
				if !first {
					b = append(b, ',')
				}
				first = false
				b = appendTensorValue(b, row[j], dt)
			}
		}
		b = append(b, "]}"...)
	}
	return append(b, "]}"...)
}

// dataType is the datatype a tensor is sent as: the declared one, unless
// a value does not fit an integer or boolean type (then FP64).
func dataType(declared string, x []float64, rows, nf int, features []int) string {
	switch {
	case strings.HasPrefix(declared, "FP"):
		return declared
	case declared == "BOOL", strings.HasPrefix(declared, "INT"), strings.HasPrefix(declared, "UINT"):
		unsigned := strings.HasPrefix(declared, "UINT")
		for r := range rows {
			for _, j := range features {
				v := x[r*nf+j]
				if !isInt64(v) || (unsigned && v < 0) || (declared == "BOOL" && v != 0 && v != 1) {
					return "FP64"
				}
			}
		}
		return declared
	}
	return "FP64"
}

func appendTensorValue(b []byte, v float64, dt string) []byte {
	switch {
	case dt == "BOOL":
		if v != 0 {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case !strings.HasPrefix(dt, "FP"):
		return strconv.AppendInt(b, int64(v), 10)
	case math.IsNaN(v):
		return append(b, "null"...)
	case math.IsInf(v, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(v, -1):
		return append(b, `"-Infinity"`...)
	}
	return appendFloat(b, v)
}

// isInt64 says whether v is an integer an int64 holds exactly.
func isInt64(v float64) bool {
	return v == math.Trunc(v) && v >= -(1<<63) && v < 1<<63
}

// appendFloat writes a finite float as encoding/json does: the shortest
// representation that reads back the same, exponent only when large or
// small.
func appendFloat(b []byte, v float64) []byte {
	abs := math.Abs(v)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, v, format, -1, 64)
	if n := len(b); format == 'e' && n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
		b[n-2] = b[n-1] // e-07 → e-7
		b = b[:n-1]
	}
	return b
}
