#!/usr/bin/python3
"""Independent pandas oracle for the golden suites.

Run with Debian's python3 (pandas, numpy, PyYAML):
    /usr/bin/python3 oracle.py transactions iris
writes NAME.oracle.json: for each expectation, in report order (schema
expectations, the strict column-set check, then the checks), the values
pandas computes: success, unexpected_count, missing_count, observed_value and
the partial unexpected row indices (0-based data rows). Null cells are "".
"""
import datetime as dt
import json
import re
import sys

import numpy as np
import pandas as pd
import yaml

NOW = dt.datetime(2026, 12, 4, 12, 0, 0, tzinfo=dt.timezone.utc)


def num(s):
    return pd.to_numeric(s, errors="coerce")


def ts(s):
    return pd.to_datetime(s, errors="coerce", utc=True)


def entry(t, success=None, unexpected=None, missing=None, observed=None, idx=None):
    e = {"expectation_type": t}
    if success is not None:
        e["success"] = bool(success)
    if unexpected is not None:
        e["unexpected_count"] = int(unexpected)
    if missing is not None:
        e["missing_count"] = int(missing)
    if observed is not None:
        e["observed_value"] = float(observed)
    if idx is not None:
        e["partial_unexpected_index_list"] = [int(i) for i in idx[:20]]
    return e


def mapped(t, col, bad, mostly, null_is_unexpected=False):
    """bad: boolean Series over all rows (True = unexpected)."""
    isnull = col == ""
    if null_is_unexpected:
        bad = isnull
        denom = len(col)
        missing = None
    else:
        bad = bad & ~isnull
        denom = int((~isnull).sum())
        missing = int(isnull.sum())
    u = int(bad.sum())
    m = 1.0 if mostly is None else mostly
    ok = True if denom == 0 else (denom - u) / denom >= m
    return entry(t, ok, u, missing, idx=list(np.flatnonzero(bad.values)))


def in_range(v, r):
    ok = pd.Series(True, index=v.index)
    if "min" in r:
        ok &= (v > r["min"]) if r.get("strict_min") else (v >= r["min"])
    if "max" in r:
        ok &= (v < r["max"]) if r.get("strict_max") else (v <= r["max"])
    return ok.fillna(False)


def scalar_in(x, r):
    return bool(in_range(pd.Series([x]), r).iloc[0])


def run(name):
    suite = yaml.safe_load(open(f"{name}.yaml"))
    df = pd.read_csv(f"{name}.csv", dtype=str, keep_default_na=False)
    out = []
    for c in suite.get("columns", []):
        n = c["name"]
        out.append(entry("expect_column_to_exist", n in df.columns))
        if n not in df.columns:
            continue
        t = c.get("type")
        col = df[n]
        if t and t != "string":
            if t == "int":
                bad = ~col.str.strip().str.fullmatch(r"[+-]?\d+")
            elif t == "float":
                bad = num(col).isna()
            elif t == "timestamp":
                bad = ts(col).isna()
            else:
                bad = ~col.str.lower().isin(["true", "false"])
            out.append(mapped("expect_column_values_to_be_of_type", col, bad, None))
        if c.get("nullable") is False:
            out.append(mapped("expect_column_values_to_not_be_null", col, None, None, True))
    if suite.get("strict"):
        want = {c["name"] for c in suite["columns"]}
        out.append(entry("expect_table_columns_to_match_set", set(df.columns) == want))
    for ch in suite.get("checks", []):
        mostly = ch.get("mostly")
        if "table" in ch:
            out.append(entry("expect_table_row_count_to_be_between", scalar_in(len(df), ch["between"]), observed=len(df)))
            continue
        if "columns" in ch:
            key = df[ch["columns"]]
            allnull = (key == "").all(axis=1)
            dup = key.duplicated(keep=False) & ~allnull
            u = int(dup.sum())
            denom = int((~allnull).sum())
            ok = denom == 0 or (denom - u) / denom >= (1.0 if mostly is None else mostly)
            out.append(entry("expect_compound_columns_to_be_unique", ok, u, int(allnull.sum()), idx=list(np.flatnonzero(dup.values))))
            continue
        n = ch["column"]
        types = {
            "not_null": "expect_column_values_to_not_be_null",
            "between": "expect_column_values_to_be_between",
            "in_set": "expect_column_values_to_be_in_set",
            "regex": "expect_column_values_to_match_regex",
            "unique": "expect_column_values_to_be_unique",
            "min": "expect_column_min_to_be_between",
            "max": "expect_column_max_to_be_between",
            "mean": "expect_column_mean_to_be_between",
            "quantile": "expect_column_quantile_values_to_be_between",
            "null_fraction": "expect_column_null_fraction_to_be_between",
            "fresh_within": "expect_column_max_to_be_between",
        }
        kind = next(k for k in types if k in ch)
        t = types[kind]
        if n not in df.columns:
            out.append(entry(t, False))
            continue
        col = df[n]
        nonnull = col[col != ""]
        v = num(nonnull)
        if kind == "not_null":
            out.append(mapped(t, col, None, mostly, True))
        elif kind == "between":
            out.append(mapped(t, col, ~in_range(num(col), ch["between"]), mostly))
        elif kind == "in_set":
            out.append(mapped(t, col, ~col.isin([str(x) for x in ch["in_set"]]), mostly))
        elif kind == "regex":
            rx = re.compile(ch["regex"])
            out.append(mapped(t, col, ~col.map(lambda s: rx.search(s) is not None), mostly))
        elif kind == "unique":
            out.append(mapped(t, col, col.duplicated(keep=False) & (col != ""), mostly))
        elif kind in ("min", "max", "mean", "quantile"):
            vv = v.dropna()
            if kind == "min":
                obs = vv.min()
            elif kind == "max":
                obs = vv.max()
            elif kind == "mean":
                obs = vv.mean()
            else:
                obs = float(np.quantile(vv.values, ch["quantile"]["q"]))
            r = {k: x for k, x in ch[kind].items() if k != "q"}
            out.append(entry(t, scalar_in(obs, r), observed=obs, missing=int((col == "").sum())))
        elif kind == "null_fraction":
            obs = float((col == "").mean())
            out.append(entry(t, scalar_in(obs, ch[kind]), observed=obs))
        elif kind == "fresh_within":
            hours = float(ch[kind].rstrip("h"))
            latest = ts(nonnull).max()
            out.append(entry(t, latest >= NOW - dt.timedelta(hours=hours)))
    with open(f"{name}.oracle.json", "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    for name in sys.argv[1:]:
        run(name)
