//! Fuzz target: the GitHub event payload parsing of `leakscan ci` (the CLI's
//! `src/ci/event.rs`, compiled in here because it lives in the binary
//! crate): any JSON under any event name and scan mode gives a request or a
//! clear error, and every commit id it passes on is a full hex sha.
#![no_main]

#[allow(dead_code)]
#[path = "../../src/ci/event.rs"]
mod event;

use event::{Request, RunnerEnv, ScanMode};
use libfuzzer_sys::fuzz_target;

const EVENTS: &[&str] = &[
    "push",
    "pull_request",
    "pull_request_target",
    "merge_group",
    "schedule",
    "workflow_dispatch",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    // Parsed exactly as `read_payload` does.
    let Ok(payload) = serde_json::from_slice::<serde_json::Value>(rest) else {
        return;
    };
    let env = RunnerEnv {
        event_name: EVENTS[pick as usize % EVENTS.len()].to_string(),
        event_path: "event.json".into(),
        workspace: ".".into(),
        sha: "0123456789abcdef0123456789abcdef01234567".into(),
        step_summary: None,
        output: None,
    };
    for mode in [ScanMode::Changes, ScanMode::History, ScanMode::Tree] {
        match event::request(&env, &payload, mode) {
            Ok(Request::Range { base, head, .. }) => {
                assert!(event::is_sha(&base) && event::is_sha(&head));
            }
            Ok(Request::NewRef {
                head,
                default_branch,
                ..
            }) => {
                assert!(event::is_sha(&head));
                if let Some(b) = default_branch {
                    assert!(event::valid_branch_name(&b));
                }
            }
            Ok(Request::History { head }) => assert!(event::is_sha(&head)),
            Ok(Request::Tree | Request::Nothing { .. }) => {}
            Err(e) => {
                // Errors are one sanitized line.
                let msg = format!("{e:#}");
                assert!(!msg.contains('\x1b') && !msg.contains('\n'), "{msg:?}");
            }
        }
    }
});
