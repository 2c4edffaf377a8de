//! OTLP metrics: the recorder's series pushed every interval to an OTLP
//! endpoint (gRPC or HTTP/protobuf), encoded here with `opentelemetry-proto`
//! so they carry the exemplars (the OpenTelemetry Rust SDK 0.33 drops them,
//! open-telemetry/opentelemetry-rust#3369). Counters are monotonic sums,
//! gauges are gauges, histograms are explicit-bucket histograms with the
//! Prometheus bounds; an overflow series carries `otel.metric.overflow =
//! true`. Nothing is queued: each export reads the current values, so an
//! endpoint that is down costs one warning per outage and no memory.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    self as proto, AggregationTemporality, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource as ProtoResource;
use opentelemetry_sdk::Resource;
use prost::Message as _;

use super::registry::{Kind, Labels, Registry, Series};
use super::series::Exemplar;
use crate::config::{MetricsTemporality, OtlpProtocol};
use crate::redaction::EndpointSecrets;

/// Where and how the metrics are pushed.
#[derive(Debug, Clone)]
pub(crate) struct OtlpMetricsSettings {
    /// The full URL for HTTP (`.../v1/metrics`); the base URL for gRPC.
    pub endpoint: String,
    pub protocol: OtlpProtocol,
    pub interval: Duration,
    pub temporality: MetricsTemporality,
}

/// The running exporter: ask it to export now with [`Exporter::flush`].
#[derive(Debug)]
pub(crate) struct Exporter {
    flush: mpsc::Sender<mpsc::Sender<()>>,
}

impl Exporter {
    /// Exports now; waits for it at most `timeout`.
    pub fn flush(&self, timeout: Duration) {
        let (done, wait) = mpsc::channel();
        if self.flush.send(done).is_ok() {
            let _ = wait.recv_timeout(timeout);
        }
    }
}

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

fn string(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_owned())),
        }),
        ..Default::default()
    }
}

fn resource_attributes(resource: &Resource) -> Vec<KeyValue> {
    resource
        .iter()
        .map(|(key, value)| {
            let value = match value {
                opentelemetry::Value::Bool(b) => any_value::Value::BoolValue(*b),
                opentelemetry::Value::I64(i) => any_value::Value::IntValue(*i),
                opentelemetry::Value::F64(f) => any_value::Value::DoubleValue(*f),
                other => any_value::Value::StringValue(other.as_str().into_owned()),
            };
            KeyValue {
                key: key.as_str().to_owned(),
                value: Some(AnyValue { value: Some(value) }),
                ..Default::default()
            }
        })
        .collect()
}

fn attributes(labels: &Labels, overflow: bool) -> Vec<KeyValue> {
    if overflow {
        return vec![KeyValue {
            key: "otel.metric.overflow".to_owned(),
            value: Some(AnyValue {
                value: Some(any_value::Value::BoolValue(true)),
            }),
            ..Default::default()
        }];
    }
    labels.iter().map(|(k, v)| string(k, v)).collect()
}

fn exemplar(e: Option<Exemplar>, since_ms: u64) -> Vec<proto::Exemplar> {
    e.filter(|e| e.at_ms > since_ms)
        .map(|e| proto::Exemplar {
            filtered_attributes: Vec::new(),
            time_unix_nano: e.at_ms * 1_000_000,
            span_id: e.span_id.to_be_bytes().to_vec(),
            trace_id: e.trace_id.to_be_bytes().to_vec(),
            value: Some(proto::exemplar::Value::AsDouble(e.value)),
        })
        .into_iter()
        .collect()
}

/// What the previous export sent, for delta temporality.
#[derive(Debug, Default)]
struct Previous {
    counters: HashMap<(String, Labels), u64>,
    histograms: HashMap<(String, Labels), (Vec<u64>, f64, u64)>,
}

/// Builds one export request from the registry's current values.
struct Encoder {
    resource: Vec<KeyValue>,
    temporality: MetricsTemporality,
    process_start: u64,
    last_export: u64,
    last_export_ms: u64,
    previous: Previous,
}

impl Encoder {
    fn delta(&self) -> bool {
        self.temporality != MetricsTemporality::Cumulative
    }

    fn request(&mut self, registry: &Registry) -> ExportMetricsServiceRequest {
        registry.promote_exemplars();
        let now = now_nanos();
        let start = if self.delta() {
            self.last_export
        } else {
            self.process_start
        };
        let temporality = if self.delta() {
            AggregationTemporality::Delta
        } else {
            AggregationTemporality::Cumulative
        } as i32;
        let since_ms = self.last_export_ms;
        let descriptions = registry
            .descriptions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let mut metrics = Vec::new();
        for (name, family) in registry.families().iter() {
            let overflow = family.overflow.clone().map(|s| (Vec::new(), s, true));
            let all: Vec<(Labels, Series, bool)> = family
                .series
                .iter()
                .map(|(l, s)| (l.clone(), s.clone(), false))
                .chain(overflow)
                .collect();
            if all.is_empty() {
                continue;
            }
            let data = match family.kind {
                Kind::Counter => {
                    let mut points = Vec::new();
                    for (labels, series, is_overflow) in &all {
                        let Series::Counter(c) = series else { continue };
                        let total = c.get();
                        let previous = self
                            .previous
                            .counters
                            .insert((name.clone(), labels_key(labels, *is_overflow)), total)
                            .unwrap_or(0);
                        let value = if self.delta() {
                            total.saturating_sub(previous)
                        } else {
                            total
                        };
                        points.push(NumberDataPoint {
                            attributes: attributes(labels, *is_overflow),
                            start_time_unix_nano: start,
                            time_unix_nano: now,
                            exemplars: exemplar(c.exemplar.promoted(), since_ms),
                            flags: 0,
                            value: Some(number_data_point::Value::AsInt(value as i64)),
                        });
                    }
                    metric::Data::Sum(proto::Sum {
                        data_points: points,
                        aggregation_temporality: temporality,
                        is_monotonic: true,
                    })
                }
                Kind::Gauge => metric::Data::Gauge(proto::Gauge {
                    data_points: all
                        .iter()
                        .filter_map(|(labels, series, is_overflow)| match series {
                            Series::Gauge(g) => Some(NumberDataPoint {
                                attributes: attributes(labels, *is_overflow),
                                start_time_unix_nano: 0,
                                time_unix_nano: now,
                                exemplars: Vec::new(),
                                flags: 0,
                                value: Some(number_data_point::Value::AsDouble(g.get())),
                            }),
                            _ => None,
                        })
                        .collect(),
                }),
                Kind::Histogram => {
                    let mut points = Vec::new();
                    for (labels, series, is_overflow) in &all {
                        let Series::Histogram(h) = series else {
                            continue;
                        };
                        let snapshot = h.snapshot();
                        let current = (snapshot.counts.clone(), snapshot.sum, snapshot.count);
                        let previous = self
                            .previous
                            .histograms
                            .insert((name.clone(), labels_key(labels, *is_overflow)), current);
                        let (counts, sum, count) = match (self.delta(), previous) {
                            (true, Some((counts, sum, count))) => (
                                snapshot
                                    .counts
                                    .iter()
                                    .zip(counts)
                                    .map(|(now, before)| now.saturating_sub(before))
                                    .collect(),
                                snapshot.sum - sum,
                                snapshot.count.saturating_sub(count),
                            ),
                            _ => (snapshot.counts, snapshot.sum, snapshot.count),
                        };
                        points.push(HistogramDataPoint {
                            attributes: attributes(labels, *is_overflow),
                            start_time_unix_nano: start,
                            time_unix_nano: now,
                            count,
                            sum: Some(sum),
                            bucket_counts: counts,
                            explicit_bounds: h.bounds.to_vec(),
                            exemplars: h
                                .exemplars
                                .iter()
                                .flat_map(|slot| exemplar(slot.promoted(), since_ms))
                                .collect(),
                            flags: 0,
                            min: None,
                            max: None,
                        });
                    }
                    metric::Data::Histogram(proto::Histogram {
                        data_points: points,
                        aggregation_temporality: temporality,
                    })
                }
            };
            metrics.push(Metric {
                name: name.clone(),
                description: descriptions.get(name).cloned().unwrap_or_default(),
                unit: if name.ends_with("_seconds") {
                    "s".to_owned()
                } else {
                    String::new()
                },
                metadata: Vec::new(),
                data: Some(data),
            });
        }
        self.last_export = now;
        self.last_export_ms = now / 1_000_000;
        ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource: Some(ProtoResource {
                    attributes: self.resource.clone(),
                    ..Default::default()
                }),
                scope_metrics: vec![ScopeMetrics {
                    scope: Some(InstrumentationScope {
                        name: "observe".to_owned(),
                        version: env!("CARGO_PKG_VERSION").to_owned(),
                        ..Default::default()
                    }),
                    metrics,
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            }],
        }
    }
}

fn labels_key(labels: &Labels, overflow: bool) -> Labels {
    if overflow {
        vec![(super::OVERFLOW_LABEL.to_owned(), "true".to_owned())]
    } else {
        labels.clone()
    }
}

/// One transport.
enum Transport {
    Http(reqwest::blocking::Client),
    Grpc(
        Box<(
            tokio::runtime::Runtime,
            MetricsServiceClient<tonic::transport::Channel>,
        )>,
    ),
}

impl Transport {
    fn new(settings: &OtlpMetricsSettings) -> Result<Self, String> {
        let timeout = Duration::from_secs(5);
        match settings.protocol {
            OtlpProtocol::HttpProtobuf => reqwest::blocking::Client::builder()
                .timeout(timeout)
                .build()
                .map(Transport::Http)
                .map_err(|e| format!("OTLP/HTTP metrics client: {e}")),
            OtlpProtocol::Grpc => {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| format!("OTLP/gRPC metrics runtime: {e}"))?;
                let channel = {
                    let _entered = runtime.enter();
                    tonic::transport::Endpoint::from_shared(settings.endpoint.clone())
                        .map_err(|e| format!("OTLP/gRPC metrics endpoint: {e}"))?
                        .connect_timeout(timeout)
                        .timeout(timeout)
                        .connect_lazy()
                };
                Ok(Transport::Grpc(Box::new((
                    runtime,
                    MetricsServiceClient::new(channel),
                ))))
            }
        }
    }

    fn send(&mut self, endpoint: &str, request: ExportMetricsServiceRequest) -> Result<(), String> {
        match self {
            Transport::Http(client) => {
                let response = client
                    .post(endpoint)
                    .header("content-type", "application/x-protobuf")
                    .body(request.encode_to_vec())
                    .send()
                    .map_err(|e| e.to_string())?;
                if response.status().is_success() {
                    Ok(())
                } else {
                    Err(format!("HTTP {}", response.status()))
                }
            }
            Transport::Grpc(grpc) => grpc
                .0
                .block_on(grpc.1.export(request))
                .map(|_| ())
                .map_err(|status| status.to_string()),
        }
    }
}

/// Starts the export thread.
pub(crate) fn start(
    registry: Arc<Registry>,
    settings: OtlpMetricsSettings,
    resource: &Resource,
) -> Result<Exporter, String> {
    let mut transport = Transport::new(&settings)?;
    let now = now_nanos();
    let mut encoder = Encoder {
        resource: resource_attributes(resource),
        temporality: settings.temporality,
        process_start: now,
        last_export: now,
        last_export_ms: 0,
        previous: Previous::default(),
    };
    // Printed in warnings: never with the password of its user-info.
    let shown = EndpointSecrets::shown(&settings.endpoint);
    let secrets = EndpointSecrets::of([settings.endpoint.as_str()]);
    let (flush, requests) = mpsc::channel::<mpsc::Sender<()>>();
    std::thread::Builder::new()
        .name("observe-otlp-metrics".into())
        .spawn(move || {
            let mut failing = false;
            loop {
                let done = match requests.recv_timeout(settings.interval) {
                    Ok(done) => Some(done),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return,
                };
                let request = encoder.request(&registry);
                match transport.send(&settings.endpoint, request) {
                    Err(error) if !failing => {
                        failing = true;
                        tracing::warn!(
                            target: "observe_telemetry",
                            endpoint = %shown,
                            error = %secrets.scrub(&error),
                            "OTLP metrics export failed; retrying every interval (this warning is not repeated until it recovers)"
                        );
                    }
                    Err(_) => {}
                    Ok(()) if failing => {
                        failing = false;
                        tracing::info!(target: "observe_telemetry", endpoint = %shown, "OTLP metrics export recovered");
                    }
                    Ok(()) => {}
                }
                if let Some(done) = done {
                    let _ = done.send(());
                }
            }
        })
        .map_err(|e| format!("OTLP metrics thread: {e}"))?;
    Ok(Exporter { flush })
}
