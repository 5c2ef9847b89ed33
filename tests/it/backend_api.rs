//! The reference backend honours the contract: routes, validation, status codes,
//! error bodies, token rotation, rate limits.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::app::{spawn_app, spawn_app_with, unique_email};

const PASSWORD: &str = "Secret123";

#[tokio::test]
async fn health_and_detailed_health_report_both_stores() {
    let app = spawn_app().await;
    let r = app.get("/health", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["status"], "ok");
    let r = app.get("/health/detailed", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["database"]["status"], "up");
    assert_eq!(r.body["database"]["pool"]["max"], 25);
    assert_eq!(r.body["redis"]["status"], "up");
    assert_eq!(r.body["redis"]["maxmemory_bytes"], 512 * 1024 * 1024);
}

#[tokio::test]
async fn register_returns_tokens_and_stores_a_cost_10_hash() {
    let app = spawn_app().await;
    let email = unique_email();
    let body = app.register(&email, PASSWORD).await;
    assert!(body["access_token"].as_str().unwrap().split('.').count() == 3);
    assert!(body["refresh_token"].is_string());
    assert_eq!(body["user"]["email"], email.as_str());
    assert_eq!(body["user"]["role"], "customer");
    assert_eq!(body["user"]["is_email_verified"], false);
    let hash = app.user_column(&email, "password_hash").await.unwrap();
    assert!(hash.starts_with("$2b$10$"), "{hash}");
}

#[tokio::test]
async fn a_taken_email_is_a_409() {
    let app = spawn_app().await;
    let email = unique_email();
    app.register(&email, PASSWORD).await;
    let r = app
        .post(
            "/api/v1/auth/register",
            json!({"email": email.to_uppercase(), "password": PASSWORD, "name": "Again", "role": "customer"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body["error"].as_str().unwrap().contains("already registered"));
}

#[tokio::test]
async fn invalid_registrations_are_400_with_an_error_body() {
    let app = spawn_app().await;
    let valid = json!({"email": "ok@example.com", "password": PASSWORD, "name": "Al", "role": "customer"});
    let cases = [
        ("email", json!("not-an-email")),
        ("password", json!("short1A")),
        ("password", json!("nodigitsHere")),
        ("name", json!("A")),
        ("role", json!("admin")),
        ("email", json!(null)),
    ];
    for (field, value) in cases {
        let mut body = valid.clone();
        body[field] = value.clone();
        let r = app.post("/api/v1/auth/register", body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{field}={value}");
        assert!(
            r.body["error"].as_str().unwrap().contains(field),
            "{field}: {}",
            r.body
        );
    }
    let mut unknown = valid.clone();
    unknown["nickname"] = json!("x");
    assert_eq!(
        app.post("/api/v1/auth/register", unknown).await.status,
        StatusCode::BAD_REQUEST
    );
    for (body, content_type) in [
        ("{not json", "application/json"),
        ("{}", "text/plain"),
        ("[1,2]", "application/json"),
    ] {
        let r = app.post_raw("/api/v1/auth/register", body, content_type).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body} as {content_type}");
        assert!(r.body["error"].is_string(), "{}", r.body);
    }
}

#[tokio::test]
async fn login_accepts_the_right_password_only() {
    let app = spawn_app().await;
    let email = unique_email();
    app.register(&email, PASSWORD).await;
    let ok = app
        .post(
            "/api/v1/auth/login",
            json!({"email": email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert!(ok.body["access_token"].is_string());
    let wrong = app
        .post(
            "/api/v1/auth/login",
            json!({"email": email, "password": "Wrong1234"}),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let unknown = app
        .post(
            "/api/v1/auth/login",
            json!({"email": unique_email(), "password": PASSWORD}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.body, wrong.body, "no account enumeration");
    let missing = app.post("/api/v1/auth/login", json!({"email": email})).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn me_needs_a_valid_access_token() {
    let app = spawn_app().await;
    let email = unique_email();
    let auth = app.register(&email, PASSWORD).await;
    let me = app.get("/api/v1/auth/me", auth["access_token"].as_str()).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["email"], email.as_str());
    assert_eq!(me.body["name"], "Test User");
    assert_eq!(me.body["id"], auth["user"]["id"]);
    assert_eq!(
        app.get("/api/v1/auth/me", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let refresh_as_access = app.get("/api/v1/auth/me", auth["refresh_token"].as_str()).await;
    assert_eq!(refresh_as_access.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get("/api/v1/auth/me", Some("a.b.c")).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn refresh_tokens_rotate_and_work_once() {
    let app = spawn_app().await;
    let auth = app.register(&unique_email(), PASSWORD).await;
    let first = auth["refresh_token"].clone();
    let rotated = app
        .post("/api/v1/auth/refresh", json!({"refresh_token": first}))
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    assert_ne!(rotated.body["refresh_token"], first);
    assert_eq!(
        app.get("/api/v1/auth/me", rotated.body["access_token"].as_str())
            .await
            .status,
        StatusCode::OK
    );
    let reused = app
        .post("/api/v1/auth/refresh", json!({"refresh_token": first}))
        .await;
    assert_eq!(reused.status, StatusCode::UNAUTHORIZED);
    let next = app
        .post(
            "/api/v1/auth/refresh",
            json!({"refresh_token": rotated.body["refresh_token"]}),
        )
        .await;
    assert_eq!(next.status, StatusCode::OK);
    let access_as_refresh = app
        .post(
            "/api/v1/auth/refresh",
            json!({"refresh_token": auth["access_token"]}),
        )
        .await;
    assert_eq!(access_as_refresh.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.post("/api/v1/auth/refresh", json!({})).await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn email_verification_uses_the_stored_token_once() {
    let app = spawn_app().await;
    let email = unique_email();
    let auth = app.register(&email, PASSWORD).await;
    let token = app
        .user_column(&email, "email_verify_token")
        .await
        .expect("a token was stored");
    let r = app
        .post("/api/v1/auth/verify-email", json!({"token": token}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let me = app.get("/api/v1/auth/me", auth["access_token"].as_str()).await;
    assert_eq!(me.body["is_email_verified"], true);
    let again = app
        .post("/api/v1/auth/verify-email", json!({"token": token}))
        .await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.post("/api/v1/auth/verify-email", json!({})).await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn password_reset_replaces_the_password() {
    let app = spawn_app().await;
    let email = unique_email();
    app.register(&email, PASSWORD).await;
    let unknown = app
        .post("/api/v1/auth/forgot-password", json!({"email": unique_email()}))
        .await;
    let known = app
        .post("/api/v1/auth/forgot-password", json!({"email": email}))
        .await;
    assert_eq!((unknown.status, known.status), (StatusCode::OK, StatusCode::OK));
    assert_eq!(unknown.body, known.body, "no account enumeration");
    let bad = app
        .post("/api/v1/auth/forgot-password", json!({"email": "nope"}))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let token = app
        .user_column(&email, "password_reset_token")
        .await
        .expect("a reset token was stored");
    let weak = app
        .post(
            "/api/v1/auth/reset-password",
            json!({"token": token, "password": "weak"}),
        )
        .await;
    assert_eq!(weak.status, StatusCode::BAD_REQUEST);
    let r = app
        .post(
            "/api/v1/auth/reset-password",
            json!({"token": token, "password": "NewSecret456"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let old = app
        .post(
            "/api/v1/auth/login",
            json!({"email": email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let new = app
        .post(
            "/api/v1/auth/login",
            json!({"email": email, "password": "NewSecret456"}),
        )
        .await;
    assert_eq!(new.status, StatusCode::OK);
    let reused = app
        .post(
            "/api/v1/auth/reset-password",
            json!({"token": token, "password": "Other789xyz"}),
        )
        .await;
    assert_eq!(reused.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_eleventh_auth_request_in_a_minute_is_429_per_client() {
    let app = spawn_app_with(&[
        ("RATE_LIMIT_ENABLED", "true"),
        ("RATE_LIMIT_AUTH_PER_MINUTE", "10"),
    ])
    .await;
    let client = format!("198.51.100.{}", rand_octet());
    let body = json!({"email": "nobody@example.com"});
    for n in 1..=10u64 {
        let r = app
            .post_from("/api/v1/auth/forgot-password", body.clone(), Some(&client))
            .await;
        assert_eq!(r.status, StatusCode::OK, "request {n}");
        assert_eq!(r.headers["x-ratelimit-limit"], "10");
        assert_eq!(r.headers["x-ratelimit-remaining"], (10 - n).to_string().as_str());
    }
    let limited = app
        .post_from("/api/v1/auth/forgot-password", body.clone(), Some(&client))
        .await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        limited.body,
        json!({"error": "Rate limit exceeded. Please try again later."})
    );
    assert_eq!(limited.headers["x-ratelimit-remaining"], "0");
    let reset: u64 = limited.headers["x-ratelimit-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let now = chrono_now();
    assert!(reset > now && reset <= now + 60, "reset {reset} vs now {now}");
    let other = app
        .post_from("/api/v1/auth/forgot-password", body, Some("203.0.113.9"))
        .await;
    assert_eq!(other.status, StatusCode::OK, "another client has its own budget");
}

#[tokio::test]
async fn rate_limits_are_off_by_default() {
    let app = spawn_app().await;
    for _ in 0..15 {
        let r = app
            .post(
                "/api/v1/auth/forgot-password",
                json!({"email": "nobody@example.com"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.headers.get("x-ratelimit-limit").is_none());
    }
}

#[tokio::test]
async fn requests_carry_an_id_and_unknown_routes_are_json_404s() {
    let app = spawn_app().await;
    let r = app.get("/health", None).await;
    let id = r.headers["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 36, "a uuid: {id}");
    let r = app.get("/api/v1/nowhere", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body["error"].is_string());
}

fn rand_octet() -> u8 {
    (uuid::Uuid::new_v4().as_bytes()[0] % 250) + 1
}

fn chrono_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}
