//! The contributor's test command stays lean; CI still builds the fuzz targets.

use std::path::Path;

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap()
}

#[test]
fn fuzz_build_runs_in_ci_after_the_test_command_not_in_it() {
    let test = read("scripts/test.sh");
    let setup = read("scripts/setup.sh");
    assert!(
        !test.contains("cargo fuzz"),
        "scripts/test.sh builds the fuzz targets"
    );
    assert!(
        !setup.contains("cargo-fuzz"),
        "scripts/setup.sh installs cargo-fuzz"
    );
    let ci = read(".ci/run");
    let t = ci
        .find("./scripts/test.sh")
        .expect(".ci/run runs the test command");
    let f = ci
        .find("cargo fuzz build")
        .expect(".ci/run builds the fuzz targets");
    assert!(t < f, "the fuzz build runs after the test command");
}
