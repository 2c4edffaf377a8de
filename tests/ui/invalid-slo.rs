use observe::observe;

#[observe(slo(availability = 100.0))]
fn a() {}

#[observe(slo(percentile = 99.0))]
fn b() {}

#[observe(slo(latency = 300, avalability = 99.9))]
fn c() {}

fn main() {}
