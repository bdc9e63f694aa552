#!/usr/bin/python3
"""Golden detection indices for internal/concept's DDM, PageHinkley and ADWIN.

river is not installable here, so this script re-implements river's arithmetic
line for line in pure Python (river/drift/binary/ddm.py, river/drift/
page_hinkley.py, river/drift/adwin.py + adwin_c.pyx, stats.Mean), with no
river import. Streams come from Python's random.Random so that river's own
doctest outputs serve as an independent check of this replica:
  DDM   on Random(42):    warning 1084, drift 1334, warning 1492
  PH    on Random(12345): drift 1006
  ADWIN on Random(12345): drift 1023
The script asserts those before writing river_golden.json.

Run: /usr/bin/python3 gen_river_golden.py  (from this directory)
"""
import json
import math
import random
import sys

TWO_THIRDS = 2 / 3  # set to 0 to emulate Cython language_level=2 integer division


class Mean:
    def __init__(self):
        self.n = 0.0
        self.m = 0.0

    def update(self, x, w=1.0):
        self.n += w
        self.m += (w / self.n) * (x - self.m)


class DDM:
    def __init__(self, warm_start=30, warning_threshold=2.0, drift_threshold=3.0):
        self.warm_start, self.wt, self.dt = warm_start, warning_threshold, drift_threshold
        self.drift = False
        self._reset()

    def _reset(self):
        self.drift = False
        self.warning = False
        self.p = Mean()
        self.p_min = self.s_min = self.ps_min = float("inf")

    def update(self, x):
        if self.drift:
            self._reset()
        self.p.update(x)
        p_i, n = self.p.m, self.p.n
        s_i = math.sqrt(p_i * (1 - p_i) / n)
        if n > self.warm_start:
            if p_i + s_i <= self.ps_min:
                self.p_min, self.s_min = p_i, s_i
                self.ps_min = self.p_min + self.s_min
            self.warning = p_i + s_i > self.p_min + self.wt * self.s_min
            if p_i + s_i > self.p_min + self.dt * self.s_min:
                self.drift = True
                self.warning = False


class PageHinkley:
    def __init__(self, min_instances=30, delta=0.005, threshold=50.0, alpha=1 - 0.0001, mode="both"):
        self.min_instances, self.delta, self.threshold, self.alpha, self.mode = (
            min_instances, delta, threshold, alpha, mode)
        self._reset()

    def _reset(self):
        self.drift = False
        self.mean = Mean()
        self.sum_inc = 0.0
        self.sum_dec = 0.0
        self.min_inc = float("inf")
        self.max_dec = -1

    def update(self, x):
        if self.drift:
            self._reset()
        self.mean.update(x)
        dev = x - self.mean.m
        self.sum_inc = self.alpha * self.sum_inc + dev - self.delta
        self.sum_dec = self.alpha * self.sum_dec + dev + self.delta
        if self.sum_inc < self.min_inc:
            self.min_inc = self.sum_inc
        if self.sum_dec > self.max_dec:
            self.max_dec = self.sum_dec
        if self.mean.n >= self.min_instances:
            ti = self.sum_inc - self.min_inc
            td = self.max_dec - self.sum_dec
            if self.mode == "up":
                self.drift = ti > self.threshold
            elif self.mode == "down":
                self.drift = td > self.threshold
            else:
                self.drift = ti > self.threshold or td > self.threshold


class Row:
    def __init__(self, max_size):
        self.tot = [0.0] * (max_size + 1)
        self.var = [0.0] * (max_size + 1)
        self.k = 0

    def insert(self, t, v):
        self.tot[self.k] = t
        self.var[self.k] = v
        self.k += 1

    def compress(self, n):
        L = len(self.tot)
        for i in range(n, L):
            self.tot[i - n] = self.tot[i]
            self.var[i - n] = self.var[i]
        for i in range(L - n, L):
            self.tot[i] = 0.0
            self.var[i] = 0.0
        self.k -= n


class AdaptiveWindowing:
    def __init__(self, delta=0.002, clock=32, max_buckets=5, min_window_length=5, grace_period=10):
        self.delta, self.clock, self.max_buckets = delta, clock, max_buckets
        self.mwl, self.grace = min_window_length, grace_period
        self.rows = [Row(max_buckets)]
        self.total = 0.0
        self.variance = 0.0
        self.width = 0.0
        self.tick = 0

    def update(self, value):
        self._insert(value, 0.0)
        return self._detect()

    def _insert(self, value, variance):
        self.rows[0].insert(value, variance)
        self.width += 1
        inc = 0.0
        if self.width > 1.0:
            inc = ((self.width - 1.0) * (value - self.total / (self.width - 1.0))
                   * (value - self.total / (self.width - 1.0)) / self.width)
        self.variance += inc
        self.total += value
        self._compress()

    def _delete(self):
        row = self.rows[-1]
        n = math.pow(2, len(self.rows) - 1)
        u = row.tot[0]
        mu = u / n
        v = row.var[0]
        self.width -= n
        self.total -= u
        mu_w = self.total / self.width
        self.variance -= v + n * self.width * (mu - mu_w) * (mu - mu_w) / (n + self.width)
        row.compress(1)
        if row.k == 0:
            self.rows.pop()
        return n

    def _compress(self):
        idx = 0
        row = self.rows[0]
        while row is not None:
            if row.k == self.max_buckets + 1:
                if idx + 1 >= len(self.rows):
                    self.rows.append(Row(self.max_buckets))
                nxt = self.rows[idx + 1]
                n1 = n2 = math.pow(2, idx)
                mu1 = row.tot[0] / n1
                mu2 = row.tot[1] / n2
                t12 = row.tot[0] + row.tot[1]
                temp = n1 * n2 * (mu1 - mu2) * (mu1 - mu2) / (n1 + n2)
                v12 = row.var[0] + row.var[1] + temp
                nxt.insert(t12, v12)
                row.compress(2)
                if nxt.k <= self.max_buckets:
                    break
            else:
                break
            row = self.rows[idx + 1] if idx + 1 < len(self.rows) else None
            idx += 1

    def _cut(self, n0, n1, delta_mean):
        dp = math.log(2 * math.log(self.width) / self.delta)
        m = 1.0 / (n0 - self.mwl + 1) + 1.0 / (n1 - self.mwl + 1)
        vw = self.variance / self.width
        inner = 2 * m * vw * dp
        if inner < 0:  # libc sqrt of a negative is NaN; |x| > NaN is false
            return False
        eps = math.sqrt(inner) + TWO_THIRDS * dp * m
        return abs(delta_mean) > eps

    def _detect(self):
        change = False
        self.tick += 1
        if self.tick % self.clock == 0 and self.width > self.grace:
            reduce = True
            while reduce:
                reduce = False
                exit_flag = False
                n0, n1, u0, u1 = 0.0, self.width, 0.0, self.total
                for idx in range(len(self.rows) - 1, -1, -1):
                    if exit_flag:
                        break
                    row = self.rows[idx]
                    for k in range(row.k - 1):
                        size = math.pow(2, idx)
                        n0 += size
                        n1 -= size
                        u0 += row.tot[k]
                        u1 -= row.tot[k]
                        if idx == 0 and k == row.k - 1:
                            exit_flag = True
                            break
                        dm = u0 / n0 - u1 / n1
                        if n1 >= self.mwl and n0 >= self.mwl and self._cut(n0, n1, dm):
                            reduce = True
                            change = True
                            if self.width > 0:
                                n0 -= self._delete()
                                exit_flag = True
                                break
        return change


class ADWIN:
    def __init__(self, **kw):
        self.kw = kw
        self.drift = False
        self.h = AdaptiveWindowing(**kw)

    def update(self, x):
        if self.drift:
            self.h = AdaptiveWindowing(**self.kw)
        self.drift = self.h.update(x)

    @property
    def estimation(self):
        return 0.0 if self.h.width == 0 else self.h.total / self.h.width


def run_ddm(stream):
    d = DDM()
    warn, drift = [], []
    for i, x in enumerate(stream):
        d.update(x)
        if d.warning:
            warn.append(i)
        if d.drift:
            drift.append(i)
    return warn, drift


def run_ph(stream, mode="both"):
    p = PageHinkley(mode=mode)
    out = []
    for i, x in enumerate(stream):
        p.update(x)
        if p.drift:
            out.append(i)
    return out


def run_adwin(stream, **kw):
    a = ADWIN(**kw)
    out = []
    for i, x in enumerate(stream):
        a.update(x)
        if a.drift:
            out.append(i)
    return out, a.h.width, a.estimation


def main():
    # 1. river doctest streams (oracle: river's documented outputs).
    rng = random.Random(42)
    ddm_doc = rng.choices([0, 1], k=1000) + rng.choices([0, 1], k=1000, weights=[0.3, 0.7])
    warn, drift = run_ddm(ddm_doc)
    printed = []
    pw = True
    ws, ds = set(warn), set(drift)
    for i in range(len(ddm_doc)):
        if i in ws and pw:
            printed.append(("warning", i))
            pw = False
        if i in ds:
            printed.append(("drift", i))
            pw = True
    assert printed == [("warning", 1084), ("drift", 1334), ("warning", 1492)], printed

    rng = random.Random(12345)
    ph_doc = rng.choices([0, 1], k=1000) + rng.choices(range(4, 8), k=1000)
    assert run_ph(ph_doc) == [1006], run_ph(ph_doc)

    rng = random.Random(12345)
    adwin_doc = rng.choices([0, 1], k=1000) + rng.choices(range(4, 8), k=1000)
    ad, _, _ = run_adwin(adwin_doc)
    assert ad == [1023], ad

    cases = []

    def add(name, kind, stream, **kw):
        c = {"name": name, "detector": kind, "stream": stream}
        if kind == "ddm":
            c["warnings"], c["drifts"] = run_ddm(stream)
        elif kind == "ph":
            c["mode"] = kw.get("mode", "both")
            c["drifts"] = run_ph(stream, c["mode"])
        else:
            c["drifts"], c["final_width"], c["final_estimation"] = run_adwin(stream, **kw)
            c["params"] = kw
        cases.append(c)

    add("river_doctest_ddm_random42", "ddm", ddm_doc)
    add("river_doctest_ph_random12345", "ph", ph_doc)
    add("river_doctest_adwin_random12345", "adwin", adwin_doc)

    # 2. Bernoulli error streams p=0.1 -> 0.5 at t=1000 (seeded).
    for seed in (1, 2, 3):
        r = random.Random(seed)
        s = [1 if r.random() < 0.1 else 0 for _ in range(1000)] + \
            [1 if r.random() < 0.5 else 0 for _ in range(1000)]
        add(f"bernoulli_seed{seed}_ddm", "ddm", s)
        add(f"bernoulli_seed{seed}_adwin", "adwin", s)
        add(f"bernoulli_seed{seed}_ph_up", "ph", [x * 100 for x in s], mode="up")
    # 3. Real-valued stream with a downward shift, for PH 'down' and 'both'.
    r = random.Random(7)
    s = [r.randint(40, 60) for _ in range(800)] + [r.randint(0, 20) for _ in range(400)]
    add("int_down_ph_down", "ph", s, mode="down")
    add("int_down_ph_both", "ph", s, mode="both")
    # 4. ADWIN with non-default parameters (clock=1, max_buckets=2).
    r = random.Random(11)
    s = [r.randint(0, 3) for _ in range(600)] + [r.randint(2, 6) for _ in range(600)]
    add("adwin_clock1_buckets2", "adwin", s, clock=1, max_buckets=2, min_window_length=5, grace_period=10)

    json.dump({"generator": "gen_river_golden.py", "cases": cases},
              open("river_golden.json", "w"), separators=(",", ":"))
    for c in cases:
        print(c["name"], c.get("warnings", [])[:3], c["drifts"][:10], file=sys.stderr)


if __name__ == "__main__":
    main()
