//! The schemas the Route53 provider declares: its settings, `route53_zone`,
//! `route53_record` and the `route53_zone` data source.
//!
//! Declarations only; reading values against them lives in `values`.

use posture_provider_core::provider::ProviderSchema;
use posture_provider_core::schema::{Attribute, NestedBlock, Nesting, Schema};
use posture_provider_core::value::Type;
use std::collections::BTreeMap;

fn attrs(list: Vec<(&str, Attribute)>) -> BTreeMap<String, Attribute> {
    list.into_iter().map(|(k, a)| (k.to_string(), a)).collect()
}

fn block(
    nesting: Nesting,
    attributes: Vec<(&str, Attribute)>,
    description: &'static str,
) -> NestedBlock {
    NestedBlock {
        nesting,
        block: Schema {
            attributes: attrs(attributes),
            blocks: BTreeMap::new(),
            description,
        },
    }
}

fn optional_computed(ty: Type, description: &'static str) -> Attribute {
    Attribute {
        computed: true,
        ..Attribute::optional(ty, description)
    }
}

fn string_list() -> Type {
    Type::List(Box::new(Type::String))
}

/// `provider "route53" { ... }`.
pub fn provider() -> Schema {
    use Attribute as A;
    Schema {
        attributes: attrs(vec![
            (
                "region",
                A::optional(
                    Type::String,
                    "AWS region for signing (Route53 is global; default us-east-1 when the credential chain names none).",
                ),
            ),
            (
                "profile",
                A::optional(
                    Type::String,
                    "Named profile from the shared AWS config and credentials files (SSO profiles included).",
                ),
            ),
            (
                "endpoint",
                A::optional(
                    Type::String,
                    "Route53 endpoint URL override (tests, proxies). AWS_ENDPOINT_URL is honoured too.",
                ),
            ),
            (
                "access_key",
                A::optional(
                    Type::String,
                    "Static access key id; prefer the credential chain.",
                )
                .sensitive(),
            ),
            (
                "secret_key",
                A::optional(
                    Type::String,
                    "Static secret access key; prefer the credential chain.",
                )
                .sensitive(),
            ),
            (
                "token",
                A::optional(Type::String, "Session token for static credentials.").sensitive(),
            ),
            (
                "max_requests_per_second",
                A::optional(
                    Type::Number,
                    "Client-side rate limit shared by every Route53 call (default 5, Route53's per-account limit).",
                ),
            ),
            (
                "max_retries",
                A::optional(
                    Type::Number,
                    "Attempts per call for throttling and transient errors, the first included (default 12).",
                ),
            ),
            (
                "wait_for_sync",
                A::optional(
                    Type::Bool,
                    "Wait until each change is INSYNC (GetChange) before reporting it applied (default true).",
                ),
            ),
        ]),
        blocks: BTreeMap::new(),
        description: "AWS Route53: hosted zones and record sets.",
    }
}

/// `resource "route53_zone"`.
pub fn zone() -> Schema {
    use Attribute as A;
    Schema {
        attributes: attrs(vec![
            (
                "name",
                A::required(Type::String, "The zone's domain name (`example.com`).").force_new(),
            ),
            ("comment", A::optional(Type::String, "The zone's comment.")),
            (
                "tags",
                A::optional(Type::Map(Box::new(Type::String)), "Tags on the zone."),
            ),
            (
                "force_destroy",
                A::optional(
                    Type::Bool,
                    "Delete the zone's records when the zone is destroyed; without it, destroying a zone that holds records fails.",
                ),
            ),
            (
                "id",
                A::computed(Type::String, "The hosted zone id (`Z1D633PJN98FT9`)."),
            ),
            ("zone_id", A::computed(Type::String, "Same as `id`.")),
            (
                "name_servers",
                A::computed(
                    string_list(),
                    "The delegation set's name servers (empty for private zones).",
                ),
            ),
        ]),
        blocks: BTreeMap::from([(
            "vpc".to_string(),
            block(
                Nesting::List,
                vec![
                    (
                        "vpc_id",
                        A::required(
                            Type::String,
                            "The VPC to associate (makes the zone private).",
                        ),
                    ),
                    (
                        "vpc_region",
                        A::optional(
                            Type::String,
                            "The VPC's region (default: the provider's region).",
                        ),
                    ),
                ],
                "A VPC the private zone is associated with.",
            ),
        )]),
        description: "A Route53 hosted zone, public or private.",
    }
}

/// `resource "route53_record"`.
pub fn record() -> Schema {
    use Attribute as A;
    Schema {
        attributes: attrs(vec![
            (
                "zone_id",
                A::required(Type::String, "The hosted zone id.").force_new(),
            ),
            (
                "name",
                A::required(
                    Type::String,
                    "The record name, absolute or relative to the zone (`www`).",
                )
                .force_new(),
            ),
            (
                "type",
                A::required(Type::String, "The record type (`A`, `CNAME`, `TXT`, ...).")
                    .force_new(),
            ),
            (
                "ttl",
                A::optional(
                    Type::Number,
                    "Time to live in seconds (required unless `alias`).",
                ),
            ),
            (
                "records",
                A::optional(
                    Type::Set(Box::new(Type::String)),
                    "The values. TXT values are quoted and split into 255-character strings for you.",
                ),
            ),
            (
                "set_identifier",
                A::optional(
                    Type::String,
                    "Distinguishes records of one name and type with a routing policy.",
                )
                .force_new(),
            ),
            (
                "health_check_id",
                A::optional(Type::String, "Health check for routing policies."),
            ),
            (
                "multivalue_answer_routing_policy",
                A::optional(Type::Bool, "Multivalue answer routing."),
            ),
            (
                "allow_overwrite",
                A::optional(
                    Type::Bool,
                    "Take over a record that already exists in the zone (otherwise planning it is an error).",
                ),
            ),
            (
                "id",
                A::computed(
                    Type::String,
                    "`ZONEID_name_TYPE[_set_identifier]`, the import id.",
                ),
            ),
            (
                "fqdn",
                A::computed(Type::String, "The absolute record name."),
            ),
        ]),
        blocks: BTreeMap::from([
            (
                "alias".to_string(),
                block(
                    Nesting::Single,
                    vec![
                        ("name", A::required(Type::String, "DNS name of the target.")),
                        (
                            "zone_id",
                            A::required(Type::String, "Hosted zone id of the target."),
                        ),
                        (
                            "evaluate_target_health",
                            A::required(Type::Bool, "Whether to check the target's health."),
                        ),
                    ],
                    "An alias to an AWS resource or another record.",
                ),
            ),
            (
                "weighted_routing_policy".to_string(),
                block(
                    Nesting::Single,
                    vec![(
                        "weight",
                        A::required(Type::Number, "Relative weight (0-255)."),
                    )],
                    "Weighted routing.",
                ),
            ),
            (
                "latency_routing_policy".to_string(),
                block(
                    Nesting::Single,
                    vec![(
                        "region",
                        A::required(Type::String, "AWS region of the target."),
                    )],
                    "Latency routing.",
                ),
            ),
            (
                "failover_routing_policy".to_string(),
                block(
                    Nesting::Single,
                    vec![("type", A::required(Type::String, "PRIMARY or SECONDARY."))],
                    "Failover routing.",
                ),
            ),
            (
                "geolocation_routing_policy".to_string(),
                block(
                    Nesting::Single,
                    vec![
                        (
                            "continent",
                            A::optional(Type::String, "Two-letter continent code."),
                        ),
                        (
                            "country",
                            A::optional(
                                Type::String,
                                "Two-letter country code, or `*` for the default.",
                            ),
                        ),
                        (
                            "subdivision",
                            A::optional(Type::String, "Subdivision code (US states)."),
                        ),
                    ],
                    "Geolocation routing.",
                ),
            ),
        ]),
        description: "A Route53 record set.",
    }
}

/// `data "route53_zone"`.
pub fn zone_data() -> Schema {
    use Attribute as A;
    Schema {
        attributes: attrs(vec![
            (
                "name",
                optional_computed(Type::String, "The zone's domain name."),
            ),
            (
                "zone_id",
                optional_computed(Type::String, "The zone id (instead of `name`)."),
            ),
            (
                "private_zone",
                optional_computed(Type::Bool, "Look for a private zone (default false)."),
            ),
            (
                "vpc_id",
                A::optional(
                    Type::String,
                    "For private zones: the zone must be associated with this VPC.",
                ),
            ),
            ("id", A::computed(Type::String, "The hosted zone id.")),
            ("comment", A::computed(Type::String, "The zone's comment.")),
            (
                "name_servers",
                A::computed(string_list(), "The delegation set's name servers."),
            ),
            (
                "resource_record_set_count",
                A::computed(Type::Number, "How many record sets the zone holds."),
            ),
            (
                "tags",
                A::computed(Type::Map(Box::new(Type::String)), "Tags on the zone."),
            ),
        ]),
        blocks: BTreeMap::new(),
        description: "Looks up a Route53 hosted zone by name or id.",
    }
}

/// Everything together.
pub fn provider_schema() -> ProviderSchema {
    ProviderSchema {
        provider: provider(),
        resources: BTreeMap::from([
            (crate::ZONE.to_string(), zone()),
            (crate::RECORD.to_string(), record()),
        ]),
        data_sources: BTreeMap::from([(crate::ZONE.to_string(), zone_data())]),
    }
}
