//! The service's template set: what `template add` and `template delete` change, compiled
//! whole each time, as `causeway run` compiles a directory.
//!
//! A template whose compile fails is kept with status ERROR and its message, and takes no
//! part in evaluation: never half-loaded. Definition templates are what `includes` of the
//! others see. Each template keeps the parameters it was added with.

use crate::check::{Input, Options, check_set};
use crate::compile::ir::RuleSet;
use crate::store::{StoredTemplate, TemplateStatus, Timestamp};
use crate::template::TemplateType;
use crate::template::params::{self, ParamSupport, Params};
use crate::template::yaml::{Node, Value as Yaml};
use serde_json::{Value as Json, json};

/// A template as a request brings it.
#[derive(Debug, Clone)]
pub struct NewTemplate {
    /// The path the client named.
    pub file: String,
    /// Its text (YAML, or the JSON the client sent, which is YAML too).
    pub text: String,
    /// Its parameters.
    pub params: Option<Params>,
    /// The type the request named (`template_type`); Vitrage's API needs it for templates
    /// whose metadata names none (v1), and refuses one that disagrees with the metadata.
    pub template_type: Option<TemplateType>,
}

/// The name Vitrage's API and causeway's store give a template type.
fn type_name(t: TemplateType) -> &'static str {
    match t {
        TemplateType::Standard => "standard",
        TemplateType::Definition => "definition",
        TemplateType::Equivalence => "equivalence",
    }
}

/// The set's rules and every template with the status this compile gave it.
///
/// Each template is checked as the type it was stored with, so a v1 definition added with
/// `--type definition` is one. Definition templates are checked on their own (Vitrage
/// validates one when it is added); the valid ones are what `includes` of the others see.
pub fn compile(templates: &mut [StoredTemplate]) -> RuleSet {
    let input =
        |t: &StoredTemplate| Input { file: t.uuid.clone(), bytes: t.yaml.clone().into_bytes() };
    let (defs, rest): (Vec<&StoredTemplate>, Vec<&StoredTemplate>) =
        templates.iter().partition(|t| t.template_type == "definition");
    let def_inputs: Vec<Input> = defs.iter().map(|t| input(t)).collect();
    let mut options = Options { def_templates: def_inputs.clone(), ..Options::default() };
    for t in templates.iter() {
        if let Some(p) = t.params.as_ref().and_then(params_of) {
            options.file_params.insert(t.uuid.clone(), p);
        }
        if let Some(ty) = TemplateType::parse(&t.template_type) {
            options.file_types.insert(t.uuid.clone(), ty);
        }
    }
    let inputs: Vec<Input> = rest.iter().map(|t| input(t)).collect();
    let checked = check_set(&inputs, &options);
    let def_options =
        Options { template_type: Some(TemplateType::Definition), ..Options::default() };
    let checked_defs = check_set(&def_inputs, &def_options);
    for t in templates.iter_mut() {
        let result = checked.files.iter().chain(&checked_defs.files).find(|f| f.file == t.uuid);
        (t.status, t.status_details) = match result.and_then(|f| f.error.as_ref()) {
            Some(d) => (TemplateStatus::Error, d.message.clone()),
            None if t.template_type == "equivalence" => {
                (TemplateStatus::Active, "No Validation".into())
            }
            None => (TemplateStatus::Active, "Template validation is OK".into()),
        };
    }
    checked.compiled.rules
}

fn params_of(json: &Json) -> Option<Params> {
    let map = json.as_object()?;
    Some(
        map.iter()
            .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_string)))
            .collect(),
    )
}

/// A stored template for `new`, named from its metadata and typed as the request says, else
/// as its metadata says, else standard.
///
/// The name is read after the parameters are resolved, as Vitrage reads it: `name` may be a
/// `get_param`.
pub fn stored(uuid: String, new: &NewTemplate, at: &Timestamp) -> StoredTemplate {
    let doc = crate::template::load(&new.file, new.text.as_bytes())
        .ok()
        .map(|d| resolved(&d, new.params.as_ref()).unwrap_or(d));
    let meta = |key: &str| {
        doc.as_ref().and_then(|d| d.get("metadata")).and_then(|m| m.get(key)).map(|v| v.py_str())
    };
    let file_name = std::path::Path::new(&new.file)
        .file_name()
        .map_or_else(|| new.file.clone(), |n| n.to_string_lossy().into_owned());
    StoredTemplate {
        uuid,
        name: meta("name").unwrap_or_default(),
        file_name,
        template_type: match new.template_type {
            Some(t) => type_name(t).into(),
            None => meta("type").filter(|t| !t.is_empty()).unwrap_or_else(|| "standard".into()),
        },
        status: TemplateStatus::Loading,
        status_details: String::new(),
        yaml: new.text.clone(),
        params: new.params.as_ref().map(|p| json!(p)),
        created_at: at.clone(),
        updated_at: at.clone(),
    }
}

/// A template as `template list` and `template add` show it.
pub fn listed(t: &StoredTemplate) -> Json {
    json!({
        "uuid": t.uuid,
        "name": t.name,
        "status": t.status.as_str(),
        "status details": t.status_details,
        "date": t.created_at.as_str(),
        "type": t.template_type,
    })
}

/// `doc` with its parameters resolved and its `parameters` section gone, as Vitrage stores a
/// valid template; `None` when a parameter does not resolve.
fn resolved(doc: &Node, actual: Option<&Params>) -> Option<Node> {
    let mut doc = params::resolve(doc, ParamSupport::Supported, actual).ok()?;
    if let Yaml::Map(entries) = &mut doc.value {
        entries.retain(|(k, _)| k.as_str() != Some("parameters"));
    }
    Some(doc)
}

/// A YAML tree as JSON, every scalar a string: what PyYAML's `BaseLoader` makes of it.
fn to_json(node: &Node) -> Json {
    match &node.value {
        Yaml::Str(s) => Json::String(s.clone()),
        Yaml::Seq(items) => Json::Array(items.iter().map(to_json).collect()),
        Yaml::Map(entries) => {
            Json::Object(entries.iter().map(|(k, v)| (k.py_str(), to_json(v))).collect())
        }
    }
}

/// A template as `template show` shows it: its content as Vitrage stores it, loaded with
/// `BaseLoader` (`version: "3"`) and, unless it failed, with its parameters resolved.
pub fn shown(t: &StoredTemplate) -> Json {
    let Ok(doc) = crate::template::load(&t.file_name, t.yaml.as_bytes()) else {
        return Json::String(t.yaml.clone());
    };
    let actual = t.params.as_ref().and_then(params_of);
    let doc = match t.status {
        TemplateStatus::Error => doc,
        _ => resolved(&doc, actual.as_ref()).unwrap_or(doc),
    };
    to_json(&doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(uuid: &str, text: &str) -> StoredTemplate {
        typed(uuid, text, None)
    }

    fn typed(uuid: &str, text: &str, template_type: Option<TemplateType>) -> StoredTemplate {
        let at = Timestamp::now();
        let new = NewTemplate {
            file: format!("{uuid}.yaml"),
            text: text.into(),
            params: None,
            template_type,
        };
        stored(uuid.into(), &new, &at)
    }

    #[test]
    fn a_template_that_fails_is_kept_as_error_and_the_rest_load() {
        let good = "metadata: {version: 3, name: good, type: standard}\nentities:\n  host: {type: nova.host}\n  vm: {type: nova.instance}\nscenarios:\n  - condition: host [contains] vm\n    actions:\n      - set_state: {target: host, state: SUBOPTIMAL}\n";
        let bad = good
            .replace("name: good", "name: bad")
            .replace("host [contains] vm", "host [contains] nothing");
        let mut set = vec![template("a", good), template("b", &bad)];
        let rules = compile(&mut set);
        assert_eq!(set[0].status, TemplateStatus::Active);
        assert_eq!(set[1].status, TemplateStatus::Error);
        assert!(!set[1].status_details.is_empty());
        assert_eq!(rules.templates.len(), 1);
        assert_eq!(listed(&set[0])["name"], "good");
    }

    /// A v1 definition and a v1 template including it, neither naming its type in metadata.
    const DEFINITION: &str = "metadata:\n name: def\ndefinitions:\n entities:\n  - entity: {category: ALARM, type: nagios, name: p, template_id: alarm}\n  - entity: {category: RESOURCE, type: nova.host, template_id: host}\n relationships:\n  - relationship: {source: alarm, target: host, relationship_type: on, template_id: alarm_on_host}\n";
    const INCLUDING: &str = "metadata:\n name: user\nincludes:\n  - name: def\nscenarios:\n - scenario:\n    condition: alarm_on_host\n    actions:\n     - action:\n        action_type: set_state\n        properties: {state: SUBOPTIMAL}\n        action_target: {target: host}\n";

    #[test]
    fn a_template_keeps_the_type_it_was_added_with() {
        let mut set = vec![
            typed("d", DEFINITION, Some(TemplateType::Definition)),
            typed("u", INCLUDING, Some(TemplateType::Standard)),
        ];
        assert_eq!(set[0].template_type, "definition");
        let rules = compile(&mut set);
        assert_eq!(
            (set[0].status, set[1].status),
            (TemplateStatus::Active, TemplateStatus::Active)
        );
        assert_eq!(rules.templates.len(), 1);
        // A definition that is not one is an error, not silently active; so is a type that
        // disagrees with the metadata (Vitrage's 66).
        let broken = DEFINITION.replace("relationship_type: on, ", "");
        let standard = "metadata: {version: 3, name: s, type: standard}\nentities:\n  host: {type: nova.host}\n  vm: {type: nova.instance}\nscenarios:\n  - condition: host [contains] vm\n    actions:\n      - set_state: {target: host, state: SUBOPTIMAL}\n";
        let mut set = vec![
            typed("b", &broken, Some(TemplateType::Definition)),
            typed("s", standard, Some(TemplateType::Equivalence)),
        ];
        compile(&mut set);
        assert_eq!((set[0].status, set[1].status), (TemplateStatus::Error, TemplateStatus::Error));
        assert_eq!(set[1].status_details, "Unknown template type");
    }

    #[test]
    fn a_template_with_parameters_is_named_and_shown_resolved() {
        let text = "metadata: {version: 3, name: get_param(name), type: standard}\nparameters:\n  name: {}\n  state: {default: SUBOPTIMAL}\nentities:\n  host: {type: nova.host}\n  vm: {type: nova.instance}\nscenarios:\n  - condition: host [contains] vm\n    actions:\n      - set_state: {target: host, state: get_param(state)}\n";
        let given: Params = [("name".to_string(), "named".to_string())].into();
        let new = NewTemplate {
            file: "p.yaml".into(),
            text: text.into(),
            params: Some(given),
            template_type: None,
        };
        let mut set = vec![stored("p".into(), &new, &Timestamp::now())];
        compile(&mut set);
        assert_eq!((set[0].name.as_str(), set[0].status), ("named", TemplateStatus::Active));
        let shown = shown(&set[0]);
        assert_eq!(shown["metadata"], json!({"version": "3", "name": "named", "type": "standard"}));
        assert_eq!(shown["scenarios"][0]["actions"][0]["set_state"]["state"], "SUBOPTIMAL");
        assert!(shown.get("parameters").is_none());
    }
}
