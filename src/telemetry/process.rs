//! Process metrics in the names Prometheus client libraries share (`process_resident_memory_bytes`,
//! `process_cpu_seconds_total`, `process_open_fds`, `process_max_fds`, `process_start_time_seconds`), read from
//! /proc at scrape time by `procfs`. On systems without /proc the collector reports nothing.

use procfs::process::{LimitValue, Process};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

#[derive(Debug)]
pub struct ProcessCollector;

struct Sample {
    rss_bytes: i64,
    cpu_seconds: f64,
    open_fds: i64,
    max_fds: Option<i64>,
    start_time_seconds: f64,
}

fn sample() -> Option<Sample> {
    let me = Process::myself().ok()?;
    let stat = me.stat().ok()?;
    let ticks = procfs::ticks_per_second() as f64;
    let boot = procfs::boot_time_secs().ok()? as f64;
    let max_fds = me.limits().ok().and_then(|l| match l.max_open_files.soft_limit {
        LimitValue::Value(v) => i64::try_from(v).ok(),
        LimitValue::Unlimited => None,
    });
    Some(Sample {
        rss_bytes: i64::try_from(stat.rss.saturating_mul(procfs::page_size())).unwrap_or(i64::MAX),
        cpu_seconds: (stat.utime + stat.stime) as f64 / ticks,
        open_fds: me.fd_count().ok().and_then(|n| i64::try_from(n).ok()).unwrap_or(0),
        max_fds,
        start_time_seconds: boot + stat.starttime as f64 / ticks,
    })
}

fn gauge<N: prometheus_client::encoding::EncodeGaugeValue>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: N,
) -> Result<(), std::fmt::Error> {
    let g = ConstGauge::new(value);
    let metric = encoder.encode_descriptor(name, help, None, g.metric_type())?;
    g.encode(metric)
}

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(s) = sample() else { return Ok(()) };
        gauge(
            &mut encoder,
            "process_resident_memory_bytes",
            "Resident memory size in bytes",
            s.rss_bytes,
        )?;
        let cpu = ConstCounter::new(s.cpu_seconds);
        let metric = encoder.encode_descriptor(
            "process_cpu_seconds",
            "Total user and system CPU time spent in seconds",
            None,
            cpu.metric_type(),
        )?;
        cpu.encode(metric)?;
        gauge(
            &mut encoder,
            "process_open_fds",
            "Number of open file descriptors",
            s.open_fds,
        )?;
        if let Some(max) = s.max_fds {
            gauge(
                &mut encoder,
                "process_max_fds",
                "Maximum number of open file descriptors",
                max,
            )?;
        }
        gauge(
            &mut encoder,
            "process_start_time_seconds",
            "Start time of the process since the Unix epoch in seconds",
            s.start_time_seconds,
        )?;
        Ok(())
    }
}
