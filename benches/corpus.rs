//! Validates and compiles the whole Vitrage corpus (`../shared/vitrage-corpus`, else the
//! shipped templates and fixtures), against a baseline of only parsing the same YAML.

use causeway::check::{Input, Options, check_set};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::{Path, PathBuf};

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(p);
        }
    }
}

fn corpus() -> Vec<Input> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = root.join("../shared/vitrage-corpus");
    let mut files = Vec::new();
    if shared.is_dir() {
        yaml_files(&shared, &mut files);
    } else {
        yaml_files(&root.join("templates"), &mut files);
        yaml_files(&root.join("tests/fixtures"), &mut files);
    }
    files
        .iter()
        .filter_map(|p| {
            Some(Input { file: p.display().to_string(), bytes: std::fs::read(p).ok()? })
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let inputs = corpus();
    let options = Options { vitrage_validate: true, ..Options::default() };
    let mut group = c.benchmark_group(format!("corpus ({} files)", inputs.len()));
    group.bench_function("baseline: parse YAML only", |b| {
        b.iter(|| {
            for i in &inputs {
                let _ = black_box(causeway::template::load(&i.file, &i.bytes));
            }
        })
    });
    group.bench_function("validate + compile", |b| {
        b.iter(|| black_box(check_set(&inputs, &options)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
