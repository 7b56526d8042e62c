//! Packing record changes into ChangeResourceRecordSets batches within
//! AWS's limits: at most 1,000 ResourceRecord elements and 32,000
//! characters of values per request, UPSERT counting twice.
//!
//! A [`Unit`] is what must land atomically (a replacement's DELETE and
//! CREATE); units are never split across batches. Pure: no AWS calls.

use aws_sdk_route53::types::{Change, ChangeAction};

/// Per-request limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// ResourceRecord elements (UPSERT counts twice).
    pub max_elements: usize,
    /// Characters in all Value elements (UPSERT counts twice).
    pub max_chars: usize,
    /// Change elements.
    pub max_changes: usize,
}

/// Route53's documented limits.
pub const AWS_LIMITS: Limits = Limits {
    max_elements: 1000,
    max_chars: 32_000,
    max_changes: 1000,
};

/// What one change or unit costs against [`Limits`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cost {
    /// ResourceRecord elements.
    pub elements: usize,
    /// Value characters.
    pub chars: usize,
    /// Change elements.
    pub changes: usize,
}

impl Cost {
    fn add(self, o: Cost) -> Cost {
        Cost {
            elements: self.elements + o.elements,
            chars: self.chars + o.chars,
            changes: self.changes + o.changes,
        }
    }
    fn fits(self, l: Limits) -> bool {
        self.elements <= l.max_elements
            && self.chars <= l.max_chars
            && self.changes <= l.max_changes
    }
}

/// The cost of one change. An alias has no ResourceRecord elements; it is
/// counted as one so that batches of aliases stay bounded too.
pub fn change_cost(c: &Change) -> Cost {
    let factor = if *c.action() == ChangeAction::Upsert {
        2
    } else {
        1
    };
    let rrs = c
        .resource_record_set()
        .map(|r| r.resource_records())
        .unwrap_or_default();
    let chars: usize = rrs.iter().map(|r| r.value().chars().count()).sum();
    Cost {
        elements: rrs.len().max(1) * factor,
        chars: chars * factor,
        changes: 1,
    }
}

/// Changes that must be in the same batch, with what they stand for.
#[derive(Debug, Clone)]
pub struct Unit<T> {
    /// The caller's tag (the requests this unit answers).
    pub tag: T,
    /// The changes, in the order AWS must apply them.
    pub changes: Vec<Change>,
}

impl<T> Unit<T> {
    /// The unit's total cost.
    pub fn cost(&self) -> Cost {
        self.changes
            .iter()
            .map(change_cost)
            .fold(Cost::default(), Cost::add)
    }
}

/// Packs units, in order, into as few batches as the limits allow (greedy:
/// a batch is closed when the next unit does not fit). Returns the batches
/// and the units too large for any batch.
pub fn pack<T>(units: Vec<Unit<T>>, limits: Limits) -> (Vec<Vec<Unit<T>>>, Vec<Unit<T>>) {
    let mut batches: Vec<Vec<Unit<T>>> = Vec::new();
    let mut too_big = Vec::new();
    let mut current: Vec<Unit<T>> = Vec::new();
    let mut used = Cost::default();
    for u in units {
        let c = u.cost();
        if !c.fits(limits) {
            too_big.push(u);
            continue;
        }
        if !used.add(c).fits(limits) {
            batches.push(std::mem::take(&mut current));
            used = Cost::default();
        }
        used = used.add(c);
        current.push(u);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    (batches, too_big)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_route53::types::{ResourceRecord, ResourceRecordSet, RrType};

    fn change(action: ChangeAction, values: &[&str]) -> Change {
        let rrs = ResourceRecordSet::builder()
            .name("a.example.com.")
            .r#type(RrType::A)
            .ttl(60)
            .set_resource_records(Some(
                values
                    .iter()
                    .map(|v| ResourceRecord::builder().value(*v).build().expect("value"))
                    .collect(),
            ))
            .build()
            .expect("rrset");
        Change::builder()
            .action(action)
            .resource_record_set(rrs)
            .build()
            .expect("change")
    }

    #[test]
    fn two_thousand_creates_make_two_batches() {
        let units: Vec<Unit<usize>> = (0..2000)
            .map(|i| Unit {
                tag: i,
                changes: vec![change(ChangeAction::Create, &["10.0.0.1"])],
            })
            .collect();
        let (batches, too_big) = pack(units, AWS_LIMITS);
        assert!(too_big.is_empty());
        assert_eq!(
            batches.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![1000, 1000]
        );
    }

    #[test]
    fn upserts_count_twice_and_units_stay_whole() {
        let mut units: Vec<Unit<usize>> = (0..501)
            .map(|i| Unit {
                tag: i,
                changes: vec![change(ChangeAction::Upsert, &["10.0.0.1"])],
            })
            .collect();
        // A replacement: DELETE + CREATE must share a batch.
        units.insert(
            499,
            Unit {
                tag: 9999,
                changes: vec![
                    change(ChangeAction::Delete, &["10.0.0.2"]),
                    change(ChangeAction::Create, &["10.0.0.3"]),
                ],
            },
        );
        let (batches, _) = pack(units, AWS_LIMITS);
        // 499 upserts (998) + the replacement (2) = 1000; then 2 upserts.
        assert_eq!(batches.len(), 2);
        assert_eq!(batches[0].len(), 500);
        assert_eq!(batches[0][499].tag, 9999);
        assert_eq!(batches[1].len(), 2);
        for b in &batches {
            let total = b.iter().map(Unit::cost).fold(Cost::default(), Cost::add);
            assert!(total.fits(AWS_LIMITS), "{total:?}");
        }
    }

    #[test]
    fn characters_limit_batches_of_long_values() {
        let long = "x".repeat(4000);
        let units: Vec<Unit<usize>> = (0..20)
            .map(|i| Unit {
                tag: i,
                changes: vec![change(ChangeAction::Create, &[long.as_str()])],
            })
            .collect();
        let (batches, _) = pack(units, AWS_LIMITS);
        // 8 values of 4,000 characters fill 32,000.
        assert_eq!(
            batches.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![8, 8, 4]
        );
        let huge = "y".repeat(40_000);
        let (b, too_big) = pack(
            vec![Unit {
                tag: 0,
                changes: vec![change(ChangeAction::Create, &[huge.as_str()])],
            }],
            AWS_LIMITS,
        );
        assert!(b.is_empty());
        assert_eq!(too_big.len(), 1);
    }
}
