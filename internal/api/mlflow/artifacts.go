package mlflow

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/ferry-ml/ferry/internal/blob"
	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/tracking"
)

// The artifact proxy (mlflow_artifacts.proto): keys are paths relative to
// the artifact store's root, which is what mlflow-artifacts:/<path> URIs
// name. Uploads and downloads stream; nothing is buffered in memory.

// unsupportedMultipartMessage must stay byte-for-byte MLflow's
// _UnsupportedMultipartUploadException.MESSAGE: the Python client falls back
// to a single PUT only when the error message starts with it.
const unsupportedMultipartMessage = "Multipart upload is not supported for the current artifact repository"

// artifactKey validates an artifact path from a request (MLflow's rules,
// tracking.ValidateArtifactPath) and returns its store key.
func artifactKey(p string, allowRoot bool) (string, error) {
	if p != "" {
		if err := tracking.ValidateArtifactPath(p); err != nil {
			return "", err
		}
	}
	return blob.CleanKey(p, allowRoot)
}

func (s *Server) artifactsDisabled(r *http.Request) error {
	return errdefs.Unavailable("Endpoint: %s disabled: this server does not serve artifacts (no artifact store is configured).", r.URL.Path)
}

// downloadArtifact streams a file: GET .../mlflow-artifacts/artifacts/<path>.
func (s *Server) downloadArtifact(w http.ResponseWriter, r *http.Request) {
	if s.artifacts == nil {
		s.writeError(w, r, s.artifactsDisabled(r))
		return
	}
	key, err := artifactKey(r.PathValue("path"), false)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.serveArtifact(w, r, key)
}

// serveArtifact streams the file at key of the artifact store (which must
// be configured) as an attachment.
func (s *Server) serveArtifact(w http.ResponseWriter, r *http.Request, key string) {
	rc, entry, err := s.artifacts.Get(r.Context(), key)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer rc.Close()
	name := path.Base(key)
	h := w.Header()
	h.Set("Content-Type", guessMimeType(name))
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("X-Content-Type-Options", "nosniff")
	if rs, ok := rc.(io.ReadSeeker); ok {
		http.ServeContent(w, r, name, entry.ModTime, rs)
		return
	}
	if entry.Size > 0 {
		h.Set("Content-Length", strconv.FormatInt(entry.Size, 10))
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = io.Copy(w, rc)
	}
}

// guessMimeType is MLflow's _guess_mime_type: by extension, with MLflow's
// extension-less text files (MLmodel, MLproject) as text.
func guessMimeType(name string) string {
	ext := path.Ext(name)
	if ext == "" {
		switch name {
		case "MLmodel", "MLproject":
			return "text/plain; charset=utf-8"
		}
		return "application/octet-stream"
	}
	switch strings.ToLower(ext) {
	case ".yaml", ".yml":
		return "text/yaml; charset=utf-8"
	case ".json":
		return "application/json"
	case ".txt", ".log":
		return "text/plain; charset=utf-8"
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

// uploadArtifact streams the raw body into the store:
// PUT .../mlflow-artifacts/artifacts/<path>.
func (s *Server) uploadArtifact(w http.ResponseWriter, r *http.Request) {
	if s.artifacts == nil {
		s.writeError(w, r, s.artifactsDisabled(r))
		return
	}
	key, err := artifactKey(r.PathValue("path"), false)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	body := r.Body
	if body == nil {
		body = http.NoBody
	}
	if _, err := s.artifacts.Put(r.Context(), key, body); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, []byte("{}"))
}

// listArtifacts lists a directory: GET .../mlflow-artifacts/artifacts?path=<dir>.
// Entries are named by their base name; directories have no file_size.
func (s *Server) listArtifacts(_ http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error) {
	if s.artifacts == nil {
		return out, s.artifactsDisabled(r)
	}
	dir, _, err := q.str(root, "path", "")
	if err != nil {
		return out, err
	}
	key, err := artifactKey(dir, true)
	if err != nil {
		return out, err
	}
	entries, err := s.artifacts.List(r.Context(), key)
	if err != nil && !(key != "" && errors.Is(err, errdefs.ErrInvalidArgument)) {
		return out, err
	}
	// Listing a file yields nothing, as in MLflow.
	o := openObj(out)
	list(&o, "files", entries, func(b []byte, e *blob.Entry) []byte {
		return appendFileInfo(b, path.Base(e.Path), e.IsDir, e.Size)
	})
	return o.close(), nil
}

// deleteArtifact removes a file or directory tree:
// DELETE .../mlflow-artifacts/artifacts/<path>. Deleting what does not exist
// succeeds, as in MLflow.
func (s *Server) deleteArtifact(_ http.ResponseWriter, r *http.Request, _ *request, out []byte) ([]byte, error) {
	if s.artifacts == nil {
		return out, s.artifactsDisabled(r)
	}
	key, err := artifactKey(r.PathValue("path"), false)
	if err != nil {
		return out, err
	}
	if err := s.artifacts.Delete(r.Context(), key); err != nil && !errors.Is(err, errdefs.ErrNotFound) {
		return out, err
	}
	return out, nil
}

// multipartUnsupported answers the mpu/create|complete|abort routes so that
// the MLflow client falls back to one streamed PUT.
func (s *Server) multipartUnsupported(_ http.ResponseWriter, r *http.Request, _ *request, out []byte) ([]byte, error) {
	if s.artifacts == nil {
		return out, s.artifactsDisabled(r)
	}
	if _, err := artifactKey(r.PathValue("path"), true); err != nil {
		return out, err
	}
	return out, errdefs.NotImplemented(unsupportedMultipartMessage)
}
