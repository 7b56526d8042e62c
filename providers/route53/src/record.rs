//! The record model: one Route53 record set in posture's canonical form,
//! converted from and to engine values (state, configuration) and SDK
//! record sets. Two records are the same object when their [`RecordKey`]s
//! are equal, and unchanged when the whole [`Record`]s are equal.
//!
//! No AWS calls here.

use crate::names::{
    bare_zone_id, canonical_name, canonical_value, fqdn_in_zone, wire_name, wire_value,
};
use crate::values::{self as v, object, opt_bool, opt_i64, opt_str};
use aws_sdk_route53::types::{
    AliasTarget, GeoLocation, ResourceRecord, ResourceRecordSet, ResourceRecordSetFailover,
    ResourceRecordSetRegion, RrType,
};
use posture_provider_core::value::{Type, Value};
use std::fmt;

/// Record types Route53 serves (used to parse import ids).
pub const RECORD_TYPES: &[&str] = &[
    "A", "AAAA", "CAA", "CNAME", "DS", "HTTPS", "MX", "NAPTR", "NS", "PTR", "SOA", "SPF", "SRV",
    "SSHFP", "SVCB", "TLSA", "TXT",
];

/// What identifies a record set within a zone.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordKey {
    /// Canonical absolute name (`www.example.com`).
    pub name: String,
    /// Upper-case type.
    pub rtype: String,
    /// The routing policy's identifier.
    pub set_identifier: Option<String>,
}

impl RecordKey {
    /// The import id: `ZONEID_name_TYPE[_set_identifier]` (Terraform's form).
    pub fn id(&self, zone_id: &str) -> String {
        let mut id = format!("{zone_id}_{}_{}", self.name, self.rtype);
        if let Some(s) = &self.set_identifier {
            id.push('_');
            id.push_str(s);
        }
        id
    }

    /// Parses an import id into the zone id and the key.
    pub fn parse_id(id: &str) -> Option<(String, RecordKey)> {
        let (zone, rest) = id.split_once('_')?;
        // The type is the first `_`-separated segment that is a record type;
        // names are lower case in ids, so an upper-case type cannot be part of one.
        let mut pos = 0;
        while let Some(off) = rest[pos..].find('_') {
            let at = pos + off;
            let after = &rest[at + 1..];
            let (seg, tail) = match after.split_once('_') {
                Some((s, t)) => (s, Some(t)),
                None => (after, None),
            };
            if RECORD_TYPES.contains(&seg) && at > 0 {
                return Some((
                    bare_zone_id(zone),
                    RecordKey {
                        name: canonical_name(&rest[..at]),
                        rtype: seg.to_string(),
                        set_identifier: tail.filter(|t| !t.is_empty()).map(str::to_string),
                    },
                ));
            }
            pos = at + 1;
        }
        None
    }

    /// True for the zone's own SOA and NS records at the apex, which
    /// Route53 creates and which a zone deletion removes by itself.
    pub fn is_apex_default(&self, zone_name: &str) -> bool {
        self.name == canonical_name(zone_name) && (self.rtype == "SOA" || self.rtype == "NS")
    }
}

impl fmt::Display for RecordKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.name, self.rtype)?;
        if let Some(s) = &self.set_identifier {
            write!(f, " (set_identifier {s})")?;
        }
        Ok(())
    }
}

/// An alias target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    /// Canonical DNS name of the target.
    pub name: String,
    /// The target's hosted zone id.
    pub zone_id: String,
    /// Whether Route53 checks the target's health.
    pub evaluate_target_health: bool,
}

/// Geolocation routing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Geo {
    /// Continent code.
    pub continent: Option<String>,
    /// Country code.
    pub country: Option<String>,
    /// Subdivision code.
    pub subdivision: Option<String>,
}

/// One record set in canonical form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Its zone (bare id).
    pub zone_id: String,
    /// Its identity in the zone.
    pub key: RecordKey,
    /// TTL (absent for aliases).
    pub ttl: Option<i64>,
    /// Canonical values, sorted and deduplicated (TXT decoded).
    pub records: Vec<String>,
    /// Alias target, instead of values.
    pub alias: Option<Alias>,
    /// Weighted routing.
    pub weight: Option<i64>,
    /// Latency routing region.
    pub region: Option<String>,
    /// Failover role.
    pub failover: Option<String>,
    /// Geolocation routing.
    pub geo: Option<Geo>,
    /// Health check.
    pub health_check_id: Option<String>,
    /// Multivalue answer routing.
    pub multivalue: Option<bool>,
}

impl Record {
    /// Reads a configuration or state value, resolving a relative name in
    /// the zone `zone_name`.
    ///
    /// # Errors
    /// A message for the user when the value is incomplete or unknown.
    pub fn from_value(value: &Value, zone_name: &str) -> Result<Record, String> {
        let zone_id = v::get_str(value, "zone_id").ok_or("zone_id is not known")?;
        let name = v::get_str(value, "name").ok_or("name is not known")?;
        let rtype = v::get_str(value, "type")
            .ok_or("type is not known")?
            .to_ascii_uppercase();
        let rtype_ref = rtype.clone();
        let mut records: Vec<String> = v::get_strings(value, "records")
            .iter()
            .map(|r| canonical_value(&rtype_ref, r))
            .collect();
        records.sort();
        records.dedup();
        let alias = v::get(value, "alias").map(|a| Alias {
            name: canonical_name(&v::get_str(a, "name").unwrap_or_default()),
            zone_id: bare_zone_id(&v::get_str(a, "zone_id").unwrap_or_default()),
            evaluate_target_health: v::get_bool(a, "evaluate_target_health").unwrap_or(false),
        });
        let geo = v::get(value, "geolocation_routing_policy").map(|g| Geo {
            continent: v::get_str(g, "continent"),
            country: v::get_str(g, "country"),
            subdivision: v::get_str(g, "subdivision"),
        });
        Ok(Record {
            zone_id: bare_zone_id(&zone_id),
            key: RecordKey {
                name: fqdn_in_zone(&name, zone_name),
                rtype,
                set_identifier: v::get_str(value, "set_identifier"),
            },
            ttl: v::get_i64(value, "ttl"),
            records,
            alias,
            weight: v::get(value, "weighted_routing_policy").and_then(|w| v::get_i64(w, "weight")),
            region: v::get(value, "latency_routing_policy").and_then(|w| v::get_str(w, "region")),
            failover: v::get(value, "failover_routing_policy").and_then(|w| v::get_str(w, "type")),
            geo,
            health_check_id: v::get_str(value, "health_check_id"),
            multivalue: v::get_bool(value, "multivalue_answer_routing_policy"),
        })
    }

    /// Reads an SDK record set of zone `zone_id`.
    pub fn from_rrset(zone_id: &str, r: &ResourceRecordSet) -> Record {
        let rtype = r.r#type().as_str().to_string();
        let mut records: Vec<String> = r
            .resource_records()
            .iter()
            .map(|x| canonical_value(&rtype, x.value()))
            .collect();
        records.sort();
        records.dedup();
        Record {
            zone_id: bare_zone_id(zone_id),
            key: RecordKey {
                name: canonical_name(r.name()),
                rtype,
                set_identifier: r.set_identifier().map(str::to_string),
            },
            ttl: r.ttl(),
            records,
            alias: r.alias_target().map(|a| Alias {
                name: canonical_name(a.dns_name()),
                zone_id: bare_zone_id(a.hosted_zone_id()),
                evaluate_target_health: a.evaluate_target_health(),
            }),
            weight: r.weight(),
            region: r.region().map(|x| x.as_str().to_string()),
            failover: r.failover().map(|x| x.as_str().to_string()),
            geo: r.geo_location().map(|g| Geo {
                continent: g.continent_code().map(str::to_string),
                country: g.country_code().map(str::to_string),
                subdivision: g.subdivision_code().map(str::to_string),
            }),
            health_check_id: r.health_check_id().map(str::to_string),
            multivalue: r.multi_value_answer(),
        }
    }

    /// The SDK record set to send.
    ///
    /// # Errors
    /// A message when the record cannot be expressed (should not happen for
    /// values that passed validation).
    pub fn to_rrset(&self) -> Result<ResourceRecordSet, String> {
        let mut b = ResourceRecordSet::builder()
            .name(wire_name(&self.key.name))
            .r#type(RrType::from(self.key.rtype.as_str()))
            .set_set_identifier(self.key.set_identifier.clone())
            .set_weight(self.weight)
            .set_region(self.region.as_deref().map(ResourceRecordSetRegion::from))
            .set_failover(
                self.failover
                    .as_deref()
                    .map(ResourceRecordSetFailover::from),
            )
            .set_health_check_id(self.health_check_id.clone())
            .set_multi_value_answer(self.multivalue);
        if let Some(g) = &self.geo {
            b = b.geo_location(
                GeoLocation::builder()
                    .set_continent_code(g.continent.clone())
                    .set_country_code(g.country.clone())
                    .set_subdivision_code(g.subdivision.clone())
                    .build(),
            );
        }
        if let Some(a) = &self.alias {
            let target = AliasTarget::builder()
                .dns_name(wire_name(&a.name))
                .hosted_zone_id(&a.zone_id)
                .evaluate_target_health(a.evaluate_target_health)
                .build()
                .map_err(|e| e.to_string())?;
            b = b.alias_target(target);
        } else {
            b = b.set_ttl(self.ttl);
            let mut rrs = Vec::with_capacity(self.records.len());
            for r in &self.records {
                rrs.push(
                    ResourceRecord::builder()
                        .value(wire_value(&self.key.rtype, r))
                        .build()
                        .map_err(|e| e.to_string())?,
                );
            }
            b = b.set_resource_records(Some(rrs));
        }
        b.build().map_err(|e| e.to_string())
    }

    /// The state value, with `allow_overwrite` carried from configuration.
    pub fn to_value(&self, allow_overwrite: Option<bool>) -> Value {
        let s = |x: &Option<String>| opt_str(x.as_deref());
        let single = |fields: Vec<(&str, Value)>, present: bool, ty: Type| {
            if present {
                object(fields)
            } else {
                Value::Null(ty)
            }
        };
        let alias_ty = record_block_type("alias");
        let alias = match &self.alias {
            Some(a) => object(vec![
                ("name", Value::from(a.name.as_str())),
                ("zone_id", Value::from(a.zone_id.as_str())),
                (
                    "evaluate_target_health",
                    Value::Bool(a.evaluate_target_health),
                ),
            ]),
            None => Value::Null(alias_ty),
        };
        let geo = self.geo.clone();
        object(vec![
            ("id", Value::from(self.key.id(&self.zone_id))),
            ("zone_id", Value::from(self.zone_id.as_str())),
            ("name", Value::from(self.key.name.as_str())),
            ("fqdn", Value::from(self.key.name.as_str())),
            ("type", Value::from(self.key.rtype.as_str())),
            ("ttl", opt_i64(self.ttl)),
            (
                "records",
                if self.alias.is_some() && self.records.is_empty() {
                    Value::Null(Type::Set(Box::new(Type::String)))
                } else {
                    v::string_set(self.records.clone())
                },
            ),
            ("set_identifier", s(&self.key.set_identifier)),
            ("health_check_id", s(&self.health_check_id)),
            (
                "multivalue_answer_routing_policy",
                opt_bool(self.multivalue),
            ),
            ("allow_overwrite", opt_bool(allow_overwrite)),
            ("alias", alias),
            (
                "weighted_routing_policy",
                single(
                    vec![("weight", opt_i64(self.weight))],
                    self.weight.is_some(),
                    record_block_type("weighted_routing_policy"),
                ),
            ),
            (
                "latency_routing_policy",
                single(
                    vec![("region", s(&self.region))],
                    self.region.is_some(),
                    record_block_type("latency_routing_policy"),
                ),
            ),
            (
                "failover_routing_policy",
                single(
                    vec![("type", s(&self.failover))],
                    self.failover.is_some(),
                    record_block_type("failover_routing_policy"),
                ),
            ),
            (
                "geolocation_routing_policy",
                match geo {
                    Some(g) => object(vec![
                        ("continent", s(&g.continent)),
                        ("country", s(&g.country)),
                        ("subdivision", s(&g.subdivision)),
                    ]),
                    None => Value::Null(record_block_type("geolocation_routing_policy")),
                },
            ),
        ])
    }

    /// Problems a user must fix before this record can be sent.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.alias.is_some() {
            if self.ttl.is_some() || !self.records.is_empty() {
                out.push("an alias record takes neither ttl nor records".to_string());
            }
        } else {
            if self.ttl.is_none() {
                out.push("ttl is required unless alias is set".to_string());
            }
            if self.records.is_empty() {
                out.push("records must hold at least one value unless alias is set".to_string());
            }
        }
        let policies = [
            self.weight.is_some(),
            self.region.is_some(),
            self.failover.is_some(),
            self.geo.is_some(),
            self.multivalue == Some(true),
        ]
        .iter()
        .filter(|x| **x)
        .count();
        if policies > 1 {
            out.push("set at most one routing policy".to_string());
        }
        if policies == 1 && self.key.set_identifier.is_none() {
            out.push("a routing policy needs set_identifier".to_string());
        }
        if policies == 0 && self.key.set_identifier.is_some() {
            out.push("set_identifier needs a routing policy".to_string());
        }
        if !RECORD_TYPES.contains(&self.key.rtype.as_str()) {
            out.push(format!(
                "type {:?} is not a Route53 record type (one of {})",
                self.key.rtype,
                RECORD_TYPES.join(", ")
            ));
        }
        out
    }
}

/// The object type of one of `route53_record`'s nested blocks.
fn record_block_type(name: &str) -> Type {
    // Built once: state values of thousands of records need these types.
    static TYPES: std::sync::LazyLock<std::collections::BTreeMap<String, Type>> =
        std::sync::LazyLock::new(|| {
            crate::schema::record()
                .blocks
                .iter()
                .map(|(k, b)| (k.clone(), b.block.ty()))
                .collect()
        });
    TYPES.get(name).cloned().unwrap_or(Type::Dynamic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_ids_round_trip() {
        let k = RecordKey {
            name: "_acme-challenge.example.com".into(),
            rtype: "TXT".into(),
            set_identifier: None,
        };
        let id = k.id("Z1");
        assert_eq!(id, "Z1__acme-challenge.example.com_TXT");
        assert_eq!(RecordKey::parse_id(&id), Some(("Z1".to_string(), k)));
        let w = RecordKey {
            name: "www.example.com".into(),
            rtype: "A".into(),
            set_identifier: Some("eu_west".into()),
        };
        assert_eq!(
            RecordKey::parse_id(&w.id("Z2")),
            Some(("Z2".to_string(), w))
        );
        assert_eq!(RecordKey::parse_id("Z1_nodots"), None);
    }

    #[test]
    fn value_and_rrset_agree() {
        let cfg = object(vec![
            ("zone_id", Value::from("/hostedzone/Z1")),
            ("name", Value::from("WWW")),
            ("type", Value::from("txt")),
            ("ttl", Value::from(60)),
            (
                "records",
                v::string_set(vec!["\"hello\"".to_string(), "x".repeat(300)]),
            ),
        ]);
        let r = Record::from_value(&cfg, "example.com.").expect("record");
        assert_eq!(r.key.name, "www.example.com");
        assert_eq!(r.zone_id, "Z1");
        assert!(r.problems().is_empty(), "{:?}", r.problems());
        let rrset = r.to_rrset().expect("rrset");
        assert_eq!(rrset.name(), "www.example.com.");
        assert!(
            rrset
                .resource_records()
                .iter()
                .any(|x| x.value() == "\"hello\"")
        );
        let back = Record::from_rrset("Z1", &rrset);
        assert_eq!(back, r);
        let state = r.to_value(None);
        assert_eq!(Record::from_value(&state, "example.com").expect("state"), r);
    }
}
