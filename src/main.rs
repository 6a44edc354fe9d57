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
    let service_name = match command {
        cli::Command::AllInOne => "switchboard",
        cli::Command::Gateway => "switchboard-gateway",
        cli::Command::Routing => "switchboard-routing",
        cli::Command::History => "switchboard-history",
        cli::Command::Agents => "switchboard-agents",
        cli::Command::Integrations => "switchboard-integrations",
        cli::Command::Migrate => "switchboard-migrate",
    };
    let telemetry = switchboard_platform::telemetry::init(
        service_name,
        settings.log_json(),
        settings.otlp_endpoint.as_deref(),
    );
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
