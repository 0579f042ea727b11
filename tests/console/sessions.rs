//! Cookie sessions as a browser holds them, which is what a forged cross-site post rides on: every POST route
//! refuses a form without the session's CSRF token or with another one, and changes nothing; the development
//! sign-in serves a browser on the same machine only, and production has none.

use reqwest::StatusCode;
use reqwest::header::SET_COOKIE;

use crate::common::{Backend, TestApp};
use crate::http::dev_sign_in;
use crate::support::{SKU, api_order, hidden, seed};

crate::on_both_backends!(a_cookie_session_s_posts_need_its_own_csrf_token,);

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The `name=value` part of the session cookie among `cookies`.
fn session_cookie(cookies: &[String]) -> String {
    cookies
        .iter()
        .find(|c| c.starts_with("orderly_console="))
        .and_then(|c| c.split(';').next())
        .expect("session cookie")
        .to_owned()
}

async fn a_cookie_session_s_posts_need_its_own_csrf_token(app: TestApp) {
    let order = seed(&app).await;
    let id = order["id"].as_str().unwrap().to_owned();
    let (status, cookies) = dev_sign_in(&app, None).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let session = session_cookie(&cookies);
    let client = no_redirects();
    let page = client
        .get(format!("{}/console/orders/{id}", app.api))
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden(&page, "csrf");
    let key = hidden(&page, "key");
    let version = hidden(&page, "version");
    // Another staff member's token, as the console gave it to them.
    let other_page = client
        .get(format!("{}/console/orders/{id}", app.api))
        .bearer_auth(app.token("ops-2", "orders:read orders:write catalog:write stock:write"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let other_csrf = hidden(&other_page, "csrf");
    let posts = [
        (
            format!("/console/orders/{id}/cancel"),
            vec![("key", key.as_str()), ("version", version.as_str())],
        ),
        (
            format!("/console/products/{SKU}"),
            vec![("name_en", "Renamed"), ("name_ar", "عود")],
        ),
        (format!("/console/products/{SKU}/stock"), vec![("on_hand", "7")]),
        ("/console/sign-out".to_owned(), vec![]),
    ];
    for (path, fields) in &posts {
        for csrf in [None, Some("forged"), Some(other_csrf.as_str())] {
            let mut form = fields.clone();
            if let Some(c) = csrf {
                form.push(("csrf", c));
            }
            let response = client
                .post(format!("{}{path}", app.api))
                .header("cookie", &session)
                .form(&form)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path} with csrf {csrf:?}");
            assert!(
                !response
                    .headers()
                    .get_all(SET_COOKIE)
                    .iter()
                    .any(|c| c.to_str().unwrap().starts_with("orderly_console=;")),
                "{path}: a refused sign-out ends no session"
            );
        }
    }
    let api = api_order(&app, &id).await;
    assert_eq!(api["status"]["order"], "open", "nothing was cancelled");
    assert_eq!(app.stock(SKU).await["on_hand"], 50, "stock untouched");
    // With its own token the same post goes through: the refusals above were the token's doing.
    let response = client
        .post(format!("{}/console/orders/{id}/cancel", app.api))
        .header("cookie", &session)
        .form(&[("csrf", csrf.as_str()), ("key", &key), ("version", &version)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(api_order(&app, &id).await["status"]["order"], "cancelled");
}

/// An address of this machine other than loopback, if it has one (none is needed on the wire: UDP `connect` only
/// picks the route).
fn outward_address() -> Option<std::net::IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("10.255.255.255:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_development_sign_in_serves_this_machine_only_and_production_has_none() {
    let Some(ip) = outward_address() else {
        eprintln!("SKIPPED: this machine has no address but loopback");
        return;
    };
    let Some(app) = TestApp::spawn_with(Backend::Sqlite, |c| c.listen = "0.0.0.0:0".parse().unwrap()).await else {
        return;
    };
    let port = app.api.rsplit(':').next().unwrap().to_owned();
    let client = no_redirects();
    let from_afar = format!("http://{ip}:{port}");
    let page = client.get(format!("{from_afar}/console/sign-in")).send().await.unwrap();
    let pre = page.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("/console/sign-in/dev"),
        "no development button for a client elsewhere"
    );
    let csrf = hidden(&html, "csrf");
    let response = client
        .post(format!("{from_afar}/console/sign-in/dev"))
        .header("cookie", &pre)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(response.headers().get(SET_COOKIE).is_none(), "no session");
    // The same server, asked from this machine, offers it (development).
    let (status, _) = dev_sign_in(&app, None).await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    // Production: no button and no development sign-in, even from this machine.
    let Some(prod) = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.env = orderly::config::Environment::Production;
        c.seller_name = Some("Console Test Store".into());
        c.seller_vat_number = Some("300000000000003".into());
        c.jwt_secret = Some(secrecy::SecretString::from("k7Qw9Zp2Lx4Vb8Nm1Rt6Yc3Hf5Jd0SgE4uW"));
    })
    .await
    else {
        return;
    };
    let html = client
        .get(format!("{}/console/sign-in", prod.api))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("/console/sign-in/dev"));
    let (status, cookies) = dev_sign_in(&prod, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!cookies.iter().any(|c| c.starts_with("orderly_console=")));
}
