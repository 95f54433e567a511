//! A throwaway PostgreSQL cluster for a benchmark run, with durable settings
//! (fsync and synchronous commit on, as in production); see
//! [`naskah_testkit::pgcluster`].

use std::path::Path;

/// The `TMPDIR` directories of benchmark runs (`naskah-bench-…`), whose
/// cluster is in `pg/`.
const RUN_PREFIX: &str = "naskah-bench-";

/// A running cluster with database `naskah`; stopped and removed on drop.
pub struct Cluster(naskah_testkit::pgcluster::Cluster);

impl Cluster {
    /// Stops and removes the clusters of earlier runs that were killed
    /// without cleaning up, then initialises and starts a cluster under
    /// `dir`, with database `naskah`.
    pub fn start(dir: &Path) -> anyhow::Result<Self> {
        naskah_testkit::pgcluster::reap_orphans(RUN_PREFIX, "pg");
        let cluster = Self(
            naskah_testkit::pgcluster::Cluster::start(
                dir,
                "-c max_connections=200 -c fsync=on -c synchronous_commit=on \
                 -c shared_buffers=256MB",
                false,
            )
            .map_err(anyhow::Error::msg)?,
        );
        cluster
            .0
            .create_database("naskah")
            .map_err(anyhow::Error::msg)?;
        Ok(cluster)
    }

    /// URL of the `naskah` database.
    pub fn url(&self) -> String {
        self.0.url("naskah")
    }

    /// Creates one more database; answers its URL.
    pub fn another(&self, name: &str) -> anyhow::Result<String> {
        self.0.create_database(name).map_err(anyhow::Error::msg)?;
        Ok(self.0.url(name))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.0.stop();
    }
}
