use super::*;
use crate::client::request::parse;

fn topology() -> Topology {
    Topology {
        primary: "10.0.0.2".into(),
        replicas: vec!["10.0.0.3".into(), "10.0.0.1".into()],
        units: vec!["10.0.0.2".into(), "10.0.0.3".into(), "10.0.0.1".into()],
        valkey_version: "9.1.2".into(),
    }
}

fn secrets() -> RequestSecrets {
    RequestSecrets { user: "secret:user1".into(), tls: "secret:tls1".into() }
}

#[test]
fn v1_answer_golden() {
    let bag = Bag::from([
        ("version".into(), "v1".into()),
        (
            "requests".into(),
            r#"[{"resource":"app:*","salt":"abcdefghijklmnop","request-id":"4dfb8bf370329834","entity-type":null}]"#.into(),
        ),
    ]);
    let requests = parse(&bag).unwrap().unwrap();
    let got = render(&requests, &topology(), &[secrets()]);
    let want = Bag::from([
        ("version".into(), "v1".into()),
        (
            "requests".into(),
            concat!(
                r#"[{"endpoints":"10.0.0.2:6379","entity-type":null,"mode":"sentinel","#,
                r#""read-only-endpoints":"10.0.0.1:6379,10.0.0.3:6379","request-id":"4dfb8bf370329834","#,
                r#""resource":"app:*","salt":"abcdefghijklmnop","secret-tls":"secret:tls1","#,
                r#""secret-user":"secret:user1","sentinel-endpoints":"10.0.0.1:26379,10.0.0.2:26379,10.0.0.3:26379","#,
                r#""version":"9.1.2"}]"#
            )
            .into(),
        ),
        (
            "data".into(),
            r#"{"4dfb8bf370329834":{"entity-type":null,"request-id":"4dfb8bf370329834","resource":"app:*","salt":"abcdefghijklmnop"}}"#
                .into(),
        ),
    ]);
    assert_eq!(got, want);
}

#[test]
fn v0_answer_golden_with_both_spellings_of_the_sentinel_key() {
    let requests = parse(&Bag::from([("database".into(), "legacy:*".into())])).unwrap().unwrap();
    let got = render(&requests, &topology(), &[secrets()]);
    let want = Bag::from([
        ("database".into(), "legacy:*".into()),
        ("resource".into(), "legacy:*".into()),
        ("endpoints".into(), "10.0.0.2:6379".into()),
        ("read-only-endpoints".into(), "10.0.0.1:6379,10.0.0.3:6379".into()),
        ("sentinel-endpoints".into(), "10.0.0.1:26379,10.0.0.2:26379,10.0.0.3:26379".into()),
        ("sentinel_endpoints".into(), "10.0.0.1:26379,10.0.0.2:26379,10.0.0.3:26379".into()),
        ("mode".into(), "sentinel".into()),
        ("version".into(), "9.1.2".into()),
        ("secret-user".into(), "secret:user1".into()),
        ("secret-tls".into(), "secret:tls1".into()),
    ]);
    assert_eq!(got, want);
}

#[test]
fn labels_are_the_libraries() {
    let v1 = parse(&Bag::from([
        ("version".into(), "v1".into()),
        (
            "requests".into(),
            r#"[{"resource":"app:*","salt":"abcdefghijklmnop","request-id":"4dfb8bf370329834"}]"#.into(),
        ),
    ]))
    .unwrap()
    .unwrap();
    let r = &v1.requests[0];
    assert_eq!(
        secret_label("valkey-client", "valkey-client:4", r, Protocol::V1, "user"),
        "valkey-client.4.4dfb8bf370329834.user.secret"
    );
    assert_eq!(
        secret_label("valkey-client", "valkey-client:4", r, Protocol::V0, "tls"),
        "valkey-client.4.tls.secret"
    );
    assert_eq!(user_secret("u", "p").keys().collect::<Vec<_>>(), ["password", "username"]);
    assert_eq!(tls_secret()["tls"], "false");
}
