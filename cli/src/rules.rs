use std::process::ExitCode;

pub fn run(_args: crate::cli::RulesArgs) -> Result<ExitCode, crate::Error> {
    Err(crate::Error("not built yet".into()))
}
pub const DEFAULT_RUNBOOK: &str = "https://runbooks.example.com/observe/{flow}/{function}";
