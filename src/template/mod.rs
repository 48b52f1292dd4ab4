//! Vitrage templates: loading YAML with positions, validation with Vitrage's status codes
//! in Vitrage's order, and the validated model the compiler reads.
//!
//! ```
//! use causeway::template::{self, Context, TemplateType};
//! let src = "metadata: {version: 3, name: t, type: standard}\n\
//!            entities: {a: {type: zabbix}, h: {type: nova.host}}\n\
//!            scenarios:\n- condition: a [on] h\n  actions:\n  - mark_down: {target: h}\n";
//! let doc = template::load("t.yaml", src.as_bytes()).unwrap();
//! let checked = template::check("t.yaml", &doc, None, &Context::default());
//! assert!(matches!(checked, Ok(template::Checked::Standard(_))));
//! ```

pub mod codes;
mod conditions;
mod content;
pub mod equivalence;
pub mod model;
pub mod params;
pub mod pyregex;
pub mod schema;
mod syntax;
mod v3;
pub mod yaml;

use crate::diagnostic::{Diagnostic, Stage};
use params::{ParamSupport, Params};
use yaml::{Node, Pos};

/// The three kinds of template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TemplateType {
    /// Scenarios over entities.
    Standard,
    /// Shared entity and relationship definitions (v1/v2 `includes`).
    Definition,
    /// Groups of equivalent entities.
    Equivalence,
}

impl TemplateType {
    /// Parses `standard`, `definition` or `equivalence`.
    pub fn parse(s: &str) -> Option<TemplateType> {
        match s {
            "standard" => Some(TemplateType::Standard),
            "definition" => Some(TemplateType::Definition),
            "equivalence" => Some(TemplateType::Equivalence),
            _ => None,
        }
    }
}

/// A valid definition template, visible to `includes` by its name.
#[derive(Debug, Clone)]
pub struct DefTemplate {
    /// `metadata.name`.
    pub name: String,
    /// The template.
    pub doc: Node,
}

/// What validation may see besides the template itself.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The valid definition templates.
    pub def_templates: Vec<DefTemplate>,
    /// Actual parameters (`None`: none given, as Vitrage's validate without params).
    pub params: Option<Params>,
}

/// A template that passed validation.
#[derive(Debug, Clone)]
pub enum Checked {
    /// A standard template, resolved and modelled.
    Standard(model::Template),
    /// A definition template.
    Definition(DefTemplate),
    /// An equivalence template.
    Equivalence(equivalence::Equivalence),
}

/// Reads a file's bytes as YAML; code 5 when they are not UTF-8 YAML.
pub fn load(file: &str, bytes: &[u8]) -> Result<Node, Diagnostic> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        let line = bytes[..at].iter().filter(|b| **b == b'\n').count() as u32 + 1;
        let byte = bytes.get(at).copied().unwrap_or(0);
        // Python's decoder words it this way, and Vitrage reports it as a YAML error.
        let why = match e.error_len() {
            None => "unexpected end of data",
            Some(_) if (0x80..0xc2).contains(&byte) || byte >= 0xf5 => "invalid start byte",
            Some(_) => "invalid continuation byte",
        };
        let message = format!(
            "{}'utf-8' codec can't decode byte 0x{byte:02x} in position {at}: {why}",
            codes::message(5).unwrap_or("")
        );
        Diagnostic::with_message(5, Stage::Syntax, Pos { line, column: 1 }, message).in_file(file)
    })?;
    yaml::parse(text).map_err(|e| {
        // Nesting past causeway's bound is not a YAML error: PyYAML reads deeper.
        let (code, m) = if e.too_deep {
            (codes::TOO_DEEP, format!("{} - ", codes::message(codes::TOO_DEEP).unwrap_or("")))
        } else {
            (5, codes::message(5).unwrap_or("").to_string())
        };
        let message = format!("{m}{}", e.message);
        Diagnostic::with_message(code, Stage::Syntax, e.pos.unwrap_or_default(), message)
            .in_file(file)
    })
}

/// The type a template is validated as: the requested one (66 when `metadata.type`
/// disagrees), else `metadata.type` when it is a known type, else standard.
pub fn resolve_type(
    doc: &Node,
    requested: Option<TemplateType>,
) -> Result<TemplateType, Diagnostic> {
    let md_type = doc.get("metadata").and_then(|m| m.get("type"));
    let declared = md_type.and_then(Node::as_str).filter(|s| !s.is_empty());
    match requested {
        Some(r) => match declared {
            Some(d) if TemplateType::parse(d) != Some(r) => Err(Diagnostic::with_message(
                66,
                Stage::Content,
                md_type.map(|n| n.pos).unwrap_or(doc.pos),
                "Unknown template type".into(),
            )),
            _ => Ok(r),
        },
        None => Ok(declared.and_then(TemplateType::parse).unwrap_or(TemplateType::Standard)),
    }
}

/// Validates one template as Vitrage does (first error wins) and models it.
pub fn check(
    file: &str,
    doc: &Node,
    requested: Option<TemplateType>,
    ctx: &Context,
) -> Result<Checked, Diagnostic> {
    // The checks walk the document recursively, as deep as it nests.
    let checked = crate::stack::with_stack(|| {
        resolve_type(doc, requested).and_then(|ty| match ty {
            TemplateType::Standard => standard(file, doc, ctx).map(Checked::Standard),
            TemplateType::Definition => definition(doc).map(Checked::Definition),
            TemplateType::Equivalence => equivalence::load(file, doc).map(Checked::Equivalence),
        })
    });
    checked.map_err(|d| d.in_file(file))
}

/// Vitrage's `get_template_schema`: 62 without metadata, 63 for an unknown version.
fn version_of(doc: &Node) -> Result<u8, Diagnostic> {
    if doc.as_map().is_none() {
        return Err(Diagnostic::new(codes::NOT_A_MAPPING, Stage::Template, doc.pos));
    }
    let Some(metadata) = doc.get("metadata") else {
        return Err(Diagnostic::new(62, Stage::Content, doc.pos));
    };
    if metadata.as_map().is_none() {
        return Err(Diagnostic::new(codes::BAD_SHAPE, Stage::Content, metadata.pos));
    }
    match metadata.get("version") {
        None => Ok(1),
        Some(v) => match v.as_str() {
            Some("") | Some("1") => Ok(1),
            Some("2") => Ok(2),
            Some("3") => Ok(3),
            Some(_) => Err(Diagnostic::new(63, Stage::Content, v.pos)),
            None => Err(Diagnostic::new(codes::BAD_SHAPE, Stage::Content, v.pos)),
        },
    }
}

fn standard(file: &str, doc: &Node, ctx: &Context) -> Result<model::Template, Diagnostic> {
    let version = version_of(doc)?;
    let params = ctx.params.as_ref();
    if version == 3 {
        v3::validate(doc, params)?;
        // Vitrage resolves parameters when a template is added, then validates it again.
        let resolved = params::resolve(doc, ParamSupport::Supported, params)?;
        let dnfs = v3::validate(&resolved, None)?;
        return model::from_v3(file, &resolved, &dnfs);
    }
    let v = version.to_string();
    syntax::standard(doc)?;
    content::standard(doc, &v, &ctx.def_templates, params)?;
    let resolved = if version == 1 {
        doc.clone()
    } else {
        params::resolve(doc, ParamSupport::Supported, params)?
    };
    syntax::standard(&resolved)?;
    let (index, dnfs) = content::standard(&resolved, &v, &ctx.def_templates, None)?;
    model::from_v2(file, &resolved, version, &index, &dnfs)
}

fn definition(doc: &Node) -> Result<DefTemplate, Diagnostic> {
    let version = version_of(doc)?;
    syntax::definition(doc)?;
    if version == 3 {
        // Version 3 has no definition templates; Vitrage crashes looking for their validator.
        let at = doc.get("metadata").and_then(|m| m.get("version")).map_or(doc.pos, |v| v.pos);
        return Err(Diagnostic::new(codes::BAD_SHAPE, Stage::Template, at));
    }
    content::definition(doc)?;
    let name =
        doc.get("metadata").and_then(|m| m.get("name")).map(Node::py_str).unwrap_or_default();
    Ok(DefTemplate { name, doc: doc.clone() })
}
