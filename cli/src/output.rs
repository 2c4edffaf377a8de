//! Writing what a command produces: stdout (a closed pipe is not an
//! error) and files (parent directories created).

use std::io::Write;
use std::path::Path;

use crate::error::Error;

/// Writes `text` to stdout.
pub fn print(text: &str) -> Result<(), Error> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
    {
        Ok(()) => Ok(()),
        // A closed pipe (`| head`) is not an error worth reporting.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error(format!("cannot write to stdout: {e}"))),
    }
}

/// Writes `text` to `path`, creating its directory.
pub fn write_file(path: &Path, text: &str) -> Result<(), Error> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| Error(format!("{}: {e}", parent.display())))?;
    }
    std::fs::write(path, text).map_err(|e| Error(format!("{}: {e}", path.display())))
}
