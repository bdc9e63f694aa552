package dataset

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/ferry-ml/ferry/internal/audit"
	"github.com/ferry-ml/ferry/internal/errdefs"
)

// Version is an immutable, content-addressed version of a named dataset:
// its file lives in the artifact store, keyed by its SHA-256 digest, and
// its profile (with the inferred schema) is kept beside the record.
type Version struct {
	Name    string `json:"name"`
	Version int64  `json:"version"`
	// Digest is the hex SHA-256 of the file's bytes.
	Digest string `json:"digest"`
	// Source is the file's location (mlflow-artifacts:/datasets/NAME/DIGEST/FILE).
	Source    string          `json:"source"`
	Format    string          `json:"format"`
	Size      int64           `json:"size"`
	Rows      int64           `json:"rows"`
	Schema    Schema          `json:"schema"`
	Profile   json.RawMessage `json:"profile"`
	CreatedAt int64           `json:"created_at"`
	CreatedBy string          `json:"created_by,omitempty"`
}

// URI is the lineage and audit resource of a version (the one tracking's
// dataset inputs use).
func (v Version) URI() string {
	return "datasets:/" + v.Name + "@" + v.Digest[:min(len(v.Digest), MLflowDigestLen)]
}

// VersionStore keeps dataset versions.
type VersionStore interface {
	// CreateDatasetVersion numbers and stores v, or, when the dataset
	// already has a version with v's digest, returns that one (created
	// false): adding the same bytes twice is one version.
	CreateDatasetVersion(ctx context.Context, v Version) (stored Version, created bool, err error)
	// GetDatasetVersion returns a version; version 0 is the latest.
	GetDatasetVersion(ctx context.Context, name string, version int64) (Version, error)
	ListDatasetVersions(ctx context.Context, name string) ([]Version, error)
	// ListDatasets returns the latest version of every dataset.
	ListDatasets(ctx context.Context) ([]Version, error)
}

// Versions registers dataset versions, checking each file in the
// artifact store against its digest.
type Versions struct {
	Store VersionStore
	// Open reads a file of the artifact store by its mlflow-artifacts:
	// location.
	Open func(ctx context.Context, source string) (io.ReadCloser, error)
	Now  func() int64
	// OnAdded, when set, is told of every new version (pipeline
	// triggers).
	OnAdded func(ctx context.Context, v Version)
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// ValidateName checks a dataset name: 1 to 128 letters, digits, '.', '_'
// or '-', starting with a letter or digit.
func ValidateName(name string) error {
	if !nameRE.MatchString(name) {
		return errdefs.InvalidArgument("Invalid dataset name '%s': use 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit.", name)
	}
	return nil
}

// Add registers a version whose file was uploaded to source, described
// by its profile (ProfileCSV's). The file is read back and hashed: a
// digest or size that does not match the bytes stored is refused.
func (s *Versions) Add(ctx context.Context, name, source string, profile []byte) (Version, bool, error) {
	if err := ValidateName(name); err != nil {
		return Version{}, false, err
	}
	var p Profile
	if err := json.Unmarshal(profile, &p); err != nil {
		return Version{}, false, errdefs.InvalidArgument("The profile is not a dataset profile: %v", err)
	}
	if len(p.Digest) != 64 || strings.Trim(p.Digest, "0123456789abcdef") != "" {
		return Version{}, false, errdefs.InvalidArgument("The profile's digest must be 64 lower-case hex digits (SHA-256), got %q.", p.Digest)
	}
	rc, err := s.Open(ctx, source)
	if err != nil {
		return Version{}, false, fmt.Errorf("dataset file %s: %w", source, err)
	}
	h := sha256.New()
	n, err := io.Copy(h, rc)
	rc.Close()
	if err != nil {
		return Version{}, false, err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != p.Digest || n != p.Size {
		return Version{}, false, errdefs.InvalidArgument("The file at %s (%d bytes, sha256 %s) is not the one profiled (%d bytes, sha256 %s).", source, n, got, p.Size, p.Digest)
	}
	format := "csv"
	if p.Format == "parquet" {
		format = "parquet"
	}
	v := Version{Name: name, Digest: p.Digest, Source: source, Format: format, Size: p.Size, Rows: p.Rows,
		Schema: p.Schema(), Profile: profile, CreatedAt: s.Now(), CreatedBy: audit.Actor(ctx)}
	stored, created, err := s.Store.CreateDatasetVersion(ctx, v)
	if err != nil {
		return Version{}, false, err
	}
	if created {
		audit.Note(ctx, audit.Change{Action: "dataset.add_version", Resource: stored.URI(), After: stored.Digest})
		if s.OnAdded != nil {
			s.OnAdded(ctx, stored)
		}
	}
	return stored, created, nil
}

// Get returns a version (0: the latest).
func (s *Versions) Get(ctx context.Context, name string, version int64) (Version, error) {
	if err := ValidateName(name); err != nil {
		return Version{}, err
	}
	if version < 0 {
		return Version{}, errdefs.InvalidArgument("A dataset version is a positive number, got %d.", version)
	}
	return s.Store.GetDatasetVersion(ctx, name, version)
}

// List returns a dataset's versions, newest first, or with name "" the
// latest version of every dataset.
func (s *Versions) List(ctx context.Context, name string) ([]Version, error) {
	if name == "" {
		return s.Store.ListDatasets(ctx)
	}
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	vs, err := s.Store.ListDatasetVersions(ctx, name)
	if err == nil && len(vs) == 0 {
		return nil, errdefs.NotFound("Dataset '%s' does not exist", name)
	}
	return vs, err
}

// ParseRef reads NAME, NAME@VERSION or NAME@latest.
func ParseRef(ref string) (name string, version int64, err error) {
	name, v, ok := strings.Cut(ref, "@")
	if !ok || v == "latest" {
		return name, 0, ValidateName(name)
	}
	if _, err := fmt.Sscanf(v, "%d", &version); err != nil || version < 1 || fmt.Sprint(version) != v {
		return "", 0, errdefs.InvalidArgument("Invalid dataset reference '%s': use NAME, NAME@VERSION or NAME@latest.", ref)
	}
	return name, version, ValidateName(name)
}
