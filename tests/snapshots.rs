//! Snapshots of compiled rules and rendered diagnostics, kept in the top-level `snapshots/`.
//!
//! Every shipped template and every fixture under `tests/fixtures/compile/` gets its Datalog
//! text and its action plan (JSON) snapshotted; every file under `tests/fixtures/invalid/`
//! gets its rendered diagnostics.

use causeway::check::{Input, Options, SetResult, check_set};
use std::path::Path;

fn input(path: &Path) -> Input {
    let bytes = std::fs::read(path).expect("fixture");
    let name = path.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap_or(path);
    Input { file: name.display().to_string(), bytes }
}

fn definitions() -> Vec<Input> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/definitions");
    let mut files: Vec<_> =
        std::fs::read_dir(dir).expect("dir").filter_map(|e| e.ok()).map(|e| e.path()).collect();
    files.sort();
    files.iter().map(|p| input(p)).collect()
}

fn compile(inputs: &[Input]) -> SetResult {
    let options = Options { def_templates: definitions(), ..Options::default() };
    let result = check_set(inputs, &options);
    for f in &result.files {
        assert!(f.error.is_none(), "{}: {:?}", f.file, f.error);
    }
    result
}

fn actions_json(result: &SetResult) -> serde_json::Value {
    serde_json::to_value(&result.compiled.rules.scenarios).expect("json")
}

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path("../snapshots");
    s.set_prepend_module_to_snapshot(false);
    s
}

#[test]
fn shipped_templates_compile_to_the_snapshotted_rules() {
    settings().bind(|| {
        insta::glob!("../templates", "*.yaml", |path| {
            let result = compile(&[input(path)]);
            insta::assert_snapshot!("datalog", result.compiled.rules.to_string());
            insta::assert_json_snapshot!("actions", actions_json(&result));
        });
    });
}

#[test]
fn fixtures_compile_to_the_snapshotted_rules() {
    settings().bind(|| {
        insta::glob!("fixtures/compile", "*.yaml", |path| {
            let result = compile(&[input(path)]);
            insta::assert_snapshot!("datalog", result.compiled.rules.to_string());
            insta::assert_json_snapshot!("actions", actions_json(&result));
        });
    });
}

#[test]
fn equivalences_widen_entity_relations() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/equivalence");
    let result =
        compile(&[input(&dir.join("alarms.yaml")), input(&dir.join("uses_equivalence.yaml"))]);
    settings()
        .bind(|| insta::assert_snapshot!("equivalence_datalog", result.compiled.rules.to_string()));
}

#[test]
fn invalid_fixtures_render_the_snapshotted_diagnostics() {
    settings().bind(|| {
        insta::glob!("fixtures/invalid", "*.yaml", |path| {
            let inp = input(path);
            let source = String::from_utf8_lossy(&inp.bytes).into_owned();
            let options = Options { vitrage_validate: false, ..Options::default() };
            let result = check_set(std::slice::from_ref(&inp), &options);
            let file = &result.files[0];
            let error = file.error.as_ref().expect("fixture is invalid");
            let mut text = error.render(&source);
            for w in &file.warnings {
                text.push_str(&w.render(&source));
            }
            insta::assert_snapshot!("diagnostics", text);
        });
    });
}
