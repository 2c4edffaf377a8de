//! `OBSERVE_METRICS_ADDR`: a minimal HTTP/1.1 listener serving `/metrics`
//! on its own thread, for programs without an axum router. It reads the
//! request head only (bounded, with a timeout) and answers with the format
//! the `Accept` header asks for.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use super::PrometheusHandle;

/// A request head longer than this is refused.
const MAX_HEAD: usize = 16 * 1024;

pub(super) fn serve(addr: SocketAddr, handle: PrometheusHandle) -> Result<(), String> {
    let listener =
        TcpListener::bind(addr).map_err(|e| format!("metrics listener on {addr}: {e}"))?;
    std::thread::Builder::new()
        .name("observe-metrics".into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = answer(stream, &handle);
            }
        })
        .map_err(|e| format!("metrics listener thread: {e}"))?;
    Ok(())
}

fn answer(stream: TcpStream, handle: &PrometheusHandle) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut accept = None;
    let mut read = request_line.len();
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line)?;
        read += n;
        if n == 0 || line == "\r\n" || line == "\n" || read > MAX_HEAD {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("accept")
        {
            accept = Some(value.trim().to_owned());
        }
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("");
    let (status, content_type, body) = if path == "/metrics" || path.starts_with("/metrics?") {
        let (content_type, body) = handle.render_for(accept.as_deref());
        ("200 OK", content_type, body)
    } else {
        (
            "404 Not Found",
            "text/plain; charset=utf-8",
            "not found\n".to_owned(),
        )
    };
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}
