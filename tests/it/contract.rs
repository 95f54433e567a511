//! The contract as compiled: every RPC is in the policy table, every element is documented.

use prost::Message;
use prost_types::FileDescriptorSet;

fn naskah_files() -> Vec<prost_types::FileDescriptorProto> {
    FileDescriptorSet::decode(naskah::proto::FILE_DESCRIPTOR_SET)
        .expect("descriptor set decodes")
        .file
        .into_iter()
        .filter(|f| f.package() == "naskah.v1")
        .collect()
}

#[test]
fn every_rpc_of_the_contract_has_a_policy_rule() {
    let mut missing = Vec::new();
    let mut count = 0;
    for file in naskah_files() {
        for service in &file.service {
            for method in &service.method {
                count += 1;
                let path = format!("/naskah.v1.{}/{}", service.name(), method.name());
                if naskah_testkit::policy::rule(&path).is_none() {
                    missing.push(path);
                }
            }
        }
    }
    // DESIGN.md's outline has 73; OrgService.UnlockUser (lifting a login
    // lock) is the 74th, OrgService.AbolishPosition the 75th; PeerService (11)
    // and the peer-facing ExchangeService (5) make 91.
    assert_eq!(count, 91, "the contract has 91 RPCs");
    assert!(
        missing.is_empty(),
        "RPCs without a policy rule (they would be denied): {missing:?}"
    );
    // And the table names nothing that is not in the contract.
    let known: Vec<String> = naskah_files()
        .iter()
        .flat_map(|f| {
            f.service.iter().flat_map(|s| {
                s.method
                    .iter()
                    .map(move |m| format!("/naskah.v1.{}/{}", s.name(), m.name()))
            })
        })
        .collect();
    for (path, _) in naskah_testkit::policy::POLICY {
        assert!(
            known.iter().any(|k| k == path) || !path.starts_with("/naskah."),
            "policy names unknown RPC {path}"
        );
    }
}

#[test]
fn every_service_rpc_message_field_and_enum_value_is_documented() {
    // Source-code-info paths: 4 = message_type, 2 = field, 5 = enum_type, 2 = value,
    // 6 = service, 2 = method; nested messages are 3 inside a message.
    let mut undocumented = Vec::new();
    for file in naskah_files() {
        let info = file.source_code_info.clone().expect("source info is kept");
        let documented = |path: &[i32]| {
            info.location
                .iter()
                .any(|l| l.path == path && !l.leading_comments().trim().is_empty())
        };
        for (si, s) in file.service.iter().enumerate() {
            if !documented(&[6, si as i32]) {
                undocumented.push(format!("{}: service {}", file.name(), s.name()));
            }
            for (mi, m) in s.method.iter().enumerate() {
                if !documented(&[6, si as i32, 2, mi as i32]) {
                    undocumented.push(format!("{}: rpc {}.{}", file.name(), s.name(), m.name()));
                }
            }
        }
        for (mi, m) in file.message_type.iter().enumerate() {
            if !documented(&[4, mi as i32]) {
                undocumented.push(format!("{}: message {}", file.name(), m.name()));
            }
            for (fi, f) in m.field.iter().enumerate() {
                if !documented(&[4, mi as i32, 2, fi as i32]) {
                    undocumented.push(format!("{}: field {}.{}", file.name(), m.name(), f.name()));
                }
            }
            assert!(
                m.nested_type.is_empty() && m.enum_type.is_empty(),
                "nested types are not used"
            );
        }
        for (ei, e) in file.enum_type.iter().enumerate() {
            if !documented(&[5, ei as i32]) {
                undocumented.push(format!("{}: enum {}", file.name(), e.name()));
            }
            let prefix = to_screaming_snake(e.name());
            for (vi, v) in e.value.iter().enumerate() {
                if !documented(&[5, ei as i32, 2, vi as i32]) {
                    undocumented.push(format!("{}: value {}", file.name(), v.name()));
                }
                assert!(
                    v.name().starts_with(&format!("{prefix}_")),
                    "{} is not prefixed with {prefix}_",
                    v.name()
                );
            }
            assert_eq!(e.value[0].number(), 0);
            assert!(
                e.value[0].name().ends_with("_UNSPECIFIED"),
                "{} zero value",
                e.name()
            );
        }
    }
    assert!(
        undocumented.is_empty(),
        "undocumented elements: {undocumented:#?}"
    );
}

fn to_screaming_snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

#[test]
fn every_rpc_has_its_own_request_message() {
    let files = naskah_files();
    let mut inputs = std::collections::HashMap::new();
    for f in &files {
        for s in &f.service {
            for m in &s.method {
                let input = m.input_type().trim_start_matches(".naskah.v1.").to_owned();
                assert_eq!(
                    input,
                    format!("{}Request", m.name()),
                    "request message of {}",
                    m.name()
                );
                assert!(
                    inputs.insert(input, m.name().to_owned()).is_none(),
                    "shared request message"
                );
            }
        }
    }
}
