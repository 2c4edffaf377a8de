//! The checkout demo: a shop API and a payment provider on loopback, with
//! `#[observe]` business functions, injected faults (the provider hangs
//! about 2% of the time and retries pile up; an inventory query is
//! sometimes slow) and a load generator. Afterwards it prints the
//! three-signal workflow: the RED table per flow from a real scrape of its
//! own `/metrics`, the slowest checkout trace from the flight recorder as a
//! waterfall across both services, and that trace's log lines (with the
//! DEBUG lines held for it and written because it failed). Its first
//! output line is the admin listener's address (`admin on 127.0.0.1:PORT`).
//!
//! ```text
//! cargo run --example checkout -- [--duration 8] [--rps 40] [--serve]
//!                                 [--shop-addr 127.0.0.1:0] [--payment-addr 127.0.0.1:0]
//!                                 [--faults on|off] [--logs PATH | --logs -]
//! ```
//!
//! JSON logs go to a file (printed at the end) or, with `--logs -`, to stdout.

// Shared with the tests, which use more of it.
#[allow(dead_code)]
#[path = "app.rs"]
mod app;
mod report;

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

struct Args {
    duration: Duration,
    rps: u32,
    serve: bool,
    shop_addr: SocketAddr,
    payment_addr: SocketAddr,
    logs: Option<PathBuf>,
    faults: app::Faults,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        duration: Duration::from_secs(8),
        rps: 40,
        serve: false,
        shop_addr: "127.0.0.1:0".parse().expect("a literal address"),
        payment_addr: "127.0.0.1:0".parse().expect("a literal address"),
        logs: Some(std::env::temp_dir().join("observe-checkout-demo.log")),
        faults: app::Faults::default(),
    };
    // `--flag value` and `--flag=value` both work.
    let mut it = std::env::args()
        .skip(1)
        .flat_map(|arg| match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                vec![flag.to_owned(), value.to_owned()]
            }
            _ => vec![arg],
        });
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match flag.as_str() {
            "--duration" => {
                let text = value("--duration")?;
                let seconds: f64 = text
                    .trim_end_matches('s')
                    .parse()
                    .map_err(|_| format!("--duration {text}: not a number of seconds"))?;
                args.duration = Duration::from_secs_f64(seconds.max(0.1));
            }
            "--rps" => {
                let text = value("--rps")?;
                args.rps = text
                    .parse()
                    .map_err(|_| format!("--rps {text}: not a whole number"))?;
            }
            "--serve" => args.serve = true,
            "--faults" => match value("--faults")?.as_str() {
                "on" => args.faults = app::Faults::default(),
                "off" => {
                    args.faults = app::Faults {
                        payment_timeout: 0.0,
                        payment_decline: 0.0,
                        slow_inventory: 0.0,
                    }
                }
                other => return Err(format!("--faults {other}: use `on` or `off`")),
            },
            "--shop-addr" => {
                args.shop_addr = value("--shop-addr")?
                    .parse()
                    .map_err(|e| format!("--shop-addr: {e}"))?
            }
            "--payment-addr" => {
                args.payment_addr = value("--payment-addr")?
                    .parse()
                    .map_err(|e| format!("--payment-addr: {e}"))?
            }
            "--logs" => {
                let path = value("--logs")?;
                args.logs = (path != "-").then(|| PathBuf::from(path));
            }
            "-h" | "--help" => {
                println!(
                    "usage: checkout [--duration SECONDS] [--rps N] [--serve] [--faults on|off] [--shop-addr ADDR] [--payment-addr ADDR] [--logs PATH|-]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    Ok(args)
}

/// Piped into `head`, the report stops quietly instead of panicking.
fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}

fn main() {
    quiet_on_broken_pipe();
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("checkout: {message}");
            std::process::exit(2);
        }
    };
    let started = Instant::now();
    let mut telemetry = observe::Telemetry::builder()
        .service_name("checkout-demo")
        .service_version(env!("CARGO_PKG_VERSION"))
        .environment("demo");
    if let Some(path) = &args.logs {
        match std::fs::File::create(path) {
            Ok(file) => {
                telemetry =
                    telemetry.log_writer(observe::LogWriter::new(std::io::LineWriter::new(file)))
            }
            Err(error) => eprintln!(
                "checkout: cannot write {}: {error}; logging to stdout",
                path.display()
            ),
        }
    }
    let guard = telemetry.init();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    runtime.block_on(async {
        // The admin routes (`/debug/traces`, `/debug/flows`) on a listener of
        // their own, bound to loopback: never on the public routers.
        let admin = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
            Ok(listener) => listener,
            Err(error) => {
                eprintln!("checkout: cannot bind the admin listener: {error}");
                std::process::exit(1);
            }
        };
        let admin_addr = admin.local_addr().expect("a bound listener");
        println!("admin on {admin_addr}");
        tokio::spawn(async move { axum::serve(admin, observe::http::admin_routes()).await });
        let services = match app::start(args.shop_addr, args.payment_addr, args.faults).await {
            Ok(services) => services,
            Err(error) => {
                eprintln!("checkout: cannot bind the services: {error}");
                std::process::exit(1);
            }
        };
        let colour = std::io::stdout().is_terminal();
        let style = report::Style::new(colour);
        println!(
            "{}",
            style.title(&format!(
                "checkout demo: shop on {}, payment provider on {}; {} requests/s for {:.0?}",
                services.shop, services.payment, args.rps, args.duration
            ))
        );
        let load = app::run_load(&services.shop_url(), args.duration, args.rps).await;
        report::print_load(&style, &load);

        let metrics = app::fetch_text(&format!("{}/metrics", services.shop_url())).await;
        match metrics {
            Ok(text) => report::print_red(&style, &text, load.elapsed),
            Err(error) => println!("could not scrape /metrics: {error}"),
        }
        let exemplar = report::print_checkout_exemplar(&style, &services.shop_url()).await;
        if let Some(recorder) = guard.flight_recorder() {
            recorder.settle_all();
            report::print_slowest_trace(&style, &recorder, exemplar.as_ref());
        }
        if let Some(path) = &args.logs {
            println!(
                "{}",
                style.dim(&format!("All JSON log lines: {}", path.display()))
            );
        }
        println!(
            "{}",
            style.dim(&format!(
                "Finished in {:.1} s.",
                started.elapsed().as_secs_f64()
            ))
        );

        if args.serve {
            println!();
            println!("Serving until Ctrl-C:");
            for (name, url) in [
                ("shop", services.shop_url()),
                ("payment", format!("http://{}", services.payment)),
            ] {
                println!("  {name:<8} {url}/metrics  {url}/healthz  {url}/readyz");
            }
            println!(
                "  {:<8} http://{admin_addr}/debug/traces  http://{admin_addr}/debug/flows",
                "admin"
            );
            let _ = tokio::signal::ctrl_c().await;
        }
    });
    drop(guard);
}
