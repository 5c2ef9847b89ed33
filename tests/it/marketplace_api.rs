//! The reference backend's marketplace routes: search by location and filters,
//! caching, booking, rate limits, and that search uses its indexes at seeded size.

use std::collections::HashMap;

use karigar_perf::seed::{customer_email, seed, SeedSize, SEEDED_PASSWORD};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::app::{spawn_app, spawn_app_with, unique_email, TestApp};

const BENGALURU: &str = "lat=12.9716&lng=77.5946";

async fn seeded(app: &TestApp, providers: usize) {
    let pool = sqlx::PgPool::connect(&app.database_url).await.unwrap();
    let size = SeedSize {
        providers,
        services_per_provider: 3,
        customers: 5,
    };
    seed(&pool, size).await.expect("seeding works");
    pool.close().await;
}

fn services(body: &Value) -> &Vec<Value> {
    body["services"].as_array().expect("a services array")
}

#[tokio::test]
async fn services_near_a_point_come_nearest_first_within_the_radius() {
    let app = spawn_app().await;
    seeded(&app, 500).await;
    let r = app
        .get(&format!("/api/v1/services?{BENGALURU}&radius=5&limit=50"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let found = services(&r.body);
    assert!(!found.is_empty(), "providers are seeded around Bengaluru");
    let distances: Vec<f64> = found
        .iter()
        .map(|s| s["provider"]["distance_km"].as_f64().unwrap())
        .collect();
    assert!(distances.iter().all(|d| *d <= 5.0), "{distances:?}");
    assert!(
        distances.windows(2).all(|w| w[0] <= w[1]),
        "nearest first: {distances:?}"
    );
    let first = &found[0];
    for field in [
        "id",
        "business_name",
        "rating",
        "total_reviews",
        "address",
        "latitude",
        "longitude",
    ] {
        assert!(
            !first["provider"][field].is_null(),
            "provider.{field} missing: {first}"
        );
    }
    assert!(r.body["total"].as_i64().unwrap() >= found.len() as i64);
    assert_eq!(
        (r.body["limit"].as_i64(), r.body["offset"].as_i64()),
        (Some(50), Some(0))
    );
}

#[tokio::test]
async fn filters_and_pages_hold() {
    let app = spawn_app().await;
    seeded(&app, 300).await;
    let r = app
        .get(
            "/api/v1/services?category=plumbing&min_price=300&max_price=900&min_rating=3",
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    for s in services(&r.body) {
        assert_eq!(s["category"], "plumbing");
        let price = s["price"].as_f64().unwrap();
        assert!((300.0..=900.0).contains(&price), "{price}");
        assert!(s["provider"]["rating"].as_f64().unwrap() >= 3.0);
    }
    let first = app.get("/api/v1/services?limit=10&offset=0", None).await;
    let second = app.get("/api/v1/services?limit=10&offset=10", None).await;
    let ids = |r: &Value| {
        services(r)
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let (a, b) = (ids(&first.body), ids(&second.body));
    assert_eq!((a.len(), b.len()), (10, 10));
    assert!(a.iter().all(|id| !b.contains(id)), "pages do not overlap");
    assert_eq!(first.body["total"], second.body["total"]);
    assert_eq!(first.body["total"], 900, "300 providers x 3 services");
    let past_the_end = app.get("/api/v1/services?limit=10&offset=5000", None).await;
    assert!(services(&past_the_end.body).is_empty());
    assert_eq!(
        past_the_end.body["total"], 900,
        "the total holds past the last page"
    );
}

#[tokio::test]
async fn providers_need_a_location_and_bad_searches_are_400() {
    let app = spawn_app().await;
    seeded(&app, 50).await;
    let r = app
        .get(
            &format!("/api/v1/providers?{BENGALURU}&radius=20&category=tutoring"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body["providers"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["distance_km"].as_f64().unwrap() <= 20.0));
    for bad in [
        "/api/v1/providers",
        "/api/v1/services?category=gardening",
        "/api/v1/services?lat=12.9",
        "/api/v1/services?limit=0",
        "/api/v1/services?min_price=10&max_price=5",
    ] {
        let r = app.get(bad, None).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(r.body["error"].is_string(), "{bad}: {}", r.body);
    }
}

#[tokio::test]
async fn repeated_searches_are_answered_from_the_cache() {
    let app = spawn_app().await;
    seeded(&app, 50).await;
    let cache = |body: &Value| {
        (
            body["cache"]["hits"].as_u64().unwrap(),
            body["cache"]["misses"].as_u64().unwrap(),
        )
    };
    let before = cache(&app.get("/health/detailed", None).await.body);
    let query = format!("/api/v1/services?{BENGALURU}&radius=7&category=cleaning");
    let first = app.get(&query, None).await;
    let second = app.get(&query, None).await;
    assert_eq!(first.body, second.body);
    let after = cache(&app.get("/health/detailed", None).await.body);
    assert_eq!(
        (after.0 - before.0, after.1 - before.1),
        (1, 1),
        "one miss, then one hit"
    );
}

#[tokio::test]
async fn customers_book_services_and_see_their_requests() {
    let app = spawn_app().await;
    seeded(&app, 20).await;
    let customer = app.register(&unique_email(), "Secret123").await;
    let token = customer["access_token"].as_str().unwrap();
    let service = services(&app.get("/api/v1/services?limit=1", None).await.body)[0].clone();
    let booking = json!({
        "service_id": service["id"], "requested_date": "2030-01-15T10:00:00Z",
        "address": "12 MG Road, Bengaluru", "notes": "ring twice"
    });
    let r = app
        .post_authed("/api/v1/requests", booking.clone(), Some(token))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["status"], "requested");
    assert_eq!(r.body["provider_id"], service["provider"]["id"]);
    let mine = app.get("/api/v1/customers/requests", Some(token)).await;
    assert_eq!(mine.status, StatusCode::OK);
    assert_eq!(mine.body["total"], 1);
    assert_eq!(mine.body["requests"][0]["id"], r.body["id"]);
    let confirmed = app
        .get("/api/v1/customers/requests?status=confirmed", Some(token))
        .await;
    assert_eq!(confirmed.body["total"], 0);

    let provider = app
        .post("/api/v1/auth/register", json!({"email": unique_email(), "password": "Secret123", "name": "Pro Plumbers", "role": "service_provider"}))
        .await;
    let r = app
        .post_authed(
            "/api/v1/requests",
            booking.clone(),
            provider.body["access_token"].as_str(),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let mut unknown = booking.clone();
    unknown["service_id"] = json!(uuid::Uuid::new_v4());
    assert_eq!(
        app.post_authed("/api/v1/requests", unknown, Some(token))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let mut homeless = booking.clone();
    homeless["address"] = json!("");
    assert_eq!(
        app.post_authed("/api/v1/requests", homeless, Some(token))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.post_authed("/api/v1/requests", booking, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/api/v1/customers/requests", None).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn seeded_customers_log_in_with_the_seeded_password() {
    let app = spawn_app().await;
    seeded(&app, 5).await;
    let r = app
        .post(
            "/api/v1/auth/login",
            json!({"email": customer_email(3), "password": SEEDED_PASSWORD}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["user"]["role"], "customer");
}

#[tokio::test]
async fn search_and_api_limits_count_per_client_and_per_user() {
    let app = spawn_app_with(&[
        ("RATE_LIMIT_ENABLED", "true"),
        ("RATE_LIMIT_SEARCH_PER_MINUTE", "3"),
        ("RATE_LIMIT_API_PER_MINUTE", "2"),
    ])
    .await;
    for n in 1..=3 {
        assert_eq!(
            app.get("/api/v1/services", None).await.status,
            StatusCode::OK,
            "search {n}"
        );
    }
    let limited = app.get("/api/v1/services", None).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers["x-ratelimit-limit"], "3");
    let (a, b) = (
        app.register(&unique_email(), "Secret123").await,
        app.register(&unique_email(), "Secret123").await,
    );
    let (a, b) = (
        a["access_token"].as_str().unwrap(),
        b["access_token"].as_str().unwrap(),
    );
    let mine = "/api/v1/customers/requests";
    assert_eq!(app.get(mine, Some(a)).await.status, StatusCode::OK);
    assert_eq!(app.get(mine, Some(a)).await.status, StatusCode::OK);
    assert_eq!(
        app.get(mine, Some(a)).await.status,
        StatusCode::TOO_MANY_REQUESTS,
        "user a spent its 2"
    );
    assert_eq!(
        app.get(mine, Some(b)).await.status,
        StatusCode::OK,
        "user b has its own budget"
    );
}

#[tokio::test]
async fn location_search_uses_the_location_index_at_seeded_size() {
    let app = spawn_app().await;
    seeded(&app, 10_000).await;
    let pool = sqlx::PgPool::connect(&app.database_url).await.unwrap();
    let query: HashMap<String, String> = [("lat", "12.9716"), ("lng", "77.5946"), ("radius", "5")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let plan = karigar_backend::marketplace::explain_services(&pool, &query)
        .await
        .unwrap();
    assert!(
        plan.contains("service_providers_location_idx"),
        "the location search scans instead:\n{plan}"
    );
    assert!(
        plan.contains("services_provider_idx"),
        "services are found by provider:\n{plan}"
    );
}
