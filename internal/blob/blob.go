// Package blob is Ferry's artifact storage: a flat namespace of files
// addressed by slash-separated keys, with directories implied by the keys.
// Implementations live in subpackages (fs, later s3) and all pass the
// conformance suite in blobtest.
package blob

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// Entry describes a file or a directory below a listed prefix.
type Entry struct {
	// Path is the full key of the entry (no leading or trailing slash).
	Path    string
	IsDir   bool
	Size    int64 // bytes; 0 for directories
	ModTime time.Time
}

// Store keeps artifact files. Keys are validated with CleanKey; an
// invalid key is errdefs.ErrInvalidArgument, a missing one errdefs.ErrNotFound.
// Directories are implied by keys, as in S3: a directory exists while a
// file below it does. Entry.Path is always the cleaned key.
type Store interface {
	// Put writes the whole of r under key, replacing any previous file.
	// Readers see either the old file or the complete new one, never a
	// partial write; a failed or cancelled Put leaves no file behind and
	// returns an error wrapping the reader's error or ctx.Err(). A Put
	// below a file or over a directory is errdefs.ErrConflict.
	Put(ctx context.Context, key string, r io.Reader) (int64, error)
	// Get opens a file for reading; a directory is ErrInvalidArgument.
	// The reader also implements io.Seeker when the implementation can
	// seek (used for HTTP range requests).
	Get(ctx context.Context, key string) (io.ReadCloser, Entry, error)
	// Stat describes a file or directory.
	Stat(ctx context.Context, key string) (Entry, error)
	// List returns the direct children of the directory dir ("" is the
	// root), sorted by path. A dir that does not exist yields no entries
	// and no error; a dir that is a file yields ErrInvalidArgument.
	List(ctx context.Context, dir string) ([]Entry, error)
	// Delete removes a file or a whole directory tree. Deleting what does
	// not exist is ErrNotFound.
	Delete(ctx context.Context, key string) error
}

// Key length limits, S3's: 1024 bytes in all, 255 per segment.
const (
	MaxKeyLength     = 1024
	MaxSegmentLength = 255
)

// CleanKey validates a key and returns its canonical form: relative,
// slash-separated, no empty, "." or ".." segments, no backslashes or NUL
// bytes, within the length limits; a trailing slash is dropped. The empty
// key (the root, also written "/") is allowed only when allowRoot is set.
func CleanKey(key string, allowRoot bool) (string, error) {
	k := strings.TrimSuffix(key, "/")
	if k == "" {
		if allowRoot {
			return "", nil
		}
		return "", errdefs.InvalidArgument("Invalid path: an empty artifact path is not allowed")
	}
	if strings.ContainsAny(k, "\\\x00") || strings.HasPrefix(k, "/") || len(k) > MaxKeyLength {
		return "", errdefs.InvalidArgument("Invalid path: '%s'", key)
	}
	for _, seg := range strings.Split(k, "/") {
		if seg == "" || seg == "." || seg == ".." || len(seg) > MaxSegmentLength {
			return "", errdefs.InvalidArgument("Invalid path: '%s'", key)
		}
	}
	return k, nil
}
