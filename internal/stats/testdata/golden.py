#!/usr/bin/env python3
"""Generate golden.json, the oracle values for the Go tests of internal/stats.

Run from the repository root with Debian's Python (python3-numpy,
python3-scipy, python3-pandas, python3-mpmath):

    /usr/bin/python3 internal/stats/testdata/golden.py

The output is deterministic: all random data comes from seeded numpy
generators. Produced with numpy 1.24.2, scipy 1.10.1, pandas 1.5.3,
mpmath 1.2.1.

JSON cannot hold NaN, so NaN (inputs or scipy outputs) is written as null.

Oracles:
  * normal, student_t_sf, reg_inc_beta: scipy.stats / scipy.special, plus an
    independent 40-digit mpmath value ("mp") to measure the Go code's own
    accuracy (scipy's cephes is itself only good to ~1e-14..1e-12 in places).
  * welch: scipy.stats.ttest_ind(a, b, equal_var=False) on the non-NaN values
    (equivalent to nan_policy="omit"), plus 40-digit mpmath values ("mp_*").
  * ztest: scipy.stats.chi2_contingency([[s1, n1-s1], [s2, n2-s2]],
    correction=False); scipy raises when the pooled proportion is 0 or 1, and
    the Go code returns p = 1 there by design (recorded as "degenerate").
  * quantile: numpy.nanquantile(data, q) (method "linear").
  * psi, psi_categorical: Evidently itself is not installable here, so
    evidently_psi() below re-implements, step by step with numpy and pandas,
    what evidently/legacy/calculations/stattests/psi.py::_psi and
    stattests/utils.py::get_binned_data (feel_zeroes=True) compute for a
    numerical (or, for labels, categorical) column; see the comments there.
"""

import json
import math
import os

import mpmath
import numpy as np
import pandas as pd
import scipy
import scipy.special
import scipy.stats

mpmath.mp.dps = 40
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden.json")


def f(x):
    """A float for JSON: NaN becomes null."""
    x = float(x)
    return None if math.isnan(x) else x


def fl(xs):
    return [f(x) for x in xs]


# ---------------------------------------------------------------------------
# Normal distribution.

def normal_cases():
    out = []
    for x in [-38.0, -20.0, -8.5, -5.0, -1.96, -1.0, -1e-3, 0.0, 1e-10, 0.5,
              1.0, 1.6448536269514722, 2.5, 5.0, 8.5, 20.0, 37.0]:
        mx = mpmath.mpf(x)
        out.append({
            "x": x,
            "cdf": f(scipy.stats.norm.cdf(x)),
            "sf": f(scipy.stats.norm.sf(x)),
            "mp_cdf": f(mpmath.ncdf(mx)),
            "mp_sf": f(mpmath.ncdf(-mx)),
        })
    return out


# ---------------------------------------------------------------------------
# Regularized incomplete beta and Student t.

def mp_betainc(a, b, x):
    """I_x(a, b) at 40 digits, independently of the Go algorithms.

    On the side of the mean where it converges, B(x; a, b) is summed as
    x^a (1-x)^b / a * 2F1(a+b, 1; a+1; x), a series of positive terms; when
    x is within 0.01 of 1 that series needs too many terms and mpmath's
    hyp2f1 (with its 1-x transformations) evaluates the equivalent
    x^a / a * 2F1(a, 1-b; a+1; x) instead. mpmath.betainc itself gives up for
    large a and b.
    """
    a, b, x = mpmath.mpf(a), mpmath.mpf(b), mpmath.mpf(x)
    if x > (a + 1) / (a + b + 2):
        return 1 - mp_betainc(b, a, 1 - x)
    log_beta = mpmath.loggamma(a) + mpmath.loggamma(b) - mpmath.loggamma(a + b)
    if 1 - x < mpmath.mpf("0.01"):
        lead = mpmath.exp(a * mpmath.log(x) - mpmath.log(a) - log_beta)
        return lead * mpmath.hyp2f1(a, 1 - b, a + 1, x, maxprec=100000)
    lead = mpmath.exp(a * mpmath.log(x) + b * mpmath.log1p(-x) - mpmath.log(a) - log_beta)
    return lead * mpmath.hyp2f1(a + b, 1, a + 1, x, maxterms=10**7)


def reg_inc_beta_cases():
    out = []
    seen = set()

    def add(a, b, x):
        if not (0.0 < x < 1.0) or (a, b, x) in seen:
            return
        seen.add((a, b, x))
        mp = mp_betainc(a, b, x)
        if mp < mpmath.mpf("1e-290"):  # beyond float64's normal range
            return
        out.append({"a": a, "b": b, "x": x,
                    "value": f(scipy.special.betainc(a, b, x)),
                    "mp": f(mp)})

    small = [0.1, 0.5, 1.0, 2.5, 7.0]
    for a in small:
        for b in small:
            for x in [1e-8, 0.001, 0.1, 0.3, 0.5, 0.7, 0.9, 0.999, 1 - 1e-8]:
                add(a, b, x)
    # Larger parameters: x at the mean ± k standard deviations, which covers
    # the symmetric switch point and far tails.
    params = [(10.0, 10.0), (50.0, 3.0), (3.0, 50.0), (300.0, 0.5),
              (0.5, 300.0), (1000.0, 1000.0), (1e4, 20.0), (20.0, 1e4),
              (1e4, 1e4), (1e5, 0.5), (5e4, 5e4 + 0.5), (12.5, 0.5),
              (2500.0, 0.5)]
    for a, b in params:
        mean = a / (a + b)
        sd = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
        for k in [-30, -8, -3, -1, -0.1, 0, 0.1, 1, 3, 8, 30]:
            add(a, b, mean + k * sd)
        add(a, b, (a + 1) / (a + b + 2))  # exactly the switch point
    return out


def mp_t_sf(t, df):
    t = mpmath.mpf(t)
    df = mpmath.mpf(df)
    if t == 0:
        return mpmath.mpf("0.5")
    tail = mp_betainc(df / 2, mpmath.mpf("0.5"), df / (df + t * t)) / 2
    return tail if t > 0 else 1 - tail


def student_t_cases():
    out = []
    for df in [0.5, 1.0, 1.5, 2.0, 3.0, 7.3, 30.0, 1000.0, 1e5, 1e7]:
        for t in [-60.0, -5.0, -1.0, -1e-8, 0.0, 1e-8, 0.3, 1.0, 2.0, 4.5,
                  12.0, 60.0, 1e4]:
            mp = mp_t_sf(t, df)
            if mp < mpmath.mpf("1e-290"):
                continue
            out.append({"t": t, "df": df,
                        "sf": f(scipy.stats.t.sf(t, df)), "mp": f(mp)})
    return out


# ---------------------------------------------------------------------------
# Welch's t-test.

def mp_welch(a, b):
    """Welch's t, df and two-sided p at 40 digits from the exact inputs, to
    measure the Go code's own accuracy where scipy's float64 moments lose
    digits (e.g. data around 1e6)."""
    def moments(s):
        s = [mpmath.mpf(float(v)) for v in s]
        n = len(s)
        mean = mpmath.fsum(s) / n
        return mean, mpmath.fsum((v - mean) ** 2 for v in s) / (n - 1), n

    m1, v1, n1 = moments(a)
    m2, v2, n2 = moments(b)
    if v1 == 0 and v2 == 0:
        return {}
    vn1, vn2 = v1 / n1, v2 / n2
    t = (m1 - m2) / mpmath.sqrt(vn1 + vn2)
    df = (vn1 + vn2) ** 2 / (vn1 ** 2 / (n1 - 1) + vn2 ** 2 / (n2 - 1))
    p = mp_betainc(df / 2, mpmath.mpf("0.5"), df / (df + t * t)) if t != 0 else mpmath.mpf(1)
    return {"mp_statistic": f(t), "mp_pvalue": f(p), "mp_df": f(df)}


def welch_cases():
    rng = np.random.default_rng(20240611)
    cases = []

    def add(name, a, b):
        a = np.asarray(a, dtype=float)
        b = np.asarray(b, dtype=float)
        ca, cb = a[~np.isnan(a)], b[~np.isnan(b)]
        case = {"name": name, "a": fl(a), "b": fl(b)}
        if len(ca) < 2 or len(cb) < 2:
            case["error"] = "too_few"
        else:
            with np.errstate(all="ignore"):
                res = scipy.stats.ttest_ind(ca, cb, equal_var=False)
            case["statistic"] = f(res.statistic)
            case["pvalue"] = f(res.pvalue)
            # The df scipy uses (_unequal_var_ttest_denom).
            vn1 = np.var(ca, ddof=1) / len(ca)
            vn2 = np.var(cb, ddof=1) / len(cb)
            with np.errstate(all="ignore"):
                df = (vn1 + vn2) ** 2 / (vn1 ** 2 / (len(ca) - 1) + vn2 ** 2 / (len(cb) - 1))
            case["df"] = f(df)
            case.update(mp_welch(ca, cb))
            if np.ptp(ca) == 0 and np.ptp(cb) == 0:
                # scipy: t = nan, p = nan (equal means) or t = ±inf, p = 0;
                # the Go code reports ErrZeroVariance.
                case["error"] = "zero_variance"
                case["scipy_result"] = f"t={res.statistic} p={res.pvalue} df={df}"
                for k in ("statistic", "pvalue", "df"):
                    del case[k]
        cases.append(case)

    for n1, n2 in [(2, 2), (2, 3), (3, 50), (5, 5), (8, 13), (30, 40),
                   (100, 100), (1000, 800), (2000, 150)]:
        add(f"normal_{n1}_{n2}", rng.normal(0, 1, n1), rng.normal(0.2, 1, n2))
    for n1, n2 in [(3, 3), (10, 200), (200, 10), (1000, 30)]:
        add(f"unequal_var_{n1}_{n2}", rng.normal(0, 0.01, n1), rng.normal(0.1, 100, n2))
    add("unequal_var_1e-6_vs_1e6", rng.normal(5, 1e-6, 25), rng.normal(5, 1e6, 40))
    add("lognormal_300_250", rng.lognormal(0, 1.5, 300), rng.lognormal(0.3, 1, 250))
    add("exponential_60_90", rng.exponential(2.0, 60), rng.exponential(2.5, 90))
    add("uniform_17_19", rng.uniform(-3, 3, 17), rng.uniform(-2, 4, 19))
    add("integers_with_ties", rng.integers(0, 5, 40), rng.integers(1, 6, 35))
    add("offset_1e6", 1e6 + rng.normal(0, 1, 50), 1e6 + rng.normal(0.5, 1, 60))
    x = rng.normal(0, 1, 64)
    add("identical_samples", x, x.copy())
    add("one_constant", np.full(10, 3.0), rng.normal(3.5, 1, 12))
    add("constant_equal", np.full(5, 2.0), np.full(7, 2.0))
    add("constant_different", np.full(5, 2.0), np.full(7, 3.0))
    add("extreme_t_200_200", rng.normal(0, 1, 200), rng.normal(8, 1, 200))
    add("extreme_t_tiny_n", [1.0, 1.0001, 0.9999], [5.0, 5.0002, 4.9998])
    add("extreme_t_negative", rng.normal(0, 0.5, 40), rng.normal(10, 0.5, 30))
    a = rng.normal(0, 1, 30)
    a[[0, 7, 29]] = np.nan
    b = rng.normal(0.4, 2, 25)
    b[[3]] = np.nan
    add("with_nan", a, b)
    add("nan_leaves_one", [np.nan, 1.0, np.nan], [1.0, 2.0, 3.0])
    add("one_value", [1.0], [1.0, 2.0, 3.0])
    return cases


# ---------------------------------------------------------------------------
# Two-proportion z-test.

def ztest_cases():
    rng = np.random.default_rng(7)
    tables = [(0, 10, 0, 10), (10, 10, 25, 25), (0, 5, 5, 5), (1, 1, 0, 1),
              (45, 100, 55, 100), (500, 10000, 560, 10000), (3, 7, 1, 9),
              (1, 1000000, 0, 1000000), (50000, 1000000, 52000, 1000000),
              (2, 2, 1, 3), (123456, 987654, 123000, 987000), (0, 3, 1, 2),
              (9000, 10000, 8000, 10000), (1, 2, 1, 2)]
    for _ in range(12):
        n1, n2 = int(rng.integers(1, 5000)), int(rng.integers(1, 5000))
        p = rng.uniform(0.01, 0.99)
        tables.append((int(rng.binomial(n1, p)), n1,
                       int(rng.binomial(n2, p * rng.uniform(0.8, 1.2) if p < 0.8 else p)), n2))
    out = []
    for s1, n1, s2, n2 in tables:
        case = {"s1": s1, "n1": n1, "s2": s2, "n2": n2}
        if s1 + s2 in (0, n1 + n2):
            case["degenerate"] = True  # scipy raises; Go returns p = 1
        else:
            chi2, p, dof, _ = scipy.stats.chi2_contingency(
                [[s1, n1 - s1], [s2, n2 - s2]], correction=False)
            assert dof == 1
            case["chi2"] = f(chi2)
            case["pvalue"] = f(p)
        out.append(case)
    return out


# ---------------------------------------------------------------------------
# Quantiles.

def quantile_cases():
    rng = np.random.default_rng(11)
    qs = [0.0, 0.01, 0.1, 0.25, 1 / 3, 0.5, 0.6, 0.75, 0.9, 0.99, 1.0]
    datasets = {
        "one": [4.2],
        "two": [-1.0, 3.0],
        "three": [0.1, 0.2, 0.7],
        "seven_ties": [1.0, 1.0, 2.0, 2.0, 2.0, 5.0, 9.0],
        "normal_100": rng.normal(0, 1, 100),
        "lognormal_1001": rng.lognormal(0, 2, 1001),
        "with_nan": np.concatenate([rng.normal(0, 1, 20), [np.nan, np.nan]]),
    }
    out = []
    for name, data in datasets.items():
        data = np.sort(np.asarray(data, dtype=float))  # numpy puts NaN last
        out.append({"name": name, "data": fl(data), "q": qs,
                    "values": fl([np.nanquantile(data, q) for q in qs])})
    return out


# ---------------------------------------------------------------------------
# PSI, re-implementing Evidently.

def evidently_psi(reference, current, bins=0, categorical=False):
    """PSI as Evidently computes it (legacy stattests/psi.py::_psi).

    Mirrors stattests/utils.py::get_binned_data(..., feel_zeroes=True):
      * Evidently's data_drift drops NaN (and ±inf) before the stat test;
      * numerical column with reference.nunique() > 20: edges are
        np.histogram_bin_edges(concat(ref, cur), bins="sturges") and the
        shares np.histogram(sample, edges)[0] / len(sample) (n_bins ignored);
      * otherwise one bin per distinct non-NaN value of either sample, shares
        value_counts / len(sample);
      * zeros replaced per side by min_nonzero / 10**6 if min_nonzero <= 1e-4
        else by 1e-4, no renormalisation;
      * psi = sum((r - c) * log(r / c)).
    bins > 0 is the Go extension: np.histogram_bin_edges(..., bins=bins).
    """
    ref = pd.Series(reference, dtype="int64" if categorical else "float64").dropna()
    cur = pd.Series(current, dtype="int64" if categorical else "float64").dropna()
    if bins > 0 or (not categorical and ref.nunique() > 20):
        edges = np.histogram_bin_edges(pd.concat([ref, cur], axis=0).values,
                                       bins=bins if bins > 0 else "sturges")
        r = np.histogram(ref, edges)[0] / len(ref)
        c = np.histogram(cur, edges)[0] / len(cur)
    else:
        keys = list(set(ref.unique()) | set(cur.unique()))
        rc, cc = ref.value_counts(), cur.value_counts()
        r = np.array([rc.get(k, 0) / len(ref) for k in keys])
        c = np.array([cc.get(k, 0) / len(cur) for k in keys])
    for shares in (r, c):
        m = min(shares[shares != 0])
        np.place(shares, shares == 0, m / 10**6 if m <= 0.0001 else 0.0001)
    return float(np.sum((r - c) * np.log(r / c)))


def psi_cases():
    rng = np.random.default_rng(99)
    cases = []

    def add(name, ref, cur, bins=0, decimals=None):
        ref = np.asarray(ref, dtype=float)
        cur = np.asarray(cur, dtype=float)
        if decimals is not None:  # keep golden.json small
            ref, cur = np.round(ref, decimals), np.round(cur, decimals)
        cases.append({"name": name, "reference": fl(ref), "current": fl(cur),
                      "bins": bins, "value": evidently_psi(ref, cur, bins)})

    add("normal_same_1000", rng.normal(0, 1, 1000), rng.normal(0, 1, 1000), decimals=6)
    add("normal_shift_1000", rng.normal(0, 1, 1000), rng.normal(0.5, 1.2, 900), decimals=6)
    add("normal_shift_5000", rng.normal(0, 1, 5000), rng.normal(0.1, 1, 5000), decimals=3)
    add("lognormal_300_700", rng.lognormal(0, 1, 300), rng.lognormal(0.2, 1, 700), decimals=6)
    add("current_outside_range", rng.uniform(0, 1, 200), rng.uniform(0.5, 3, 150), decimals=6)
    add("sturges_power_of_two_total", rng.normal(0, 1, 32), rng.normal(0, 1, 32))
    add("sturges_tiny", rng.normal(0, 1, 21), rng.normal(1, 1, 3))
    # Range 0.07 over 64 values: numpy's ceil(ptp / (ptp / 7)) rounds up to 8
    # bins, not log2(64) + 1 = 7.
    add("sturges_rounding_extra_bin",
        np.r_[0.0, 0.07, rng.uniform(0, 0.07, 30)], rng.uniform(0.01, 0.06, 32))
    add("twenty_one_distinct", np.arange(21.0), np.arange(5.0, 26.0))
    add("twenty_distinct_categorical", np.arange(20.0), np.arange(5.0, 25.0))
    add("few_values_categorical", rng.integers(0, 5, 400), rng.integers(0, 7, 300))
    add("categorical_float_values", rng.choice([0.1, 0.25, 3.5], 90), rng.choice([0.1, 0.25], 40))
    add("single_value_each", [1.5], [2.5])
    ref = rng.normal(0, 1, 60)
    ref[[1, 10]] = np.nan
    cur = rng.normal(0.3, 1, 50)
    cur[[0]] = np.nan
    add("with_nan", ref, cur)
    # Smoothing below 1e-4: a bin whose smallest non-zero share is 1/20000.
    ref = np.concatenate([np.round(rng.normal(0, 1, 19999), 2), [40.0]])
    add("tiny_share_smoothing", ref, rng.normal(0, 1, 400), decimals=3)
    # Explicit bin counts (the Go bins > 0 extension).
    ref, cur = rng.normal(0, 1, 500), rng.normal(0.2, 1, 400)
    for k in (1, 10, 50):
        add(f"bins_{k}", ref, cur, bins=k, decimals=6)
    add("bins_constant_data", np.full(10, 3.0), np.full(4, 3.0), bins=5)
    add("bins_on_few_values", rng.integers(0, 3, 100), rng.integers(0, 3, 80), bins=4)
    return cases


def psi_categorical_cases():
    rng = np.random.default_rng(5)
    cases = []

    def add(name, ref, cur):
        ref, cur = [int(v) for v in ref], [int(v) for v in cur]
        cases.append({"name": name, "reference": ref, "current": cur,
                      "value": evidently_psi(ref, cur, categorical=True)})

    add("same_distribution", rng.integers(0, 4, 500), rng.integers(0, 4, 500))
    add("shifted", rng.choice(3, 1000, p=[0.6, 0.3, 0.1]), rng.choice(3, 800, p=[0.4, 0.4, 0.2]))
    add("new_label_in_current", rng.integers(0, 3, 200), rng.integers(0, 4, 200))
    add("label_missing_in_current", rng.integers(0, 5, 300), rng.integers(0, 3, 100))
    add("negative_labels", rng.integers(-3, 3, 120), rng.integers(-2, 4, 90))
    add("tiny_share_smoothing", np.concatenate([np.zeros(19999), [7]]), rng.integers(0, 2, 50))
    add("one_each", [1], [2])
    return cases


def main():
    golden = {
        "versions": {"numpy": np.__version__, "scipy": scipy.__version__,
                     "pandas": pd.__version__, "mpmath": mpmath.__version__},
        "normal": normal_cases(),
        "reg_inc_beta": reg_inc_beta_cases(),
        "student_t_sf": student_t_cases(),
        "welch": welch_cases(),
        "ztest": ztest_cases(),
        "quantile": quantile_cases(),
        "psi": psi_cases(),
        "psi_categorical": psi_categorical_cases(),
    }
    with open(OUT, "w") as fh:
        json.dump(golden, fh, allow_nan=False, separators=(",", ":"))
        fh.write("\n")


if __name__ == "__main__":
    main()
