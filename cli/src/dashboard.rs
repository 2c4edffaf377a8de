use std::process::ExitCode;

pub fn run(_args: crate::cli::DashboardArgs) -> Result<ExitCode, crate::Error> {
    Err(crate::Error("not built yet".into()))
}
