//! The `causeway` command line.

use causeway::check::{self, Input, Options, SetResult};
use causeway::template::TemplateType;
use causeway::template::params::Params;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// mimalloc rather than glibc's allocator: an event allocates a few thousand small blocks
/// (action instances, keys, alarm properties), and glibc's bins and consolidation were about
/// a quarter of the instructions of an event (README, "Benchmarks"). Version 2, whose purge
/// delay is 10 ms: version 3 waits a second before it returns freed memory, so at 1M
/// resources the first event paid for returning what the load had freed (10-28 ms). `no_thp`
/// keeps huge pages out of its arenas, which would raise resident memory at 1M resources.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "causeway",
    version,
    about = "Root-cause analysis and self-healing for clouds (Vitrage-compatible)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate templates with Vitrage's status codes; exit 1 if any is invalid.
    Validate {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[command(flatten)]
        set: SetArgs,
    },
    /// Replay a scenario (topology, alarms, steps) and write the result.
    Run {
        /// The templates directory (every regular file in it, sorted by name).
        #[arg(long)]
        templates: PathBuf,
        /// The scenario JSON.
        #[arg(long)]
        scenario: PathBuf,
        /// Where to write RESULT.json (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print, for every effect and Mistral call, the rule and binding that caused it.
        #[arg(long)]
        explain: bool,
        /// Write timings and peak memory measured in the process to this JSON file.
        #[arg(long)]
        stats: Option<PathBuf>,
        /// After the run, say why this scenario (`<template>-scenario<i>`) does not act on
        /// `--target`: the closest partial matches and the first atom each failed on.
        #[arg(long = "why-not", value_name = "SCENARIO_ID", requires = "target")]
        why_not: Option<String>,
        /// The resource id `--why-not` asks about.
        #[arg(long, value_name = "ID")]
        target: Option<String>,
    },
    /// Write a synthetic scenario: zones, hosts, instances, ports, networks, volumes,
    /// applications, and NIC failures raised and cleared on some hosts.
    Gen {
        /// Availability zones.
        #[arg(long, default_value_t = 4)]
        zones: usize,
        /// Hosts.
        #[arg(long, default_value_t = 100)]
        hosts: usize,
        /// Instances per host.
        #[arg(long, default_value_t = 10)]
        instances: usize,
        /// Hosts that get a NIC failure.
        #[arg(long, default_value_t = 10)]
        alarms: usize,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Serve the Vitrage API v1 (with no flags: the shipped templates and a demo cloud,
    /// state in ./causeway-data, on 127.0.0.1:8999).
    Serve(ServeArgs),
    /// Run rule-set tests (`*.test.yaml`): steps, expectations and snapshots.
    Test {
        /// Write or rewrite snapshots (accepting pending `.new` ones).
        #[arg(long)]
        update: bool,
        /// Test files, or directories searched for `*.test.yaml`.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// Replay the same events through two template sets and print every effect that differs.
    Diff {
        /// The template set before the change.
        #[arg(long)]
        before: PathBuf,
        /// The template set after the change.
        #[arg(long)]
        after: PathBuf,
        /// The events: a scenario (or the output of `causeway log`).
        #[arg(long, alias = "events")]
        scenario: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Print the service's event log as a scenario (for `causeway diff --events`).
    Log {
        /// The service's data directory.
        #[arg(long = "data-dir", value_name = "DIR", default_value = "causeway-data")]
        data_dir: PathBuf,
    },
    /// Compile templates to Datalog rules.
    Compile {
        /// What to print.
        #[arg(long, value_enum, default_value_t = Emit::Datalog)]
        emit: Emit,
        #[command(flatten)]
        set: SetArgs,
    },
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on (a non-loopback one needs --auth-token or --insecure).
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
    /// Where the state is kept.
    #[arg(long = "data-dir", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Templates to start an empty data directory with (default: the shipped ones).
    #[arg(long, value_name = "DIR")]
    templates: Option<PathBuf>,
    /// Topology to start an empty data directory with: Vitrage static datasource YAML or
    /// scenario JSON (repeatable; default: the demo cloud).
    #[arg(long, value_name = "FILE")]
    topology: Vec<PathBuf>,
    /// A TOML file with the same keys (listen, data_dir, templates, topology, auth_token,
    /// insecure, body_limit); flags win.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The token every request must carry in X-Auth-Token.
    #[arg(long = "auth-token")]
    auth_token: Option<String>,
    /// Serve a non-loopback address without a token.
    #[arg(long)]
    insecure: bool,
    /// Log format.
    #[arg(long = "log-format", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(flatten)]
    mistral: MistralArgs,
}

/// Mistral settings; the TOML file's `[mistral]` table has the same keys (and `keystone`).
#[derive(clap::Args)]
struct MistralArgs {
    /// Mistral's base URL, e.g. http://127.0.0.1:8989 (without it requests stay PENDING).
    #[arg(long = "mistral-url", value_name = "URL")]
    url: Option<String>,
    /// Requests to Mistral in flight at once (default 16).
    #[arg(long = "mistral-concurrency", value_name = "N")]
    concurrency: Option<usize>,
    /// Timeout of one call to Mistral, in milliseconds (default 10000).
    #[arg(long = "mistral-timeout-ms", value_name = "MS")]
    timeout_ms: Option<u64>,
    /// First retry delay, in milliseconds (default 200).
    #[arg(long = "mistral-backoff-min-ms", value_name = "MS")]
    backoff_min_ms: Option<u64>,
    /// Longest retry delay, in milliseconds (default 30000).
    #[arg(long = "mistral-backoff-max-ms", value_name = "MS")]
    backoff_max_ms: Option<u64>,
    /// Failed answers (other 5xx) tolerated before a request is recorded as refused (default 20).
    #[arg(long = "mistral-max-attempts", value_name = "N")]
    max_attempts: Option<u32>,
    /// Polling period of a running execution, in milliseconds (default 500).
    #[arg(long = "mistral-poll-ms", value_name = "MS")]
    poll_ms: Option<u64>,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(clap::Args)]
struct SetArgs {
    /// Validate every file as this type (default: metadata.type, else standard).
    #[arg(long = "type", value_enum)]
    template_type: Option<TypeArg>,
    /// A directory of definition templates visible to `includes` (repeatable).
    #[arg(long = "def-templates", value_name = "DIR")]
    def_templates: Vec<PathBuf>,
    /// An actual parameter value for get_param (repeatable).
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
    params: Vec<(String, String)>,
    /// Template files, or directories of *.yaml / *.yml files.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
    /// SARIF 2.1.0 (validate only), for code scanning and editors.
    Sarif,
}

#[derive(Clone, Copy, ValueEnum)]
enum Emit {
    Datalog,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum TypeArg {
    Standard,
    Definition,
    Equivalence,
}

fn parse_param(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("expected NAME=VALUE, got {s:?}")),
    }
}

fn test_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| format!("{}: {e}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect();
            found.sort();
            let (dirs, files): (Vec<PathBuf>, Vec<PathBuf>) =
                found.into_iter().partition(|f| f.is_dir());
            out.extend(files.into_iter().filter(|f| f.to_string_lossy().ends_with(".test.yaml")));
            out.extend(test_files(
                &dirs
                    .into_iter()
                    .filter(|d| !d.to_string_lossy().ends_with(".snapshots"))
                    .collect::<Vec<_>>(),
            )?);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn rule_tests(paths: &[PathBuf], update: bool) -> Result<ExitCode, String> {
    use causeway::authoring::ruletest::{Snapshots, run_file};
    let mode = if update { Snapshots::Update } else { Snapshots::Check };
    let (mut passed, mut failed) = (0, 0);
    for file in test_files(paths)? {
        let results = match run_file(&file, mode) {
            Ok(r) => r,
            Err(e) => {
                println!("FAIL {e}");
                failed += 1;
                continue;
            }
        };
        for r in results {
            if r.failures.is_empty() {
                println!("ok   {}", r.name);
                passed += 1;
                continue;
            }
            failed += 1;
            println!("FAIL {}", r.name);
            for f in &r.failures {
                println!("     {}", f.replace('\n', "\n     "));
            }
            if !r.provenance.is_empty() {
                println!("     what fired:");
                for p in &r.provenance {
                    println!("       {p}");
                }
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn what_if(
    before: &Path,
    after: &Path,
    scenario: &Path,
    format: Format,
) -> Result<ExitCode, String> {
    use causeway::authoring::{files, whatif};
    let none = std::collections::BTreeMap::new();
    let rules_before = files::rules(before, &[], &none)?;
    let rules_after = files::rules(after, &[], &none)?;
    let text =
        std::fs::read_to_string(scenario).map_err(|e| format!("{}: {e}", scenario.display()))?;
    let parsed =
        causeway::scenario::parse(&text).map_err(|e| format!("{}: {e}", scenario.display()))?;
    let differences = whatif::diff(rules_before, rules_after, &parsed)?;
    match format {
        Format::Text => write_out(&whatif::render(&differences)),
        _ => write_out(&format!(
            "{}\n",
            serde_json::to_string_pretty(&differences).map_err(|e| e.to_string())?
        )),
    }
    Ok(if differences.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn serve(args: ServeArgs) -> Result<ExitCode, String> {
    use causeway::service::serve::ServeConfig;
    let mut config = match &args.config {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            toml::from_str::<ServeConfig>(&text).map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => ServeConfig::default(),
    };
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(dir) = args.data_dir {
        config.data_dir = dir;
    }
    if args.templates.is_some() {
        config.templates = args.templates;
    }
    if !args.topology.is_empty() {
        config.topology = args.topology;
    }
    if args.auth_token.is_some() {
        config.auth_token = args.auth_token;
    }
    config.insecure |= args.insecure;
    let (m, flags) = (&mut config.mistral, args.mistral);
    m.url = flags.url.or(m.url.take());
    m.concurrency = flags.concurrency.unwrap_or(m.concurrency);
    m.timeout_ms = flags.timeout_ms.unwrap_or(m.timeout_ms);
    m.backoff_min_ms = flags.backoff_min_ms.unwrap_or(m.backoff_min_ms);
    m.backoff_max_ms = flags.backoff_max_ms.unwrap_or(m.backoff_max_ms);
    m.max_attempts = flags.max_attempts.unwrap_or(m.max_attempts);
    m.poll_ms = flags.poll_ms.unwrap_or(m.poll_ms);
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match args.log_format {
        LogFormat::Json => logs.json().init(),
        LogFormat::Text => logs.init(),
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(causeway::service::serve::run(config)).map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("causeway: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, String> {
    match cli.command {
        Command::Validate { format, set } => {
            let (inputs, result) = check_paths(&set, true)?;
            match format {
                Format::Json => {
                    let results: Vec<_> = result.files.iter().map(|f| f.to_json()).collect();
                    let out = serde_json::json!({ "results": results });
                    write_out(&format!(
                        "{}\n",
                        serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?
                    ));
                }
                Format::Sarif => write_out(&format!(
                    "{}\n",
                    serde_json::to_string_pretty(&causeway::authoring::sarif::log(&result.files))
                        .map_err(|e| e.to_string())?
                )),
                Format::Text => print_text(&inputs, &result),
            }
            let ok = result.files.iter().all(|f| f.ok());
            Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Serve(args) => serve(args),
        Command::Test { update, paths } => rule_tests(&paths, update),
        Command::Diff { before, after, scenario, format } => {
            what_if(&before, &after, &scenario, format)
        }
        Command::Log { data_dir } => {
            let doc = causeway::authoring::whatif::scenario_from_log(&data_dir)?;
            write_out(&format!(
                "{}\n",
                serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?
            ));
            Ok(ExitCode::SUCCESS)
        }
        Command::Run { templates, scenario, out, explain, stats, why_not, target } => {
            let why_not = why_not.zip(target);
            run_scenario(&templates, &scenario, out.as_deref(), explain, stats.as_deref(), why_not)
        }
        Command::Gen { zones, hosts, instances, alarms, out } => {
            let size =
                causeway::generate::Size { zones, hosts, instances_per_host: instances, alarms };
            let text = causeway::generate::scenario(size).to_string();
            match out {
                Some(path) => {
                    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?
                }
                None => write_out(&(text + "\n")),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Compile { emit, set } => {
            let (inputs, result) = check_paths(&set, false)?;
            if result.files.iter().any(|f| !f.ok()) {
                print_text(&inputs, &result);
                return Ok(ExitCode::from(1));
            }
            for f in &result.files {
                for w in &f.warnings {
                    eprint!("{}", w.render(&source_of(&inputs, &w.file)));
                }
            }
            match emit {
                Emit::Datalog => write_out(&result.compiled.rules.to_string()),
                Emit::Json => write_out(&format!(
                    "{}\n",
                    serde_json::to_string_pretty(&result.compiled.rules)
                        .map_err(|e| e.to_string())?
                )),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn check_paths(set: &SetArgs, vitrage_validate: bool) -> Result<(Vec<Input>, SetResult), String> {
    let inputs = read_paths(&set.paths)?;
    let mut def_templates = Vec::new();
    for dir in &set.def_templates {
        def_templates.extend(read_paths(std::slice::from_ref(dir))?);
    }
    let params = if set.params.is_empty() {
        None
    } else {
        Some(set.params.iter().cloned().collect::<Params>())
    };
    let template_type = set.template_type.map(|t| match t {
        TypeArg::Standard => TemplateType::Standard,
        TypeArg::Definition => TemplateType::Definition,
        TypeArg::Equivalence => TemplateType::Equivalence,
    });
    let options =
        Options { template_type, def_templates, params, vitrage_validate, ..Options::default() };
    let result = check::check_set(&inputs, &options);
    Ok((inputs, result))
}

fn print_text(inputs: &[Input], result: &SetResult) {
    for f in &result.files {
        let source = source_of(inputs, &f.file);
        match &f.error {
            None => write_out(&format!("{}: OK\n", f.file)),
            Some(d) => write_out(&d.render(&source)),
        }
        for w in &f.warnings {
            write_out(&w.render(&source));
        }
    }
}

/// Scenarios up to this size are read whole before parsing (a 10k-resource one is ~2 MB).
const READ_WHOLE_BYTES: u64 = 16 << 20;

fn run_scenario(
    templates: &Path,
    scenario: &Path,
    out: Option<&Path>,
    explain: bool,
    stats: Option<&Path>,
    why_not: Option<(String, String)>,
) -> Result<ExitCode, String> {
    let started = std::time::Instant::now();
    let mut files: Vec<PathBuf> = std::fs::read_dir(templates)
        .map_err(|e| format!("{}: {e}", templates.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let inputs: Vec<Input> = files.iter().map(|f| read_one(f)).collect::<Result<_, _>>()?;
    let options = Options { def_templates: inputs.clone(), ..Options::default() };
    let checked = check::check_set(&inputs, &options);
    let templates_ns = started.elapsed().as_nanos();
    // The scenario is read as a stream and the result written as one: a million-resource
    // run holds the graph, not the scenario's text or the result's. A small scenario is read
    // whole first, which parses faster.
    let file = std::fs::File::open(scenario).map_err(|e| format!("{}: {e}", scenario.display()))?;
    let small = file.metadata().is_ok_and(|m| m.len() <= READ_WHOLE_BYTES);
    let rules = checked.compiled.rules.clone();
    let replayed = if small {
        let text = std::fs::read(scenario).map_err(|e| format!("{}: {e}", scenario.display()))?;
        causeway::runner::replay_text(rules, &text, explain)
    } else {
        causeway::runner::replay_stream(rules, file, explain)
    };
    let (replay, runner) = replayed.map_err(|e| format!("{}: {e}", scenario.display()))?;
    let load_ns = templates_ns + replay.load_ns;
    if let (Some((scenario_id, target)), Some(runner)) = (&why_not, &runner) {
        for line in runner.why_not(scenario_id, target)? {
            eprintln!("why not: {line}");
        }
    }
    let templates_json = causeway::runner::templates_report(&inputs, &checked);
    match out {
        Some(path) => {
            let file =
                std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
            write_result(std::io::BufWriter::new(file), runner.as_ref(), &replay, &templates_json)
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
        // A closed pipe (`| head`) is not an error worth reporting.
        None => {
            let stdout = std::io::BufWriter::new(std::io::stdout().lock());
            let _ = write_result(stdout, runner.as_ref(), &replay, &templates_json);
        }
    }
    for w in &replay.warnings {
        eprintln!("warning: {w}");
    }
    if explain {
        for line in &replay.explanations {
            eprintln!("{line}");
        }
    }
    if let Some(path) = stats {
        let value = serde_json::json!({
            "load_ns": load_ns as u64,
            "initial_eval_ns": replay.initial_eval_ns as u64,
            "first_eval_ns": replay.first_eval_ns as u64,
            "step_ns": replay.step_ns.iter().map(|n| *n as u64).collect::<Vec<_>>(),
            "peak_rss_bytes": peak_rss_bytes(),
        });
        std::fs::write(path, value.to_string()).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    match replay.error {
        None => Ok(ExitCode::SUCCESS),
        Some((step, e)) => {
            eprintln!("causeway: step {step}: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

/// Writes RESULT.json and its final newline; the resources and edges stream from the runner
/// when there is one (there is none only when the rules could not be loaded).
fn write_result(
    mut w: impl std::io::Write,
    runner: Option<&causeway::runner::Runner>,
    replay: &causeway::runner::Replay,
    templates: &serde_json::Value,
) -> Result<(), String> {
    let written = match runner {
        Some(runner) => causeway::runner::write_result(&mut w, runner, replay, templates),
        None => {
            let doc = causeway::runner::ResultDoc {
                state: &replay.state,
                checkpoints: &replay.checkpoints,
                templates: templates.clone(),
            };
            serde_json::to_writer_pretty(&mut w, &doc)
        }
    };
    written.map_err(|e| e.to_string())?;
    w.write_all(b"\n").and_then(|()| w.flush()).map_err(|e| e.to_string())
}

/// Peak resident memory of this process (Linux `VmHWM`), 0 where unknown.
fn peak_rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Writes to stdout; a closed pipe (`| head`) is not an error worth a panic.
fn write_out(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

fn source_of(inputs: &[Input], file: &str) -> String {
    inputs
        .iter()
        .find(|i| i.file == file)
        .map(|i| String::from_utf8_lossy(&i.bytes).into_owned())
        .unwrap_or_default()
}

/// Files as given, and the `*.yaml` / `*.yml` files of directories, sorted.
fn read_paths(paths: &[PathBuf]) -> Result<Vec<Input>, String> {
    let mut inputs = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| format!("{}: {e}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && has_yaml_extension(p))
                .collect();
            files.sort();
            for f in files {
                inputs.push(read_one(&f)?);
            }
        } else {
            inputs.push(read_one(path)?);
        }
    }
    Ok(inputs)
}

fn has_yaml_extension(p: &Path) -> bool {
    matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
}

fn read_one(path: &Path) -> Result<Input, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Input { file: path.display().to_string(), bytes })
}
