package dataset

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"hash"
	"io"
)

// span locates one field of a batch: buf[off:end] when off ≥ 0, or
// esc[-off-1:end] for a quoted field that had to be unescaped.
type span struct{ off, end int32 }

// batch is a run of complete records: their raw bytes, the unescaped
// contents of quoted fields that needed rewriting, and the fields of every
// record, row-major.
type batch struct {
	buf    []byte
	esc    []byte
	fields []span
	rows   int
	// pending counts the column workers that still have to read the batch.
	pending int32
}

func (b *batch) field(s span) []byte {
	if s.off >= 0 {
		return b.buf[s.off:s.end]
	}
	return b.esc[-s.off-1 : s.end]
}

// scanner is a hand-written RFC 4180 reader with the semantics of
// encoding/csv's Reader (FieldsPerRecord 0, LazyQuotes false, no comments):
// a record ends at "\n" or "\r\n", "\r\n" inside quoted fields reads as
// "\n", a trailing "\r" before EOF is dropped, blank lines are skipped, a
// quote inside an unquoted field and anything but a delimiter or line end
// after a closing quote are errors. It reads into reusable batch buffers
// and allocates nothing per record. It hashes every byte it reads.
type scanner struct {
	r     io.Reader
	delim byte
	sum   hash.Hash
	bytes int64
	chunk int

	pending []byte // an incomplete record carried to the next batch
	eof     bool
	line    int64 // line number of the next unread byte (1-based)
	ncol    int   // fields per record; 0 until the header is read
}

func newScanner(r io.Reader, delim byte) *scanner {
	return &scanner{r: r, delim: delim, sum: sha256.New(), chunk: 1 << 20, line: 1}
}

// maxRecordBytes bounds one record, so that an unclosed quote cannot make
// the scanner buffer a whole file.
const maxRecordBytes = 64 << 20

// errIncomplete means the record continues past the bytes read so far.
var errIncomplete = errors.New("incomplete record")

// fill reads into b.buf (after the carried-over bytes) until it holds at
// least want bytes or the input ends.
func (s *scanner) fill(b *batch, want int) error {
	if cap(b.buf) < want {
		nb := make([]byte, len(b.buf), want)
		copy(nb, b.buf)
		b.buf = nb
	}
	for len(b.buf) < want && !s.eof {
		n, err := s.r.Read(b.buf[len(b.buf):want])
		s.sum.Write(b.buf[len(b.buf) : len(b.buf)+n])
		s.bytes += int64(n)
		b.buf = b.buf[:len(b.buf)+n]
		if err == io.EOF {
			s.eof = true
		} else if err != nil {
			return err
		}
	}
	return nil
}

// next fills b with the next complete records. It returns io.EOF when the
// input is exhausted and b holds no record. Malformed records are passed to
// bad, which returns a non-nil error to stop; the scanner then resumes at the
// next line. A read error is returned as is.
func (s *scanner) next(b *batch, bad func(*RowError) error) error {
	b.buf = append(b.buf[:0], s.pending...)
	b.esc, b.fields, b.rows = b.esc[:0], b.fields[:0], 0
	want := s.chunk
	pos := 0
	for {
		if err := s.fill(b, want); err != nil {
			return err
		}
		for {
			next, err := s.record(b, pos)
			if err == errIncomplete {
				break
			}
			if err != nil {
				var re *RowError
				if !errors.As(err, &re) {
					return err
				}
				if err := bad(re); err != nil {
					return err
				}
			}
			if next == pos { // end of input
				break
			}
			pos = next
		}
		if b.rows > 0 || s.eof {
			break
		}
		if pos > 0 {
			// Only blank lines or skipped rows so far: drop them.
			b.buf = b.buf[:copy(b.buf, b.buf[pos:])]
			pos = 0
			continue
		}
		// Not one complete record fits: read more into this batch.
		if len(b.buf) >= maxRecordBytes {
			return malformed(s.line, "record longer than %d bytes (an unclosed quote?)", maxRecordBytes)
		}
		want = 2 * len(b.buf)
		if want < s.chunk {
			want = s.chunk
		}
	}
	s.pending = append(s.pending[:0], b.buf[pos:]...)
	if b.rows == 0 && s.eof && len(s.pending) == 0 {
		return io.EOF
	}
	return nil
}

// record parses the record starting at pos. It returns the position after
// it; pos itself at the end of the input. On errIncomplete nothing is
// consumed. A malformed record is skipped up to the end of its line and
// returned as a *RowError together with the position after that line.
func (s *scanner) record(b *batch, pos int) (int, error) {
	data := b.buf
	if pos >= len(data) {
		if s.eof {
			return pos, nil
		}
		return pos, errIncomplete
	}
	// Blank lines ("\n", "\r\n", or "\r" before EOF) are skipped.
	switch {
	case data[pos] == '\n':
		s.line++
		return pos + 1, nil
	case data[pos] == '\r' && pos+1 < len(data) && data[pos+1] == '\n':
		s.line++
		return pos + 2, nil
	case data[pos] == '\r' && pos+1 == len(data):
		if s.eof {
			return pos + 1, nil
		}
		return pos, errIncomplete
	}
	startLine, line := s.line, s.line
	nf, ne0 := len(b.fields), len(b.esc)
	fail := func(p int, reason string) (int, error) {
		b.fields, b.esc = b.fields[:nf], b.esc[:ne0]
		// Resume after the line the error is on.
		if i := bytes.IndexByte(data[p:], '\n'); i >= 0 {
			s.line = line + 1
			return p + i + 1, malformed(line, "%s", reason)
		}
		if !s.eof {
			// The rest of the line is not read yet: come back when it is.
			return pos, errIncomplete
		}
		s.line = line
		return len(data), malformed(line, "%s", reason)
	}
	incomplete := func() (int, error) {
		b.fields, b.esc = b.fields[:nf], b.esc[:ne0]
		return pos, errIncomplete
	}
	p := pos
	for {
		// One field starts at p.
		if p < len(data) && data[p] == '"' {
			p++
			start, ne := p, len(b.esc)
			copied := false
			for {
				j := bytes.IndexByte(data[p:], '"')
				if j < 0 {
					if !s.eof {
						return incomplete()
					}
					line = startLine
					return fail(len(data), `extraneous or missing " in quoted-field: quoted field never closed`)
				}
				seg := data[p : p+j]
				if n := bytes.Count(seg, []byte{'\n'}); n > 0 {
					line += int64(n)
					if !copied && bytes.Contains(seg, []byte("\r\n")) {
						b.esc = append(b.esc, data[start:p]...)
						copied = true
					}
				}
				if copied {
					b.esc = appendNormalised(b.esc, seg)
				}
				p += j + 1
				if p == len(data) && !s.eof {
					return incomplete()
				}
				if p < len(data) && data[p] == '"' { // doubled quote
					if !copied {
						b.esc = append(b.esc, data[start:p]...)
						copied = true
					} else {
						b.esc = append(b.esc, '"')
					}
					p++
					continue
				}
				break
			}
			if copied {
				b.fields = append(b.fields, span{int32(-ne - 1), int32(len(b.esc))})
			} else {
				b.fields = append(b.fields, span{int32(start), int32(p - 1)})
			}
			// After the closing quote: delimiter, line end or EOF.
			switch {
			case p == len(data): // EOF (incomplete handled above)
				return s.endRecord(b, startLine, line, len(data), nf)
			case data[p] == s.delim:
				p++
				continue
			case data[p] == '\n':
				return s.endRecord(b, startLine, line+1, p+1, nf)
			case data[p] == '\r':
				if p+1 < len(data) && data[p+1] == '\n' {
					return s.endRecord(b, startLine, line+1, p+2, nf)
				}
				if p+1 == len(data) {
					if !s.eof {
						return incomplete()
					}
					return s.endRecord(b, startLine, line, p+1, nf)
				}
			}
			return fail(p, `extraneous or missing " in quoted-field`)
		}
		// Unquoted field.
		start := p
		for p < len(data) {
			c := data[p]
			if c == s.delim || c == '\n' {
				break
			}
			if c == '"' {
				return fail(p, `bare " in non-quoted-field`)
			}
			if c == '\r' {
				if p+1 == len(data) && !s.eof {
					return incomplete()
				}
				if p+1 == len(data) || data[p+1] == '\n' {
					break
				}
			}
			p++
		}
		if p == len(data) && !s.eof {
			return incomplete()
		}
		b.fields = append(b.fields, span{int32(start), int32(p)})
		switch {
		case p == len(data):
			return s.endRecord(b, startLine, line, p, nf)
		case data[p] == s.delim:
			p++
			continue
		case data[p] == '\n':
			return s.endRecord(b, startLine, line+1, p+1, nf)
		default: // '\r' before '\n' or before EOF
			if p+1 < len(data) {
				return s.endRecord(b, startLine, line+1, p+2, nf)
			}
			return s.endRecord(b, startLine, line, p+1, nf)
		}
	}
}

// endRecord checks the field count of the record just parsed (fields from
// index nf on) and accepts or rejects it.
func (s *scanner) endRecord(b *batch, startLine, nextLine int64, next, nf int) (int, error) {
	s.line = nextLine
	got := len(b.fields) - nf
	if s.ncol == 0 {
		s.ncol = got
	} else if got != s.ncol {
		b.fields = b.fields[:nf]
		return next, malformed(startLine, "wrong number of fields: got %d, want %d", got, s.ncol)
	}
	b.rows++
	return next, nil
}

// appendNormalised appends seg to dst with every "\r\n" read as "\n".
func appendNormalised(dst, seg []byte) []byte {
	for {
		i := bytes.Index(seg, []byte("\r\n"))
		if i < 0 {
			return append(dst, seg...)
		}
		dst = append(dst, seg[:i]...)
		seg = seg[i+1:]
	}
}
