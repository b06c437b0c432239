use super::*;

/// A v1 bag with the given requests JSON.
fn v1(requests: &str) -> Bag {
    Bag::from([(VERSION_KEY.into(), V1.into()), (REQUESTS_KEY.into(), requests.into())])
}

/// One request as the library writes it (optional fields null).
fn entry(resource: &str, salt: &str, id: &str) -> String {
    format!(
        r#"{{"resource":"{resource}","salt":"{salt}","request-id":"{id}","extra-user-roles":null,"entity-type":null,"secret-mtls":null}}"#
    )
}

#[test]
fn request_ids_are_the_librarys() {
    // Computed with the library's own algorithm (Python hashlib.sha256(...).hexdigest()[:16]).
    assert_eq!(request_id("app:*", "abcdefghijklmnop"), "4dfb8bf370329834");
    assert_eq!(request_id("*", "0123456789abcdef"), "50aa79009a83975f");
    assert_eq!(request_id("other:*", "SALTsaltSALTsalt"), "ef345f020e871f14");
}

#[test]
fn valid_requests_parse() {
    let two = format!(
        "[{},{}]",
        entry("app:*", "abcdefghijklmnop", "4dfb8bf370329834"),
        entry("*", "0123456789abcdef", "50aa79009a83975f")
    );
    let parsed = parse(&v1(&two)).unwrap().expect("requests");
    assert_eq!(parsed.protocol, Protocol::V1);
    let got: Vec<(&str, &Scope)> =
        parsed.requests.iter().map(|r| (r.request_id.as_str(), &r.scope)).collect();
    assert_eq!(got, [("4dfb8bf370329834", &Scope::Prefix("app".into())), ("50aa79009a83975f", &Scope::All)]);
    assert_eq!(parsed.requests[0].raw["extra-user-roles"], serde_json::Value::Null, "kept as received");
    assert_eq!(Scope::Prefix("app".into()).pattern(), "app:*");

    let v0 = parse(&Bag::from([(DATABASE_KEY.into(), "legacy:*".into())])).unwrap().unwrap();
    assert_eq!(v0.protocol, Protocol::V0);
    assert_eq!(v0.requests[0].scope, Scope::Prefix("legacy".into()));
    assert_eq!(v0.requests[0].request_id, request_id("legacy:*", ""), "stable across hooks");
}

#[test]
fn nothing_asked_yet() {
    for bag in [Bag::new(), v1(""), v1("[]"), Bag::from([(VERSION_KEY.into(), V1.into())])] {
        assert_eq!(parse(&bag), Ok(None), "{bag:?}");
    }
}

#[test]
fn bad_requests_are_refused_with_a_clear_reason() {
    let good = entry("app:*", "abcdefghijklmnop", "4dfb8bf370329834");
    let table: Vec<(Bag, RequestError, &str)> = vec![
        (
            Bag::from([(VERSION_KEY.into(), "v2".into())]),
            RequestError::UnknownVersion("v2".into()),
            "unknown protocol version \"v2\"",
        ),
        (v1("[{\"resource\": "), RequestError::MalformedJson(String::new()), "not a JSON list"),
        (v1("{\"resource\":\"a:*\"}"), RequestError::MalformedJson(String::new()), "not a JSON list"),
        (v1("[1]"), RequestError::MalformedJson(String::new()), "not a JSON list"),
        (
            v1(&format!("[{}]", entry("", "abcdefghijklmnop", &request_id("", "abcdefghijklmnop")))),
            RequestError::EmptyResource { index: 0 },
            "the resource is empty",
        ),
        (
            v1(&format!("[{good},{}]", entry("nocolon", "s", &request_id("nocolon", "s")))),
            RequestError::BadResource { index: 1, resource: "nocolon".into() },
            "neither",
        ),
        (
            v1(&format!("[{}]", entry("a*b:*", "s", &request_id("a*b:*", "s")))),
            RequestError::BadPrefix { index: 0, prefix: "a*b".into() },
            "no glob",
        ),
        (
            v1(&format!("[{}]", entry("a b:*", "s", &request_id("a b:*", "s")))),
            RequestError::BadPrefix { index: 0, prefix: "a b".into() },
            "no glob",
        ),
        (
            v1(&format!("[{}]", entry("a\\\\:*", "s", &request_id("a\\:*", "s")))),
            RequestError::BadPrefix { index: 0, prefix: "a\\".into() },
            "no glob",
        ),
        (
            v1(&format!("[{}]", entry("app:*", "abcdefghijklmnop", "0000000000000000"))),
            RequestError::RequestIdMismatch {
                index: 0,
                got: "0000000000000000".into(),
                want: "4dfb8bf370329834".into(),
            },
            "does not match",
        ),
        (
            v1("[{\"resource\":\"app:*\",\"salt\":\"s\"}]"),
            RequestError::MissingField { index: 0, field: "request-id" },
            "request-id is missing",
        ),
        (
            v1(&format!("[{good},{good}]")),
            RequestError::DuplicateRequestId("4dfb8bf370329834".into()),
            "twice",
        ),
        (
            Bag::from([(DATABASE_KEY.into(), String::new())]),
            RequestError::EmptyResource { index: 0 },
            "empty",
        ),
    ];
    for (bag, want, text) in table {
        let err = parse(&bag).expect_err(&format!("{bag:?} must be refused"));
        match (&err, &want) {
            (RequestError::MalformedJson(_), RequestError::MalformedJson(_)) => {}
            _ => assert_eq!(err, want, "{bag:?}"),
        }
        assert!(err.to_string().contains(text), "{err} should say {text:?}");
    }
}
