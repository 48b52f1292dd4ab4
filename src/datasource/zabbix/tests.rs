use super::*;

/// What the media type sends for a problem: the macros of `tools/zabbix`, expanded.
fn event(value: &str) -> Event {
    Event {
        host: "zbx-compute-1".into(),
        trigger_id: "13491".into(),
        trigger_name: "nic failure on zbx-compute-1".into(),
        rawtext: Some("nic failure on {HOST.NAME}".into()),
        severity: "4".into(),
        event_id: "2217".into(),
        value: value.into(),
        time: Some("2026.12.02 06:01:02".into()),
    }
}

fn zabbix() -> Zabbix {
    let hosts =
        "zabbix:\n  - zabbix_host: zbx-compute-1\n    type: nova.host\n    name: compute-1\n";
    Zabbix { hosts: parse_hosts("zabbix_conf.yaml", hosts).expect("valid") }
}

fn report(event: Event) -> Report {
    Report { event, raised: Vec::new() }
}

#[test]
fn a_problem_raises_the_trigger_alarm_on_the_mapped_host_placeholder() {
    let batches = zabbix().translate(report(event("1"))).expect("translates");
    let [batch] = &batches[..] else { panic!("{batches:?}") };
    assert_eq!(batch.changes[0], identity::placeholder("nova.host", "compute-1"));
    let Change::RaiseAlarm { alarm } = &batch.changes[1] else { panic!("{batch:?}") };
    assert_eq!(
        alarm.name, "nic failure on compute-1",
        "the Zabbix host name becomes the resource's"
    );
    assert_eq!((alarm.target.as_str(), alarm.severity()), ("compute-1", "HIGH"));
    assert_eq!(alarm.id.as_deref(), Some("13491"));
    assert_eq!(alarm.properties["rawtext"], Value::String("nic failure on {HOST.NAME}".into()));
}

#[test]
fn a_host_the_file_does_not_list_is_the_nova_host_of_that_name() {
    let mut e = event("1");
    e.host = "compute-2".into();
    let batches = zabbix().translate(report(e)).expect("translates");
    assert_eq!(batches[0].changes[0], identity::placeholder("nova.host", "compute-2"));
}

#[test]
fn a_recovery_clears_the_alarm_and_every_name_its_trigger_raised() {
    let mut z = zabbix();
    let raised = vec!["nic failure on compute-1".to_string(), "nic failure (old name)".to_string()];
    let batches = z.translate(Report { event: event("0"), raised }).expect("translates");
    let names: Vec<&str> = batches[0]
        .changes
        .iter()
        .map(|c| match c {
            Change::ClearAlarm { alarm } => alarm.name.as_str(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(names, ["nic failure on compute-1", "nic failure (old name)"]);
    let problem = z.translate(report(event("1"))).expect("problem");
    assert_ne!(problem[0].request_id, batches[0].request_id);
    assert_eq!(
        problem[0].request_id,
        z.translate(report(event("1"))).expect("again")[0].request_id
    );
}

#[test]
fn severities_follow_vitrages_table() {
    let names = ["NOT CLASSIFIED", "INFORMATION", "WARNING", "AVERAGE", "HIGH", "DISASTER"];
    for (n, name) in names.iter().enumerate() {
        assert_eq!(severity(&n.to_string()), Some(*name));
        assert_eq!(severity(&name.to_lowercase()), Some(*name));
    }
    assert_eq!(severity("6"), None);
    assert_eq!(severity("Not classified"), Some("NOT CLASSIFIED"));
}

#[test]
fn bad_events_and_host_files_are_refused() {
    let mut e = event("2");
    assert_eq!(zabbix().translate(report(e.clone())), Err(ZabbixError::Value("2".into())));
    e.value = "1".into();
    e.severity = "urgent".into();
    assert!(matches!(zabbix().translate(report(e.clone())), Err(ZabbixError::Severity(_))));
    e.severity = "5".into();
    e.host = " ".into();
    assert_eq!(zabbix().translate(report(e)), Err(ZabbixError::Empty("host")));
    let bad = parse_hosts("z.yaml", "zabbix:\n  - zabbix_host: a\n    type: nova.host\n");
    assert!(matches!(bad, Err(ZabbixError::Hosts { .. })), "{bad:?}");
}
