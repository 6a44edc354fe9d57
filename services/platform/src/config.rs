//! Layered configuration: `Default` < optional TOML file named by `SWITCHBOARD_CONFIG` <
//! environment variables `SWITCHBOARD_<KEY>` (nested keys with `__`).
//!
//! Each binary owns its own config struct; this module only knows how to fill one. Validation
//! of values belongs to the struct's own `validate()`.

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::de::DeserializeOwned;
use std::path::PathBuf;

/// Environment variable naming an optional TOML config file.
pub const CONFIG_FILE_ENV: &str = "SWITCHBOARD_CONFIG";

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {path} named by {CONFIG_FILE_ENV} does not exist")]
    FileMissing { path: PathBuf },
    #[error("{0}")]
    Invalid(String),
}

/// Loads `T` from defaults, the optional config file and the environment.
///
/// `T` must use `#[serde(default)]` so that absent keys keep their defaults. Variables meant for
/// the test harness (`SWITCHBOARD_TEST_*`) and `SWITCHBOARD_CONFIG` itself are not config keys.
pub fn load<T: DeserializeOwned>() -> Result<T, ConfigError> {
    let mut figment = Figment::new();
    if let Some(path) = std::env::var_os(CONFIG_FILE_ENV) {
        let path = PathBuf::from(path);
        if !path.is_file() {
            return Err(ConfigError::FileMissing { path });
        }
        figment = figment.merge(Toml::file_exact(path));
    }
    let env = Env::prefixed("SWITCHBOARD_")
        // Keys arrive in the case they were written (`CONFIG`, `TEST_…`): compare without case.
        .filter(|key| {
            let key = key.as_str().to_ascii_lowercase();
            key != "config" && !key.starts_with("test_")
        })
        .split("__");
    figment
        .merge(env)
        .extract()
        .map_err(|error| ConfigError::Invalid(first_line(&error.to_string())))
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_owned()
}
