//! `causeway run` at growing sizes, each in its own process, as an operator would run it:
//! write a generated cloud (`causeway gen`: 10 zones of hosts with 10 instances each, ports,
//! networks, volumes, applications; 100 NIC failures raised then cleared), replay it with the
//! shipped templates with `--stats`, and report per size the whole process's peak RSS, load
//! plus initial evaluation, and the per-event latency p50, p99 and maximum (each event to
//! its fixpoint). Each size runs three times and each figure is the best of the three: the
//! project's machine is shared, and another process taking the core inflates single events.
//! Then plot the percentiles against graph size.
//!
//! `cargo bench --bench run_scale` (10k, 100k, 1M resources) or
//! `cargo bench --bench run_scale -- 10000 100000`. Writes the plot to
//! `target/run_scale/latency.svg`.

use plotters::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One size's figures.
struct Figures {
    resources: usize,
    p50_us: f64,
    p99_us: f64,
    max_us: f64,
    load_ms: f64,
    /// Reading and staging the initial topology are in `load_ms`; this is its evaluation.
    initial_ms: f64,
    peak_rss_mib: f64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let k = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[k.clamp(1, sorted.len()) - 1]
}

fn causeway(args: &[&str]) {
    let status = Command::new(env!("CARGO_BIN_EXE_causeway")).args(args).status().expect("runs");
    assert!(status.success(), "causeway {args:?} failed");
}

/// Generates and runs the cloud of about `resources` resources; its figures.
fn measure(dir: &Path, resources: usize) -> Figures {
    // Per host: the host, 10 instances, 10 ports, 5 volumes and 1 application.
    let hosts = (resources / 27).max(100);
    let scenario = dir.join(format!("scenario-{resources}.json"));
    let stats = dir.join(format!("stats-{resources}.json"));
    let path = |p: &PathBuf| p.to_str().expect("utf-8 path").to_string();
    let hosts_arg = hosts.to_string();
    let gen_args = ["gen", "--zones", "10", "--hosts", &hosts_arg, "--instances", "10"];
    causeway(&[&gen_args[..], &["--alarms", "100", "--out", &path(&scenario)]].concat());
    let templates = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    causeway(&[
        "run",
        "--templates",
        &path(&templates),
        "--scenario",
        &path(&scenario),
        "--out",
        "/dev/null",
        "--stats",
        &path(&stats),
    ]);
    let s: Value = serde_json::from_slice(&std::fs::read(&stats).expect("stats")).expect("json");
    let mut steps: Vec<f64> = s["step_ns"]
        .as_array()
        .expect("step_ns")
        .iter()
        .filter_map(Value::as_f64)
        .map(|ns| ns / 1e3)
        .collect();
    steps.sort_by(f64::total_cmp);
    let ns = |k: &str| s[k].as_f64().unwrap_or(0.0);
    let _ = std::fs::remove_file(&scenario);
    Figures {
        resources: hosts * 27 + 21,
        p50_us: percentile(&steps, 50.0),
        p99_us: percentile(&steps, 99.0),
        max_us: steps.last().copied().unwrap_or(0.0),
        load_ms: ns("load_ns") / 1e6,
        initial_ms: ns("initial_eval_ns") / 1e6,
        peak_rss_mib: ns("peak_rss_bytes") / 1048576.0,
    }
}

/// A plotted line: its name, the figure it draws and its colour.
type Series = (&'static str, fn(&Figures) -> f64, RGBColor);

fn plot(path: &Path, figures: &[Figures]) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (720, 440)).into_drawing_area();
    root.fill(&WHITE)?;
    let top = figures.iter().map(|f| f.max_us).fold(1.0, f64::max) * 1.5;
    let (lo, hi) = (
        figures.iter().map(|f| f.resources).min().unwrap_or(1) as f64 / 1.5,
        figures.iter().map(|f| f.resources).max().unwrap_or(1) as f64 * 1.5,
    );
    let mut chart = ChartBuilder::on(&root)
        .caption("causeway run: per-event latency against graph size", ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d((lo..hi).log_scale(), (1.0..top).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("resources")
        .y_desc("µs per event")
        .x_label_formatter(&|x| format!("{:.0}k", x / 1000.0))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()?;
    let series: [Series; 3] =
        [("p50", |f| f.p50_us, BLUE), ("p99", |f| f.p99_us, RED), ("max", |f| f.max_us, BLACK)];
    for (name, value, colour) in series {
        let points: Vec<(f64, f64)> =
            figures.iter().map(|f| (f.resources as f64, value(f))).collect();
        chart
            .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))?
            .label(name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], colour));
        chart.draw_series(points.into_iter().map(|p| Circle::new(p, 3, colour.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .border_style(BLACK)
        .background_style(WHITE)
        .draw()?;
    root.present()?;
    Ok(())
}

fn main() {
    let mut sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    if sizes.is_empty() {
        sizes = vec![10_000, 100_000, 1_000_000];
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/run_scale");
    std::fs::create_dir_all(&dir).expect("output dir");
    let mut figures = Vec::new();
    for size in sizes {
        let runs: Vec<Figures> = (0..3).map(|_| measure(&dir, size)).collect();
        let best = |v: fn(&Figures) -> f64| runs.iter().map(v).fold(f64::INFINITY, f64::min);
        let f = Figures {
            resources: runs[0].resources,
            p50_us: best(|f| f.p50_us),
            p99_us: best(|f| f.p99_us),
            max_us: best(|f| f.max_us),
            load_ms: best(|f| f.load_ms),
            initial_ms: best(|f| f.initial_ms),
            peak_rss_mib: best(|f| f.peak_rss_mib),
        };
        println!(
            "resources {:>9}  event p50 {:>7.1} us  p99 {:>8.1} us  max {:>9.1} us  \
             load {:>8.1} ms  initial evaluation {:>8.1} ms  peak rss {:>6.1} MiB",
            f.resources, f.p50_us, f.p99_us, f.max_us, f.load_ms, f.initial_ms, f.peak_rss_mib
        );
        figures.push(f);
    }
    let svg = dir.join("latency.svg");
    match plot(&svg, &figures) {
        Ok(()) => println!("plot: {}", svg.display()),
        Err(e) => eprintln!("plot failed: {e}"),
    }
}
