//! Every `#[observe]` function linked into the program, with its SLOs, for
//! tools and for a service to publish at run time.

use crate::site::SiteMeta;

/// One instrumented function, registered at compile time.
#[derive(Debug)]
pub struct FunctionInfo {
    /// Its description.
    pub meta: &'static SiteMeta,
}

inventory::collect!(FunctionInfo);

/// A function's service-level objectives, flattened for display.
#[derive(Debug, Clone, PartialEq)]
pub struct SloInfo {
    /// The flow.
    pub flow: &'static str,
    /// The function (the method name alone for methods annotated on their own).
    pub function: &'static str,
    /// The module path.
    pub module: &'static str,
    /// Availability target, percent.
    pub availability: Option<f64>,
    /// Latency threshold, seconds.
    pub latency_seconds: Option<f64>,
    /// Share of calls under the threshold, percent.
    pub percentile: Option<f64>,
}

/// Every instrumented function in the program.
pub fn catalog() -> impl Iterator<Item = &'static FunctionInfo> {
    inventory::iter::<FunctionInfo>.into_iter()
}

impl FunctionInfo {
    /// The objectives, if the function has any.
    pub fn slo(&self) -> Option<SloInfo> {
        let slo = self.meta.slo?;
        Some(SloInfo {
            flow: self.meta.flow,
            function: self.meta.function,
            module: self.meta.module,
            availability: slo.availability,
            latency_seconds: slo.latency_us.map(|us| us as f64 / 1e6),
            percentile: slo.percentile,
        })
    }
}
