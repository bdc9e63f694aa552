package remote

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
)

// maxLine bounds one logged line of the runtime's output; the rest of a
// longer line is dropped.
const maxLine = 4096

// lineWriter logs what a process writes, one record per line, and keeps
// the last non-blank line (the reason a crashed process gives).
type lineWriter struct {
	log    *slog.Logger
	stream string

	mu        sync.Mutex
	pid       int
	buf       []byte
	truncated bool
	last      string
}

func newLineWriter(log *slog.Logger, stream string) *lineWriter {
	return &lineWriter{log: log, stream: stream}
}

func (w *lineWriter) setPID(pid int) {
	w.mu.Lock()
	w.pid = pid
	w.mu.Unlock()
}

// Write implements io.Writer; it never fails.
func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		chunk := p
		if i >= 0 {
			chunk, p = p[:i], p[i+1:]
		} else {
			p = nil
		}
		if room := maxLine - len(w.buf); len(chunk) > room {
			chunk = chunk[:room]
			w.truncated = true
		}
		w.buf = append(w.buf, chunk...)
		if i >= 0 {
			w.emit()
		}
	}
	return n, nil
}

// emit logs the buffered line. The caller holds mu.
func (w *lineWriter) emit() {
	line := strings.ToValidUTF8(strings.TrimRight(string(w.buf), "\r"), "?")
	if w.truncated {
		line += " [line truncated]"
	}
	w.buf, w.truncated = w.buf[:0], false
	if strings.TrimSpace(line) == "" {
		return
	}
	w.last = line
	w.log.Info("external runtime output", "stream", w.stream, "pid", w.pid, "line", line)
}

// flush logs a last line that has no newline.
func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 || w.truncated {
		w.emit()
	}
}

// lastLine returns the last non-blank line written (at most 512 bytes).
func (w *lineWriter) lastLine() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return truncate(w.last, maxErrorBody)
}
