//! The printable Datalog form of a rule set: what `causeway compile` prints and what the
//! snapshot tests keep.

use super::ir::{End, Rule, RuleSet, Var};
use crate::template::model::{ActionKind, Expr, Prop};
use std::fmt::{self, Display, Write};

impl Display for RuleSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "% entity relations")?;
        for rel in &self.relations {
            for alt in &rel.alternatives {
                writeln!(f, "{}(V) :- {}.", rel.name, props_text(alt))?;
            }
        }
        for (i, scenario) in self.scenarios.iter().enumerate() {
            let template = &self.templates[scenario.template.0 as usize];
            writeln!(f)?;
            writeln!(f, "% {} ({}:{})", scenario.id, template.file, scenario.pos)?;
            writeln!(f, "%   condition: {}", scenario.condition.trim())?;
            for rule in self.rules.iter().filter(|r| r.scenario.0 as usize == i) {
                write_rule(f, self, rule)?;
            }
            for action in &scenario.actions {
                writeln!(f, "{}", action_text(action))?;
            }
        }
        Ok(())
    }
}

fn props_text(props: &[Prop]) -> String {
    if props.is_empty() {
        return "vertex(V)".into();
    }
    let parts: Vec<String> = props
        .iter()
        .map(|p| {
            let op = if p.regex { "~" } else { "=" };
            format!("V.{} {op} {}", p.key, quote(&p.value))
        })
        .collect();
    parts.join(", ")
}

fn quote(s: &str) -> String {
    format!("{s:?}")
}

fn var_name(rule: &Rule, v: Var) -> &str {
    rule.vars.get(v.0 as usize).map(|s| s.name.as_str()).unwrap_or("_")
}

fn write_rule(f: &mut fmt::Formatter<'_>, set: &RuleSet, rule: &Rule) -> fmt::Result {
    let head: Vec<&str> = rule.vars.iter().map(|v| v.name.as_str()).collect();
    writeln!(f, "{}({}) :-", rule.name, head.join(", "))?;
    let mut body: Vec<String> = Vec::new();
    for v in &rule.vars {
        body.push(format!("{}({})", set.relations[v.relation.0 as usize].name, v.name));
    }
    for e in &rule.edges {
        body.push(format!(
            "{}({}, {})",
            e.label.0,
            var_name(rule, e.source),
            var_name(rule, e.target)
        ));
    }
    for (k, n) in rule.negations.iter().enumerate() {
        let mut free = Vec::new();
        let mut end = |e: &End, suffix: &str| match e {
            End::Bound(v) => var_name(rule, *v).to_string(),
            End::Free { entity, relation } => {
                let name = format!("N{k}{suffix}");
                free.push((name.clone(), *relation, entity.clone()));
                name
            }
        };
        let (s, t) = (end(&n.source, "s"), end(&n.target, "t"));
        let mut text = String::from("!exists");
        let names: Vec<&str> = free.iter().map(|(n, _, _)| n.as_str()).collect();
        let _ = write!(text, " {}: {}({s}, {t})", names.join(", "), n.label.0);
        for (name, rel, _) in &free {
            let _ = write!(text, ", {}({name})", set.relations[rel.0 as usize].name);
            for v in &rule.vars {
                let _ = write!(text, ", {name} != {}", v.name);
            }
        }
        if free.len() == 2 {
            let _ = write!(text, ", {} != {}", free[0].0, free[1].0);
        }
        body.push(text);
    }
    for (i, a) in rule.vars.iter().enumerate() {
        for b in &rule.vars[i + 1..] {
            body.push(format!("{} != {}", a.name, b.name));
        }
    }
    writeln!(f, "    {}.", body.join(",\n    "))
}

fn action_text(action: &super::ir::ActionSpec) -> String {
    let mut args: Vec<String> = Vec::new();
    if let Some(s) = &action.source {
        args.push(format!("source: {s}"));
    }
    if let Some(t) = &action.target {
        args.push(format!("target: {t}"));
    }
    let name = match &action.kind {
        ActionKind::RaiseAlarm { alarm_name, severity, causing_alarm } => {
            args.push(format!("alarm_name: {}", expr_text(alarm_name)));
            args.push(format!("severity: {}", expr_text(severity)));
            if let Some(c) = causing_alarm {
                args.push(format!("causing_alarm: {c}"));
            }
            "raise_alarm"
        }
        ActionKind::SetState { state } => {
            args.push(format!("state: {}", expr_text(state)));
            "set_state"
        }
        ActionKind::MarkDown => "mark_down",
        ActionKind::AddCausalRelationship => "add_causal_relationship",
        ActionKind::ExecuteMistral { workflow, input } => {
            args.push(format!("workflow: {}", expr_text(workflow)));
            let inputs: Vec<String> =
                input.iter().map(|(k, v)| format!("{k}: {}", expr_text(v))).collect();
            args.push(format!("input: {{{}}}", inputs.join(", ")));
            "execute_mistral"
        }
    };
    format!("%   {} {name}({})   @{}", action.id, args.join(", "), action.pos)
}

fn expr_text(e: &Expr) -> String {
    match e {
        Expr::Literal(s) => quote(s),
        Expr::GetAttr { entity, attr } => format!("get_attr({entity}, {attr})"),
        Expr::Null { text } => format!("null /* {text} */"),
        Expr::Map(m) => {
            let parts: Vec<String> =
                m.iter().map(|(k, v)| format!("{k}: {}", expr_text(v))).collect();
            format!("{{{}}}", parts.join(", "))
        }
        Expr::List(l) => {
            let parts: Vec<String> = l.iter().map(expr_text).collect();
            format!("[{}]", parts.join(", "))
        }
    }
}
