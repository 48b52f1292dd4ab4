//! Vitrage's validation status codes, their exact messages, and causeway's own codes.
//!
//! Messages are Vitrage's `status_messages.py` strings byte for byte (including the
//! `dict_keys([])` of code 63 and the trailing space of 136), because clients compare them.
//! Codes from 9000 up are causeway's own: they replace the places where Vitrage 15 crashes
//! (a `KeyError` or `TypeError` inside its validator or evaluator) with a clear message.

/// Vitrage's message for a status code, if Vitrage has one.
pub fn message(code: u32) -> Option<&'static str> {
    Some(match code {
        0 => "Template validation is OK",
        1 => "template_id field contains incorrect string value.",
        2 => "Duplicate template_id definition.",
        3 => "template_id does not appear in the definition block.",
        4 => "Syntax error: ",
        5 => "Invalid yaml format: ",
        20 => "definitions section must contain entities field.",
        21 => "definitions section is a mandatory section.",
        41 => "Entity definition must contain template_id field.",
        42 => "Entity definition must contain category field.",
        43 => "At least one entity must be defined.",
        45 => "Invalid entity category. Category must be from types: ['RESOURCE', 'ALARM']",
        46 => "Entity field is required.",
        47 => "Invalid regular expression defined in field:",
        60 => "metadata section must contain id field.",
        62 => "metadata is a mandatory section.",
        63 => "Unsupported version. Version must be one of: dict_keys([])",
        64 => {
            "metadata section must contain a type field starting from version 2. Type must be one of: ['standard', 'definition', 'equivalence']"
        }
        65 => {
            "Invalid template type. Type must be one of: ['standard', 'definition', 'equivalence']"
        }
        66 => {
            "Missing template type. Type must be one of: ['standard', 'definition', 'equivalence']"
        }
        80 => "scenarios is a mandatory section.",
        81 => "At least one scenario must be defined.",
        82 => "scenario field is required.",
        83 => "Scenario definition must contain condition field.",
        84 => "Scenario definition must contain actions field.",
        85 => "Failed to convert condition.",
        86 => "Not operator can be used only on relationships.",
        101 => "Relationship field is required.",
        102 => "Relationship definition must contain source field.",
        103 => "Relationship definition must contain target field.",
        104 => "Relationship definition must contain template_id field.",
        120 => {
            "Invalid action type. Action type must be from types: ['set_state', 'raise_alarm', 'add_causal_relationship', 'mark_down', 'execute_mistral']"
        }
        121 => "At least one action must be defined.",
        122 => "Action field is required.",
        123 => "Action definition must contain action_type field.",
        124 => "Action definition must contain action_target field.",
        125 => "raise_alarm action must contain alarm_name field in properties block.",
        126 => "raise_alarm action must contain severity field in properties block.",
        127 => "raise_alarm action must contain target field in target_action block",
        128 => "set_state action must contain state field in properties block.",
        129 => "set_state action must contain target field in target_action block.",
        130 => {
            "add_causal_relationship action must contain target and source field in target_action block."
        }
        131 => "mark_down action must contain 'target' field in 'target_action' block.",
        132 => "add_causal_relationship action requires action_target to be ALARM",
        133 => "execute_mistral action must contain workflow field in properties block",
        134 => "condition can not contain only 'not' clauses",
        135 => "condition must contain a common entity for all 'or' clauses",
        136 => {
            "Input parameters for the Mistral workflow in execute_mistral action must be placed under an 'input' block "
        }
        137 => "Functions are supported only from version 2",
        138 => "Only open or close parenthesis exists. Did you try to use a function?",
        140 => "At least one template must be included",
        141 => "Name field is unspecified for include",
        142 => "Trying to include a template that does not exist",
        143 => "A template definition file cannot contain 'includes' or 'scenarios' blocks",
        160 => "Parameters are supported only from version 2",
        161 => "get_param called for a parameter that is not defined in the 'parameters' block",
        162 => "malformed get_param() clause",
        163 => "Failed to resolve parameter",
        10100 => "Action must contain a 'target' property",
        10101 => "Action 'target' must match an entity id",
        10102 => "Action must contain a 'source' property",
        10103 => "Action 'source' must match an entity id",
        10104 => "raise_alarm action must contain an 'alarm_name' property",
        10105 => "execute_mistral action must contain 'workflow' property",
        10107 => "The property 'causing_alarm' in raise_alarm action must match an entity id",
        10200 => "Condition contains an unknown entity id",
        // causeway's own codes, where Vitrage crashes or never validates.
        NOT_A_MAPPING => "The template is not a YAML mapping.",
        BAD_SHAPE => "A value has a shape Vitrage cannot process here.",
        TOO_DEEP => "The template nests deeper than causeway reads.",
        NO_RELATIONSHIP_TYPE => "Relationship definition must contain relationship_type field.",
        NO_ENTITIES => "entities is a mandatory section.",
        TARGET_OUTSIDE_CONDITION => {
            "Action target is not an entity of every clause of the condition."
        }
        NO_PROPERTIES => "Action definition must contain a properties field.",
        EMPTY_ACTION => "Action must name exactly one action type.",
        INCLUDE_WITHOUT_RELATIONSHIPS => {
            "An included definition template must have a relationships field."
        }
        PARAM_WITHOUT_DEFAULT_FIELD => {
            "Parameter has no actual value and its definition is not a mapping with a default."
        }
        EQUIVALENCE_DUPLICATE => "duplicated entities found in equivalence",
        EQUIVALENCE_OVERLAP => {
            "one entity should not be included in multiple equivalence definitions"
        }
        EQUIVALENCE_SYNTAX => "Equivalence template is malformed.",
        NOT_STRATIFIABLE => "Templates recurse through negation.",
        DUPLICATE_NAME => "Duplicate template name",
        DISCONNECTED_CLAUSE => "The clause's entities are not connected by its relationships.",
        _ => return None,
    })
}

/// The template is not a mapping (an empty file, a list, a scalar).
pub const NOT_A_MAPPING: u32 = 9000;
/// A value has a type Vitrage's validator crashes on (a list where a string is used, ...).
pub const BAD_SHAPE: u32 = 9001;
/// Nesting past causeway's bounds where Vitrage may still read it: YAML deeper than 64
/// levels (PyYAML reads a few hundred, then fails with 5), or a condition the parser's stack
/// cannot hold. Conditions past Python's own limits fail with Vitrage's 85 instead.
pub const TOO_DEEP: u32 = 9002;
/// Vitrage's code 100: a v1/v2 relationship without `relationship_type` (Vitrage crashes).
pub const NO_RELATIONSHIP_TYPE: u32 = 9100;
/// Vitrage's code 10000: a v3 template without `entities` (Vitrage crashes).
pub const NO_ENTITIES: u32 = 9101;
/// An action target, source or causing alarm that is not a positive entity of every clause.
pub const TARGET_OUTSIDE_CONDITION: u32 = 9102;
/// A v1/v2 raise_alarm, set_state or execute_mistral without `properties` (Vitrage crashes).
pub const NO_PROPERTIES: u32 = 9103;
/// A v3 action item that names no action type (`- {}`, Vitrage crashes at load).
pub const EMPTY_ACTION: u32 = 9104;
/// An included definition template without `relationships` (Vitrage crashes).
pub const INCLUDE_WITHOUT_RELATIONSHIPS: u32 = 9105;
/// A parameter declared as a plain string, used without an actual value (Vitrage crashes).
pub const PARAM_WITHOUT_DEFAULT_FIELD: u32 = 9106;
/// The same entity twice in one equivalence (Vitrage fails at repository load).
pub const EQUIVALENCE_DUPLICATE: u32 = 9200;
/// The same entity in two equivalences, in one file or across files (fails at load).
pub const EQUIVALENCE_OVERLAP: u32 = 9201;
/// An equivalence template whose structure the equivalence loader cannot read.
pub const EQUIVALENCE_SYNTAX: u32 = 9202;
/// A template set in which a deduced alarm or state feeds a `NOT` it depends on.
pub const NOT_STRATIFIABLE: u32 = 9300;
/// Two templates of one set share a name (Vitrage: add fails with "Duplicate template name").
pub const DUPLICATE_NAME: u32 = 9301;
/// A clause whose entities its relationships do not connect: it never matches, in Vitrage as
/// here. Validation accepts it as Vitrage does; `causeway run --why-not` names it.
pub const DISCONNECTED_CLAUSE: u32 = 9401;

/// A short hint on how to fix a template that fails with `code`.
pub fn hint(code: u32) -> &'static str {
    match code {
        1 => "a template_id starts with letters (after optional underscores), e.g. `host_alarm`",
        2 => "every entity and relationship template_id must be unique, includes included",
        3 => {
            "define the id under definitions (entities or relationships), or fix its spelling; in v1/v2 conditions operators are lower-case `and`, `or`, `not`"
        }
        4 => "check the key names and value types against the template format of this version",
        5 => "fix the YAML syntax at the marked place",
        20 | 43 => "add `entities:` with at least one `- entity:` item",
        21 => "add a `definitions:` section, or `includes:` of a definition template",
        41 => "add `template_id:` to the entity",
        42 | 45 => "set `category:` to RESOURCE or ALARM (upper case)",
        46 => "each item of `entities` is `- entity: {...}`",
        47 => {
            "fix the regular expression (Python `re` syntax, matched from the start of the value)"
        }
        60 => "add `name:` under `metadata`",
        62 => "add a `metadata:` section with a `name`",
        63 => "`metadata.version` must be 1, 2 or 3",
        64 | 65 => "set `metadata.type` to standard, definition or equivalence",
        66 => "the template type given does not match `metadata.type`",
        80 => "add a `scenarios:` section",
        81 => "add at least one `- scenario:` item",
        82 => "each item of `scenarios` is `- scenario: {condition, actions}`",
        83 => "add `condition:` to the scenario",
        84 => "add `actions:` to the scenario",
        85 => {
            "write the condition with ids, `and`/`or`/`not` and parentheses; v3 relationships are `source [label] target` with spaces around the brackets; some ids (E, I, N, S, Q, O, pi, ...) are reserved by the condition parser"
        }
        86 => "`not` can only negate relationships, e.g. `host and not alarm_on_host`",
        101 => "each item of `relationships` is `- relationship: {...}`",
        102..=104 => "a relationship has source, target, relationship_type and template_id",
        120 => {
            "action_type is one of set_state, raise_alarm, add_causal_relationship, mark_down, execute_mistral"
        }
        121 => "add at least one `- action:` item",
        122 => "each item of `actions` is `- action: {...}`",
        123 => "add `action_type:` to the action",
        124 => "add `action_target: {target: <template_id>}`",
        125 | 126 | 10104 => "raise_alarm needs alarm_name and severity",
        127 | 129 | 131 | 10100 => "name the action's target entity",
        128 => "set_state needs `state:`",
        130 | 10102 => "add_causal_relationship needs a source and a target",
        132 => "both ends of a causal relationship must be ALARM entities",
        133 | 10105 => "execute_mistral needs the `workflow:` to run",
        134 => "add at least one positive (not negated) term to the condition",
        135 => "every `or` branch must share at least one entity that actions can target",
        136 => "put workflow inputs under `input:`",
        137 => "functions such as get_attr need `metadata.version: 2` or later",
        138 => {
            "a value with parentheses must be a function call such as get_attr(entity, property)"
        }
        140 => "list at least one `- name:` under `includes`",
        141 => "each include is `- name: <definition template name>`",
        142 => {
            "load the definition template first (validate with --def-templates DIR), or fix the name"
        }
        143 => "definition templates hold only metadata and definitions",
        160 => "parameters need `metadata.version: 2` or later",
        161 => "declare the parameter under `parameters:`",
        162 => "write get_param(name)",
        163 => "give the parameter a value with --param NAME=VALUE, or a default",
        10101 | 10103 | 10107 => "use a key of `entities`",
        10200 => {
            "every id in the condition must be a key of `entities`; relationships are `source [label] target`"
        }
        NOT_A_MAPPING => {
            "a template is a YAML mapping with metadata, definitions or entities, and scenarios"
        }
        BAD_SHAPE => {
            "use a plain string (or the mapping or list the format asks for) at this place"
        }
        TOO_DEEP => {
            "flatten the nesting: YAML up to 64 levels deep, conditions up to 199 brackets around an id"
        }
        NO_RELATIONSHIP_TYPE => {
            "add `relationship_type:` (the edge label, e.g. on, contains, attached)"
        }
        NO_ENTITIES => "add an `entities:` mapping of entity id to properties",
        TARGET_OUTSIDE_CONDITION => {
            "target an entity that the condition binds positively in every `or` branch"
        }
        NO_PROPERTIES => "add a `properties:` block to the action",
        EMPTY_ACTION => "write the action as `- <action_type>: {...}`",
        INCLUDE_WITHOUT_RELATIONSHIPS => "add `relationships: []` to the definition template",
        PARAM_WITHOUT_DEFAULT_FIELD => {
            "declare the parameter as a mapping with `default:`, or pass --param"
        }
        EQUIVALENCE_DUPLICATE | EQUIVALENCE_OVERLAP => {
            "list each entity once, in one equivalence only"
        }
        EQUIVALENCE_SYNTAX => "write `equivalences: [- equivalence: [- entity: {...}, ...]]`",
        NOT_STRATIFIABLE => {
            "break the cycle: a template must not negate what it deduces, directly or through others"
        }
        DUPLICATE_NAME => "give each template a unique metadata.name",
        DISCONNECTED_CLAUSE => {
            "join every entity of the clause to the others with a relationship, e.g. `host [contains] vm`"
        }
        _ => "see the Vitrage template format documentation",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_own_code_has_a_message_and_a_hint() {
        for code in [
            NOT_A_MAPPING,
            BAD_SHAPE,
            TOO_DEEP,
            NO_RELATIONSHIP_TYPE,
            NO_ENTITIES,
            TARGET_OUTSIDE_CONDITION,
            NO_PROPERTIES,
            EMPTY_ACTION,
            INCLUDE_WITHOUT_RELATIONSHIPS,
            PARAM_WITHOUT_DEFAULT_FIELD,
            EQUIVALENCE_DUPLICATE,
            EQUIVALENCE_OVERLAP,
            EQUIVALENCE_SYNTAX,
            NOT_STRATIFIABLE,
            DUPLICATE_NAME,
            DISCONNECTED_CLAUSE,
        ] {
            assert!(message(code).is_some(), "{code}");
            assert_ne!(hint(code), hint(1), "{code}");
        }
    }
}
