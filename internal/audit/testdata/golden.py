#!/usr/bin/env python3
"""Computes testdata/golden.json independently of the Go code, from the
formats documented in docs/audit.md: the hashes of two entries (canonical
encoding v1) and a checkpoint signed with a fixed Ed25519 key.

    python3 golden.py > golden.json   (needs the 'cryptography' package)
"""
import base64, hashlib, json, struct

GENESIS = "0" * 64

def text(s):
    b = s.encode("utf-8")
    return struct.pack(">I", len(b)) + b

def i64(n):
    return struct.pack(">q", n)

def entry_hash(r):
    enc = (b"ferry-audit-event v1\n" + i64(r["seq"]) + text(r["prev_hash"]) + i64(r["time_ns"])
           + text(r["actor"]) + text(r["action"]) + text(r["resource"]) + text(r["request_digest"])
           + text(r["before"]) + text(r["after"]) + i64(r["status"]) + text(r["request_id"]))
    return hashlib.sha256(enc).hexdigest()

r1 = dict(seq=1, prev_hash=GENESIS, time_ns=1700000000123456789, actor="zoë",
          action="registry.set_alias", resource="models:/fraud@champion",
          request_digest=hashlib.sha256(b"{}").hexdigest(), before="",
          after=hashlib.sha256(b"after").hexdigest(), status=200, request_id="req-1")
r1["hash"] = entry_hash(r1)
r2 = dict(seq=2, prev_hash=r1["hash"], time_ns=-1, actor="", action="", resource="",
          request_digest="", before="", after="", status=-1, request_id="")
r2["hash"] = entry_hash(r2)

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization
seed = bytes(range(32))
key = Ed25519PrivateKey.from_private_bytes(seed)
pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
key_id = hashlib.sha256(pub).hexdigest()[:16]
cp_time = 1700000001000000000
msg = b"ferry-audit-checkpoint v1\n%d\n%s\n%d\n" % (r2["seq"], r2["hash"].encode(), cp_time)
sig = key.sign(msg)
cp = dict(seq=r2["seq"], hash=r2["hash"], time_ns=cp_time, key_id=key_id,
          seed_hex=seed.hex(), public_key_hex=pub.hex(),
          signature_b64=base64.b64encode(sig).decode(),
          text=(msg + b"sig " + key_id.encode() + b" " + base64.b64encode(sig) + b"\n").decode())
print(json.dumps(dict(records=[r1, r2], checkpoint=cp), indent=2, ensure_ascii=False))
