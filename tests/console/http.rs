//! The console over plain HTTP, on both backends: the security headers of every kind of answer, no script, page
//! weight for an order with 50 events, the session cookie's flags, CSRF and scopes enforced on posts, metrics by
//! route template.

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, SET_COOKIE};
use serde_json::json;

use crate::common::TestApp;
use crate::support::{SKU, api_order, form_fields, hidden, seed};

crate::on_both_backends!(
    every_console_answer_carries_the_security_headers_and_pages_stay_light,
    the_session_cookie_is_http_only_strict_and_secure_off_loopback,
    posts_need_the_session_s_csrf_token_and_the_api_s_scopes,
    the_same_rendered_form_posted_twice_applies_once,
);

fn assert_secure_headers(headers: &HeaderMap, what: &str) {
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{what}: {csp}"
    );
    assert!(
        csp.contains("script-src 'none'") && !csp.contains("unsafe-inline"),
        "{what}: {csp}"
    );
    assert_eq!(headers["x-frame-options"], "DENY", "{what}");
    assert_eq!(headers["referrer-policy"], "no-referrer", "{what}");
    assert_eq!(headers["x-content-type-options"], "nosniff", "{what}");
}

pub async fn get(app: &TestApp, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(format!("{}{path}", app.api));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

async fn every_console_answer_carries_the_security_headers_and_pages_stay_light(app: TestApp) {
    let order = seed(&app).await;
    let id = order["id"].as_str().unwrap().to_owned();
    // 50 events: authorised (and confirmed), then captured a fils at a time.
    let mut current = app
        .step(
            &order,
            "payment/authorize",
            Some(json!({"amount_minor": 3705, "provider_ref": "psp-1"})),
        )
        .await;
    while current["version"].as_i64().unwrap() < 50 {
        current = app
            .step(&current, "payment/capture", Some(json!({"amount_minor": 1})))
            .await;
    }
    let staff = app.staff();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for (path, token, status) in [
        ("/console/sign-in", None, 200),
        ("/console/orders", None, 303),
        ("/console/orders", Some(staff.as_str()), 200),
        (&*format!("/console/orders/{id}"), Some(staff.as_str()), 200),
        (
            "/console/orders?q=%D9%81%D8%A7%D8%B7%D9%85%D8%A9",
            Some(staff.as_str()),
            200,
        ),
        ("/console/products", Some(staff.as_str()), 200),
        (&*format!("/console/products/{SKU}"), Some(staff.as_str()), 200),
        ("/console/assets/console.css", None, 200),
        ("/console/orders", Some(app.customer("cust-42").as_str()), 403),
        (
            &*format!("/console/orders/{}", uuid::Uuid::now_v7()),
            Some(staff.as_str()),
            404,
        ),
        ("/console/no-such-page", Some(staff.as_str()), 404),
    ] {
        let mut request = client.get(format!("{}{path}", app.api));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{path}");
        assert_secure_headers(response.headers(), path);
        assert!(
            response.headers().contains_key("x-request-id"),
            "{path}: through the API's pipeline"
        );
        let body = response.text().await.unwrap();
        assert!(body.len() < 100 * 1024, "{path} weighs {} bytes", body.len());
        assert!(!body.to_ascii_lowercase().contains("<script"), "{path} has a script");
        assert!(
            !body.contains("http://") && !body.contains("https://"),
            "{path} refers elsewhere"
        );
    }
    let page = get(&app, &format!("/console/orders/{id}"), Some(&staff))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(page.matches("class=\"event\"").count(), 50);
    // The language switch shows the same page, filters kept, in the other language.
    let list = get(&app, "/console/orders?status=open&lang=en", Some(&staff))
        .await
        .text()
        .await
        .unwrap()
        .replace("&#x2f;", "/");
    assert!(
        list.contains("id=\"lang-switch\" href=\"/console/orders?status=open&amp;lang=ar\""),
        "{list}"
    );
    assert!(page.contains("dir=\"auto\" id=\"ship-to-name\""));
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("route=\"/console/orders/{id}\""),
        "console pages are measured by template"
    );
}

/// Signs in with the development button over HTTP; returns the `Set-Cookie` values of the answer.
pub async fn dev_sign_in(app: &TestApp, host: Option<&str>) -> (StatusCode, Vec<String>) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let with_host = |r: reqwest::RequestBuilder| match host {
        Some(h) => r.header("host", h),
        None => r,
    };
    let page = with_host(client.get(format!("{}/console/sign-in", app.api)))
        .send()
        .await
        .unwrap();
    let pre = page.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = hidden(&page.text().await.unwrap(), "csrf");
    let response = with_host(client.post(format!("{}/console/sign-in/dev", app.api)))
        .header("cookie", pre)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    let cookies = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    (response.status(), cookies)
}

async fn the_session_cookie_is_http_only_strict_and_secure_off_loopback(app: TestApp) {
    let (status, cookies) = dev_sign_in(&app, None).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let session = cookies
        .iter()
        .find(|c| c.starts_with("orderly_console="))
        .expect("session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Strict"),
        "{session}"
    );
    assert!(!session.contains("Secure"), "plain loopback in development: {session}");
    let (_, cookies) = dev_sign_in(&app, Some("console.example.com")).await;
    let session = cookies
        .iter()
        .find(|c| c.starts_with("orderly_console="))
        .expect("session cookie");
    assert!(session.contains("; Secure"), "{session}");
    // A sign-in form posted without its token starts no session.
    let response = app
        .client
        .post(format!("{}/console/sign-in/dev", app.api))
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

async fn posts_need_the_session_s_csrf_token_and_the_api_s_scopes(app: TestApp) {
    let order = seed(&app).await;
    let id = order["id"].as_str().unwrap().to_owned();
    let staff = app.staff();
    let page = get(&app, &format!("/console/orders/{id}"), Some(&staff))
        .await
        .text()
        .await
        .unwrap();
    let (csrf, key, version) = form_fields(&page, "form-cancel");
    let url = format!("{}/console/orders/{id}/cancel", app.api);
    for (what, form) in [
        ("no token", vec![("key", key.as_str()), ("version", version.as_str())]),
        (
            "another session's token",
            vec![("csrf", "0".repeat(64).as_str()), ("key", &key), ("version", &version)],
        ),
    ] {
        let response = app
            .client
            .post(&url)
            .bearer_auth(&staff)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{what}");
    }
    // A read-only token sees no action and is refused if it posts one anyway.
    let reader = app.token("auditor-1", "orders:read");
    let page = get(&app, &format!("/console/orders/{id}"), Some(&reader))
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains("class=\"card action"), "no action forms");
    let reader_csrf = hidden(&page, "csrf");
    let form = [
        ("csrf", reader_csrf.as_str()),
        ("key", key.as_str()),
        ("version", version.as_str()),
    ];
    let response = app
        .client
        .post(&url)
        .bearer_auth(&reader)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // A customer is refused outright.
    let response = app
        .client
        .post(&url)
        .bearer_auth(app.customer("cust-42"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let api = api_order(&app, &id).await;
    assert_eq!(
        (api["status"]["order"].as_str(), &api["version"]),
        (Some("open"), &order["version"])
    );
    // With the session's token the same form is applied.
    let form = [
        ("csrf", csrf.as_str()),
        ("key", key.as_str()),
        ("version", version.as_str()),
    ];
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client.post(&url).bearer_auth(&staff).form(&form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(api_order(&app, &id).await["status"]["order"], "cancelled");
}

async fn the_same_rendered_form_posted_twice_applies_once(app: TestApp) {
    let order = seed(&app).await;
    let id = order["id"].as_str().unwrap().to_owned();
    let order = app
        .step(
            &order,
            "payment/authorize",
            Some(json!({"amount_minor": 3705, "provider_ref": "psp-1"})),
        )
        .await;
    app.step(&order, "payment/capture", Some(json!({"amount_minor": 3705})))
        .await;
    let staff = app.staff();
    let page = get(&app, &format!("/console/orders/{id}"), Some(&staff))
        .await
        .text()
        .await
        .unwrap();
    let (csrf, key, version) = form_fields(&page, "form-refund");
    let form = [
        ("csrf", csrf.as_str()),
        ("key", &key),
        ("version", &version),
        ("amount", "0.500"),
    ];
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = format!("{}/console/orders/{id}/refund", app.api);
    let (a, b) = tokio::join!(
        client.post(&url).bearer_auth(&staff).form(&form).send(),
        client.post(&url).bearer_auth(&staff).form(&form).send()
    );
    for r in [a.unwrap(), b.unwrap()] {
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    let api = api_order(&app, &id).await;
    assert_eq!(api["refunds"].as_array().unwrap().len(), 1);
    assert_eq!(api["payment"]["refunded"]["amount_minor"], 500);
    // The API, asked with the same key and body by the same principal, replays the console's outcome.
    let replay = app
        .command(
            &staff,
            &id,
            "refunds",
            version.parse().unwrap(),
            &key,
            Some(json!({"amount_minor": 500})),
        )
        .await;
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    // An amount with more decimals than the currency has is shown next to the amount field.
    let page = get(&app, &format!("/console/orders/{id}"), Some(&staff))
        .await
        .text()
        .await
        .unwrap();
    let (csrf, key, version) = form_fields(&page, "form-refund");
    let form = [
        ("csrf", csrf.as_str()),
        ("key", &key),
        ("version", &version),
        ("amount", "9.9999"),
    ];
    let response = client.post(&url).bearer_auth(&staff).form(&form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("id=\"refund-amount-error\""));
    let form = [
        ("csrf", csrf.as_str()),
        ("key", &key),
        ("version", &version),
        ("amount", "9.000"),
    ];
    let response = client.post(&url).bearer_auth(&staff).form(&form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.text().await.unwrap();
    assert!(
        body.contains("id=\"refund-amount-error\"") || body.contains("id=\"problem\""),
        "{body}"
    );
    // The answer to a form switches language to the order's page (the form's own URL takes only POST).
    let body = body.replace("&#x2f;", "/");
    assert!(
        body.contains(&format!("id=\"lang-switch\" href=\"/console/orders/{id}?lang=ar\"")),
        "{body}"
    );
}
