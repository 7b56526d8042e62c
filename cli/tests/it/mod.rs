//! Test modules by topic, and the harness they share.

mod apply_correctness;
mod bad_input;
mod bundle_partial;
mod cli;
mod crash_recovery;
mod destroy_outputs_import_ids;
mod examples;
mod failed_runs;
mod h1_lang;
mod h1_plan;
mod h1_scale;
mod heredocs;
mod k8s_backend;
mod k8s_versions;
mod l1_language;
mod plan_apply;
mod provider_aliases;
mod replace_recovery;
mod route53_retries;
mod s3_backend;
mod sandbox_versions;
mod secret_marks;
mod signals;
mod state_cmds;
mod state_hardening;
mod support;
