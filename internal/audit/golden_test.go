package audit

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"
	"time"
)

// golden is testdata/golden.json, computed by testdata/golden.py from the
// documented formats, independently of this package.
type golden struct {
	Records []struct {
		Seq           int64  `json:"seq"`
		PrevHash      string `json:"prev_hash"`
		TimeNS        int64  `json:"time_ns"`
		Actor         string `json:"actor"`
		Action        string `json:"action"`
		Resource      string `json:"resource"`
		RequestDigest string `json:"request_digest"`
		Before        string `json:"before"`
		After         string `json:"after"`
		Status        int    `json:"status"`
		RequestID     string `json:"request_id"`
		Hash          string `json:"hash"`
	} `json:"records"`
	Checkpoint struct {
		Seq       int64  `json:"seq"`
		Hash      string `json:"hash"`
		TimeNS    int64  `json:"time_ns"`
		KeyID     string `json:"key_id"`
		SeedHex   string `json:"seed_hex"`
		PublicHex string `json:"public_key_hex"`
		Signature string `json:"signature_b64"`
		Text      string `json:"text"`
	} `json:"checkpoint"`
}

func TestGolden(t *testing.T) {
	data, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Records) != 2 {
		t.Fatalf("golden has %d records", len(g.Records))
	}
	for _, gr := range g.Records {
		r := Record{Seq: gr.Seq, PrevHash: gr.PrevHash, Hash: gr.Hash, Event: Event{
			Time: time.Unix(0, gr.TimeNS), Actor: gr.Actor, Action: gr.Action, Resource: gr.Resource,
			RequestDigest: gr.RequestDigest, Before: gr.Before, After: gr.After, Status: gr.Status, RequestID: gr.RequestID,
		}}
		if got := HashRecord(r); got != gr.Hash {
			t.Errorf("entry %d: HashRecord = %s, golden %s", r.Seq, got, gr.Hash)
		}
		r.Hash = "ignored"
		if got := HashRecord(r); got != gr.Hash {
			t.Errorf("entry %d: HashRecord depends on Hash", r.Seq)
		}
	}
	if g.Records[0].PrevHash != GenesisHash || g.Records[1].PrevHash != g.Records[0].Hash {
		t.Fatal("golden records are not a chain")
	}

	gc := g.Checkpoint
	seed, _ := hex.DecodeString(gc.SeedHex)
	key := ed25519.NewKeyFromSeed(seed)
	pub := key.Public().(ed25519.PublicKey)
	if hex.EncodeToString(pub) != gc.PublicHex || KeyID(pub) != gc.KeyID {
		t.Fatalf("key: public %x id %s, golden %s %s", pub, KeyID(pub), gc.PublicHex, gc.KeyID)
	}
	cp := signCheckpoint(key, KeyID(pub), gc.Seq, gc.Hash, time.Unix(0, gc.TimeNS))
	if base64.StdEncoding.EncodeToString(cp.Signature) != gc.Signature {
		t.Errorf("signature %s, golden %s", base64.StdEncoding.EncodeToString(cp.Signature), gc.Signature)
	}
	if string(cp.Text()) != gc.Text {
		t.Errorf("text form:\n%s\ngolden:\n%s", cp.Text(), gc.Text)
	}
	parsed, err := ParseCheckpoint([]byte(gc.Text))
	if err != nil {
		t.Fatal(err)
	}
	if !parsed.VerifySignature(pub) || parsed.Seq != gc.Seq || parsed.Hash != gc.Hash || parsed.KeyID != gc.KeyID ||
		parsed.Time.UnixNano() != gc.TimeNS || !bytes.Equal(parsed.Signature, cp.Signature) {
		t.Errorf("parsed golden checkpoint = %+v", parsed)
	}
	// Any change to the signed fields breaks the signature.
	for _, bad := range []Checkpoint{
		{Seq: parsed.Seq + 1, Hash: parsed.Hash, Time: parsed.Time, Signature: parsed.Signature},
		{Seq: parsed.Seq, Hash: g.Records[0].Hash, Time: parsed.Time, Signature: parsed.Signature},
		{Seq: parsed.Seq, Hash: parsed.Hash, Time: parsed.Time.Add(1), Signature: parsed.Signature},
	} {
		if bad.VerifySignature(pub) {
			t.Errorf("changed checkpoint %+v verifies", bad)
		}
	}
}

// TestCanonicalUnambiguous checks that moving bytes between adjacent
// text fields changes the hash (the length prefixes).
func TestCanonicalUnambiguous(t *testing.T) {
	a := Record{Seq: 1, PrevHash: GenesisHash, Event: Event{Time: time.Unix(0, 0), Actor: "ab", Action: "c"}}
	b := a
	b.Actor, b.Action = "a", "bc"
	if HashRecord(a) == HashRecord(b) {
		t.Fatal("fields are not delimited")
	}
	c := a
	c.Time = time.Unix(0, 0).In(time.FixedZone("X", 7200))
	if HashRecord(a) != HashRecord(c) {
		t.Fatal("the hash depends on the time zone")
	}
}

func TestRecordJSON(t *testing.T) {
	r := Record{Seq: 3, PrevHash: GenesisHash, Event: Event{Time: time.Unix(1700000000, 123456789).UTC(), Actor: "a",
		Action: "registry.set_alias", Resource: "models:/m@prod", After: "d", Status: 200, RequestID: "r"}}
	r.Hash = HashRecord(r)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"seq":3,"time":"2023-11-14T22:13:20.123456789Z","actor":"a","action":"registry.set_alias","resource":"models:/m@prod",` +
		`"after":"d","status":200,"request_id":"r","prev_hash":"` + GenesisHash + `","hash":"` + r.Hash + `","time_ns":1700000000123456789}`
	if string(b) != want {
		t.Fatalf("JSON:\n%s\nwant\n%s", b, want)
	}
	var back Record
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if HashRecord(back) != r.Hash || back.Hash != r.Hash {
		t.Fatalf("round trip: %+v", back)
	}
}
