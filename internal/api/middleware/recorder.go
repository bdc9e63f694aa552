package middleware

import (
	"io"
	"net/http"
)

// recorder wraps a ResponseWriter to learn the status and the size of the
// response. One recorder serves the whole pipeline: middlewares reuse the
// recorder they find instead of wrapping again.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
}

// ensureRecorder returns w as a recorder, wrapping it if it is not one.
func ensureRecorder(w http.ResponseWriter) *recorder {
	if rec, ok := w.(*recorder); ok {
		return rec
	}
	return &recorder{ResponseWriter: w}
}

func (w *recorder) WriteHeader(code int) {
	if w.wrote {
		return
	}
	// Informational answers (103 Early Hints, 100 Continue) precede the
	// real one; 101 Switching Protocols is final.
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.status, w.wrote = code, true
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// ReadFrom keeps the underlying writer's io.ReaderFrom (sendfile for files
// served with http.ServeContent) reachable through the wrapper.
func (w *recorder) ReadFrom(src io.Reader) (int64, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(writerOnly{w.ResponseWriter}, src)
	}
	w.bytes += n
	return n, err
}

// Flush implements http.Flusher when the underlying writer does.
func (w *recorder) Flush() {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Status is the status written so far (200 if a body was written without
// an explicit status, 0 if nothing was written).
func (w *recorder) Status() int { return w.status }

type writerOnly struct{ io.Writer }
