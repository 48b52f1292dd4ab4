//! Validating and compiling a set of template files together: definition templates first,
//! then equivalences, then standard templates, then the checks across the set.
//!
//! Pure functions of the files' names and bytes; reading them is the caller's job.

use crate::compile::{self, Compiled};
use crate::diagnostic::{Diagnostic, Severity};
use crate::template::codes;
use crate::template::equivalence::{self, Equivalence};
use crate::template::model::Template;
use crate::template::params::Params;
use crate::template::{self, Checked, Context, DefTemplate, TemplateType};

/// A template file's name and content.
#[derive(Debug, Clone)]
pub struct Input {
    /// The path as the user gave it.
    pub file: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// Options shared by `validate` and `compile`.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Validate every file as this type (Vitrage's API `template_type`).
    pub template_type: Option<TemplateType>,
    /// Definition template files visible to `includes`.
    pub def_templates: Vec<Input>,
    /// Actual parameter values.
    pub params: Option<Params>,
    /// Parameter values of single files (by [`Input::file`]), over [`Options::params`]: each
    /// template added through the API brings its own.
    pub file_params: std::collections::BTreeMap<String, Params>,
    /// Types of single files (by [`Input::file`]), over [`Options::template_type`]: each
    /// template added through the API keeps the `template_type` it was added with.
    pub file_types: std::collections::BTreeMap<String, TemplateType>,
    /// Answer as Vitrage's validate API does: templates Vitrage accepts but cannot run (an
    /// action target outside the condition) are valid with a warning. `compile` and `run`
    /// leave this off and reject them.
    pub vitrage_validate: bool,
}

/// The outcome for one file.
#[derive(Debug, Clone)]
pub struct FileResult {
    /// The file.
    pub file: String,
    /// Its type.
    pub template_type: Option<TemplateType>,
    /// The first error, if any.
    pub error: Option<Diagnostic>,
    /// Warnings.
    pub warnings: Vec<Diagnostic>,
}

/// Everything a set check produces.
#[derive(Debug, Clone, Default)]
pub struct SetResult {
    /// Per file, in input order.
    pub files: Vec<FileResult>,
    /// The compiled rules of the valid standard templates.
    pub compiled: Compiled,
}

/// The valid definition templates among `inputs` (others are silently not visible, as in
/// Vitrage, where only ACTIVE definition templates are).
pub fn definition_templates(inputs: &[Input]) -> Vec<DefTemplate> {
    let mut defs = Vec::new();
    for input in inputs {
        let Ok(doc) = template::load(&input.file, &input.bytes) else { continue };
        let declared = doc.get("metadata").and_then(|m| m.get_str("type"));
        if !matches!(declared, None | Some("definition")) {
            continue;
        }
        if let Ok(Checked::Definition(d)) =
            template::check(&input.file, &doc, Some(TemplateType::Definition), &Context::default())
        {
            defs.push(d);
        }
    }
    defs
}

/// Validates every input and compiles the valid standard ones together.
pub fn check_set(inputs: &[Input], options: &Options) -> SetResult {
    let ctx = Context {
        def_templates: definition_templates(&options.def_templates),
        params: options.params.clone(),
    };
    let mut files = Vec::with_capacity(inputs.len());
    let mut standard: Vec<(usize, Template)> = Vec::new();
    let mut equivalences: Vec<(usize, Equivalence)> = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let mut result = FileResult {
            file: input.file.clone(),
            template_type: None,
            error: None,
            warnings: Vec::new(),
        };
        match template::load(&input.file, &input.bytes) {
            Err(d) => result.error = Some(d),
            Ok(doc) => {
                let requested =
                    options.file_types.get(&input.file).copied().or(options.template_type);
                result.template_type = template::resolve_type(&doc, requested).ok();
                let own;
                let ctx = match options.file_params.get(&input.file) {
                    Some(p) => {
                        own = Context {
                            def_templates: ctx.def_templates.clone(),
                            params: Some(p.clone()),
                        };
                        &own
                    }
                    None => &ctx,
                };
                match template::check(&input.file, &doc, requested, ctx) {
                    Err(d) => result.error = Some(d),
                    Ok(Checked::Standard(t))
                        if !options.vitrage_validate
                            && standard.iter().any(|(_, s)| s.name == t.name) =>
                    {
                        // Vitrage refuses to add a second template with the same name.
                        let d = Diagnostic::with_message(
                            codes::DUPLICATE_NAME,
                            crate::diagnostic::Stage::Template,
                            doc.pos,
                            "Duplicate template name".into(),
                        );
                        result.error = Some(d.in_file(&input.file));
                    }
                    Ok(Checked::Standard(t)) => standard.push((i, t)),
                    Ok(Checked::Equivalence(e)) => equivalences.push((i, e)),
                    Ok(Checked::Definition(_)) => {}
                }
            }
        }
        if let Some(d) = result.error.as_mut() {
            d.focus_in(&String::from_utf8_lossy(&input.bytes));
        }
        files.push(result);
    }
    let eqs: Vec<Equivalence> = equivalences.iter().map(|(_, e)| e.clone()).collect();
    if let Err((k, d)) = equivalence::check_set(&eqs) {
        let i = equivalences[k].0;
        files[i].error = Some(d.in_file(&inputs[i].file));
        equivalences.remove(k);
    }
    let eqs: Vec<Equivalence> = equivalences.into_iter().map(|(_, e)| e).collect();
    let templates: Vec<Template> = standard.iter().map(|(_, t)| t.clone()).collect();
    let compiled = match compile::lower(&templates, &eqs) {
        Ok(c) => c,
        Err(errors) => {
            for d in errors {
                if let Some(f) = files.iter_mut().find(|f| f.file == d.file && f.error.is_none()) {
                    if options.vitrage_validate && d.code == codes::TARGET_OUTSIDE_CONDITION {
                        f.warnings.push(d.warning());
                    } else {
                        f.error = Some(d);
                    }
                }
            }
            let ok: Vec<Template> = standard
                .iter()
                .filter(|(i, _)| files[*i].error.is_none() && files[*i].warnings.is_empty())
                .map(|(_, t)| t.clone())
                .collect();
            compile::lower(&ok, &eqs).unwrap_or_default()
        }
    };
    for w in &compiled.warnings {
        if let Some(f) = files.iter_mut().find(|f| f.file == w.file) {
            f.warnings.push(w.clone());
        }
    }
    SetResult { files, compiled }
}

impl FileResult {
    /// Whether the file is valid.
    pub fn ok(&self) -> bool {
        self.error.as_ref().is_none_or(|e| e.severity == Severity::Warning)
    }

    /// Vitrage's validate response item, plus position and hint.
    pub fn to_json(&self) -> serde_json::Value {
        match &self.error {
            None => serde_json::json!({
                "file path": self.file,
                "status": "validation OK",
                "status code": 0,
                "message": "Template validation is OK",
                "description": "Template validation",
                "line": null,
                "column": null,
            }),
            Some(d) => serde_json::json!({
                "file path": self.file,
                "status": "validation failed",
                "status code": d.code,
                "message": d.message,
                "description": d.stage.description(),
                "line": d.pos.line,
                "column": d.pos.column,
                "hint": d.hint,
            }),
        }
    }
}
