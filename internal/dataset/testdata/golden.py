#!/usr/bin/python3
"""Oracle values for internal/dataset's tests (run with Debian's /usr/bin/python3).

Writes into this directory:
  mixed.csv    a seeded generated CSV with nulls, strings, quoting, booleans,
               dates, datetimes and a column promoted int -> float and one
               promoted to string;
  wine.csv     scikit-learn's wine recognition data (load_wine, BSD-3-Clause,
               originally UCI ML, Forina et al.) with a proper header;
  golden.json  pandas/numpy statistics of both files, and numpy quantiles of
               the large LCG-generated sample the sketch accuracy test builds.

Statistics: count = non-null values, nulls = empty fields, nunique =
pandas nunique(), mean, std with ddof=1 (pandas' default), min, max,
numpy.quantile (method 'linear'), value_counts() for string columns.
"""
import json
import os

import numpy as np
import pandas as pd
from sklearn.datasets import load_wine

HERE = os.path.dirname(os.path.abspath(__file__))
QS = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]


def mixed():
    rng = np.random.default_rng(20261204)
    n = 500
    cities = ["Berlin", "Paris", "Rome", "São Paulo", "New York, NY", 'The "Big" Apple', "Oslo"]
    rows = []
    for i in range(n):
        x = "" if rng.random() < 0.1 else repr(round(float(rng.normal(10, 3)), 4))
        y = repr(round(float(rng.lognormal(0, 1)), 6))
        k = "" if rng.random() < 0.05 else str(int(rng.integers(-50, 50)))
        price = str(int(rng.integers(1, 100))) if i % 7 else repr(round(float(rng.random() * 100), 2))
        flag = ["true", "false", "True", "FALSE", ""][int(rng.integers(0, 5))]
        day = f"2024-{int(rng.integers(1, 13)):02d}-{int(rng.integers(1, 29)):02d}"
        ts = f"2024-05-{int(rng.integers(1, 29)):02d}T{int(rng.integers(0, 24)):02d}:{int(rng.integers(0, 60)):02d}:00Z"
        city = "" if rng.random() < 0.08 else cities[int(rng.choice(7, p=[0.3, 0.2, 0.15, 0.1, 0.1, 0.1, 0.05]))]
        code = str(int(rng.integers(100, 999))) if i != 321 else "n/a"
        note = ["ok", "multi\nline", 'say "hi"', "a,b", ""][int(rng.integers(0, 5))]
        rows.append([str(i), x, y, k, price, flag, day, ts, city, code, note])
    header = ["id", "x", "y", "k", "price", "flag", "day", "ts", "city", "code", "note"]

    def q(f):
        if any(c in f for c in ',"\n'):
            return '"' + f.replace('"', '""') + '"'
        return f

    with open(os.path.join(HERE, "mixed.csv"), "w", newline="") as fh:
        fh.write(",".join(header) + "\r\n")
        for r in rows:
            fh.write(",".join(q(f) for f in r) + "\r\n")
    types = {"id": "integer", "x": "float", "y": "float", "k": "integer", "price": "float",
             "flag": "boolean", "day": "datetime", "ts": "datetime", "city": "string",
             "code": "string", "note": "string"}
    return "mixed.csv", types


def wine():
    d = load_wine(as_frame=True)
    df = d.frame.rename(columns={"od280/od315_of_diluted_wines": "od280_od315"})
    df.to_csv(os.path.join(HERE, "wine.csv"), index=False)
    types = {c: ("integer" if str(df[c].dtype).startswith("int") else "float") for c in df.columns}
    return "wine.csv", types


def stats(name, types):
    df = pd.read_csv(os.path.join(HERE, name), keep_default_na=False, na_values=[""], dtype=str)
    cols = []
    for c in df.columns:
        s = df[c].dropna()
        t = types[c]
        out = {"name": c, "type": t, "count": int(s.size), "nulls": int(df[c].isna().sum())}
        if t in ("integer", "float"):
            v = s.astype(float)
            out.update(nunique=int(v.nunique()), min=float(v.min()), max=float(v.max()),
                       mean=float(v.mean()), std=float(v.std(ddof=1)),
                       quantiles=[float(x) for x in np.quantile(v.to_numpy(), QS)])
        elif t == "datetime":
            v = pd.to_datetime(s, utc=True)
            secs = (v - pd.Timestamp(0, tz="UTC")).dt.total_seconds()
            out.update(nunique=int(v.nunique()), min=float(secs.min()), max=float(secs.max()),
                       mean=float(secs.mean()), std=float(secs.std(ddof=1)),
                       quantiles=[float(x) for x in np.quantile(secs.to_numpy(), QS)])
        elif t == "boolean":
            v = s.str.lower()
            out.update(nunique=int(v.nunique()),
                       top=[[k, int(n)] for k, n in v.value_counts().items()])
        else:
            out.update(nunique=int(s.nunique()),
                       top=[[k, int(n)] for k, n in s.value_counts().head(10).items()])
        cols.append(out)
    return {"file": name, "rows": int(len(df)), "columns": cols}


def lcg_sample(n=200_000, seed=12345):
    """The sample TestSketchAccuracy generates (same LCG in Go)."""
    state = seed
    u, s, t = [], [], []
    for _ in range(n):
        vals = []
        for _ in range(3):
            state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
            vals.append(state >> 33)
        u.append((vals[0] % 1000003) / 1000)
        s.append(((vals[1] % 1000) ** 3) / 7)
        t.append(float(vals[2] % 50))
    qs = [i / 100 for i in range(1, 100)]
    return {"n": n, "seed": seed, "qs": qs,
            "u": list(np.quantile(np.array(u), qs)),
            "s": list(np.quantile(np.array(s), qs)),
            "t": list(np.quantile(np.array(t), qs))}


if __name__ == "__main__":
    files = [stats(*mixed()), stats(*wine())]
    golden = {"files": files, "sketch": lcg_sample()}
    with open(os.path.join(HERE, "golden.json"), "w") as fh:
        json.dump(golden, fh, indent=1)
        fh.write("\n")
