use std::process::ExitCode;

pub fn run(_args: crate::cli::MigrateArgs) -> Result<ExitCode, crate::Error> {
    Err(crate::Error("not built yet".into()))
}
