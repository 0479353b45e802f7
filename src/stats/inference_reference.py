#!/usr/bin/env python3
"""Reference figures for src/stats/inference.rs, computed independently with SciPy.

Made with (SciPy 1.17.1, Python 3):

    python3 -m venv /tmp/stats-venv && /tmp/stats-venv/bin/pip install scipy
    /tmp/stats-venv/bin/python src/stats/inference_reference.py > src/stats/inference_reference.json

- Wilson and Clopper-Pearson: scipy.stats.binomtest(k, n).proportion_ci(method="wilson" / "exact").
- Funnel limits: scipy.stats.binom.ppf and .cdf, with Spiegelhalter's interpolation
  (Stat Med 2005;24:1185, appendix A.1.1).
- Differences: Newcombe's hybrid score interval (method 10) from SciPy's Wilson intervals.
- Indirect standardisation: the ends of the score interval found by root finding
  (scipy.optimize.brentq) on (O - R E)^2 - z^2 sum n_i R r_i (1 - R r_i), not by the closed form
  the Rust code uses.
- One-sided Fisher's exact tests: scipy.stats.fisher_exact([[k1, n1-k1], [k2, n2-k2]],
  alternative="greater" / "less").
- Benjamini-Hochberg q-values: scipy.stats.false_discovery_control(p, method="bh").
"""

import json

from scipy import optimize, stats

CONF = [0.95, 0.998]
PROPORTIONS = [(0, 1), (1, 1), (0, 12), (12, 12), (5, 8), (7, 12), (10, 12), (34, 50), (340, 400),
               (381, 400), (1, 1000), (843, 1000), (9000, 10000)]
FUNNEL = [(0.85, n) for n in (1, 5, 8, 12, 20, 50, 100, 400, 1000, 5000)] + \
         [(0.5, 10), (0.5, 101), (0.97, 30), (0.03, 30), (0.6234, 77)]
DIFFERENCES = [(340, 400, 324, 400), (84, 100, 81, 100), (840, 1000, 810, 1000),
               (5000, 6000, 4700, 6000), (12, 12, 10, 12), (0, 10, 3, 10), (56, 70, 48, 61),
               (40, 50, 42, 50), (30, 50, 45, 50)]  # the last two: tests/api/comparisons.rs
STANDARDISED = [
    [(34, 50, 0.8)],
    [(60, 100, 0.6)],
    [(60, 100, 0.6), (90, 100, 0.9)],
    [(20, 30, 0.62), (45, 50, 0.93), (8, 10, 0.71)],
    [(0, 5, 0.5), (3, 4, 0.8)],
    [(130, 200, 0.62), (5, 6, 0.95)],
]
# a group's k1 of n1 against the rest's k2 of n2: small and large tables, both tails, the edges
FISHER = [(3, 3, 20, 40), (12, 15, 150, 220), (0, 8, 30, 60), (8, 8, 0, 8), (5, 20, 5, 20),
          (33, 60, 84, 300), (40, 300, 270, 300), (1, 1, 0, 0), (0, 5, 0, 50), (5, 5, 50, 50),
          (29, 30, 160, 230), (150, 400, 1200, 2000), (2, 3, 700, 1000), (60, 60, 500, 1000)]
BH = [[0.01, 0.04, 0.03, 0.2, 0.5], [0.001, 0.0008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212,
      0.216, 0.222, 0.251, 0.269, 0.275, 0.34], [1.0, 1.0], [0.3], [0.02, 0.02, 0.02, 0.9]]


def fisher(k1, n1, k2, n2, side):
    return float(stats.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]], alternative=side).pvalue)


def wilson(k, n, conf):
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=conf, method="wilson")
    return ci.low, ci.high


def exact(k, n, conf):
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=conf, method="exact")
    return ci.low, ci.high


def quantile(p0, n, q):
    r = stats.binom.ppf(q, n, p0)
    at = stats.binom.cdf(r, n, p0)
    below = stats.binom.cdf(r - 1, n, p0)
    alpha = (at - q) / (at - below) if at > below else 0.0
    return min(max((r - alpha) / n, 0.0), 1.0)


def newcombe(k1, n1, k2, n2, conf):
    l1, u1 = wilson(k1, n1, conf)
    l2, u2 = wilson(k2, n2, conf)
    p1, p2 = k1 / n1, k2 / n2
    d = p1 - p2
    return (max(d - ((p1 - l1) ** 2 + (u2 - p2) ** 2) ** 0.5, -1.0),
            min(d + ((u1 - p1) ** 2 + (p2 - l2) ** 2) ** 0.5, 1.0))


def standardised(strata, conf):
    z = stats.norm.ppf(0.5 + conf / 2)
    o = sum(k for k, _, _ in strata)
    n = sum(m for _, m, _ in strata)
    e = sum(m * r for _, m, r in strata)

    def score(ratio):
        var = sum(m * ratio * r * (1 - ratio * r) for _, m, r in strata)
        return (o - ratio * e) ** 2 - z * z * var

    point = o / e
    low = 0.0 if o == 0 else optimize.brentq(score, 1e-12, point, xtol=1e-15, rtol=1e-15)
    top = n / e  # the ratio of a group whose every answer is positive
    high = optimize.brentq(score, point, top, xtol=1e-15, rtol=1e-15) if score(top) > 0 else top
    return e, point, (low, high)


out = {
    "proportions": [
        {"k": k, "n": n, "confidence": c, "wilson": wilson(k, n, c), "exact": exact(k, n, c)}
        for (k, n) in PROPORTIONS for c in CONF
    ],
    "funnel": [
        {"p0": p0, "n": n, "confidence": c,
         "limits": (quantile(p0, n, (1 - c) / 2), quantile(p0, n, 1 - (1 - c) / 2))}
        for (p0, n) in FUNNEL for c in CONF
    ],
    "differences": [
        {"k1": a, "n1": b, "k2": c, "n2": d, "ci": newcombe(a, b, c, d, 0.95)}
        for (a, b, c, d) in DIFFERENCES
    ],
    "standardised": [],
    "fisher": [
        {"k1": a, "n1": b, "k2": c, "n2": d, "greater": fisher(a, b, c, d, "greater"),
         "less": fisher(a, b, c, d, "less")}
        for (a, b, c, d) in FISHER
    ],
    "bh": [{"p": p, "q": [float(q) for q in stats.false_discovery_control(p, method="bh")]} for p in BH],
}
for strata in STANDARDISED:
    e, ratio, ci = standardised(strata, 0.95)
    out["standardised"].append({"strata": strata, "expected": e, "ratio": ratio, "ci": ci})

print(json.dumps(out, indent=1))
