use std::sync::OnceLock;

use super::*;

/// The shipped tables, parsed once for all tests.
fn tables() -> &'static ValueTables {
    static TABLES: OnceLock<ValueTables> = OnceLock::new();
    TABLES.get_or_init(|| match ValueTables::builtin() {
        Ok(tables) => tables,
        Err(errors) => panic!("shipped tables are invalid: {errors:?}"),
    })
}

#[test]
fn every_spec_table_ships_and_parses() {
    let tables = tables();
    let names: Vec<&str> = BUILTIN.iter().map(|(name, _)| *name).collect();
    assert_eq!(names.len(), 26);
    for name in names {
        assert!(tables.table(name).is_some(), "{name}");
    }
    assert_eq!(tables.table("zabbix").map(|t| t.category), Some(Category::Alarm));
    assert_eq!(tables.table("nova.host").map(|t| t.category), Some(Category::Resource));
}

#[test]
fn instance_suspended_is_suboptimal_60() {
    let n = tables().resource_state("nova.instance", Some("SUSPENDED"), None);
    assert_eq!(n.aggregated.as_deref(), Some("SUSPENDED"));
    assert_eq!((n.operational, n.priority), ("SUBOPTIMAL", 60));
}

#[test]
fn raw_values_are_compared_upper_cased() {
    let n = tables().resource_state("nova.instance", Some("suspended"), None);
    assert_eq!(n.aggregated.as_deref(), Some("SUSPENDED"));
    assert_eq!((n.operational, n.priority), ("SUBOPTIMAL", 60));
}

#[test]
fn vitrage_state_error_beats_available_on_host() {
    let n = tables().resource_state("nova.host", Some("AVAILABLE"), Some("ERROR"));
    assert_eq!(n.aggregated.as_deref(), Some("ERROR"));
    assert_eq!((n.operational, n.priority), ("ERROR", 30));
}

#[test]
fn vitrage_state_with_equal_priority_does_not_win() {
    // `SUSPENDED` and `STOPPED` share priority 60 on instances, so the raw state stays.
    let n = tables().resource_state("nova.instance", Some("SUSPENDED"), Some("STOPPED"));
    assert_eq!(n.aggregated.as_deref(), Some("SUSPENDED"));
    assert_eq!((n.operational, n.priority), ("SUBOPTIMAL", 60));
}

#[test]
fn vitrage_state_with_lower_priority_does_not_win() {
    let n = tables().resource_state("nova.host", Some("ERROR"), Some("SUBOPTIMAL"));
    assert_eq!(n.aggregated.as_deref(), Some("ERROR"));
}

#[test]
fn vitrage_state_beats_a_missing_state() {
    let n = tables().resource_state("nova.host", None, Some("suboptimal"));
    assert_eq!(n.aggregated.as_deref(), Some("SUBOPTIMAL"));
    assert_eq!((n.operational, n.priority), ("SUBOPTIMAL", 20));
}

#[test]
fn unknown_type_uses_default() {
    let tables = tables();
    let n = tables.resource_state("nic", Some("ACTIVE"), None);
    assert_eq!((n.operational, n.priority), ("OK", 10));
    // `nova.host` has its own table, without `ACTIVE`.
    let n = tables.resource_state("nova.host", Some("ACTIVE"), None);
    assert_eq!(n.aggregated.as_deref(), Some("ACTIVE"));
    assert_eq!((n.operational, n.priority), ("N/A", 0));
}

#[test]
fn missing_and_unknown_values_are_not_available() {
    let tables = tables();
    let n = tables.resource_state("nova.instance", None, None);
    assert_eq!(n, Normalised { aggregated: None, operational: "N/A", priority: 0 });
    let n = tables.resource_state("nova.instance", Some("melting"), None);
    assert_eq!(n.aggregated.as_deref(), Some("MELTING"));
    assert_eq!((n.operational, n.priority), ("N/A", 0));
}

#[test]
fn alarm_severities() {
    let tables = tables();
    let n = tables.alarm_severity("zabbix", Some("high"));
    assert_eq!(n.aggregated.as_deref(), Some("HIGH"));
    assert_eq!((n.operational, n.priority), ("CRITICAL", 50));
    let n = tables.alarm_severity("vitrage", Some("warning"));
    assert_eq!(n.aggregated.as_deref(), Some("WARNING"));
    assert_eq!((n.operational, n.priority), ("WARNING", 30));
    let n = tables.alarm_severity("vitrage", Some("apocalyptic"));
    assert_eq!((n.operational, n.priority), ("N/A", 0));
    let n = tables.alarm_severity("aodh", Some("insufficient data"));
    assert_eq!((n.operational, n.priority), ("N/A", 20));
    let n = tables.alarm_severity("nagios", Some("DOWN"));
    assert_eq!((n.operational, n.priority), ("CRITICAL", 40));
}

#[test]
fn heat_stack_lists_each_action_status() {
    let tables = tables();
    for (raw, operational, priority) in [
        ("CREATE_FAILED", "ERROR", 40),
        ("suspend_in_progress", "TRANSIENT", 30),
        ("RESUME_COMPLETE", "OK", 10),
        ("ROLLBACK_FAILED", "N/A", 0),
    ] {
        let n = tables.resource_state("heat.stack", Some(raw), None);
        assert_eq!((n.operational, n.priority), (operational, priority), "{raw}");
    }
}

#[test]
fn neutron_port_maps_the_literal_na() {
    let n = tables().resource_state("neutron.port", Some("N/A"), None);
    assert_eq!((n.operational, n.priority), ("N/A", 30));
}

#[test]
fn tracker_scores() {
    let tables = tables();
    assert_eq!(tables.set_state_score("nova.host", "error"), 30);
    assert_eq!(tables.set_state_score("nova.instance", "ERROR"), 70);
    assert_eq!(tables.set_state_score("switch", "SUBOPTIMAL"), 20);
    assert_eq!(tables.set_state_score("nic", "deleted"), 40);
    assert_eq!(tables.set_state_score("nova.host", "BROKEN"), 0);
    assert_eq!(tables.raise_alarm_score("critical"), 50);
    assert_eq!(tables.raise_alarm_score("minor"), 30);
    assert_eq!(tables.raise_alarm_score("high"), 0);
}

#[test]
fn bad_tables_are_all_reported() {
    let bad_category = "category: THING\nvalues: []\n";
    let bad_operational = "category: ALARM\nvalues:\n  - aggregated values:\n      priority: 1\n      original values:\n        - name: x\n          operational_value: ERROR\n";
    let bad_yaml = "category: RESOURCE\nvalues: [";
    let Err(errors) =
        ValueTables::parse([("a", bad_category), ("b", bad_operational), ("c", bad_yaml)])
    else {
        panic!("accepted bad tables");
    };
    assert!(matches!(errors[0], ValuesError::Category { .. }), "{errors:?}");
    assert!(matches!(errors[1], ValuesError::Operational { .. }), "{errors:?}");
    assert!(matches!(errors[2], ValuesError::Parse { .. }), "{errors:?}");
    assert!(matches!(errors[3], ValuesError::Missing("default")), "{errors:?}");
    assert!(matches!(errors[4], ValuesError::Missing("vitrage")), "{errors:?}");
}

#[test]
fn unknown_keys_are_rejected() {
    let text = "category: ALARM\nvalues: []\nextra: 1\n";
    let Err(errors) = ValueTables::parse([("default", text), ("vitrage", text)]) else {
        panic!("accepted an unknown key");
    };
    assert!(matches!(errors[0], ValuesError::Parse { .. }), "{errors:?}");
    assert!(matches!(errors[1], ValuesError::Parse { .. }), "{errors:?}");
}

#[test]
fn refresh_vertex_sets_aggregates() -> Result<(), GraphError> {
    let mut values = Normaliser::new(tables().clone());
    let mut g = Graph::new();
    let entity_id = g.intern("h")?;
    let ty = g.intern("nova.host")?;
    let available = g.str_value("available")?;
    let host = g.add_vertex(crate::graph::NewVertex {
        category: Category::Resource,
        vitrage_type: ty,
        entity_id,
        is_placeholder: false,
        props: Props::from_pairs([(names::STATE, available)]),
    })?;
    assert!(values.refresh_vertex(&mut g, host)?);
    assert!(!values.refresh_vertex(&mut g, host)?, "a second refresh changes nothing");
    let text = |g: &Graph, key| {
        g.vertex(host).and_then(|v| v.get_str(key)).map(|s| g.resolve(s).to_owned())
    };
    assert_eq!(text(&g, names::VITRAGE_AGGREGATED_STATE).as_deref(), Some("AVAILABLE"));
    assert_eq!(text(&g, names::VITRAGE_OPERATIONAL_STATE).as_deref(), Some("OK"));

    let error = g.str_value("ERROR")?;
    g.update_vertex(host, Props::from_pairs([(names::VITRAGE_STATE, error)]))?;
    values.refresh_vertex(&mut g, host)?;
    assert_eq!(text(&g, names::VITRAGE_OPERATIONAL_STATE).as_deref(), Some("ERROR"));

    // Undoing `set_state` removes `vitrage_state`; the raw state wins again.
    g.update_vertex(host, Props::from_pairs([(names::VITRAGE_STATE, Value::Null)]))?;
    values.refresh_vertex(&mut g, host)?;
    assert_eq!(text(&g, names::VITRAGE_AGGREGATED_STATE).as_deref(), Some("AVAILABLE"));
    Ok(())
}

#[test]
fn refresh_vertex_on_alarm_uses_severity() -> Result<(), GraphError> {
    let mut values = Normaliser::new(tables().clone());
    let mut g = Graph::new();
    let entity_id = g.intern("nic failure")?;
    let ty = g.intern("zabbix")?;
    let high = g.str_value("high")?;
    let alarm = g.add_vertex(crate::graph::NewVertex {
        category: Category::Alarm,
        vitrage_type: ty,
        entity_id,
        is_placeholder: false,
        props: Props::from_pairs([(names::SEVERITY, high)]),
    })?;
    values.refresh_vertex(&mut g, alarm)?;
    let v = g.vertex(alarm).map(|v| v.props().clone()).unwrap_or_default();
    let get = |key| v.get(key).and_then(Value::as_str).map(|s| g.resolve(s));
    assert_eq!(get(names::VITRAGE_AGGREGATED_SEVERITY), Some("HIGH"));
    assert_eq!(get(names::VITRAGE_OPERATIONAL_SEVERITY), Some("CRITICAL"));
    Ok(())
}

#[test]
fn a_normaliser_answers_as_the_tables_do_however_much_it_remembers() -> Result<(), GraphError> {
    let tables = tables();
    let mut normaliser = Normaliser::new(tables.clone());
    let mut g = Graph::new();
    let types = [g.intern("nova.host")?, g.intern("zabbix")?, g.intern("no such type")?];
    // More distinct raw values than the memo keeps, each asked twice, some twice over.
    let mut raws = vec![None];
    for text in ["available", "ERROR", "high", "Critical", "warning"] {
        raws.push(Some(g.intern(text)?));
    }
    for i in 0..MEMO_LIMIT + 10 {
        raws.push(Some(g.intern(&format!("state-{i}"))?));
    }
    for round in 0..2 {
        for (i, &raw) in raws.iter().enumerate() {
            let ty = types[i % types.len()];
            let category = if i % 2 == 0 { Category::Resource } else { Category::Alarm };
            let key = if category == Category::Alarm { names::SEVERITY } else { names::STATE };
            let props: Vec<(Sym, Value)> = raw.map(|r| (key, Value::Str(r))).into_iter().collect();
            let remembered = normaliser.normalised_props(&mut g, category, ty, &props)?;
            let raws = raw_values(category, |k| last_of(&props, k));
            let direct = normalise(&mut g, tables, category, ty, raws)?;
            assert_eq!(remembered, direct, "round {round}, raw value {i}");
        }
        assert!(normaliser.memo.len() <= MEMO_LIMIT);
    }
    Ok(())
}

/// `builtin.rs` as the shipped YAML gives it: tables by name, entries by raw value.
fn render_builtin(tables: &ValueTables) -> String {
    let mut names: Vec<&String> = tables.tables.keys().collect();
    names.sort();
    let mut out = String::from(
        "//! The tables of `data/datasource_values/`, as `ValueTables::parse` reads them.\n\
         //!\n\
         //! Written by `CAUSEWAY_BLESS=1 cargo test --lib graph::values`, which the test\n\
         //! `the_compiled_tables_are_the_shipped_yaml` checks: edit the YAML, not this file.\n\n\
         use crate::graph::Category;\n\n\
         /// Table name, category, and (upper-cased raw value, operational value, priority).\n\
         pub(super) type Table = (&'static str, Category, &'static [(&'static str, &'static str, u32)]);\n\n\
         #[rustfmt::skip]\n\
         pub(super) const TABLES: &[Table] = &[\n",
    );
    for name in names {
        let table = &tables.tables[name];
        out += &format!("    ({name:?}, Category::{:?}, &[\n", table.category);
        let mut entries: Vec<_> = table.entries.iter().collect();
        entries.sort();
        for (raw, (operational, priority)) in entries {
            out += &format!("        ({raw:?}, {operational:?}, {priority}),\n");
        }
        out += "    ]),\n";
    }
    out + "];\n"
}

#[test]
fn the_compiled_tables_are_the_shipped_yaml() {
    let parsed = ValueTables::parse(BUILTIN.iter().copied())
        .unwrap_or_else(|errors| panic!("shipped tables are invalid: {errors:?}"));
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/graph/values/builtin.rs");
    let written = std::fs::read_to_string(path).unwrap_or_default();
    let rendered = render_builtin(&parsed);
    if std::env::var_os("CAUSEWAY_BLESS").is_some() && written != rendered {
        std::fs::write(path, &rendered).unwrap_or_else(|e| panic!("{path}: {e}"));
        return;
    }
    assert!(
        written == rendered,
        "{path} is not the YAML's: run CAUSEWAY_BLESS=1 cargo test --lib graph::values"
    );
    assert_eq!(tables(), &parsed);
}
