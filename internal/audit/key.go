package audit

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// KeyFileName is the name of the signing key in the data directory.
const KeyFileName = "audit-ed25519.pem"

// KeyID names a public key: the first 16 hex digits of the SHA-256 of its
// 32 raw bytes.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// validKeyID reports whether s looks like a KeyID: 16 lowercase hex digits.
func validKeyID(s string) bool {
	return len(s) == 16 && validHex(s)
}

// LoadOrCreateKey returns the checkpoint signing key kept in dir as
// KeyFileName, a PKCS#8 "PRIVATE KEY" PEM block. On first use it creates
// the directory (0700) and a new key file (0600), atomically: the key is
// written to a temporary file, synced and linked into place, so a crash
// never leaves a partial key and two processes starting together agree on
// one key. It refuses a key file that group or others may access (on
// systems with Unix permissions) or that does not hold exactly one
// Ed25519 private key.
func LoadOrCreateKey(dir string) (ed25519.PrivateKey, error) {
	path := filepath.Join(dir, KeyFileName)
	key, err := loadKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("audit key: create directory: %w", err)
	}
	_, key, err = ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("audit key: generate: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("audit key: encode: %w", err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	created, err := createFileOnce(path, data)
	if err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	if !created { // another process created it first: use theirs
		return loadKey(path)
	}
	return key, nil
}

// loadKey reads and checks the key file at path; a missing file gives an
// error matching fs.ErrNotExist.
func loadKey(path string) (ed25519.PrivateKey, error) {
	info, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("audit key: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("audit key %s: not a regular file", path)
	}
	if perm := info.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		return nil, fmt.Errorf("audit key %s: mode %04o lets group or others read it; it must be 0600 (chmod 600 %s)", path, perm, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	key, err := ParsePrivateKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("audit key %s: %w", path, err)
	}
	return key, nil
}

// ParsePrivateKeyPEM parses exactly one PKCS#8 "PRIVATE KEY" PEM block
// holding an Ed25519 key; only whitespace may surround it.
func ParsePrivateKeyPEM(data []byte) (ed25519.PrivateKey, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, errors.New("unexpected data after the PEM block")
	}
	if block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("PEM block is %q, want \"PRIVATE KEY\" (PKCS#8)", block.Type)
	}
	if len(block.Headers) != 0 {
		return nil, errors.New("PEM block must not have headers (encrypted keys are not supported)")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse PKCS#8: %w", err)
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("key is %T, want an Ed25519 key", k)
	}
	return key, nil
}

// MarshalPublicKeyPEM returns pub as a PKIX "PUBLIC KEY" PEM block, the
// form in which a verifier is given the keys it trusts.
func MarshalPublicKeyPEM(pub ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("audit: encode public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ParsePublicKeysPEM parses one or more PKIX "PUBLIC KEY" PEM blocks,
// each an Ed25519 key (the trusted keys of other servers).
func ParsePublicKeysPEM(data []byte) ([]ed25519.PublicKey, error) {
	var out []ed25519.PublicKey
	for {
		block, rest := pem.Decode(data)
		if block == nil {
			if len(bytes.TrimSpace(data)) != 0 {
				return nil, errors.New("unexpected data outside PEM blocks")
			}
			break
		}
		data = rest
		if block.Type != "PUBLIC KEY" {
			return nil, fmt.Errorf("PEM block is %q, want \"PUBLIC KEY\"", block.Type)
		}
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse public key: %w", err)
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("public key is %T, want an Ed25519 key", k)
		}
		out = append(out, pub)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM block found")
	}
	return out, nil
}

// createFileOnce writes data to a new file at path with mode 0600,
// atomically and without replacing an existing file: it reports false
// when path already exists.
func createFileOnce(path string, data []byte) (bool, error) {
	tmp, err := writeTemp(path, data)
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp)
	// A hard link fails when the target exists, unlike a rename.
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		// Some file systems have no hard links: fall back to a rename
		// after checking, which is atomic but may race another starter.
		if _, statErr := os.Lstat(path); statErr == nil {
			return false, nil
		}
		if err := os.Rename(tmp, path); err != nil {
			return false, fmt.Errorf("create %s: %w", path, err)
		}
	}
	return true, syncDir(filepath.Dir(path))
}

// writeTemp writes data to a new temporary file (mode 0600) next to path,
// syncs it and returns its name.
func writeTemp(path string, data []byte) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("create temporary file: %w", err)
	}
	name := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return "", fmt.Errorf("write %s: %w", name, err)
	}
	return name, nil
}

// writeFileAtomic replaces path with data: temporary file, fsync, rename,
// fsync of the directory.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := writeTemp(path, data)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("replace %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

// syncDir makes a rename in dir durable (a no-op where directories cannot
// be synced).
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
