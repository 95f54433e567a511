//! The report: per-operation rows, the JSON document and the table.

use super::*;

#[derive(Serialize)]
pub(crate) struct OpReport {
    pub(crate) name: String,
    pub(crate) ops_per_s: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p95_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) errors: u64,
    pub(crate) ceiling_ops_per_s: f64,
    pub(crate) ceiling_p99_ms: f64,
    pub(crate) ratio: f64,
    /// The ceiling reading through naskah's own read connections (reads
    /// only; 0 for writes).
    pub(crate) own_reads_ceiling_ops_per_s: f64,
    pub(crate) own_reads_ratio: f64,
    pub(crate) server_rss_mb: f64,
    /// CPU time (user and system) the naskah server process spent per
    /// successful operation, in milliseconds.
    pub(crate) server_cpu_ms_per_op: f64,
    pub(crate) first_error: String,
}

#[derive(Serialize)]
pub(crate) struct ScaleReport {
    pub(crate) letters: u64,
    pub(crate) list_inbox_p99_ms: f64,
    pub(crate) list_inbox_ops_per_s: f64,
    pub(crate) list_secretary_p99_ms: f64,
    pub(crate) list_secretary_ops_per_s: f64,
    pub(crate) tree_p99_ms: f64,
    pub(crate) tree_ops_per_s: f64,
}

#[derive(Serialize)]
pub(crate) struct AuditReport {
    pub(crate) events: i64,
    /// The first run, right after the append.
    pub(crate) secs: f64,
    pub(crate) events_per_s: f64,
    pub(crate) process_secs: f64,
    /// The run after it.
    pub(crate) again_secs: f64,
    pub(crate) again_events_per_s: f64,
    pub(crate) again_process_secs: f64,
}

#[derive(Serialize)]
pub(crate) struct Report {
    pub(crate) database: DbKind,
    /// naskah servers sharing the database.
    pub(crate) servers: u16,
    pub(crate) letters: u64,
    pub(crate) clients: usize,
    pub(crate) duration_s: u64,
    pub(crate) ops: Vec<OpReport>,
    pub(crate) mixed: OpReport,
    pub(crate) passphrase_kdf_ms: f64,
    pub(crate) peak_rss_mb: f64,
    pub(crate) ceiling_peak_rss_mb: f64,
    pub(crate) scale: Vec<ScaleReport>,
    pub(crate) seed_letters_per_s: f64,
    pub(crate) audit_verify: Option<AuditReport>,
}

pub(crate) fn report_row(
    name: &str,
    s: &Stats,
    c: Option<&Stats>,
    own: Option<&Stats>,
    rss: f64,
) -> OpReport {
    let ceiling = c.map(Stats::rate).unwrap_or(0.0);
    let own = own.map(Stats::rate).unwrap_or(0.0);
    OpReport {
        name: name.to_owned(),
        ops_per_s: s.rate(),
        p50_ms: s.pct(0.50),
        p95_ms: s.pct(0.95),
        p99_ms: s.pct(0.99),
        errors: s.errors,
        ceiling_ops_per_s: ceiling,
        ceiling_p99_ms: c.map(|c| c.pct(0.99)).unwrap_or(0.0),
        ratio: if ceiling > 0.0 {
            s.rate() / ceiling
        } else {
            0.0
        },
        own_reads_ceiling_ops_per_s: own,
        own_reads_ratio: if own > 0.0 { s.rate() / own } else { 0.0 },
        server_rss_mb: rss,
        server_cpu_ms_per_op: 0.0,
        first_error: s.first_error.clone(),
    }
}

pub(crate) fn print_table(r: &Report) {
    println!(
        "\nnaskah-bench: {:?}, {} letters, {} clients, {} s per operation, {} naskah server{}\n",
        r.database,
        r.letters,
        r.clients,
        r.duration_s,
        r.servers,
        if r.servers == 1 {
            ""
        } else {
            "s (RSS: the first's)"
        }
    );
    println!(
        "| operation | ops/s | p50 ms | p95 ms | p99 ms | errors | ceiling ops/s | ratio | ceiling, own reads ops/s | ratio | server private RSS MB |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let figure = |v: f64, digits: usize| {
        if v > 0.0 {
            format!("{v:.digits$}")
        } else {
            "-".to_owned()
        }
    };
    for o in r.ops.iter().chain(std::iter::once(&r.mixed)) {
        println!(
            "| {} | {:.0} | {:.2} | {:.2} | {:.2} | {} | {} | {} | {} | {} | {:.0} |",
            o.name,
            o.ops_per_s,
            o.p50_ms,
            o.p95_ms,
            o.p99_ms,
            o.errors,
            figure(o.ceiling_ops_per_s, 0),
            figure(o.ratio, 2),
            figure(o.own_reads_ceiling_ops_per_s, 0),
            figure(o.own_reads_ratio, 2),
            o.server_rss_mb
        );
    }
    println!(
        "\npassphrase key derivation (argon2id, in SignLetter): {:.1} ms; server peak private RSS {:.0} MB (ceiling {:.0} MB); bulk seed {:.0} letters/s",
        r.passphrase_kdf_ms, r.peak_rss_mb, r.ceiling_peak_rss_mb, r.seed_letters_per_s
    );
    if !r.scale.is_empty() {
        println!(
            "\n| letters | ListLetters(INBOX) p99 ms | ops/s | ListLetters(INBOX/SECRETARY) p99 ms | ops/s | GetDispositionTree p99 ms | ops/s |"
        );
        println!("|---:|---:|---:|---:|---:|---:|---:|");
        for s in &r.scale {
            println!(
                "| {} | {:.2} | {:.0} | {:.2} | {:.0} | {:.2} | {:.0} |",
                s.letters,
                s.list_inbox_p99_ms,
                s.list_inbox_ops_per_s,
                s.list_secretary_p99_ms,
                s.list_secretary_ops_per_s,
                s.tree_p99_ms,
                s.tree_ops_per_s
            );
        }
    }
    if let Some(a) = &r.audit_verify {
        println!(
            "\nnaskah audit verify: {} events in {:.3} s, {:.0} events/s (whole process {:.2} s); \
             again: {:.3} s, {:.0} events/s (whole process {:.2} s)",
            a.events,
            a.secs,
            a.events_per_s,
            a.process_secs,
            a.again_secs,
            a.again_events_per_s,
            a.again_process_secs
        );
    }
    for o in &r.ops {
        if !o.first_error.is_empty() {
            println!("first error of {}: {}", o.name, o.first_error);
        }
    }
}
