//! Compiles every `.proto` under `switchboard/` in one pass, with the vendored protoc, so that a
//! message shared by two services is one Rust type everywhere.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = [
        "switchboard/common/v1/common.proto",
        "switchboard/agent/v1/agent.proto",
        "switchboard/history/v1/history.proto",
        "switchboard/routing/v1/routing.proto",
        "switchboard/events/v1/events.proto",
        "switchboard/integrations/v1/integrations.proto",
    ];
    let well_known = protoc_bin_vendored::include_path()?;
    let includes = [PathBuf::from("."), well_known];
    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    let descriptor = PathBuf::from(std::env::var("OUT_DIR")?).join("switchboard_descriptor.bin");
    tonic_prost_build::configure()
        .file_descriptor_set_path(descriptor)
        .compile_with_config(config, &protos.map(PathBuf::from), &includes)?;
    for proto in protos {
        println!("cargo:rerun-if-changed={proto}");
    }
    Ok(())
}
