package audit

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"net/url"
	"testing"
	"time"
)

// FuzzParseCheckpoint: the head file parser never panics, and what it
// accepts is exactly what Text writes.
func FuzzParseCheckpoint(f *testing.F) {
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	cp := signCheckpoint(key, KeyID(key.Public().(ed25519.PublicKey)), 42, GenesisHash, time.Unix(1, 2))
	f.Add(cp.Text())
	f.Add([]byte("ferry-audit-checkpoint v1\n1\n\n0\nsig  \n"))
	f.Add([]byte("ferry-audit-checkpoint v1\n-0\n" + GenesisHash + "\n+1\nsig 0123456789abcdef AAAA\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		cp, err := ParseCheckpoint(data)
		if err != nil {
			return
		}
		if !bytes.Equal(cp.Text(), data) {
			t.Fatalf("accepted a non-canonical form:\n%q\nwrites as\n%q", data, cp.Text())
		}
		if cp.Seq < 1 || !validHash(cp.Hash) || !validKeyID(cp.KeyID) || len(cp.Signature) != ed25519.SignatureSize {
			t.Fatalf("accepted %+v", cp)
		}
		_ = cp.VerifySignature(key.Public().(ed25519.PublicKey))
	})
}

// FuzzParsePrivateKeyPEM: the key file parser never panics and returns
// only usable keys.
func FuzzParsePrivateKeyPEM(f *testing.F) {
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	good := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n"))
	pub, _ := MarshalPublicKeyPEM(key.Public().(ed25519.PublicKey))
	f.Add(pub)
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParsePrivateKeyPEM(data)
		if err == nil {
			if len(k) != ed25519.PrivateKeySize {
				t.Fatalf("accepted a %d-byte key", len(k))
			}
			_ = ed25519.Sign(k, []byte("x"))
		}
		if pubs, err := ParsePublicKeysPEM(data); err == nil {
			for _, p := range pubs {
				if len(p) != ed25519.PublicKeySize {
					t.Fatalf("accepted a %d-byte public key", len(p))
				}
			}
		}
	})
}

// FuzzParseQuery: query parameters never panic the parser, and what it
// returns is normalized.
func FuzzParseQuery(f *testing.F) {
	f.Add("resource=models:/m/&after=1&before=2&limit=3&order=desc&actor=x")
	f.Add("limit=-1")
	f.Add("after=9223372036854775808")
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := ParseQuery(v)
		if err != nil {
			return
		}
		if q != q.Normalized() || q.Limit < 1 || q.Limit > MaxListLimit || q.AfterSeq < 0 || q.BeforeSeq < 0 {
			t.Fatalf("ParseQuery(%q) = %+v", raw, q)
		}
	})
}

// FuzzResourceRanges: the byte ranges stores query with select exactly
// what MatchResource accepts.
func FuzzResourceRanges(f *testing.F) {
	f.Add("models:/m", "models:/m/1")
	f.Add("models:/m", "models:/m0")
	f.Add("a", "a@")
	f.Add("a", "a\xff")
	f.Fuzz(func(t *testing.T, prefix, resource string) {
		if prefix == "" {
			return
		}
		if MatchResource(prefix, resource) != inRanges(prefix, resource) {
			t.Fatalf("prefix %q, resource %q: MatchResource %v, ranges %v", prefix, resource,
				MatchResource(prefix, resource), inRanges(prefix, resource))
		}
	})
}
