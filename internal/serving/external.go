package serving

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ferry-ml/ferry/internal/blob"
	"github.com/ferry-ml/ferry/internal/modelrt"
	"github.com/ferry-ml/ferry/internal/modelrt/remote"
	"github.com/ferry-ml/ferry/internal/registry"
	"github.com/ferry-ml/ferry/internal/tracking"
)

// ArtifactTree is what RuntimeLoader reads of the artifact store to copy
// an external runtime's files to disk (blob.Store does).
type ArtifactTree interface {
	Artifacts
	List(ctx context.Context, dir string) ([]blob.Entry, error)
}

// RuntimeLoader loads every kind of version: one whose source is an
// http(s) URL is an external runtime already running there; one whose
// files hold a ferry-runtime.yaml is an external runtime Ferry connects
// to or starts (its files copied below WorkDir first); anything else is
// loaded by Native into a native runtime.
type RuntimeLoader struct {
	Native    ArtifactLoader
	Artifacts ArtifactTree
	// WorkDir holds the local copies of command runtimes' files.
	WorkDir string
	Logger  *slog.Logger
	// MaxBytes bounds the files copied for one runtime (default 1 GiB).
	MaxBytes int64
}

// Load implements Loader.
func (l RuntimeLoader) Load(ctx context.Context, mv registry.ModelVersion) (*Loaded, error) {
	loc := mv.StorageLocation
	if loc == "" {
		loc = mv.Source
	}
	logger := l.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logger = logger.With("model", mv.Name, "version", mv.Version)
	if strings.HasPrefix(loc, "http://") || strings.HasPrefix(loc, "https://") {
		spec, err := remote.ParseURLSource(loc)
		if err != nil {
			return nil, external(err)
		}
		return l.open(ctx, spec, "", logger)
	}
	key, ok := tracking.ArtifactKey(loc)
	if !ok {
		return l.Native.Load(ctx, mv)
	}
	key = strings.Trim(key, "/")
	b, err := l.Native.read(ctx, path.Join(key, remote.SpecFile), 1<<20)
	if errors.Is(err, fs.ErrNotExist) {
		return l.Native.Load(ctx, mv)
	}
	if err != nil {
		return nil, err
	}
	spec, err := remote.ParseSpec(b)
	if err != nil {
		return nil, err
	}
	dir := ""
	if len(spec.Command) > 0 {
		dir = filepath.Join(l.WorkDir, fmt.Sprintf("%x", mv.Name), strconv.FormatInt(mv.Version, 10))
		if err := l.copyTree(ctx, key, dir); err != nil {
			return nil, fmt.Errorf("copy the runtime's files: %w", err)
		}
	}
	return l.open(ctx, spec, dir, logger)
}

func (l RuntimeLoader) open(ctx context.Context, spec remote.Spec, dir string, logger *slog.Logger) (*Loaded, error) {
	m, err := remote.Open(ctx, spec, dir, remote.Options{Logger: logger})
	if err != nil {
		return nil, external(err)
	}
	return &Loaded{Runtime: m, Flavor: "external"}, nil
}

// external makes a runtime that cannot be reached or understood a
// version that cannot be served.
func external(err error) error {
	if errors.Is(err, modelrt.ErrBadModel) {
		return err
	}
	return fmt.Errorf("%w: %w", modelrt.ErrBadModel, err)
}

// copyTree copies the artifact directory key to dir, replacing what was
// there, within MaxBytes.
func (l RuntimeLoader) copyTree(ctx context.Context, key, dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	limit := l.MaxBytes
	if limit <= 0 {
		limit = 1 << 30
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	var copied int64
	var walk func(sub string) error
	walk = func(sub string) error {
		entries, err := l.Artifacts.List(ctx, path.Join(key, sub))
		if err != nil {
			return err
		}
		for _, e := range entries {
			rel := strings.TrimPrefix(strings.TrimPrefix(e.Path, key), "/")
			if e.IsDir {
				if err := root.MkdirAll(rel, 0o755); err != nil {
					return err
				}
				if err := walk(rel); err != nil {
					return err
				}
				continue
			}
			if copied += e.Size; copied > limit {
				return fmt.Errorf("%w: the runtime's files exceed %d bytes", modelrt.ErrBadModel, limit)
			}
			if err := l.copyFile(ctx, root, e.Path, rel); err != nil {
				return err
			}
		}
		return nil
	}
	return walk("")
}

func (l RuntimeLoader) copyFile(ctx context.Context, root *os.Root, key, rel string) error {
	rc, _, err := l.Artifacts.Get(ctx, key)
	if err != nil {
		return err
	}
	defer rc.Close()
	f, err := root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, rc); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
