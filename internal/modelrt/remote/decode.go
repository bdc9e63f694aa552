package remote

import (
	"fmt"
	"math"
	"strings"
)

// decodeMLflowResponse reads an /invocations answer into out (rows ×
// outputs values): {"predictions": P} or, as MLflow 1.x answers, P
// itself, where P is a list of one entry per row. An entry is a number
// (one output per row), a list of the row's outputs, or an object whose
// values are the row's outputs in order (a DataFrame's records).
func decodeMLflowResponse(b []byte, rows, outputs int, out []float64) error {
	if rows < 0 || outputs <= 0 || len(out) != rows*outputs {
		return fmt.Errorf("%d values asked for %d rows of %d outputs", len(out), rows, outputs)
	}
	s := &scanner{b: b}
	switch s.peek() {
	case '{':
		found := false
		var message string
		err := s.object(func(key string) error {
			switch {
			case key == "predictions" && !found:
				found = true
				return predictions(s, rows, outputs, out)
			case key == "message" || key == "error":
				if s.peek() == '"' {
					m, err := s.str()
					message = m
					return err
				}
			}
			return s.skip(1)
		})
		if err != nil {
			return err
		}
		if !found {
			if message != "" {
				return fmt.Errorf(`the answer has no "predictions"; it says: %s`, truncate(message, 200))
			}
			return fmt.Errorf(`the answer has no "predictions"`)
		}
	case '[':
		if err := predictions(s, rows, outputs, out); err != nil {
			return err
		}
	default:
		return fmt.Errorf(`the answer must be {"predictions": [...]}, got %s`, s.what())
	}
	return s.end()
}

// predictions reads the list of per-row entries.
func predictions(s *scanner, rows, outputs int, out []float64) error {
	if s.peek() != '[' {
		return fmt.Errorf(`"predictions" must be a list, got %s`, s.what())
	}
	n := 0
	err := s.array(func(r int) error {
		if r >= rows {
			return fmt.Errorf("more predictions than the %d rows sent", rows)
		}
		n++
		row := out[r*outputs : (r+1)*outputs]
		switch c := s.peek(); c {
		case '[', '{':
			// A list of values, or a record of them in column order.
			k := 0
			value := func() error {
				if k >= outputs {
					return fmt.Errorf("prediction %d has more than %d values", r, outputs)
				}
				v, err := s.num()
				if err != nil {
					return fmt.Errorf("prediction %d, value %d: %w", r, k, err)
				}
				row[k] = v
				k++
				return nil
			}
			var err error
			if c == '[' {
				err = s.array(func(int) error { return value() })
			} else {
				err = s.object(func(string) error { return value() })
			}
			if err != nil {
				return err
			}
			if k != outputs {
				return fmt.Errorf("prediction %d has %d values, want %d", r, k, outputs)
			}
		default:
			if outputs != 1 {
				return fmt.Errorf("prediction %d is one value; the model has %d outputs per row", r, outputs)
			}
			v, err := s.num()
			if err != nil {
				return fmt.Errorf("prediction %d: %w", r, err)
			}
			row[0] = v
		}
		return nil
	})
	if err != nil {
		return err
	}
	if n != rows {
		return fmt.Errorf("%d predictions for %d rows", n, rows)
	}
	return nil
}

// oipNumeric are the datatypes of an output tensor Ferry reads.
var oipNumeric = map[string]bool{
	"BOOL": true, "UINT8": true, "UINT16": true, "UINT32": true, "UINT64": true,
	"INT8": true, "INT16": true, "INT32": true, "INT64": true, "FP16": true, "FP32": true, "FP64": true,
}

// decodeOIPResponse reads an Open Inference Protocol answer into out
// (rows × outputs values) from its first output tensor, whose data (flat
// or nested, row-major) must hold exactly rows × outputs numbers.
func decodeOIPResponse(b []byte, rows, outputs int, out []float64) error {
	if rows < 0 || outputs <= 0 || len(out) != rows*outputs {
		return fmt.Errorf("%d values asked for %d rows of %d outputs", len(out), rows, outputs)
	}
	s := &scanner{b: b}
	if s.peek() != '{' {
		return fmt.Errorf(`the answer must be {"outputs": [...]}, got %s`, s.what())
	}
	var (
		found, seen bool
		message     string
	)
	err := s.object(func(key string) error {
		switch {
		case key == "outputs" && !seen:
			seen = true
			if s.peek() != '[' {
				return fmt.Errorf(`"outputs" must be a list, got %s`, s.what())
			}
			return s.array(func(i int) error {
				if i > 0 {
					return s.skip(1)
				}
				found = true
				return outputTensor(s, rows, outputs, out)
			})
		case key == "error":
			if s.peek() == '"' {
				m, err := s.str()
				message = m
				return err
			}
		}
		return s.skip(1)
	})
	if err != nil {
		return err
	}
	if !found {
		if message != "" {
			return fmt.Errorf("the answer has no outputs; it says: %s", truncate(message, 200))
		}
		return fmt.Errorf("the answer has no outputs")
	}
	return s.end()
}

// outputTensor reads {"name", "shape", "datatype", "data", ...} in any
// order. The data is read once the datatype is known: its bytes are
// remembered and scanned last.
func outputTensor(s *scanner, rows, outputs int, out []float64) error {
	if s.peek() != '{' {
		return fmt.Errorf("output 0 must be an object, got %s", s.what())
	}
	var (
		name, datatype string
		shape          []int64
		hasShape       bool
		data           = -1 // offset of the data value
	)
	err := s.object(func(key string) error {
		var err error
		switch key {
		case "name":
			if s.peek() == '"' {
				name, err = s.str()
				return err
			}
		case "datatype":
			datatype, err = s.str()
			if err != nil {
				return fmt.Errorf("output 0: datatype: %w", err)
			}
			return nil
		case "shape":
			hasShape = true
			shape = shape[:0]
			return s.array(func(int) error {
				if len(shape) >= 16 {
					return fmt.Errorf("output 0: shape has more than 16 dimensions")
				}
				v, err := s.num()
				if err != nil || v != math.Trunc(v) || math.Abs(v) > 1<<62 {
					return fmt.Errorf("output 0: shape must be a list of integers")
				}
				shape = append(shape, int64(v))
				return nil
			})
		case "data":
			s.ws()
			data = s.i
		}
		return s.skip(1)
	})
	if err != nil {
		return err
	}
	label := "output 0"
	if name != "" {
		label = fmt.Sprintf("output %q", truncate(name, 60))
	}
	if datatype == "" {
		return fmt.Errorf("%s has no datatype", label)
	}
	if !oipNumeric[datatype] {
		return fmt.Errorf("%s has datatype %s; Ferry reads only numbers (BOOL, INT*, UINT*, FP*)", label, truncate(datatype, 20))
	}
	want := rows * outputs
	if hasShape {
		n := int64(1)
		for _, d := range shape {
			if d < 0 || (d > 0 && n > int64(want)/d+1) {
				return fmt.Errorf("%s has shape %v; want %d values (%d rows × %d outputs)", label, shape, want, rows, outputs)
			}
			n *= d
		}
		if n != int64(want) {
			return fmt.Errorf("%s has shape %v; want %d values (%d rows × %d outputs)", label, shape, want, rows, outputs)
		}
	}
	if data < 0 {
		return fmt.Errorf("%s has no data", label)
	}
	ds := &scanner{b: s.b, i: data}
	n := 0
	if err := flatten(ds, 0, out, &n, datatype == "BOOL"); err != nil {
		return fmt.Errorf("%s: %w", label, err)
	}
	if n != want {
		return fmt.Errorf("%s has %d values; want %d (%d rows × %d outputs)", label, n, want, rows, outputs)
	}
	return nil
}

// flatten reads nested lists of numbers into out, row-major.
func flatten(s *scanner, depth int, out []float64, n *int, boolean bool) error {
	if s.peek() != '[' {
		if depth == 0 {
			return fmt.Errorf("data must be a list, got %s", s.what())
		}
		if *n >= len(out) {
			return fmt.Errorf("data has more than %d values", len(out))
		}
		start := s.i
		v, err := s.num()
		if err != nil {
			return fmt.Errorf("value %d: %w", *n, err)
		}
		if boolean && v != 0 && v != 1 {
			return fmt.Errorf("value %d of a BOOL tensor is %s", *n, truncate(string(s.b[start:s.i]), 40))
		}
		out[*n] = v
		*n++
		return nil
	}
	if depth >= 16 {
		return fmt.Errorf("data is nested deeper than 16 lists")
	}
	return s.array(func(int) error { return flatten(s, depth+1, out, n, boolean) })
}

// errorMessage extracts the message of an error answer: OIP's
// {"error": "..."}, MLflow's {"error_code": ..., "message": "..."}, or
// the start of the body when it is anything else.
func errorMessage(body []byte) string {
	s := &scanner{b: body}
	if s.peek() == '{' {
		var msg string
		err := s.object(func(key string) error {
			if (key == "error" || key == "message" || key == "detail") && s.peek() == '"' && msg == "" {
				m, err := s.str()
				msg = m
				return err
			}
			return s.skip(1)
		})
		if err == nil && msg != "" {
			return truncate(msg, maxErrorBody)
		}
	}
	return strings.TrimSpace(truncate(strings.ToValidUTF8(string(body), "?"), maxErrorBody))
}
