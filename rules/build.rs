//! Turns the built-in TOML packs into JSON at build time: start-up then
//! parses JSON, several times faster than TOML for hundreds of rules (the
//! TOML texts stay in the crate for `rules check` and the tests). Each pack
//! also gets a lean twin without examples and counterexamples, which is all
//! a scan needs (they are a third of the text).

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    println!("cargo:rerun-if-changed=packs");
    let mut names: Vec<String> = std::fs::read_dir("packs")
        .expect("rules/packs")
        .filter_map(|e| {
            let p = e.expect("a pack entry").path();
            (p.extension()? == "toml").then(|| p.file_stem()?.to_str().map(String::from))?
        })
        .collect();
    names.sort();
    let mut code = String::from(
        "/// A built-in pack as JSON, converted from its TOML at build time\n\
         /// (`lean`: without examples and counterexamples).\n\
         fn pack_json(name: &str, lean: bool) -> Option<&'static str> {\n    match (name, lean) {\n",
    );
    for name in &names {
        let path = format!("packs/{name}.toml");
        println!("cargo:rerun-if-changed={path}");
        let text = std::fs::read_to_string(&path).expect("a pack file");
        let value: toml::Value = toml::from_str(&text)
            .unwrap_or_else(|e| panic!("rule pack {path} is not valid TOML: {e}"));
        let json = serde_json::to_string(&value).expect("TOML values serialize to JSON");
        std::fs::write(out.join(format!("{name}.json")), json).expect("writing the JSON pack");
        let mut lean = value;
        if let Some(rules) = lean.get_mut("rule").and_then(toml::Value::as_array_mut) {
            for rule in rules.iter_mut().filter_map(toml::Value::as_table_mut) {
                rule.remove("examples");
                rule.remove("counterexamples");
            }
        }
        let json = serde_json::to_string(&lean).expect("TOML values serialize to JSON");
        std::fs::write(out.join(format!("{name}.lean.json")), json).expect("writing the JSON pack");
        for (lean, file) in [
            (false, format!("{name}.json")),
            (true, format!("{name}.lean.json")),
        ] {
            writeln!(
                code,
                "        ({name:?}, {lean}) => Some(include_str!(concat!(env!(\"OUT_DIR\"), \"/{file}\"))),"
            )
            .expect("string write");
        }
    }
    code.push_str("        _ => None,\n    }\n}\n");
    std::fs::write(out.join("packs_json.rs"), code).expect("writing packs_json.rs");
}
