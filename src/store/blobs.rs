//! Content-addressed blob store in `<data-dir>/blobs/`: a blob's path is its
//! SHA-256 (`ab/cdef…`). Writes go to a temporary file first and are renamed into
//! place, so a blob is either whole or absent.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

/// The blob directory.
#[derive(Clone, Debug)]
pub struct Blobs {
    root: PathBuf,
}

/// A blob being written.
pub struct BlobWriter {
    tmp: PathBuf,
    file: tokio::fs::File,
    hasher: Sha256,
    size: u64,
    root: PathBuf,
}

impl Blobs {
    /// The store under `data_dir`.
    pub fn new(data_dir: &Path) -> Self {
        Self {
            root: data_dir.join("blobs"),
        }
    }

    fn path_of(&self, sha256: &str) -> Option<PathBuf> {
        (sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| self.root.join(&sha256[..2]).join(&sha256[2..]))
    }

    /// Starts a new blob.
    pub async fn writer(&self) -> std::io::Result<BlobWriter> {
        let tmp_dir = self.root.join("tmp");
        tokio::fs::create_dir_all(&tmp_dir).await?;
        let tmp = tmp_dir.join(uuid::Uuid::new_v4().to_string());
        let file = tokio::fs::File::create(&tmp).await?;
        Ok(BlobWriter {
            tmp,
            file,
            hasher: Sha256::new(),
            size: 0,
            root: self.root.clone(),
        })
    }

    /// Removes a blob for good; a blob already absent is not an error.
    pub async fn remove(&self, sha256: &str) -> std::io::Result<()> {
        let path = self
            .path_of(sha256)
            .ok_or_else(|| std::io::Error::other("not a SHA-256"))?;
        match tokio::fs::remove_file(path).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// True when the blob is present.
    pub async fn exists(&self, sha256: &str) -> bool {
        match self.path_of(sha256) {
            Some(p) => tokio::fs::try_exists(p).await.unwrap_or(false),
            None => false,
        }
    }

    /// Opens a blob for reading.
    pub async fn open(&self, sha256: &str) -> std::io::Result<tokio::fs::File> {
        let path = self
            .path_of(sha256)
            .ok_or_else(|| std::io::Error::other("not a SHA-256"))?;
        tokio::fs::File::open(path).await
    }
}

impl BlobWriter {
    /// Appends bytes.
    pub async fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        self.hasher.update(chunk);
        self.size += chunk.len() as u64;
        self.file.write_all(chunk).await
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Finishes: returns (sha256 hex, size) and moves the blob into place.
    pub async fn finish(mut self) -> std::io::Result<(String, u64)> {
        self.file.flush().await?;
        self.file.sync_all().await?;
        let sha = hex::encode(self.hasher.finalize());
        let dir = self.root.join(&sha[..2]);
        tokio::fs::create_dir_all(&dir).await?;
        tokio::fs::rename(&self.tmp, dir.join(&sha[2..])).await?;
        Ok((sha, self.size))
    }

    /// Abandons the blob.
    pub async fn discard(self) {
        let _ = tokio::fs::remove_file(&self.tmp).await;
    }
}
