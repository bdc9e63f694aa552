package mlflow

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/ferry-ml/ferry/internal/tracking"
)

// Responses are written by hand as MLflow's message_to_json renders its
// protobuf messages: snake_case field names in proto field-number order,
// int64 as JSON numbers, enums by name, unset fields and empty repeated
// fields omitted, non-finite doubles as the strings "NaN", "Infinity" and
// "-Infinity". (MLflow indents its output; Ferry writes it compact.)

var encPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func getBuf() *[]byte { return encPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) > maxPooledBuffer {
		return
	}
	*b = (*b)[:0]
	encPool.Put(b)
}

// writeJSON sends a 200 answer with body b.
func writeJSON(w http.ResponseWriter, b []byte) {
	h := w.Header()
	h["Content-Type"] = contentTypeJSON
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

var contentTypeJSON = []string{"application/json"}

// obj helps writing a JSON object with the right commas.
type obj struct {
	b     []byte
	fresh bool
}

func openObj(b []byte) obj { return obj{b: append(b, '{'), fresh: true} }

func (o *obj) key(name string) {
	if !o.fresh {
		o.b = append(o.b, ',')
	}
	o.fresh = false
	o.b = append(o.b, '"')
	o.b = append(o.b, name...)
	o.b = append(o.b, '"', ':')
}

func (o *obj) str(name, v string) {
	o.key(name)
	o.b = appendString(o.b, v)
}

// optStr writes a string field only when it is not empty.
func (o *obj) optStr(name, v string) {
	if v != "" {
		o.str(name, v)
	}
}

func (o *obj) int(name string, v int64) {
	o.key(name)
	o.b = strconv.AppendInt(o.b, v, 10)
}

func (o *obj) bool(name string, v bool) {
	o.key(name)
	o.b = strconv.AppendBool(o.b, v)
}

func (o *obj) float(name string, v float64) {
	o.key(name)
	o.b = appendFloat(o.b, v)
}

func (o *obj) close() []byte { return append(o.b, '}') }

// appendFloat writes a double as protobuf JSON does: non-finite values as
// strings, others as the shortest representation that round-trips.
func appendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	// Same formatting as encoding/json.
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// ---- messages

// list adds the array field name with items rendered by enc; an empty
// list is omitted, as protobuf JSON omits empty repeated fields.
func list[T any](o *obj, name string, items []T, enc func([]byte, *T) []byte) {
	if len(items) == 0 {
		return
	}
	o.key(name)
	o.b = append(o.b, '[')
	for i := range items {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b = enc(o.b, &items[i])
	}
	o.b = append(o.b, ']')
}

func appendTag(b []byte, t *tracking.Tag) []byte {
	o := openObj(b)
	o.str("key", t.Key)
	o.str("value", t.Value)
	return o.close()
}

func appendParam(b []byte, p *tracking.Param) []byte {
	o := openObj(b)
	o.str("key", p.Key)
	o.str("value", p.Value)
	return o.close()
}

func appendExperiment(b []byte, e *tracking.Experiment) []byte {
	o := openObj(b)
	o.str("experiment_id", e.ID)
	o.str("name", e.Name)
	o.str("artifact_location", e.ArtifactLocation)
	o.str("lifecycle_stage", string(e.LifecycleStage))
	o.int("last_update_time", e.LastUpdateTime)
	o.int("creation_time", e.CreationTime)
	list(&o, "tags", e.Tags, appendTag)
	return o.close()
}

func appendRunInfo(b []byte, ri *tracking.RunInfo) []byte {
	o := openObj(b)
	o.str("run_uuid", ri.RunID)
	o.str("experiment_id", ri.ExperimentID)
	o.str("run_name", ri.RunName)
	o.str("user_id", ri.UserID)
	o.str("status", string(ri.Status))
	o.int("start_time", ri.StartTime)
	if ri.EndTime != nil {
		o.int("end_time", *ri.EndTime)
	}
	o.str("artifact_uri", ri.ArtifactURI)
	o.str("lifecycle_stage", string(ri.LifecycleStage))
	o.str("run_id", ri.RunID)
	return o.close()
}

func appendMetric(b []byte, m *tracking.Metric) []byte {
	o := openObj(b)
	o.str("key", m.Key)
	o.float("value", m.Value)
	o.int("timestamp", m.Timestamp)
	o.int("step", m.Step)
	return o.close()
}

func appendRun(b []byte, run *tracking.Run) []byte {
	o := openObj(b)
	o.key("info")
	o.b = appendRunInfo(o.b, &run.Info)

	o.key("data")
	d := openObj(o.b)
	list(&d, "metrics", run.Data.Metrics, appendMetric)
	list(&d, "params", run.Data.Params, appendParam)
	list(&d, "tags", run.Data.Tags, appendTag)
	o.b = d.close()

	o.key("inputs")
	in := openObj(o.b)
	list(&in, "dataset_inputs", run.Inputs, appendDatasetInput)
	o.b = in.close()
	return o.close()
}

func appendDatasetInput(b []byte, di *tracking.DatasetInput) []byte {
	o := openObj(b)
	list(&o, "tags", di.Tags, appendTag)
	o.key("dataset")
	d := openObj(o.b)
	ds := &di.Dataset
	d.str("name", ds.Name)
	d.str("digest", ds.Digest)
	d.str("source_type", ds.SourceType)
	d.str("source", ds.Source)
	d.optStr("schema", ds.Schema)
	d.optStr("profile", ds.Profile)
	o.b = d.close()
	return o.close()
}

func appendFileInfo(b []byte, path string, isDir bool, size int64) []byte {
	o := openObj(b)
	o.str("path", path)
	o.bool("is_dir", isDir)
	if !isDir {
		o.int("file_size", size)
	}
	return o.close()
}
