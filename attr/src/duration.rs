//! Durations written as strings: `"250ms"`, `"1.5s"`, `"800us"`.

/// Parses a duration literal into microseconds.
pub fn parse_micros(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| {
            format!("`{text}` has no unit: write it with `us`, `ms` or `s`, e.g. \"250ms\"")
        })?;
    let (number, unit) = text.split_at(split);
    let factor = match unit {
        "us" | "µs" => 1.0,
        "ms" => 1_000.0,
        "s" => 1_000_000.0,
        other => {
            return Err(format!(
                "unknown duration unit `{other}`: use `us`, `ms` or `s`, e.g. \"250ms\""
            ));
        }
    };
    let value: f64 = number.parse().map_err(|_| {
        format!("`{text}` is not a duration: write a number and a unit, e.g. \"250ms\"")
    })?;
    let micros = value * factor;
    if !(1.0..=86_400_000_000.0).contains(&micros) {
        return Err(format!(
            "`{text}` is out of range: use a duration between 1us and 24h"
        ));
    }
    Ok(micros.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!(parse_micros("250ms"), Ok(250_000));
        assert_eq!(parse_micros("1.5s"), Ok(1_500_000));
        assert_eq!(parse_micros("800us"), Ok(800));
        assert!(parse_micros("250").is_err());
        assert!(parse_micros("1h").is_err());
        assert!(parse_micros("0ms").is_err());
        assert!(parse_micros("ms").is_err());
    }
}
