//! Reading what the tools are given: template directories and topology files.

use crate::check::{Input, Options, check_set};
use crate::compile::ir::RuleSet;
use crate::runner::Change;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The `*.yaml`/`*.yml` files of `dir`, sorted, as compiler inputs.
pub fn inputs(dir: &Path) -> Result<Vec<Input>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| {
            let bytes = std::fs::read(f).map_err(|e| format!("{}: {e}", f.display()))?;
            Ok(Input { file: f.display().to_string(), bytes })
        })
        .collect()
}

/// The rules of the templates in `dir`; a template that does not compile is an error naming it.
pub fn rules(
    dir: &Path,
    def_dirs: &[PathBuf],
    params: &BTreeMap<String, String>,
) -> Result<RuleSet, String> {
    let inputs = inputs(dir)?;
    let mut def_templates = inputs.clone();
    for d in def_dirs {
        def_templates.extend(self::inputs(d)?);
    }
    let params = (!params.is_empty()).then(|| params.clone());
    let options = Options { def_templates, params, ..Options::default() };
    let checked = check_set(&inputs, &options);
    if let Some(bad) = checked.files.iter().find(|f| f.error.is_some()) {
        let d = bad.error.as_ref().map(|d| d.message.clone()).unwrap_or_default();
        return Err(format!("{}: {d}", bad.file));
    }
    Ok(checked.compiled.rules)
}

/// The changes that load a topology file (scenario JSON or Vitrage static YAML).
pub fn topology(path: &Path) -> Result<Vec<Change>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    crate::datasource::topology_file::changes(&path.display().to_string(), &text)
        .map_err(|e| e.to_string())
}
