package mlflow

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// render writes the parsed tree back as JSON, without the truncation of
// errValue.
func render(p *parser, b []byte, n int32) []byte {
	nd := &p.nodes[n]
	switch nd.kind {
	case kNull:
		return append(b, "null"...)
	case kBool:
		return strconv.AppendBool(b, nd.b)
	case kNum:
		return append(b, nd.s...)
	case kStr:
		return appendString(b, nd.s)
	case kArr:
		b = append(b, '[')
		for c := nd.first; c >= 0; c = p.nodes[c].next {
			if c != nd.first {
				b = append(b, ',')
			}
			b = render(p, b, c)
		}
		return append(b, ']')
	}
	b = append(b, '{')
	for c := nd.first; c >= 0; c = p.nodes[c].next {
		if c != nd.first {
			b = append(b, ',')
		}
		b = appendString(b, p.nodes[c].key)
		b = append(b, ':')
		b = render(p, b, c)
	}
	return append(b, '}')
}

func decodeStd(data []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	err := d.Decode(&v)
	return v, err
}

var nonFiniteToken = []string{"NaN", "Infinity"}

// FuzzParser checks the parser against encoding/json: same verdict on
// validity (except for Python's NaN/Infinity tokens, which only this parser
// takes, invalid UTF-8, which only encoding/json takes, and nesting beyond
// maxDepth), and the same value when both accept.
func FuzzParser(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"a":1}`, `[1,2.5,-3e4,"x",true,false,null]`, `{"a":{"b":[{"c":"\u00e9\n"}]}}`,
		`"\ud83d\ude00"`, `"\ud800"`, `{"value":NaN}`, `[-Infinity]`, `{"a":1,"a":2}`, ` 0 `,
		`{"run_id":"r","metrics":[{"key":"k","value":1,"timestamp":2,"step":3}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var p parser
		err := p.parse(string(data))
		stdValid := json.Valid(data)
		if err != nil {
			var se *syntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			if stdValid && utf8.Valid(data) && !strings.Contains(err.Error(), "nested too deeply") {
				t.Fatalf("rejected valid JSON %q: %v", data, err)
			}
			return
		}
		if !stdValid {
			for _, tok := range nonFiniteToken {
				if bytes.Contains(data, []byte(tok)) {
					return
				}
			}
			t.Fatalf("accepted invalid JSON %q", data)
		}
		want, err := decodeStd(data)
		if err != nil {
			t.Fatal(err)
		}
		out := render(&p, nil, 0)
		got, err := decodeStd(out)
		if err != nil {
			t.Fatalf("re-rendered %q as invalid JSON %q: %v", data, out, err)
		}
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("value of %q: got %#v, want %#v", data, got, want)
		}
	})
}

// FuzzDecodeRequest feeds arbitrary bodies and query strings to the
// request decoder and every getter: no panics, and every failure is an
// invalid-argument error (a 400).
func FuzzDecodeRequest(f *testing.F) {
	f.Add([]byte(`{"run_id":"r","key":"k","value":"NaN","timestamp":"1","step":2}`), "run_id=r&experiment_ids=1&experiment_ids=2")
	f.Add([]byte(`{"metrics":[{"key":1}],"tags":[{}],"experiment_ids":[1,"a",{}],"run_view_type":"ALL"}`), "max_results=1e99")
	f.Add([]byte(`"{\"experiment_id\":7}"`), "view_type=2&order_by=name")
	f.Add([]byte(`{"datasets":[{"dataset":{"name":null},"tags":[{"key":"k"}]}]}`), "%zz=1&a=%ff")
	f.Fuzz(func(t *testing.T, body []byte, rawQuery string) {
		check := func(err error) {
			if err != nil && !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Fatalf("error %v is not an invalid argument", err)
			}
		}
		exercise := func(q *request) {
			_, err := q.runID()
			check(err)
			_, err = q.metric(root, "")
			check(err)
			_, _, err = q.str(root, "experiment_id", "")
			check(err)
			_, err = q.strList(root, "experiment_ids")
			check(err)
			_, err = q.strList(root, "order_by")
			check(err)
			_, _, err = q.int64(root, "max_results", "")
			check(err)
			_, _, err = q.int32(root, "max_results", "")
			check(err)
			_, _, err = q.enum(root, "run_view_type", viewTypeNames)
			check(err)
			_, _, err = q.float(root, "value", "")
			check(err)
			_, err = q.tags(root, "tags", "", true)
			check(err)
			check(q.objects(root, "metrics", "", func(_ int, e int32, path string) error {
				_, err := q.metric(e, path)
				return err
			}))
			check(q.objects(root, "datasets", "", func(_ int, e int32, path string) error {
				d, err := q.object(e, "dataset", path)
				if err == nil && d >= 0 {
					_, _, err = q.str(d, "name", path+".dataset")
				}
				return err
			}))
		}

		r := newReq("POST", "/", string(body), ctJSON)
		q, err := decodeRequest(r)
		check(err)
		if err == nil {
			exercise(q)
			q.release()
		}

		vals, err := url.ParseQuery(rawQuery)
		if err != nil {
			return
		}
		r = newReq("GET", "/?"+vals.Encode(), "", "")
		q, err = decodeRequest(r)
		check(err)
		if err == nil {
			exercise(q)
			q.release()
		}
	})
}
