package audit

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// checkpointPrefix opens every checkpoint message and names its version.
const checkpointPrefix = "ferry-audit-checkpoint v1\n"

// Checkpoint is a signed statement that the log's entry Seq has hash
// Hash. Because every entry's hash covers its predecessor's, a valid
// checkpoint vouches for the whole log up to Seq, and one covering a seq
// beyond the end of the log proves that entries were removed.
type Checkpoint struct {
	Seq  int64     `json:"seq"`
	Hash string    `json:"hash"`
	Time time.Time `json:"time"` // when it was signed; kept as Unix nanoseconds
	// KeyID names the signing key: KeyID of its public key. It is not
	// signed; it only says which trusted key to verify with.
	KeyID     string `json:"key_id"`
	Signature []byte `json:"signature"` // Ed25519 over Message()
}

// Message returns the bytes the checkpoint's signature covers:
//
//	ferry-audit-checkpoint v1\n
//	<seq, decimal>\n
//	<hash, 64 lowercase hex digits>\n
//	<time, Unix nanoseconds, decimal>\n
func (c Checkpoint) Message() []byte {
	b := make([]byte, 0, len(checkpointPrefix)+20+1+64+1+20+1)
	b = append(b, checkpointPrefix...)
	b = strconv.AppendInt(b, c.Seq, 10)
	b = append(b, '\n')
	b = append(b, c.Hash...)
	b = append(b, '\n')
	b = strconv.AppendInt(b, c.Time.UnixNano(), 10)
	return append(b, '\n')
}

// signCheckpoint signs (seq, hash, t) with key.
func signCheckpoint(key ed25519.PrivateKey, keyID string, seq int64, hash string, t time.Time) Checkpoint {
	c := Checkpoint{Seq: seq, Hash: hash, Time: time.Unix(0, t.UnixNano()).UTC(), KeyID: keyID}
	c.Signature = ed25519.Sign(key, c.Message())
	return c
}

// VerifySignature reports whether c is well formed and signed by pub.
func (c Checkpoint) VerifySignature(pub ed25519.PublicKey) bool {
	return c.Seq >= 1 && validHash(c.Hash) && len(pub) == ed25519.PublicKeySize &&
		len(c.Signature) == ed25519.SignatureSize && ed25519.Verify(pub, c.Message(), c.Signature)
}

// sigLinePrefix opens the signature line of a checkpoint's text form.
const sigLinePrefix = "sig "

// Text returns the checkpoint's text form, the format of the head file:
// Message() followed by one line "sig <key id> <base64 signature>\n"
// (standard base64 with padding).
func (c Checkpoint) Text() []byte {
	b := c.Message()
	b = append(b, sigLinePrefix...)
	b = append(b, c.KeyID...)
	b = append(b, ' ')
	b = base64.StdEncoding.AppendEncode(b, c.Signature)
	return append(b, '\n')
}

// ParseCheckpoint parses the text form written by Text. It checks the
// form strictly but not the signature (VerifySignature does).
func ParseCheckpoint(text []byte) (Checkpoint, error) {
	var c Checkpoint
	rest, ok := bytes.CutPrefix(text, []byte(checkpointPrefix))
	if !ok {
		return c, errors.New("not a checkpoint: it must start with \"ferry-audit-checkpoint v1\"")
	}
	lines := bytes.Split(rest, []byte("\n"))
	// seq, hash, time, sig line, and "" after the final newline.
	if len(lines) != 5 || len(lines[4]) != 0 {
		return c, errors.New("checkpoint must have exactly 5 newline-terminated lines")
	}
	seq, err := parseDecimal(lines[0])
	if err != nil || seq < 1 {
		return c, fmt.Errorf("checkpoint seq %q: must be a positive decimal number", lines[0])
	}
	c.Seq = seq
	c.Hash = string(lines[1])
	if !validHash(c.Hash) {
		return c, fmt.Errorf("checkpoint hash %q: must be 64 lowercase hex digits", lines[1])
	}
	ns, err := parseDecimal(lines[2])
	if err != nil {
		return c, fmt.Errorf("checkpoint time %q: must be decimal Unix nanoseconds", lines[2])
	}
	c.Time = time.Unix(0, ns).UTC()
	sig, ok := bytes.CutPrefix(lines[3], []byte(sigLinePrefix))
	if !ok {
		return c, errors.New("checkpoint signature line must start with \"sig \"")
	}
	keyID, sig64, ok := bytes.Cut(sig, []byte(" "))
	if !ok || !validKeyID(string(keyID)) {
		return c, errors.New("checkpoint signature line must be \"sig <16 hex digit key id> <base64 signature>\"")
	}
	c.KeyID = string(keyID)
	c.Signature, err = base64.StdEncoding.Strict().AppendDecode(nil, sig64)
	if err != nil || len(c.Signature) != ed25519.SignatureSize {
		return c, errors.New("checkpoint signature must be 64 bytes in standard base64")
	}
	return c, nil
}

// parseDecimal parses a canonical decimal int64: digits with an optional
// leading '-', no '+', no leading zeros, so that Text(Parse(x)) == x.
func parseDecimal(b []byte) (int64, error) {
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, err
	}
	if strconv.FormatInt(n, 10) != string(b) {
		return 0, errors.New("not in canonical form")
	}
	return n, nil
}
