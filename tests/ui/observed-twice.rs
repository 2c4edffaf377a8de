use observe::observe;
use observe::observe as instrumented;

#[observe]
#[observe(flow = "checkout")]
fn twice() {}

#[observe(flow = "checkout")]
#[instrumented]
fn twice_under_another_name() {}

fn main() {}
