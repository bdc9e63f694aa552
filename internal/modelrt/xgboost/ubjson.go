package xgboost

import (
	"encoding/binary"
	"fmt"
	"math"
)

// parseUBJSON decodes an XGBoost UBJSON model (Universal Binary JSON,
// big-endian, with typed arrays "[$d#L<count>" for float32 and integer
// arrays).
func parseUBJSON(data []byte) (*rawModel, error) {
	r := &ubjReader{b: data}
	v, err := r.value()
	if err != nil {
		return nil, err
	}
	if r.p != len(data) {
		return nil, bad("UBJSON: %d bytes after the model at offset %d", len(data)-r.p, r.p)
	}
	root, ok := v.(map[string]any)
	if !ok {
		return nil, bad("UBJSON: the model is not an object")
	}
	rm, err := fromDoc(root)
	if err != nil {
		return nil, err
	}
	rm.format = "ubjson"
	return rm, nil
}

// maxDepth bounds the nesting of UBJSON containers.
const maxDepth = 64

type ubjReader struct {
	b     []byte
	p     int
	depth int
}

func (r *ubjReader) errf(format string, args ...any) error {
	return bad("UBJSON at offset %d: %s", r.p, fmt.Sprintf(format, args...))
}

func (r *ubjReader) take(n int) ([]byte, error) {
	if n < 0 || n > len(r.b)-r.p {
		return nil, r.errf("unexpected end of data (%d bytes wanted, %d left)", n, len(r.b)-r.p)
	}
	s := r.b[r.p : r.p+n]
	r.p += n
	return s, nil
}

func (r *ubjReader) marker() (byte, error) {
	for {
		s, err := r.take(1)
		if err != nil {
			return 0, err
		}
		if s[0] != 'N' { // no-op
			return s[0], nil
		}
	}
}

// size is the width in bytes of a fixed-size scalar type, or 0.
func size(m byte) int {
	switch m {
	case 'i', 'U', 'C':
		return 1
	case 'I':
		return 2
	case 'l', 'd':
		return 4
	case 'L', 'D':
		return 8
	}
	return 0
}

// integer reads an integer of type m.
func (r *ubjReader) integer(m byte) (int64, error) {
	n := size(m)
	if n == 0 || m == 'd' || m == 'D' || m == 'C' {
		return 0, r.errf("marker %q is not an integer type", m)
	}
	s, err := r.take(n)
	if err != nil {
		return 0, err
	}
	switch m {
	case 'i':
		return int64(int8(s[0])), nil
	case 'U':
		return int64(s[0]), nil
	case 'I':
		return int64(int16(binary.BigEndian.Uint16(s))), nil
	case 'l':
		return int64(int32(binary.BigEndian.Uint32(s))), nil
	}
	return int64(binary.BigEndian.Uint64(s)), nil
}

// length reads a length or count: an integer that fits what is left.
func (r *ubjReader) length(minBytes int) (int, error) {
	m, err := r.marker()
	if err != nil {
		return 0, err
	}
	n, err := r.integer(m)
	if err != nil {
		return 0, err
	}
	if n < 0 || n > int64(len(r.b)-r.p)/int64(max(minBytes, 1)) {
		return 0, r.errf("length %d out of range (%d bytes left)", n, len(r.b)-r.p)
	}
	return int(n), nil
}

func (r *ubjReader) value() (any, error) {
	m, err := r.marker()
	if err != nil {
		return nil, err
	}
	return r.valueOf(m)
}

func (r *ubjReader) valueOf(m byte) (any, error) {
	switch m {
	case 'Z':
		return nil, nil
	case 'T':
		return true, nil
	case 'F':
		return false, nil
	case 'i', 'U', 'I', 'l', 'L':
		return r.integer(m)
	case 'd':
		s, err := r.take(4)
		if err != nil {
			return nil, err
		}
		return math.Float32frombits(binary.BigEndian.Uint32(s)), nil
	case 'D':
		s, err := r.take(8)
		if err != nil {
			return nil, err
		}
		return math.Float64frombits(binary.BigEndian.Uint64(s)), nil
	case 'C':
		s, err := r.take(1)
		if err != nil {
			return nil, err
		}
		return string(s), nil
	case 'S', 'H':
		n, err := r.length(1)
		if err != nil {
			return nil, err
		}
		s, err := r.take(n)
		return string(s), err
	case '[':
		return r.array()
	case '{':
		return r.object()
	}
	return nil, r.errf("unknown marker %q", m)
}

// header reads the optional "$type" and "#count" of a container.
func (r *ubjReader) header() (typ byte, count int, err error) {
	count = -1
	if r.p < len(r.b) && r.b[r.p] == '$' {
		r.p++
		s, err := r.take(1)
		if err != nil {
			return 0, 0, err
		}
		typ = s[0]
		if r.p >= len(r.b) || r.b[r.p] != '#' {
			return 0, 0, r.errf("typed container without a count")
		}
	}
	if r.p < len(r.b) && r.b[r.p] == '#' {
		r.p++
		if count, err = r.length(max(size(typ), 1)); err != nil {
			return 0, 0, err
		}
	}
	return typ, count, nil
}

func (r *ubjReader) enter() error {
	r.depth++
	if r.depth > maxDepth {
		return r.errf("containers nested deeper than %d", maxDepth)
	}
	return nil
}

func (r *ubjReader) array() (any, error) {
	if err := r.enter(); err != nil {
		return nil, err
	}
	defer func() { r.depth-- }()
	typ, count, err := r.header()
	if err != nil {
		return nil, err
	}
	if typ != 0 && size(typ) > 0 && typ != 'C' {
		s, err := r.take(count * size(typ))
		if err != nil {
			return nil, err
		}
		return typedArray(typ, s, count), nil
	}
	var out []any
	if count >= 0 {
		out = make([]any, 0, count)
	}
	for i := 0; count < 0 || i < count; i++ {
		m := typ
		if m == 0 {
			if m, err = r.marker(); err != nil {
				return nil, err
			}
			if m == ']' && count < 0 {
				break
			}
		}
		v, err := r.valueOf(m)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if out == nil {
		out = []any{}
	}
	return out, nil
}

func typedArray(typ byte, s []byte, n int) any {
	switch typ {
	case 'U':
		return append([]uint8(nil), s...)
	case 'i':
		out := make([]int8, n)
		for i := range out {
			out[i] = int8(s[i])
		}
		return out
	case 'I':
		out := make([]int16, n)
		for i := range out {
			out[i] = int16(binary.BigEndian.Uint16(s[2*i:]))
		}
		return out
	case 'l':
		out := make([]int32, n)
		for i := range out {
			out[i] = int32(binary.BigEndian.Uint32(s[4*i:]))
		}
		return out
	case 'L':
		out := make([]int64, n)
		for i := range out {
			out[i] = int64(binary.BigEndian.Uint64(s[8*i:]))
		}
		return out
	case 'd':
		out := make([]float32, n)
		for i := range out {
			out[i] = math.Float32frombits(binary.BigEndian.Uint32(s[4*i:]))
		}
		return out
	}
	out := make([]float64, n) // 'D'
	for i := range out {
		out[i] = math.Float64frombits(binary.BigEndian.Uint64(s[8*i:]))
	}
	return out
}

func (r *ubjReader) object() (any, error) {
	if err := r.enter(); err != nil {
		return nil, err
	}
	defer func() { r.depth-- }()
	typ, count, err := r.header()
	if err != nil {
		return nil, err
	}
	out := make(map[string]any, max(0, min(count, 64)))
	for i := 0; count < 0 || i < count; i++ {
		if count < 0 {
			if r.p < len(r.b) && r.b[r.p] == '}' {
				r.p++
				break
			}
		}
		n, err := r.length(1)
		if err != nil {
			return nil, err
		}
		k, err := r.take(n)
		if err != nil {
			return nil, err
		}
		m := typ
		if m == 0 {
			if m, err = r.marker(); err != nil {
				return nil, err
			}
		}
		v, err := r.valueOf(m)
		if err != nil {
			return nil, err
		}
		out[string(k)] = v
	}
	return out, nil
}
