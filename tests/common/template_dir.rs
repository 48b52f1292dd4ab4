//! A scenario fixture's templates as `causeway run` loads them: every file of a directory,
//! sorted, each also a definition template for the others.

use causeway::check::{Input, Options, SetResult, check_set};
use std::path::{Path, PathBuf};

/// The files of `dir` and the checked set they make.
pub fn load(dir: &Path) -> (Vec<Input>, SetResult) {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("templates dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let inputs: Vec<Input> = files
        .iter()
        .map(|f| Input { file: f.display().to_string(), bytes: std::fs::read(f).expect("read") })
        .collect();
    let checked =
        check_set(&inputs, &Options { def_templates: inputs.clone(), ..Options::default() });
    (inputs, checked)
}
