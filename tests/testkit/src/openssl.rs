//! Independent checks with OpenSSL (Debian: `apt-get install openssl`).

use std::process::Command;

/// Runs `openssl cms -verify` on a detached signature; true when it verifies.
pub fn openssl_verifies(
    dir: &std::path::Path,
    manifest: &[u8],
    signature: &[u8],
    ca_pem: &str,
) -> bool {
    std::fs::write(dir.join("manifest"), manifest).expect("write manifest");
    std::fs::write(dir.join("sig.p7s"), signature).expect("write signature");
    std::fs::write(dir.join("agency-ca.pem"), ca_pem).expect("write ca");
    let out = Command::new("openssl")
        .args(["cms", "-verify", "-binary", "-inform", "DER", "-in"])
        .arg(dir.join("sig.p7s"))
        .arg("-content")
        .arg(dir.join("manifest"))
        .arg("-CAfile")
        .arg(dir.join("agency-ca.pem"))
        .args(["-purpose", "any", "-out", "/dev/null"])
        .output()
        .expect("openssl must be installed (Debian: apt-get install openssl) for the CMS interoperability tests");
    out.status.success()
}
