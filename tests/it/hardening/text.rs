//! Bad text: NUL and control characters refused in every text field of every
//! request.

use std::collections::BTreeMap;

use naskah_testkit::demo::DEMO_PASSWORD;
use naskah_testkit::policy::{Rule, admits, rule};
use prost::Message;
use prost_reflect::{DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, Value};
use tonic::Code;
use tonic_types::StatusExt;

use super::{CALLERS, call_raw, methods, path_of};
use naskah_testkit::{Db, TestServer, dual, reason};

/// Paths to every string field of `desc` at the top level and one level down
/// (through singular and repeated message fields), with the message that sets
/// only that field to `text`.
fn text_probes(desc: &MessageDescriptor, text: &str) -> Vec<(String, DynamicMessage)> {
    fn set(f: &FieldDescriptor, v: Value) -> Value {
        if f.is_list() { Value::List(vec![v]) } else { v }
    }
    fn name(f: &FieldDescriptor) -> String {
        if f.is_list() {
            format!("{}[0]", f.name())
        } else {
            f.name().to_owned()
        }
    }
    let mut out = Vec::new();
    for f in desc.fields() {
        if f.is_map() {
            continue;
        }
        match f.kind() {
            Kind::String => {
                let mut m = DynamicMessage::new(desc.clone());
                m.set_field(&f, set(&f, Value::String(text.to_owned())));
                out.push((name(&f), m));
            }
            Kind::Message(inner) if inner.package_name() == "naskah.v1" => {
                for g in inner.fields() {
                    if g.kind() != Kind::String || g.is_map() {
                        continue;
                    }
                    let mut child = DynamicMessage::new(inner.clone());
                    child.set_field(&g, set(&g, Value::String(text.to_owned())));
                    let mut m = DynamicMessage::new(desc.clone());
                    m.set_field(&f, set(&f, Value::Message(child)));
                    out.push((format!("{}.{}", name(&f), name(&g)), m));
                }
            }
            _ => {}
        }
    }
    out
}

async fn nul_and_control_characters_are_refused_in_every_text_field(db: Db) {
    let t = TestServer::start_demo(db).await;
    let mut tokens = BTreeMap::new();
    for (u, _) in CALLERS {
        tokens.insert(*u, t.login(u, DEMO_PASSWORD).await);
    }
    let mut probed = 0;
    let mut bad = Vec::new();
    for m in methods() {
        let r = rule(&path_of(&m)).expect("rule");
        let Some(token) = CALLERS
            .iter()
            .find(|(_, roles)| r == Rule::Public || admits(r, roles))
            .map(|(u, _)| tokens[u].as_str())
        else {
            continue;
        };
        for text in ["a\0b", "esc\u{1b}[2J"] {
            for (field, msg) in text_probes(&m.input(), text) {
                probed += 1;
                let outcome = call_raw(&t.channel, &m, Some(token), msg.encode_to_vec()).await;
                let ok = match &outcome {
                    Ok(Err(s)) if s.code() == Code::InvalidArgument => s
                        .get_details_bad_request()
                        .is_some_and(|b| b.field_violations.iter().any(|v| v.field == field)),
                    _ => false,
                };
                if !ok {
                    bad.push(format!("{} {field} {text:?}: {outcome:?}", path_of(&m)));
                }
            }
        }
    }
    println!("bad text ({db:?}): {probed} field probes, every one refused with its field named");
    assert!(probed > 300, "{probed}");
    assert!(bad.is_empty(), "{}:\n{}", bad.len(), bad.join("\n"));
    // A login with NUL in the username: refused at the edge on both engines,
    // without a token.
    let e = naskah::proto::auth_service_client::AuthServiceClient::new(t.channel.clone())
        .login(naskah::proto::LoginRequest {
            username: "admin\0".into(),
            password: "x".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::InvalidArgument, "INVALID_ARGUMENT")
    );
    t.stop().await;
}
dual!(nul_and_control_characters_are_refused_in_every_text_field);
