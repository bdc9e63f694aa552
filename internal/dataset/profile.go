package dataset

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// Options tune ProfileCSV.
type Options struct {
	// Delimiter separates fields; 0 means ','. It must be a single-byte
	// character other than '"', '\r' and '\n'.
	Delimiter rune
	// MaxErrors is how many malformed rows are tolerated: each is skipped
	// and listed in Profile.Malformed. One more fails the profile with all
	// of them. 0 fails at the first.
	MaxErrors int
	// Workers is the number of goroutines computing column statistics
	// (besides the one parsing); 0 means min(GOMAXPROCS, 2). Results do
	// not depend on it: every column is processed by one worker, in order.
	Workers int
}

// Profile describes one dataset version.
type Profile struct {
	// Digest is the hex SHA-256 of the input bytes: the content address.
	Digest string `json:"digest"`
	// Size is the number of input bytes.
	Size int64 `json:"size"`
	// Format is "parquet" for a Parquet file ("" or "csv": CSV).
	Format string `json:"format,omitempty"`
	// Rows counts data rows (the header and blank lines excluded).
	Rows    int64           `json:"rows"`
	Columns []ColumnProfile `json:"columns"`
	// Malformed lists rows skipped under Options.MaxErrors.
	Malformed []RowError `json:"malformed,omitempty"`
}

// batches is the number of batch buffers cycling between the parser and
// the column workers.
const batches = 4

// ProfileCSV reads a CSV file (header row first, RFC 4180 quoting) from r
// once and profiles it. Malformed input fails with an error matching
// ErrMalformedCSV and errdefs.ErrInvalidArgument that names the line; a
// read error is returned wrapped; ctx cancels between batches of rows.
func ProfileCSV(ctx context.Context, r io.Reader, opts Options) (*Profile, error) {
	delim := opts.Delimiter
	if delim == 0 {
		delim = ','
	}
	if delim > 0x7f || delim == '"' || delim == '\r' || delim == '\n' {
		return nil, errdefs.InvalidArgument("dataset: invalid delimiter %q", delim)
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = min(runtime.GOMAXPROCS(0), 2)
	}
	s := newScanner(r, byte(delim))
	p := &Profile{}
	bad := func(e *RowError) error {
		if s.ncol == 0 {
			return fmt.Errorf("dataset: header: %w", e)
		}
		p.Malformed = append(p.Malformed, *e)
		if len(p.Malformed) <= opts.MaxErrors {
			return nil
		}
		if len(p.Malformed) == 1 {
			return fmt.Errorf("dataset: %w", e)
		}
		errs := make([]error, len(p.Malformed))
		for i := range p.Malformed {
			errs[i] = &p.Malformed[i]
		}
		return fmt.Errorf("dataset: %d malformed rows (at most %d allowed): %w", len(errs), opts.MaxErrors, errors.Join(errs...))
	}

	free := make(chan *batch, batches)
	for range batches {
		free <- &batch{}
	}
	var (
		cols  []*column
		chans []chan *batch
		wg    sync.WaitGroup
	)
	stop := func() {
		for _, ch := range chans {
			close(ch)
		}
		wg.Wait()
	}
	start := func(names []string) {
		workers = min(workers, len(names))
		ncol := len(names)
		for _, n := range names {
			cols = append(cols, newColumn(n))
		}
		for w := range workers {
			ch := make(chan *batch, batches)
			chans = append(chans, ch)
			wg.Go(func() {
				for b := range ch {
					for ci := w; ci < ncol; ci += workers {
						c := cols[ci]
						for r := range b.rows {
							c.add(b.field(b.fields[r*ncol+ci]))
						}
					}
					if atomic.AddInt32(&b.pending, -1) == 0 {
						free <- b
					}
				}
			})
		}
	}
	for {
		if err := ctx.Err(); err != nil {
			stop()
			return nil, fmt.Errorf("dataset: %w", err)
		}
		b := <-free
		err := s.next(b, bad)
		if err == io.EOF {
			break
		}
		if err != nil {
			stop()
			var re *RowError
			if errors.As(err, &re) {
				return nil, err
			}
			return nil, fmt.Errorf("dataset: reading csv: %w", err)
		}
		if cols == nil {
			names, err := header(b, s.ncol)
			if err != nil {
				return nil, err
			}
			start(names)
		}
		p.Rows += int64(b.rows)
		if b.rows == 0 {
			free <- b
			continue
		}
		b.pending = int32(len(chans))
		for _, ch := range chans {
			ch <- b
		}
	}
	stop()
	if cols == nil {
		return nil, fmt.Errorf("dataset: %w", malformed(1, "missing header row"))
	}
	p.Digest = hex.EncodeToString(s.sum.Sum(nil))
	p.Size = s.bytes
	for _, c := range cols {
		p.Columns = append(p.Columns, c.profile())
	}
	return p, nil
}

// header takes the first record out of b and returns its names. Names must
// be unique; a UTF-8 byte-order mark before the first is dropped.
func header(b *batch, ncol int) ([]string, error) {
	names := make([]string, ncol)
	seen := make(map[string]bool, ncol)
	for i := range names {
		names[i] = string(b.field(b.fields[i]))
		if i == 0 {
			names[0] = strings.TrimPrefix(names[0], "\ufeff")
		}
		if seen[names[i]] {
			return nil, fmt.Errorf("dataset: %w", malformed(1, "duplicate column name %q", names[i]))
		}
		seen[names[i]] = true
	}
	b.fields = b.fields[:copy(b.fields, b.fields[ncol:])]
	b.rows--
	return names, nil
}
