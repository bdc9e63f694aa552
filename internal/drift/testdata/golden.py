#!/usr/bin/python3
"""Generate golden.json for internal/drift with Debian's scipy 1.10 / numpy.

Run from this directory:  /usr/bin/python3 golden.py > golden.json

Samples are produced by a splitmix64 generator that golden_test.go
reimplements, and every value is an integer multiple of 1/1024, so the Go
test rebuilds bit-identical inputs without storing them.
"""
import json
import math

import numpy as np
import scipy
from scipy import stats
from scipy.spatial import distance

MASK = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.s = seed & MASK

    def next(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & MASK
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)


def sample(seed, n, dist, r, shift):
    """dist "irwin": sum of 4 uniform ints in [0, r) / 1024 + shift/1024
    (roughly normal); dist "int": uniform int in [0, r) + shift (few values)."""
    g = SplitMix64(seed)
    out = []
    for _ in range(n):
        if dist == "irwin":
            k = sum(g.next() % r for _ in range(4)) + shift
            out.append(k / 1024.0)
        else:
            out.append(float(g.next() % r + shift))
    return np.array(out)


# --- Evidently replicas (evidently/legacy/calculations/stattests, commit a4aa4c2) ---

def get_binned_data(ref, cur, column_type, feel_zeroes):
    # utils.get_binned_data: n_bins argument is ignored by the code.
    n_vals = len(np.unique(ref))
    if column_type == "num" and n_vals > 20:
        bins = np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")
        rp = np.histogram(ref, bins)[0] / len(ref)
        cp = np.histogram(cur, bins)[0] / len(cur)
    else:
        keys = sorted(set(np.unique(ref)) | set(np.unique(cur)))
        rp = np.array([np.sum(ref == k) for k in keys]) / len(ref)
        cp = np.array([np.sum(cur == k) for k in keys]) / len(cur)
    assert not feel_zeroes
    return rp, cp


def ev_jensenshannon(ref, cur, column_type):
    # jensenshannon.py: _jensenshannon(..., n_bins) -> distance.jensenshannon(rp, cp)
    rp, cp = get_binned_data(ref, cur, column_type, False)
    return float(distance.jensenshannon(rp, cp))


def ev_chisquare(ref, cur):
    # chisquare_stattest.py: expected = ref counts * len(cur)/len(ref) over keys
    keys = sorted(set(np.unique(ref)) | set(np.unique(cur)))
    k_norm = len(cur) / len(ref)
    obs = np.array([np.sum(cur == k) for k in keys], dtype=float)
    exp = np.array([np.sum(ref == k) for k in keys], dtype=float) * k_norm
    if len(keys) < 2:
        return 0.0, 1.0
    if np.any(exp == 0):
        return math.inf, 0.0  # scipy 1.10 raises (sums differ); Ferry: drift
    s, p = stats.chisquare(obs, exp)
    return float(s), float(p)


def ev_z(ref, cur):
    # z_stattest.py: _z_stat_test / proportions_diff_z_stat_ind
    if len(np.unique(ref)) == 1 and len(np.unique(cur)) == 1 and ref[0] == cur[0]:
        return 0.0, 1.0
    key = sorted(set(np.unique(ref)) | set(np.unique(cur)))[0]
    r = (ref != key).astype(float)
    c = (cur != key).astype(float)
    n1, n2 = len(r), len(c)
    p1, p2 = float(sum(r)) / n1, float(sum(c)) / n2
    P = float(p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(P * (1 - P) * (1.0 / n1 + 1.0 / n2))
    return float(z), float(2 * (1 - stats.norm.cdf(np.abs(z))))


def ev_wasserstein(ref, cur):
    # wasserstein_distance_norm.py
    norm = max(np.std(ref), 0.001)
    return float(stats.wasserstein_distance(ref, cur) / norm)


def ev_default_test(ref, cur, column_type):
    # registry.py _get_default_stattest
    n_values = len(np.unique(np.concatenate([ref, cur])))
    if len(ref) <= 1000:
        if column_type == "num" and n_values > 5:
            return "ks"
        return "chisquare" if n_values > 2 else "z"
    if column_type == "num" and n_values > 5:
        return "wasserstein"
    return "jensenshannon"


CASES = [
    # name, kind, ref spec, cur spec; spec = (seed, n, dist, r, shift)
    ("tiny", "num", (1, 5, "irwin", 1024, 0), (2, 7, "irwin", 1024, 0)),
    ("tiny_shifted", "num", (3, 6, "irwin", 1024, 0), (4, 6, "irwin", 1024, 2000)),
    ("small", "num", (5, 50, "irwin", 1024, 0), (6, 60, "irwin", 1024, 200)),
    ("equal_n", "num", (7, 200, "irwin", 1024, 0), (8, 200, "irwin", 1024, 100)),
    ("identical", "num", (9, 300, "irwin", 1024, 0), (9, 300, "irwin", 1024, 0)),
    ("ref1000", "num", (10, 1000, "irwin", 1024, 0), (11, 800, "irwin", 1024, 50)),
    ("ties_int", "num", (12, 400, "int", 30, 0), (13, 500, "int", 30, 1)),
    ("few_values5", "num", (14, 500, "int", 5, 0), (15, 450, "int", 5, 0)),
    ("few_values4_shift", "num", (16, 300, "int", 4, 0), (17, 250, "int", 5, 0)),
    ("binary", "num", (18, 600, "int", 2, 0), (19, 700, "int", 2, 0)),
    ("binary_same_single", "num", (20, 50, "int", 1, 3), (21, 40, "int", 1, 3)),
    ("cat_new_category", "cat", (22, 400, "int", 4, 0), (23, 300, "int", 5, 0)),
    ("cat3", "cat", (24, 900, "int", 3, 0), (25, 950, "int", 3, 0)),
    ("large_wass", "num", (26, 3000, "irwin", 1024, 0), (27, 5000, "irwin", 1024, 30)),
    ("large_ks_asymp", "num", (28, 12000, "irwin", 1024, 0), (29, 3000, "irwin", 1024, 10)),
    ("ks_asymp_mid", "num", (30, 10001, "irwin", 1024, 0), (31, 150, "irwin", 1024, 60)),
    ("ks_asymp_small_n", "num", (32, 10050, "irwin", 1024, 0), (33, 50, "irwin", 1024, 150)),
    ("ks_asymp_small_n2", "num", (34, 10050, "irwin", 1024, 0), (35, 50, "irwin", 1024, 400)),
    ("ks_unequal_exact", "num", (36, 997, "irwin", 1024, 0), (37, 1003, "irwin", 1024, 40)),
    ("large_cat_js", "cat", (38, 2000, "int", 8, 0), (39, 1500, "int", 9, 0)),
    ("large_num_few", "num", (40, 2500, "int", 15, 0), (41, 2000, "int", 15, 1)),
    ("large_num_lowuniq", "num", (42, 2500, "int", 4, 0), (43, 2000, "int", 4, 0)),
]


def main():
    cases = []
    for name, kind, rs, cs in CASES:
        ref, cur = sample(*rs), sample(*cs)
        ks = stats.ks_2samp(ref, cur)
        chi = ev_chisquare(ref, cur)
        z = ev_z(ref, cur)
        cases.append({
            "name": name, "kind": kind, "ref": list(rs), "cur": list(cs),
            "ks_stat": float(ks.statistic), "ks_p": float(ks.pvalue),
            "wasserstein": ev_wasserstein(ref, cur),
            "js": ev_jensenshannon(ref, cur, kind),
            "chi_stat": chi[0] if math.isfinite(chi[0]) else "inf", "chi_p": chi[1],
            "z_stat": z[0], "z_p": z[1],
            "default_test": ev_default_test(ref, cur, kind),
        })
    kolm = []
    for n in [1, 2, 3, 5, 10, 50, 100, 140, 141, 500, 1000, 2400, 5000, 100000, 200000]:
        for x in [0.001, 0.004, 0.01, 0.02, 0.03, 0.05, 0.08, 0.1, 0.15, 0.2, 0.3, 0.45, 0.5, 0.6, 0.8, 0.95]:
            kolm.append({"n": n, "x": x, "sf": float(stats.kstwo.sf(x, n))})
    chi2 = []
    for df in [1, 2, 3, 4, 7, 10, 30, 100, 1000]:
        for x in [0.01, 0.5, 1, 2.5, 5, 10, 20, 50, 100, 300, 1000, 1500]:
            chi2.append({"df": df, "x": x, "sf": float(stats.chi2.sf(x, df))})
    json.dump({"scipy": scipy.__version__, "numpy": np.__version__,
               "cases": cases, "kstwo_sf": kolm, "chi2_sf": chi2}, 
              __import__("sys").stdout, indent=1)


if __name__ == "__main__":
    main()
