//! Tokens against the in-process app: JWKS key rotation (a file, and a URL served by a small axum server in the
//! test), the time claims, `aud` arrays and `typ`. The signing keys are the test-only keys of tests/keys/.
//!
//! Verification runs before any storage is touched and is the same code on both backends, so these run on SQLite.

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::{Backend, STAFF_SCOPES, TestApp, assert_problem};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

fn keys_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/keys")
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn staff_claims() -> Value {
    json!({"sub": "ops-1", "scope": STAFF_SCOPES, "iss": "orderly", "aud": "orderly-api",
        "iat": now(), "exp": now() + 600})
}

/// Signs `claims` with tests/keys/<kid>.pem, naming `kid` in the header.
fn sign(kid: &str, alg: Algorithm, claims: &Value) -> String {
    let pem = std::fs::read(keys_dir().join(format!("{kid}.pem"))).unwrap();
    let key = match alg {
        Algorithm::RS256 => EncodingKey::from_rsa_pem(&pem),
        Algorithm::ES256 => EncodingKey::from_ec_pem(&pem),
        _ => EncodingKey::from_ed_pem(&pem),
    }
    .unwrap();
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

fn rsa(kid: &str) -> String {
    sign(kid, Algorithm::RS256, &staff_claims())
}

fn jwks(kids: &[&str]) -> String {
    let keys: Vec<Value> = kids
        .iter()
        .map(|k| serde_json::from_slice(&std::fs::read(keys_dir().join(format!("{k}.jwk.json"))).unwrap()).unwrap())
        .collect();
    json!({ "keys": keys }).to_string()
}

/// HS256 tokens of the default test secret, with any claims and header `typ`.
fn hs256(claims: &Value, typ: Option<&str>) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.typ = typ.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(common::SECRET.as_bytes())).unwrap()
}

async fn list(app: &TestApp, token: &str) -> reqwest::Response {
    app.client
        .get(format!("{}/v1/orders", app.api))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn status(app: &TestApp, token: &str) -> u16 {
    list(app, token).await.status().as_u16()
}

/// A JWKS endpoint whose document the test changes, counting the fetches.
struct IdentityProvider {
    url: String,
    document: Arc<Mutex<String>>,
    fetches: Arc<AtomicUsize>,
}

impl IdentityProvider {
    async fn start(initial: String) -> IdentityProvider {
        let document = Arc::new(Mutex::new(initial));
        let fetches = Arc::new(AtomicUsize::new(0));
        let (doc, count) = (document.clone(), fetches.clone());
        let router = axum::Router::new().route(
            "/.well-known/jwks.json",
            axum::routing::get(move || {
                let (doc, count) = (doc.clone(), count.clone());
                async move {
                    count.fetch_add(1, Ordering::SeqCst);
                    let body = doc.lock().unwrap().clone();
                    ([("content-type", "application/jwk-set+json")], body)
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/.well-known/jwks.json", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        IdentityProvider { url, document, fetches }
    }

    fn publish(&self, document: String) {
        *self.document.lock().unwrap() = document;
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jwks_url_key_rotation_old_and_new_overlap_then_only_the_new() {
    let idp = IdentityProvider::start(jwks(&["rsa-old", "ec", "ed"])).await;
    let url = idp.url.clone();
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.jwt_secret = None;
        c.jwt_jwks_url = Some(url);
        c.jwt_jwks_min_refresh_secs = 0;
    })
    .await
    .unwrap();
    assert_eq!(idp.fetches(), 1, "fetched once at startup");
    for (kid, alg) in [
        ("rsa-old", Algorithm::RS256),
        ("ec", Algorithm::ES256),
        ("ed", Algorithm::EdDSA),
    ] {
        assert_eq!(status(&app, &sign(kid, alg, &staff_claims())).await, 200, "{kid}");
    }
    assert_eq!(idp.fetches(), 1, "known kids are served from the cache");
    // The HS256 test secret is not configured any more: its tokens are refused.
    assert_problem(list(&app, &app.staff()).await, 401, "invalid_token").await;

    // The IdP publishes the new key next to the old one and starts signing with it: the unknown kid refreshes.
    idp.publish(jwks(&["rsa-old", "rsa-new"]));
    assert_eq!(status(&app, &rsa("rsa-new")).await, 200);
    assert_eq!(idp.fetches(), 2);
    assert_eq!(
        status(&app, &rsa("rsa-old")).await,
        200,
        "overlap: the old key is still good"
    );

    // The old key is withdrawn: after the next refresh (here forced by a token with a made-up kid) it is refused.
    idp.publish(jwks(&["rsa-new"]));
    assert_eq!(
        status(&app, &rsa("rsa-old")).await,
        200,
        "still cached until the set is reloaded"
    );
    let stranger = {
        let mut claims = staff_claims();
        claims["sub"] = json!("x");
        let pem = std::fs::read(keys_dir().join("rsa-old.pem")).unwrap();
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("made-up".into());
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_rsa_pem(&pem).unwrap()).unwrap()
    };
    let problem = assert_problem(list(&app, &stranger).await, 401, "invalid_token").await;
    assert!(problem["detail"].as_str().unwrap().contains("unknown key"), "{problem}");
    assert_eq!(idp.fetches(), 3);
    assert_problem(list(&app, &rsa("rsa-old")).await, 401, "invalid_token").await;
    assert_eq!(status(&app, &rsa("rsa-new")).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_kids_cannot_make_every_request_fetch_the_jwks() {
    let idp = IdentityProvider::start(jwks(&["rsa-old"])).await;
    let url = idp.url.clone();
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.jwt_secret = None;
        c.jwt_jwks_url = Some(url);
        c.jwt_jwks_min_refresh_secs = 3600;
    })
    .await
    .unwrap();
    idp.publish(jwks(&["rsa-old", "rsa-new"]));
    for _ in 0..20 {
        assert_problem(list(&app, &rsa("rsa-new")).await, 401, "invalid_token").await;
    }
    assert_eq!(
        idp.fetches(),
        1,
        "no refetch within jwt_jwks_min_refresh_secs of the last load"
    );
    assert_eq!(status(&app, &rsa("rsa-old")).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jwks_file_key_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("jwks.json");
    std::fs::write(&file, jwks(&["rsa-old"])).unwrap();
    let path = file.clone();
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.jwt_secret = None;
        c.jwt_jwks_file = Some(path);
        c.jwt_jwks_min_refresh_secs = 0;
    })
    .await
    .unwrap();
    assert_eq!(status(&app, &rsa("rsa-old")).await, 200);
    assert_problem(list(&app, &rsa("rsa-new")).await, 401, "invalid_token").await;
    std::fs::write(&file, jwks(&["rsa-old", "rsa-new"])).unwrap();
    assert_eq!(status(&app, &rsa("rsa-new")).await, 200);
    assert_eq!(status(&app, &rsa("rsa-old")).await, 200);
    std::fs::write(&file, jwks(&["rsa-new"])).unwrap();
    app.state.verifier.jwks().unwrap().refresh().await;
    assert_problem(list(&app, &rsa("rsa-old")).await, 401, "invalid_token").await;
    assert_eq!(status(&app, &rsa("rsa-new")).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_not_yet_valid_or_valid_too_long_are_refused() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let day = 86_400;
    let with = |patch: Value| {
        let mut claims = staff_claims();
        for (k, v) in patch.as_object().unwrap() {
            claims[k] = v.clone();
        }
        hs256(&claims, None)
    };
    assert_eq!(status(&app, &with(json!({}))).await, 200);
    for (what, patch) in [
        ("nbf a day ahead", json!({"nbf": now() + day})),
        (
            "iat a year ahead",
            json!({"iat": now() + 365 * day, "exp": now() + 365 * day + 600}),
        ),
        ("exp in 2100", json!({"exp": 4_102_444_800_i64})),
    ] {
        let problem = assert_problem(list(&app, &with(patch)).await, 401, "invalid_token").await;
        eprintln!("{what}: {}", problem["detail"]);
    }
    let mut no_iat = staff_claims();
    no_iat.as_object_mut().unwrap().remove("iat");
    no_iat["exp"] = json!(now() + 7200);
    assert_problem(list(&app, &hs256(&no_iat, None)).await, 401, "invalid_token").await;
    // `orderly token`'s default lifetime fits the cap.
    let minted = orderly::auth::mint(
        &app.db.config,
        "ops-1",
        STAFF_SCOPES,
        orderly::auth::default_ttl(&app.db.config),
    )
    .unwrap();
    assert_eq!(status(&app, &minted).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_audience_array_is_accepted_when_it_names_this_service() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let mut claims = staff_claims();
    claims["aud"] = json!(["https://billing.example.com", "orderly-api"]);
    assert_eq!(status(&app, &hs256(&claims, None)).await, 200);
    claims["aud"] = json!(["https://billing.example.com"]);
    assert_problem(list(&app, &hs256(&claims, None)).await, 401, "invalid_token").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typ_at_jwt_can_be_required() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.jwt_require_typ = true)
        .await
        .unwrap();
    let problem = assert_problem(
        list(&app, &hs256(&staff_claims(), Some("JWT"))).await,
        401,
        "invalid_token",
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("at+jwt"), "{problem}");
    assert_eq!(status(&app, &hs256(&staff_claims(), Some("at+jwt"))).await, 200);
    // What `orderly token` mints passes.
    assert_eq!(status(&app, &app.staff()).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_whose_jwks_cannot_be_read_does_not_start() {
    let Some(mut db) = common::fresh_db(Backend::Sqlite).await else {
        return;
    };
    db.config.jwt_jwks_file = Some(db.config.sqlite_path.with_file_name("missing-jwks.json"));
    let error = match orderly::server::Application::build(&db.config).await {
        Ok(_) => panic!("started without its JWKS"),
        Err(e) => format!("{e:#}"),
    };
    assert!(error.contains("cannot read the JWKS"), "{error}");
}

/// The binary itself, as a deployment starts it: production refuses weak secrets before doing anything else.
#[test]
fn the_binary_in_production_refuses_a_weak_secret_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let run = |secret: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_orderly"))
            .arg("migrate")
            .current_dir(dir.path())
            .env_clear()
            .env("ORDERLY_ENV", "production")
            .env("ORDERLY_SELLER_NAME", "Tokens Test Store")
            .env("ORDERLY_SELLER_VAT_NUMBER", "300000000000003")
            .env("ORDERLY_JWT_SECRET", secret)
            .output()
            .unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (ok, stderr) = run(&"a".repeat(32));
    assert!(!ok && stderr.contains("too little entropy"), "{stderr}");
    let (ok, stderr) = run("compose-only-secret-replace-me-0123456789");
    assert!(!ok && stderr.contains("development key"), "{stderr}");
    let (ok, stderr) = run(&hex::encode(rand::random::<[u8; 32]>()));
    assert!(ok, "a strong secret is accepted: {stderr}");
}
