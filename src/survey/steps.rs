//! The screens of the survey, derived from the instrument: the overall rating alone, then each
//! section (an item gated by `shown_if` on an item of its own section gets a screen of its own,
//! shown only when the gate holds), with an invitation screen before the SIPAS elements.

use crate::instrument::{Instrument, OVERALL};
use crate::kernel::answers::AnswerSet;
use crate::kernel::answers::AnswerValue;

/// The key of the thank-you page in `?step=`.
pub const DONE: &str = "done";
/// The key of the invitation to the SIPAS part.
pub const INTRO: &str = "SIPAS";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// `CASE.OVERALL` alone, five large buttons.
    Quick,
    /// Items of one section.
    Items,
    /// The invitation to answer the SIPAS elements.
    Intro,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub key: String,
    pub kind: StepKind,
    /// Index of the section the items belong to (for an intro: of the first element).
    pub section: usize,
    pub items: Vec<String>,
    /// Shown only when this item has this code.
    pub gate: Option<(String, i16)>,
}

/// The screens of one instrument, in order.
#[derive(Debug, Clone)]
pub struct Plan {
    pub steps: Vec<Step>,
}

impl Plan {
    pub fn of(instrument: &Instrument) -> Plan {
        let mut steps = vec![Step {
            key: instrument.sections[0].code.clone(),
            kind: StepKind::Quick,
            section: 0,
            items: vec![OVERALL.to_string()],
            gate: None,
        }];
        let mut intro_done = false;
        for (si, section) in instrument.sections.iter().enumerate() {
            if section.element && !intro_done {
                intro_done = true;
                steps.push(Step {
                    key: INTRO.to_string(),
                    kind: StepKind::Intro,
                    section: si,
                    items: vec![],
                    gate: None,
                });
            }
            let own = |code: &str| section.items.iter().any(|i| i.code == code);
            let mut base = Vec::new();
            let mut gated: Vec<((String, i16), Vec<String>)> = Vec::new();
            for item in section.items.iter().filter(|i| i.code != OVERALL) {
                match &item.shown_if {
                    Some(cond) if own(&cond.item) => {
                        let gate = (cond.item.clone(), cond.code);
                        match gated.iter_mut().find(|(g, _)| *g == gate) {
                            Some((_, items)) => items.push(item.code.clone()),
                            None => gated.push((gate, vec![item.code.clone()])),
                        }
                    }
                    _ => base.push(item.code.clone()),
                }
            }
            if !base.is_empty() {
                let key = if si == 0 { format!("{}-1", section.code) } else { section.code.clone() };
                steps.push(Step { key, kind: StepKind::Items, section: si, items: base, gate: None });
            }
            for (n, (gate, items)) in gated.into_iter().enumerate() {
                steps.push(Step {
                    key: format!("{}-{}", section.code, n + 2),
                    kind: StepKind::Items,
                    section: si,
                    items,
                    gate: Some(gate),
                });
            }
        }
        Plan { steps }
    }

    pub fn index(&self, key: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.key == key)
    }

    /// Whether a screen is shown for these answers (its gate, if any, holds).
    pub fn applies(&self, i: usize, answers: &AnswerSet) -> bool {
        self.steps.get(i).is_some_and(|s| match &s.gate {
            None => true,
            Some((item, code)) => answers.get(item) == Some(&AnswerValue::Level(*code)),
        })
    }

    /// The first screen shown at or after `i`; `None` means the end.
    pub fn at_or_after(&self, i: usize, answers: &AnswerSet) -> Option<usize> {
        (i..self.steps.len()).find(|&j| self.applies(j, answers))
    }

    /// The screen after `i`.
    pub fn next(&self, i: usize, answers: &AnswerSet) -> Option<usize> {
        self.at_or_after(i + 1, answers)
    }

    /// Where a resident who comes back continues: after the last screen with an answer.
    pub fn resume(&self, answers: &AnswerSet) -> Option<usize> {
        let last = self.steps.iter().rposition(|s| s.items.iter().any(|c| answers.contains_key(c)));
        match last {
            None => Some(0),
            Some(i) => self.next(i, answers),
        }
    }

    /// The first screen after the part the intro at `i` introduces (skipping all elements).
    pub fn after_part(&self, i: usize, instrument: &Instrument, answers: &AnswerSet) -> Option<usize> {
        let first_after = (i + 1..self.steps.len())
            .find(|&j| !instrument.sections[self.steps[j].section].element)
            .unwrap_or(self.steps.len());
        self.at_or_after(first_after, answers)
    }

    /// (position, total) of screen `i` among the screens shown for these answers, 1-based.
    pub fn position(&self, i: usize, answers: &AnswerSet) -> (usize, usize) {
        let shown: Vec<usize> = (0..self.steps.len()).filter(|&j| self.applies(j, answers)).collect();
        let pos = shown.iter().position(|&j| j == i).map(|p| p + 1).unwrap_or(1);
        (pos, shown.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instrument() -> Instrument {
        Instrument::parse(include_str!("../../instruments/sipas-desk-2026.1.toml")).unwrap()
    }

    fn keys(plan: &Plan) -> Vec<&str> {
        plan.steps.iter().map(|s| s.key.as_str()).collect()
    }

    #[test]
    fn the_published_questionnaire_has_its_screens_in_order() {
        let plan = Plan::of(&instrument());
        assert_eq!(
            keys(&plan),
            ["QUICK", "CASE", "SIPAS", "E1", "E2", "E3", "E4", "E5", "E5-2", "MORE", "ABOUT"]
        );
        assert_eq!(plan.steps[7].items, ["E5.GATE"]);
        assert_eq!(plan.steps[8].items, ["E5.1", "E5.2", "E5.3"]);
    }

    #[test]
    fn the_gated_screen_appears_only_after_a_yes() {
        let plan = Plan::of(&instrument());
        let e5 = plan.index("E5").unwrap();
        let mut answers = AnswerSet::new();
        answers.insert("E5.GATE".into(), AnswerValue::Level(2));
        assert_eq!(plan.next(e5, &answers), plan.index("MORE"));
        assert_eq!(plan.position(e5, &answers).1, 10);
        answers.insert("E5.GATE".into(), AnswerValue::Level(1));
        assert_eq!(plan.next(e5, &answers), plan.index("E5-2"));
        assert_eq!(plan.position(e5, &answers), (8, 11));
    }

    #[test]
    fn a_returning_resident_continues_after_the_last_answered_screen() {
        let plan = Plan::of(&instrument());
        let mut answers = AnswerSet::new();
        assert_eq!(plan.resume(&answers), Some(0));
        answers.insert(OVERALL.into(), AnswerValue::Level(4));
        assert_eq!(plan.resume(&answers), plan.index("CASE"));
        answers.insert("E2.1".into(), AnswerValue::Level(4));
        assert_eq!(plan.resume(&answers), plan.index("E3"));
        answers.insert("D.SEX".into(), AnswerValue::Level(1));
        assert_eq!(plan.resume(&answers), None);
    }

    #[test]
    fn skipping_the_sipas_part_goes_to_the_next_section() {
        let i = instrument();
        let plan = Plan::of(&i);
        let intro = plan.index(INTRO).unwrap();
        assert_eq!(plan.after_part(intro, &i, &AnswerSet::new()), plan.index("MORE"));
    }
}
