//! Conformance with Vitrage 15: every file of `../shared/vitrage-corpus` gets the status code
//! Vitrage gives it (`index.json`). Skipped when the corpus is not beside the project.

use causeway::check::{Input, Options, check_set};
use causeway::template::TemplateType;
use causeway::template::params::Params;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/vitrage-corpus");
    dir.join("index.json").exists().then_some(dir)
}

fn input(dir: &Path, rel: &str) -> Input {
    let bytes = std::fs::read(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    Input { file: rel.to_string(), bytes }
}

fn def_templates(dir: &Path) -> Vec<Input> {
    let mut out = Vec::new();
    for sub in ["def_template_tests/definition_templates", "doc_examples/manual_tests/templates"] {
        let mut names: Vec<_> = std::fs::read_dir(dir.join(sub))
            .expect("corpus dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".yaml"))
            .collect();
        names.sort();
        out.extend(names.iter().map(|n| input(dir, &format!("{sub}/{n}"))));
    }
    out
}

/// The code causeway gives one file validated alone.
fn code_of(dir: &Path, entry: &Value, params: Option<Params>) -> (u32, String) {
    let path = entry["path"].as_str().expect("path");
    let template_type = entry["type"].as_str().and_then(TemplateType::parse);
    let options = Options {
        template_type,
        def_templates: def_templates(dir),
        params,
        vitrage_validate: true,
        ..Options::default()
    };
    let result = check_set(&[input(dir, path)], &options);
    match &result.files[0].error {
        None => (0, String::new()),
        Some(d) => (d.code, d.message.clone()),
    }
}

fn params_of(v: &Value) -> Option<Params> {
    let map = v.as_object()?;
    Some(map.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
}

#[test]
fn every_corpus_file_gets_vitrages_status_code() {
    let Some(dir) = corpus() else {
        eprintln!("skipped: ../shared/vitrage-corpus is not there");
        return;
    };
    let index: Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).expect("index"))
            .expect("index.json");
    let mut failures = Vec::new();
    let mut checked = 0;
    for entry in index["files"].as_array().expect("files") {
        let path = entry["path"].as_str().expect("path");
        let expected = entry["expected"].as_str().unwrap_or_default();
        if expected == "invalid-at-load" {
            continue;
        }
        let want = entry["code"].as_u64().unwrap_or(0) as u32;
        let params = if expected == "valid-with-params" || entry["code_without_params"].is_number()
        {
            params_of(&entry["test_params"])
        } else {
            None
        };
        let (got, message) = code_of(&dir, entry, params.clone());
        checked += 1;
        if got != want {
            failures.push(format!("{path}: want {want}, got {got} ({message})"));
        }
        if let Some(without) = entry["code_without_params"].as_u64().filter(|_| params.is_some()) {
            {
                let (got, message) = code_of(&dir, entry, None);
                if got != without as u32 {
                    failures.push(format!(
                        "{path} without params: want {without}, got {got} ({message})"
                    ));
                }
            }
        }
        let vitrage_message = entry["message"].as_str().filter(|_| want != 5 && got == want);
        let differs = |msg: &str| !message.starts_with(msg.split(" @ ").next().unwrap_or(msg));
        if let Some(msg) = vitrage_message.filter(|m| differs(m)) {
            failures.push(format!("{path}: message {message:?}, Vitrage says {msg:?}"));
        }
    }
    assert!(checked > 90, "only {checked} corpus files checked");
    assert!(failures.is_empty(), "{} disagreements:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn equivalences_vitrage_rejects_at_load_are_rejected() {
    let Some(dir) = corpus() else { return };
    let options = Options {
        template_type: Some(TemplateType::Equivalence),
        vitrage_validate: true,
        ..Options::default()
    };
    for alone in
        ["equivalences_dup/dup-in-one-def/one.yaml", "equivalences_dup/dup-in-multi-def/multi.yaml"]
    {
        let r = check_set(&[input(&dir, alone)], &options);
        assert!(r.files[0].error.is_some(), "{alone} accepted");
    }
    let first = "equivalences_dup/dup-in-multi-file/first.yaml";
    let second = "equivalences_dup/dup-in-multi-file/second.yaml";
    for one in [first, second] {
        let r = check_set(&[input(&dir, one)], &options);
        assert!(r.files[0].error.is_none(), "{one} alone rejected");
    }
    let r = check_set(&[input(&dir, first), input(&dir, second)], &options);
    assert!(r.files.iter().any(|f| f.error.is_some()), "the pair was accepted");
}
