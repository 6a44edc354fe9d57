//! `switchboard-bench`: see the library documentation and `--help`.

use clap::Parser;
use std::process::ExitCode;
use switchboard_bench::Config;

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    let json = config.json;
    match switchboard_bench::run(config).await {
        Ok(report) => {
            if json {
                match report.to_json() {
                    Ok(text) => println!("{text}"),
                    Err(error) => {
                        eprintln!("switchboard-bench: cannot write the report: {error}");
                        return ExitCode::FAILURE;
                    }
                }
            } else {
                println!("{report}");
            }
            if report.passed {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(error) => {
            eprintln!("switchboard-bench: {error}");
            // 64 (EX_USAGE) for a bad command line, as the server does.
            match error {
                switchboard_bench::BenchError::Config(_) => ExitCode::from(64),
                _ => ExitCode::from(2),
            }
        }
    }
}
