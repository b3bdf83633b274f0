//! leakscan's engine: sources produce blobs, the matcher turns a blob into
//! matches, findings add location and fingerprint, reports render them.
//! The library never prints and never exits; it returns data.

pub mod bytes;
mod common_4grams;
pub mod config;
pub mod credential_context;
pub mod deep;
pub mod encoded;
pub mod explain;
pub mod finding;
pub mod keywords;
pub mod matcher;
pub mod pathclass;
pub mod paths;
pub mod report;
pub mod rulecheck;
pub mod sanitize;
pub mod scan;
pub mod source;
pub mod stats;
pub mod suppress;
pub mod validate;

pub use config::Config;
pub use finding::{Finding, Secret};
pub use matcher::{Matcher, RuleSet};
pub use scan::{ScanOptions, ScanResult};
pub use stats::Stats;
