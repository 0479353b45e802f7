//! Inference for proportions, on `statrs`'s distributions: the intervals and limits that decide
//! whether a rate, a difference or an adjusted ratio is more than chance. Pure functions of
//! counts, proportions as fractions (0–1); callers turn them into percent at the edge.
//!
//! - [`wilson`]: the score interval of one proportion (DESIGN.md §4's 95% interval of every rate).
//! - [`clopper_pearson`]: the exact (conservative) interval of one proportion.
//! - [`funnel_limits`]: control limits of a funnel plot around a target rate, from the binomial
//!   quantiles with Spiegelhalter's interpolation (Stat Med 2005;24:1185, appendix A.1.1), so they
//!   are exact at small n and never use the normal approximation.
//! - [`newcombe`]: the interval of a difference of two independent proportions, Newcombe's
//!   hybrid score method (Stat Med 1998;17:873, method 10), built from the two Wilson intervals.
//! - [`indirect`]: indirect standardisation — observed ÷ expected, the expected count from
//!   reference rates per stratum weighted by the group's own mix — with a score interval for
//!   the ratio.
//! - [`fisher_greater`], [`fisher_less`]: one-sided Fisher's exact test of a 2×2 table (a group's
//!   `k1` of `n1` against the rest's `k2` of `n2`), exact at any n: the hypergeometric tail.
//! - [`benjamini_hochberg`]: the q-values that control the false-discovery rate over a family
//!   of tests (Benjamini & Hochberg, JRSS B 1995;57:289).
//!
//! `src/stats/inference_reference.py` computes the same figures independently with SciPy into
//! `inference_reference.json`, which the tests below compare with.

use statrs::distribution::{Beta, Binomial, ContinuousCDF, DiscreteCDF, Normal};
use statrs::function::gamma::ln_gamma;

/// 95%: the interval of every rate, the inner funnel limits, the changes.
pub const C95: f64 = 0.95;
/// 99.8%: the outer funnel limits (about three standard errors).
pub const C998: f64 = 0.998;

/// The two-sided standard normal quantile of a confidence level (1.96 for 95%).
pub fn z_of(confidence: f64) -> f64 {
    Normal::standard().inverse_cdf(0.5 + confidence / 2.0)
}

/// The Wilson score interval of `k` successes in `n` trials; `None` when `n` is 0.
pub fn wilson(k: u64, n: u64, confidence: f64) -> Option<(f64, f64)> {
    wilson_f(k as f64, n, confidence)
}

/// [`wilson`] of a sum `k` of scores between 0 and 1 (not only whole successes), as the mean
/// formula needs; `None` when `n` is 0 or `k` is outside 0 to `n`.
pub fn wilson_f(k: f64, n: u64, confidence: f64) -> Option<(f64, f64)> {
    if n == 0 || !(0.0..=n as f64).contains(&k) {
        return None;
    }
    let z = z_of(confidence);
    let (kf, nf) = (k, n as f64);
    let p = kf / nf;
    let z2 = z * z;
    let denom = 1.0 + z2 / nf;
    let centre = (p + z2 / (2.0 * nf)) / denom;
    let half = z / denom * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt();
    // At k = 0 and k = n the bound is exactly 0 or 1; the arithmetic leaves a rounding residue.
    let low = if k == 0.0 { 0.0 } else { (centre - half).max(0.0) };
    let high = if k == nf { 1.0 } else { (centre + half).min(1.0) };
    Some((low, high))
}

/// The exact Clopper–Pearson interval of `k` successes in `n` trials (beta quantiles); `None`
/// when `n` is 0.
pub fn clopper_pearson(k: u64, n: u64, confidence: f64) -> Option<(f64, f64)> {
    if n == 0 || k > n {
        return None;
    }
    let a = (1.0 - confidence) / 2.0;
    let (kf, nf) = (k as f64, n as f64);
    let low = if k == 0 { 0.0 } else { Beta::new(kf, nf - kf + 1.0).ok()?.inverse_cdf(a) };
    let high = if k == n { 1.0 } else { Beta::new(kf + 1.0, nf - kf).ok()?.inverse_cdf(1.0 - a) };
    Some((low, high))
}

/// The `q` quantile of the proportion observed in `n` trials at true rate `p0`, interpolated
/// between the binomial's steps (Spiegelhalter 2005): with `r` the smallest count whose
/// cumulative probability reaches `q`, the limit is `(r − α) / n`, α = (F(r) − q) / (F(r) − F(r−1)).
fn binomial_quantile(p0: f64, n: u64, q: f64) -> Option<f64> {
    let b = Binomial::new(p0, n).ok()?;
    // the smallest r with F(r) ≥ q, by bisection on [0, n] (F(n) = 1); statrs's own
    // `inverse_cdf` can panic on a failed search, which a request must never do
    let (mut r, mut hi) = (0u64, n);
    while r < hi {
        let mid = r + (hi - r) / 2;
        if b.cdf(mid) >= q {
            hi = mid;
        } else {
            r = mid + 1;
        }
    }
    let at = b.cdf(r);
    let below = if r == 0 { 0.0 } else { b.cdf(r - 1) };
    let alpha = if at > below { (at - q) / (at - below) } else { 0.0 };
    Some(((r as f64 - alpha) / n as f64).clamp(0.0, 1.0))
}

/// The funnel plot's control limits at `n` answers around the target rate `p0`: the central
/// `confidence` share of the proportions a group of size `n` at rate `p0` would show. `None` when
/// `n` is 0 or `p0` is not a proportion.
pub fn funnel_limits(p0: f64, n: u64, confidence: f64) -> Option<(f64, f64)> {
    if n == 0 || !(0.0..=1.0).contains(&p0) {
        return None;
    }
    if p0 == 0.0 || p0 == 1.0 {
        return Some((p0, p0));
    }
    let a = (1.0 - confidence) / 2.0;
    Some((binomial_quantile(p0, n, a)?, binomial_quantile(p0, n, 1.0 - a)?))
}

/// The interval of `k1/n1 − k2/n2` for two independent samples (Newcombe's hybrid score
/// method); `None` when either sample is empty.
pub fn newcombe(k1: u64, n1: u64, k2: u64, n2: u64, confidence: f64) -> Option<(f64, f64)> {
    newcombe_f(k1 as f64, n1, k2 as f64, n2, confidence)
}

/// [`newcombe`] of sums of scores between 0 and 1 (see [`wilson_f`]).
pub fn newcombe_f(k1: f64, n1: u64, k2: f64, n2: u64, confidence: f64) -> Option<(f64, f64)> {
    let (l1, u1) = wilson_f(k1, n1, confidence)?;
    let (l2, u2) = wilson_f(k2, n2, confidence)?;
    let (p1, p2) = (k1 / n1 as f64, k2 / n2 as f64);
    let d = p1 - p2;
    let low = d - ((p1 - l1).powi(2) + (u2 - p2).powi(2)).sqrt();
    let high = d + ((u1 - p1).powi(2) + (p2 - l2).powi(2)).sqrt();
    Some((low.max(-1.0), high.min(1.0)))
}

/// The variance (as a fraction²) of an index that is the plain mean over elements of the plain
/// mean of their statements' rates (DESIGN.md §4's SIPAS index): Σ w² p(1−p)/n with
/// w = 1 / (elements × statements of the element), each statement given as (positives, answers),
/// with the Agresti–Coull p = (k+2)/(n+4) so an all-positive statement still has some spread.
/// Statements are treated as independent (the same residents answer several, so the true
/// variance is somewhat larger). `None` without data.
/// Under the mean formula `k` is a sum of scores between 0 and 1, whose variance p(1−p) bounds.
pub fn index_variance(elements: &[Vec<(f64, u64)>]) -> Option<f64> {
    let with_data: Vec<Vec<(f64, u64)>> = elements
        .iter()
        .map(|e| e.iter().copied().filter(|(_, n)| *n > 0).collect::<Vec<_>>())
        .filter(|e| !e.is_empty())
        .collect();
    if with_data.is_empty() {
        return None;
    }
    let e = with_data.len() as f64;
    let mut var = 0.0;
    for stmts in &with_data {
        let w = 1.0 / (e * stmts.len() as f64);
        for (k, n) in stmts {
            let p = (*k + 2.0) / (*n as f64 + 4.0);
            var += w * w * p * (1.0 - p) / *n as f64;
        }
    }
    Some(var)
}

/// The normal-approximation interval of a difference `d` of two independent estimates with
/// variances `v1` and `v2`.
pub fn difference_normal(d: f64, v1: f64, v2: f64, confidence: f64) -> (f64, f64) {
    let half = z_of(confidence) * (v1 + v2).sqrt();
    (d - half, d + half)
}

/// One stratum of an indirect standardisation: the group's `k` positives of `n` answers in it,
/// and the reference rate there (the unit's, or the province's).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stratum {
    pub k: u64,
    pub n: u64,
    pub reference: f64,
}

/// Observed against expected.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Standardised {
    /// Positive answers the group had.
    pub observed: u64,
    /// Positive answers it would have had at the reference rates, with its own mix.
    pub expected: f64,
    /// Answers in all (the strata's `n` summed).
    pub n: u64,
    /// observed ÷ expected (1 = as the reference, given the mix); `None` when nothing is expected.
    pub ratio: Option<f64>,
    /// The interval of the ratio.
    pub ci: Option<(f64, f64)>,
}

/// Indirect standardisation with a score interval for the ratio R = O / E. The group's positives
/// O are a sum of binomials; if the group rated R times the reference in every stratum, O would
/// have mean R·E and variance Σ nᵢ R rᵢ (1 − R rᵢ). The interval is every R for which O lies within
/// `z` standard deviations of that mean, the roots of (E² + z²Q) R² − (2OE + z²E) R + O² = 0 with
/// Q = Σ nᵢ rᵢ² — with a single stratum exactly the Wilson interval divided by the reference rate.
/// The reference rates are taken as known (they rest on the whole unit's answers). The upper end is
/// capped at n ÷ E, the ratio of a group whose every answer is positive.
pub fn indirect(strata: &[Stratum], confidence: f64) -> Standardised {
    let observed: u64 = strata.iter().map(|s| s.k).sum();
    let n: u64 = strata.iter().map(|s| s.n).sum();
    let expected: f64 = strata.iter().map(|s| s.n as f64 * s.reference).sum();
    let q: f64 = strata.iter().map(|s| s.n as f64 * s.reference * s.reference).sum();
    if expected <= 0.0 {
        return Standardised { observed, expected, n, ratio: None, ci: None };
    }
    let (o, e) = (observed as f64, expected);
    let z2 = z_of(confidence).powi(2);
    let a = e * e + z2 * q;
    let b = 2.0 * o * e + z2 * e;
    let c = o * o;
    let root = (b * b - 4.0 * a * c).max(0.0).sqrt();
    let low = if observed == 0 { 0.0 } else { (b - root) / (2.0 * a) };
    let high = if observed == n { n as f64 / e } else { ((b + root) / (2.0 * a)).min(n as f64 / e) };
    Standardised { observed, expected, n, ratio: Some(o / e), ci: Some((low, high)) }
}

/// ln C(n, k).
fn ln_choose(n: u64, k: u64) -> f64 {
    ln_gamma(n as f64 + 1.0) - ln_gamma(k as f64 + 1.0) - ln_gamma((n - k) as f64 + 1.0)
}

/// The hypergeometric probabilities of the group's count in a 2×2 table with these margins, as
/// (smallest count, log-probabilities from it on); `None` for an impossible table.
fn hypergeometric(k1: u64, n1: u64, k2: u64, n2: u64) -> Option<(u64, Vec<f64>)> {
    if k1 > n1 || k2 > n2 || n1 == 0 {
        return None;
    }
    let (total, successes) = (n1 + n2, k1 + k2);
    let low = n1.saturating_sub(total - successes);
    let high = n1.min(successes);
    let denominator = ln_choose(total, n1);
    let logs = (low..=high)
        .map(|x| ln_choose(successes, x) + ln_choose(total - successes, n1 - x) - denominator)
        .collect();
    Some((low, logs))
}

/// Σ exp over a slice of log-probabilities, capped at 1.
fn sum_exp(logs: &[f64]) -> f64 {
    let top = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !top.is_finite() {
        return 0.0;
    }
    (top.exp() * logs.iter().map(|l| (l - top).exp()).sum::<f64>()).min(1.0)
}

/// One-sided Fisher's exact test that the group's rate `k1/n1` is higher than the rest's `k2/n2`:
/// the probability, with the margins fixed, of the group having `k1` or more. `None` when the
/// group is empty or a count exceeds its total.
pub fn fisher_greater(k1: u64, n1: u64, k2: u64, n2: u64) -> Option<f64> {
    let (low, logs) = hypergeometric(k1, n1, k2, n2)?;
    Some(sum_exp(&logs[(k1 - low) as usize..]))
}

/// One-sided Fisher's exact test that the group's rate `k1/n1` is lower than the rest's `k2/n2`:
/// the probability of the group having `k1` or fewer.
pub fn fisher_less(k1: u64, n1: u64, k2: u64, n2: u64) -> Option<f64> {
    let (low, logs) = hypergeometric(k1, n1, k2, n2)?;
    Some(sum_exp(&logs[..=(k1 - low) as usize]))
}

/// Benjamini–Hochberg q-values of a family of p-values, in their order: the smallest false-
/// discovery rate at which each test would be called a discovery (q_(i) = min over j ≥ i of
/// p_(j) · m / j, capped at 1).
pub fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|a, b| p[*a].total_cmp(&p[*b]));
    let mut q = vec![1.0; m];
    let mut running = 1.0f64;
    for (rank, &i) in order.iter().enumerate().rev() {
        running = running.min(p[i] * m as f64 / (rank + 1) as f64);
        q[i] = running.min(1.0);
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The figures SciPy computed (see the script's header for the command).
    fn reference() -> serde_json::Value {
        serde_json::from_str(include_str!("inference_reference.json")).unwrap()
    }

    fn f(v: &serde_json::Value) -> f64 {
        v.as_f64().unwrap()
    }

    fn u(v: &serde_json::Value) -> u64 {
        v.as_u64().unwrap()
    }

    fn close(what: &str, ours: f64, theirs: f64) {
        assert!((ours - theirs).abs() < 1e-9, "{what}: ours {ours}, SciPy {theirs}");
    }

    #[test]
    fn wilson_and_clopper_pearson_intervals_match_scipy() {
        let r = reference();
        for case in r["proportions"].as_array().unwrap() {
            let (k, n, conf) = (u(&case["k"]), u(&case["n"]), f(&case["confidence"]));
            let (wl, wh) = wilson(k, n, conf).unwrap();
            close(&format!("wilson low {k}/{n} @{conf}"), wl, f(&case["wilson"][0]));
            close(&format!("wilson high {k}/{n} @{conf}"), wh, f(&case["wilson"][1]));
            let (cl, ch) = clopper_pearson(k, n, conf).unwrap();
            close(&format!("exact low {k}/{n} @{conf}"), cl, f(&case["exact"][0]));
            close(&format!("exact high {k}/{n} @{conf}"), ch, f(&case["exact"][1]));
        }
        assert!(wilson(0, 0, C95).is_none() && clopper_pearson(0, 0, C95).is_none());
    }

    #[test]
    fn funnel_limits_are_interpolated_binomial_quantiles_as_scipy_computes_them() {
        let r = reference();
        for case in r["funnel"].as_array().unwrap() {
            let (p0, n, conf) = (f(&case["p0"]), u(&case["n"]), f(&case["confidence"]));
            let (lo, hi) = funnel_limits(p0, n, conf).unwrap();
            close(&format!("funnel low p0={p0} n={n} @{conf}"), lo, f(&case["limits"][0]));
            close(&format!("funnel high p0={p0} n={n} @{conf}"), hi, f(&case["limits"][1]));
        }
        // the limits narrow as n grows
        let w = |n| funnel_limits(0.85, n, C998).map(|(l, h)| h - l).unwrap();
        assert!(w(10) > w(100) && w(100) > w(1000));
    }

    #[test]
    fn newcombe_intervals_of_differences_match_scipy() {
        let r = reference();
        for case in r["differences"].as_array().unwrap() {
            let (k1, n1, k2, n2) = (u(&case["k1"]), u(&case["n1"]), u(&case["k2"]), u(&case["n2"]));
            let (lo, hi) = newcombe(k1, n1, k2, n2, C95).unwrap();
            close(&format!("diff low {k1}/{n1}-{k2}/{n2}"), lo, f(&case["ci"][0]));
            close(&format!("diff high {k1}/{n1}-{k2}/{n2}"), hi, f(&case["ci"][1]));
        }
    }

    #[test]
    fn indirectly_standardised_ratios_match_scipy_root_finding() {
        let r = reference();
        for case in r["standardised"].as_array().unwrap() {
            let strata: Vec<Stratum> = case["strata"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| Stratum { k: u(&s[0]), n: u(&s[1]), reference: f(&s[2]) })
                .collect();
            let s = indirect(&strata, C95);
            close("expected", s.expected, f(&case["expected"]));
            close("ratio", s.ratio.unwrap(), f(&case["ratio"]));
            let (lo, hi) = s.ci.unwrap();
            close("ratio low", lo, f(&case["ci"][0]));
            close("ratio high", hi, f(&case["ci"][1]));
        }
    }

    #[test]
    fn one_stratum_standardisation_is_the_wilson_interval_over_the_reference_rate() {
        let s = indirect(&[Stratum { k: 34, n: 50, reference: 0.8 }], C95);
        let (wl, wh) = wilson(34, 50, C95).unwrap();
        let (lo, hi) = s.ci.unwrap();
        assert!((lo - wl / 0.8).abs() < 1e-12 && (hi - wh / 0.8).abs() < 1e-12);
    }
    #[test]
    fn one_sided_fisher_tests_match_scipy() {
        let r = reference();
        for case in r["fisher"].as_array().unwrap() {
            let (k1, n1, k2, n2) = (u(&case["k1"]), u(&case["n1"]), u(&case["k2"]), u(&case["n2"]));
            let rel = |ours: f64, theirs: f64| (ours - theirs).abs() <= 1e-9 * theirs.max(1e-300) + 1e-15;
            let g = fisher_greater(k1, n1, k2, n2).unwrap();
            assert!(
                rel(g, f(&case["greater"])),
                "greater {k1}/{n1} vs {k2}/{n2}: ours {g}, SciPy {}",
                case["greater"]
            );
            let l = fisher_less(k1, n1, k2, n2).unwrap();
            assert!(
                rel(l, f(&case["less"])),
                "less {k1}/{n1} vs {k2}/{n2}: ours {l}, SciPy {}",
                case["less"]
            );
        }
        assert!(fisher_greater(3, 0, 1, 5).is_none() && fisher_less(6, 5, 1, 5).is_none());
    }

    #[test]
    fn benjamini_hochberg_q_values_match_scipy() {
        let r = reference();
        for case in r["bh"].as_array().unwrap() {
            let p: Vec<f64> = case["p"].as_array().unwrap().iter().map(f).collect();
            let q = benjamini_hochberg(&p);
            for (ours, theirs) in q.iter().zip(case["q"].as_array().unwrap()) {
                close("bh q", *ours, f(theirs));
            }
        }
        assert!(benjamini_hochberg(&[]).is_empty());
    }
}
