//! `switchboard`: one binary for every component. See `cli` for the subcommands.

mod bootstrap;
mod cli;
mod commands;
mod config;

use clap::Parser as _;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let command = cli.command.unwrap_or_default();
    let settings = match config::Settings::load().and_then(|settings| settings.validate(command)) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("invalid configuration: {error}");
            return ExitCode::from(64); // EX_USAGE, before anything binds
        }
    };
    let telemetry = switchboard_platform::telemetry::init("switchboard", settings.log_json());
    switchboard_platform::metrics::install();
    let result = commands::run(command, settings, switchboard_platform::shutdown::signal()).await;
    if let Err(error) = &result {
        tracing::error!(%error, "switchboard exited with error");
        eprintln!("switchboard: {error}");
    }
    telemetry.shutdown();
    if result.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
