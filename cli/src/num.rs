//! Number formatting shared by the catalog, the rules and the dashboards.

/// A float without float noise: `99.9`, `0.0144`, `1`.
pub fn fmt(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        return format!("{}", value as i64);
    }
    let text = format!("{:.12}", value);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    text.to_string()
}

/// Milliseconds as the shortest unit: `300ms`, `1.5s`, `250us`.
pub fn fmt_ms(ms: f64) -> String {
    if ms >= 1000.0 && (ms / 1000.0).fract() == 0.0 {
        format!("{}s", fmt(ms / 1000.0))
    } else if ms < 1.0 {
        format!("{}us", fmt(ms * 1000.0))
    } else {
        format!("{}ms", fmt(ms))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_without_noise() {
        assert_eq!(super::fmt(14.4 * (1.0 - 0.999)), "0.0144");
        assert_eq!(super::fmt(99.9), "99.9");
        assert_eq!(super::fmt(1.0), "1");
        assert_eq!(super::fmt(0.3), "0.3");
        assert_eq!(super::fmt_ms(300.0), "300ms");
        assert_eq!(super::fmt_ms(2000.0), "2s");
        assert_eq!(super::fmt_ms(0.25), "250us");
    }
}
