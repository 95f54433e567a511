//! Compiles the naskah.v1 contract with protox (no `protoc` needed) and
//! generates the tonic/prost code and the reflection descriptor into OUT_DIR.

use std::path::PathBuf;

const PROTOS: &[&str] = &[
    "naskah/v1/common.proto",
    "naskah/v1/auth.proto",
    "naskah/v1/org.proto",
    "naskah/v1/letter.proto",
    "naskah/v1/disposition.proto",
    "naskah/v1/signature.proto",
    "naskah/v1/verification.proto",
    "naskah/v1/records.proto",
    "naskah/v1/audit.proto",
    "naskah/v1/peer.proto",
    "naskah/v1/exchange.proto",
];

fn main() -> anyhow::Result<()> {
    println!("cargo:rerun-if-changed=proto");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);

    let mut compiler = protox::Compiler::new(["proto"])?;
    compiler.include_imports(true).include_source_info(true);
    compiler.open_files(PROTOS)?;
    std::fs::write(
        out_dir.join("naskah_descriptor.bin"),
        compiler.encode_file_descriptor_set(),
    )?;

    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        // RPCs not served yet answer UNIMPLEMENTED; the server rewrites the
        // stub's message into one that names the method (see api::layers).
        .generate_default_stubs(true)
        // Every service decodes through the checking codec (undecodable
        // requests and bad text answer INVALID_ARGUMENT; see api::codec),
        // which needs each message's full name.
        .codec_path("crate::api::codec::NaskahCodec")
        .compile_fds_with_config(compiler.file_descriptor_set(), {
            let mut config = tonic_prost_build::Config::new();
            config.enable_type_names();
            config
        })?;
    Ok(())
}
