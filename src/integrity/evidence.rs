//! Evidence per officer and period, beside the per-answer flags: how an officer's figures compare
//! with the rest of the unit's (and with the province's other communes, when this installation
//! holds their answers), each comparison with an exact test and a q-value that controls the
//! false-discovery rate over every test of the report. A comparison whose q-value is at most
//! [`FDR`] is "bất thường" (unusual): a reason for a leader to look, never a verdict. No
//! database, no HTTP: the counts come from `store::evidence_counts`.
//!
//! Rules on single answers cannot see an officer who stays inside every limit (a few of their
//! own invitations answered from different phones, hours apart), nor one who offers the slip
//! only to residents who look pleased; the officer's pattern over a period can:
//!
//! | measure | the officer's `k` of `n` | unusual when | why |
//! | --- | --- | --- | --- |
//! | `top_share` | top scores (`CASE.OVERALL` 5) of responses | higher | staged and hand-picked answers are top scores |
//! | `response_rate` | invitations issued in the period that were answered, of those issued | higher | an officer answering slips residents left unanswered raises it |
//! | `offer_rate` | invitations issued, of cases handled (`cases/daily`) | lower | offering the slip only to pleased residents lowers it |
//! | `quick_answers` | responses sent within [`QUICK_MINUTES`] of issue | higher | an officer answers their own slips right away; residents answer over minutes and hours |
//! | `outside_hours` | responses sent outside desk hours ([`DESK_OPENS`]–[`DESK_CLOSES`], Monday to Friday) | higher | answered in the evening or at the weekend, in a batch |
//!
//! Each is one-sided (the direction a staged pattern pushes), tested with Fisher's exact test of
//! the officer's 2×2 table against the rest's, which is exact at any n. An officer with fewer
//! than `min_n` responses in the period (the statistics' smallest group) is not tested at all,
//! nor is a measure whose own `n` is below `min_n`: nothing is called unusual on a handful of
//! answers. Flagged responses count (the evidence is about behaviour, not satisfaction).

use crate::stats::inference::{benjamini_hochberg, fisher_greater, fisher_less};

/// The false-discovery rate the q-values are held to: among the comparisons called unusual,
/// at most this share is expected to be chance.
pub const FDR: f64 = 0.05;
/// A response sent within this many minutes of its invitation's issue counts as quick.
pub const QUICK_MINUTES: i64 = 10;
/// Desk hours, local time, Monday to Friday: from `DESK_OPENS` (inclusive) to `DESK_CLOSES`
/// (exclusive), as hours and minutes.
pub const DESK_OPENS: (u32, u32) = (7, 0);
pub const DESK_CLOSES: (u32, u32) = (17, 30);

/// What is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Measure {
    TopShare,
    ResponseRate,
    OfferRate,
    QuickAnswers,
    OutsideHours,
}

impl Measure {
    pub const ALL: [Measure; 5] = [
        Measure::TopShare,
        Measure::ResponseRate,
        Measure::OfferRate,
        Measure::QuickAnswers,
        Measure::OutsideHours,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Measure::TopShare => "top_share",
            Measure::ResponseRate => "response_rate",
            Measure::OfferRate => "offer_rate",
            Measure::QuickAnswers => "quick_answers",
            Measure::OutsideHours => "outside_hours",
        }
    }

    /// What a leader reads.
    pub fn label_vi(self) -> &'static str {
        match self {
            Measure::TopShare => "Tỷ lệ điểm tối đa",
            Measure::ResponseRate => "Tỷ lệ phiếu được trả lời",
            Measure::OfferRate => "Tỷ lệ phát phiếu trên số hồ sơ",
            Measure::QuickAnswers => "Trả lời trong vòng 10 phút sau khi phát",
            Measure::OutsideHours => "Trả lời ngoài giờ làm việc",
        }
    }

    /// True when a higher figure than the rest's is the unusual direction (else lower).
    pub fn higher_is_unusual(self) -> bool {
        self != Measure::OfferRate
    }
}

/// `k` of `n`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Count {
    pub k: u64,
    pub n: u64,
}

impl Count {
    fn plus(self, o: Count) -> Count {
        Count { k: self.k + o.k, n: self.n + o.n }
    }

    /// The share, 0–1; `None` when `n` is 0.
    pub fn share(self) -> Option<f64> {
        (self.n > 0).then(|| self.k as f64 / self.n as f64)
    }
}

/// One officer's counts in the period.
#[derive(Debug, Clone, PartialEq)]
pub struct OfficerCounts {
    pub unit_code: String,
    pub officer_code: String,
    pub officer_name: String,
    pub responses: u64,
    /// Per measure; `None` where nothing is known (no cases reported, or more invitations than
    /// cases reported, which no rate can make sense of).
    pub counts: [Option<Count>; 5],
}

impl OfficerCounts {
    pub fn count(&self, m: Measure) -> Option<Count> {
        self.counts[m as usize]
    }
}

/// Whom an officer is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Against {
    /// The other officers of the unit.
    Unit,
    /// The officers of the province's other communes held by this installation.
    Province,
}

impl Against {
    pub fn code(self) -> &'static str {
        match self {
            Against::Unit => "unit",
            Against::Province => "province",
        }
    }
}

/// One tested comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub measure: Measure,
    pub against: Against,
    pub officer: Count,
    pub rest: Count,
    /// The one-sided exact p-value.
    pub p: f64,
    /// Its Benjamini–Hochberg q-value over every test of the report.
    pub q: f64,
    /// `q ≤ FDR`.
    pub unusual: bool,
}

/// One officer's evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct OfficerEvidence {
    pub officer_code: String,
    pub officer_name: String,
    pub responses: u64,
    /// Fewer than `min_n` responses: nothing tested.
    pub too_few: bool,
    pub comparisons: Vec<Comparison>,
}

impl OfficerEvidence {
    /// At least one comparison is unusual.
    pub fn unusual(&self) -> bool {
        self.comparisons.iter().any(|c| c.unusual)
    }

    /// The unusual comparisons.
    pub fn unusual_ones(&self) -> impl Iterator<Item = &Comparison> {
        self.comparisons.iter().filter(|c| c.unusual)
    }
}

/// The evidence of a unit's officers.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    pub officers: Vec<OfficerEvidence>,
    /// Some other commune of the province had answers in the period, so officers were compared
    /// with the province too.
    pub province_compared: bool,
    /// Tests in the family the q-values are computed over.
    pub tests: usize,
}

/// The evidence of `unit`'s officers, from the counts of every officer of the province held by
/// the installation (those of `unit` and of its province's other communes).
pub fn assess(all: &[OfficerCounts], unit: &str, min_n: u64) -> Evidence {
    let total = |pred: &dyn Fn(&OfficerCounts) -> bool, m: Measure| {
        all.iter().filter(|o| pred(o)).filter_map(|o| o.count(m)).fold(Count::default(), Count::plus)
    };
    let others_responses: u64 = all.iter().filter(|o| o.unit_code != unit).map(|o| o.responses).sum();
    let province_compared = others_responses > 0;
    let mut officers = Vec::new();
    for o in all.iter().filter(|o| o.unit_code == unit) {
        let too_few = o.responses < min_n;
        let mut comparisons = Vec::new();
        for m in Measure::ALL {
            let Some(own) = o.count(m) else { continue };
            if too_few || own.n < min_n {
                continue;
            }
            let rests = [
                (Against::Unit, total(&|x| x.unit_code == unit && x.officer_code != o.officer_code, m)),
                (Against::Province, total(&|x| x.unit_code != unit, m)),
            ];
            for (against, rest) in rests {
                if rest.n == 0 || (against == Against::Province && !province_compared) {
                    continue;
                }
                let test = if m.higher_is_unusual() { fisher_greater } else { fisher_less };
                let Some(p) = test(own.k, own.n, rest.k, rest.n) else { continue };
                comparisons.push(Comparison {
                    measure: m,
                    against,
                    officer: own,
                    rest,
                    p,
                    q: 1.0,
                    unusual: false,
                });
            }
        }
        officers.push(OfficerEvidence {
            officer_code: o.officer_code.clone(),
            officer_name: o.officer_name.clone(),
            responses: o.responses,
            too_few,
            comparisons,
        });
    }
    let p: Vec<f64> = officers.iter().flat_map(|o| o.comparisons.iter().map(|c| c.p)).collect();
    let mut q = benjamini_hochberg(&p).into_iter();
    for c in officers.iter_mut().flat_map(|o| o.comparisons.iter_mut()) {
        c.q = q.next().unwrap_or(1.0);
        c.unusual = c.q <= FDR;
    }
    Evidence { officers, province_compared, tests: p.len() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn officer(unit: &str, code: &str, responses: u64, counts: [Option<(u64, u64)>; 5]) -> OfficerCounts {
        OfficerCounts {
            unit_code: unit.into(),
            officer_code: code.into(),
            officer_name: code.into(),
            responses,
            counts: counts.map(|c| c.map(|(k, n)| Count { k, n })),
        }
    }

    /// A genuine officer: 70% top scores, 40% of slips answered, 90% offered, 40% quick, 20%
    /// outside hours, at `scale` × 50 responses.
    fn ordinary(unit: &str, code: &str, scale: u64) -> OfficerCounts {
        let r = 50 * scale;
        officer(
            unit,
            code,
            r,
            [
                Some((35 * scale, r)),
                Some((r, 125 * scale)),
                Some((125 * scale, 139 * scale)),
                Some((20 * scale, r)),
                Some((10 * scale, r)),
            ],
        )
    }

    /// Five ordinary officers of unit U at `scale`, and `extra`; the evidence at `min_n`, and
    /// the evidence of `extra`.
    fn five_and(extra: OfficerCounts, scale: u64, min_n: u64) -> (Evidence, OfficerEvidence) {
        let mut all: Vec<OfficerCounts> = (1..=5).map(|i| ordinary("U", &format!("O{i}"), scale)).collect();
        let code = extra.officer_code.clone();
        all.push(extra);
        let e = assess(&all, "U", min_n);
        let one = e.officers.iter().find(|o| o.officer_code == code).unwrap().clone();
        (e, one)
    }

    fn of(o: &OfficerEvidence, m: Measure) -> &Comparison {
        o.comparisons.iter().find(|c| c.measure == m && c.against == Against::Unit).unwrap()
    }

    #[test]
    fn an_officer_who_offers_the_slip_only_to_pleased_residents_is_unusual_with_its_evidence() {
        // 30 slips for 120 cases, 29 top scores of 30
        let counts = [Some((29, 30)), Some((30, 75)), Some((75, 120)), Some((12, 30)), Some((6, 30))];
        let (e, sel) = five_and(officer("U", "SEL", 30, counts), 1, 5);
        assert!(!e.province_compared);
        let unusual: Vec<Measure> = sel.unusual_ones().map(|c| c.measure).collect();
        assert_eq!(unusual, [Measure::TopShare, Measure::OfferRate]);
        let top = of(&sel, Measure::TopShare);
        assert_eq!((top.officer, top.rest), (Count { k: 29, n: 30 }, Count { k: 175, n: 250 }));
        assert!(top.p < top.q && top.q <= FDR, "{top:?}");
        assert!(e.officers.iter().filter(|o| o.officer_code != "SEL").all(|o| !o.unusual()), "{e:?}");
        // every officer × measure against the unit is one test of the family
        assert_eq!(e.tests, 6 * 5);
    }

    #[test]
    fn nothing_is_unusual_below_min_n_however_extreme() {
        let few = || officer("U", "FEW", 4, [Some((4, 4)), Some((4, 4)), None, Some((4, 4)), Some((4, 4))]);
        let (_, one) = five_and(few(), 4, 5);
        assert!(one.too_few && one.comparisons.is_empty());
        // with min_n 4 the same officer is tested, and 4 of 4 top scores against 70% is no discovery
        let (_, one) = five_and(few(), 4, 4);
        assert!(!one.too_few && !one.comparisons.is_empty());
        let top = of(&one, Measure::TopShare);
        assert!(!top.unusual && top.p > 0.2, "{top:?}");
    }

    #[test]
    fn the_q_values_control_the_false_discovery_rate_over_every_officer() {
        // one officer at p just under 5% is not unusual once the family has 30 tests
        let counts = [Some((42, 50)), Some((50, 125)), Some((125, 139)), Some((20, 50)), Some((10, 50))];
        let (e, edge) = five_and(officer("U", "EDGE", 50, counts), 1, 5);
        assert_eq!(e.tests, 30);
        let top = of(&edge, Measure::TopShare);
        assert!(top.p < 0.05 && top.q > FDR && !top.unusual, "{top:?}");
    }

    #[test]
    fn officers_are_compared_with_the_province_only_when_other_communes_have_answers() {
        let mut all: Vec<OfficerCounts> = (1..=3).map(|i| ordinary("U", &format!("O{i}"), 1)).collect();
        all.push(officer("V", "X1", 0, [None, Some((0, 10)), None, None, None]));
        let e = assess(&all, "U", 5);
        assert!(!e.province_compared);
        assert!(e.officers.iter().flat_map(|o| &o.comparisons).all(|c| c.against == Against::Unit));
        all.push(ordinary("V", "X2", 2));
        let e = assess(&all, "U", 5);
        assert!(e.province_compared);
        let o1 = &e.officers[0];
        let prov = o1
            .comparisons
            .iter()
            .find(|c| c.measure == Measure::TopShare && c.against == Against::Province)
            .unwrap();
        assert_eq!(prov.rest, Count { k: 70, n: 100 });
        assert_eq!(e.officers.len(), 3, "only the unit's own officers are reported");
    }
}
