//! The CEM reference server.
//!
//! - `cem` or `cem serve`: the HTTP server (REST API, live updates, metrics) on a SQLite file
//!   or PostgreSQL, configured by a TOML file and `CEM_*` environment variables; an empty
//!   database gets the demo organization.
//! - `cem simulate SCENARIO`: reads a scenario file (TOML or JSON), runs the real scheduler of
//!   `cem-queue` in the discrete-event simulator and prints the report as JSON.

mod config;
mod customers;
mod demo;
mod notify;
mod reports;
mod reservations;
mod serve;
mod surveys;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use cem_queue::sim::{self, Scenario};
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "cem", version, about = "CEM reference server")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API (the default): configuration from `--config`, then `CEM_*` variables.
    Serve {
        /// A TOML configuration file.
        #[arg(long, env = "CEM_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Simulate a branch: read a scenario (TOML, or JSON by extension) and print the report as JSON.
    Simulate {
        /// The scenario file.
        scenario: PathBuf,
        /// Override the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Override the scenario's number of customers.
        #[arg(long)]
        customers: Option<u64>,
        /// Print compact JSON on one line.
        #[arg(long)]
        compact: bool,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve { config: None }) {
        Command::Serve { config } => {
            let config = config::Config::load(config.as_deref())?;
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("starting the runtime")?
                .block_on(serve::serve(config))
        }
        Command::Simulate {
            scenario,
            seed,
            customers,
            compact,
        } => {
            let text = std::fs::read_to_string(&scenario)
                .with_context(|| format!("reading {}", scenario.display()))?;
            let mut parsed: Scenario = if scenario.extension().is_some_and(|e| e == "json") {
                serde_json::from_str(&text).context("parsing the scenario as JSON")?
            } else {
                toml::from_str(&text).context("parsing the scenario as TOML")?
            };
            if let Some(seed) = seed {
                parsed.seed = seed;
            }
            if let Some(customers) = customers {
                parsed.customers = customers;
            }
            let started = Instant::now();
            let report = sim::run(&parsed)?;
            let secs = started.elapsed().as_secs_f64();
            eprintln!(
                "simulated {} customers in {secs:.3} s ({:.0} customers/s)",
                report.customers,
                report.customers as f64 / secs
            );
            let json = if compact {
                serde_json::to_string(&report)?
            } else {
                serde_json::to_string_pretty(&report)?
            };
            println!("{json}");
            Ok(())
        }
    }
}
