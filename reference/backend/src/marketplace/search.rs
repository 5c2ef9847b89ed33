//! `GET /services` and `GET /providers`: filtered, located, paginated, and cached in
//! Redis (the seed's "query result caching") for a short TTL.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use axum::extract::{Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use redis::AsyncCommands;
use serde_json::{json, Value};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};

use super::params::Search;
use crate::error::ApiError;
use crate::state::AppState;

/// Kilometres per degree of latitude.
const KM_PER_DEGREE: f64 = 111.32;

pub async fn services(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let search = Search::parse(&query)?;
    cached(&state, "services", &search, |state, search| {
        Box::pin(find_services(state, search))
    })
    .await
}

pub async fn providers(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let search = Search::parse(&query)?;
    if search.near.is_none() {
        return Err(ApiError::BadRequest("lat and lng are required".into()));
    }
    cached(&state, "providers", &search, |state, search| {
        Box::pin(find_providers(state, search))
    })
    .await
}

type Finder = for<'a> fn(
    &'a AppState,
    &'a Search,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<Value, ApiError>> + Send + 'a>,
>;

/// Answers from the cache when it can, else runs `find` and caches its answer.
async fn cached(state: &AppState, kind: &str, search: &Search, find: Finder) -> Result<Response, ApiError> {
    let key = format!("cache:{kind}:{}", search.canonical());
    let mut redis = state.redis.clone();
    if let Ok(Some(body)) = redis.get::<_, Option<String>>(&key).await {
        state.cache.hits.fetch_add(1, Ordering::Relaxed);
        return Ok(([(CONTENT_TYPE, "application/json")], body).into_response());
    }
    state.cache.misses.fetch_add(1, Ordering::Relaxed);
    let body = find(state, search).await?.to_string();
    let ttl = state.settings.search_cache_ttl.as_secs();
    if ttl > 0 {
        // A cache that cannot be written only costs the next request a query.
        let _: Result<(), _> = redis.set_ex(&key, &body, ttl).await;
    }
    Ok(([(CONTENT_TYPE, "application/json")], body).into_response())
}

async fn find_services(state: &AppState, search: &Search) -> Result<Value, ApiError> {
    let rows = services_query("", search).build().fetch_all(&state.db).await?;
    let services: Vec<Value> = rows.iter().map(service_json).collect::<Result<_, _>>()?;
    let total = total(state, &rows, search, services_query).await?;
    Ok(page("services", services, total, search))
}

/// The plan Postgres picks for a `GET /services` search with these query parameters:
/// the very query the route runs, with `EXPLAIN` in front.
pub async fn explain_services(
    db: &sqlx::PgPool,
    query: &HashMap<String, String>,
) -> Result<String, ApiError> {
    let search = Search::parse(query)?;
    let rows = services_query("EXPLAIN ", &search).build().fetch_all(db).await?;
    let lines: Vec<String> = rows
        .iter()
        .map(|r| r.try_get::<String, _>(0))
        .collect::<Result<_, _>>()?;
    Ok(lines.join("\n"))
}

fn services_query<'a>(prefix: &str, search: &'a Search) -> QueryBuilder<'a, Postgres> {
    let mut q = QueryBuilder::<Postgres>::new(prefix);
    q.push(
        "SELECT s.id, s.category, s.name, s.description, s.price::float8 AS price, s.duration_minutes, \
         p.id AS provider_id, p.business_name, p.rating::float8 AS rating, p.total_reviews, p.address, \
                  p.latitude, p.longitude, ",
    );
    push_distance(&mut q, search.near);
    q.push(
        " AS distance_km, count(*) OVER () AS total FROM services s JOIN service_providers p ON p.id = s.provider_id \
         WHERE s.is_active AND p.is_active",
    );
    if let Some(category) = &search.category {
        q.push(" AND s.category = ").push_bind(category.clone());
    }
    push_location_filter(&mut q, search);
    if let Some(rating) = search.min_rating {
        q.push(" AND p.rating >= ").push_bind(rating);
    }
    if let Some(min) = search.min_price {
        q.push(" AND s.price >= ").push_bind(min);
    }
    if let Some(max) = search.max_price {
        q.push(" AND s.price <= ").push_bind(max);
    }
    push_order_and_page(&mut q, search, "p.rating DESC, s.id");
    q
}

async fn find_providers(state: &AppState, search: &Search) -> Result<Value, ApiError> {
    let rows = providers_query("", search).build().fetch_all(&state.db).await?;
    let providers: Vec<Value> = rows
        .iter()
        .map(|r| -> Result<Value, sqlx::Error> {
            let mut provider = provider_json(r, "id")?;
            provider["is_verified"] = json!(r.try_get::<bool, _>("is_verified")?);
            Ok(provider)
        })
        .collect::<Result<_, _>>()?;
    let total = total(state, &rows, search, providers_query).await?;
    Ok(page("providers", providers, total, search))
}

fn providers_query<'a>(prefix: &str, search: &'a Search) -> QueryBuilder<'a, Postgres> {
    let mut q = QueryBuilder::<Postgres>::new(prefix);
    q.push(
        "SELECT p.id, p.business_name, p.rating::float8 AS rating, p.total_reviews, p.address, p.latitude, \
         p.longitude, p.is_verified, ",
    );
    push_distance(&mut q, search.near);
    q.push(" AS distance_km, count(*) OVER () AS total FROM service_providers p WHERE p.is_active");
    if let Some(category) = &search.category {
        q.push(" AND EXISTS (SELECT 1 FROM services s WHERE s.provider_id = p.id AND s.is_active AND s.category = ")
            .push_bind(category.clone())
            .push(")");
    }
    push_location_filter(&mut q, search);
    if let Some(rating) = search.min_rating {
        q.push(" AND p.rating >= ").push_bind(rating);
    }
    push_order_and_page(&mut q, search, "p.rating DESC, p.id");
    q
}

/// Great-circle distance in km from the search point (haversine), or NULL.
fn push_distance(q: &mut QueryBuilder<'_, Postgres>, near: Option<(f64, f64)>) {
    match near {
        None => {
            q.push("NULL::float8");
        }
        Some((lat, lng)) => {
            q.push("6371.0 * 2 * asin(sqrt(power(sin(radians(p.latitude - ")
                .push_bind(lat)
                .push(") / 2), 2) + cos(radians(")
                .push_bind(lat)
                .push(")) * cos(radians(p.latitude)) * power(sin(radians(p.longitude - ")
                .push_bind(lng)
                .push(") / 2), 2)))");
        }
    }
}

/// A bounding box the location index can use, then the exact radius.
fn push_location_filter(q: &mut QueryBuilder<'_, Postgres>, search: &Search) {
    let Some((lat, lng)) = search.near else { return };
    let dlat = search.radius_km / KM_PER_DEGREE;
    let dlng = search.radius_km / (KM_PER_DEGREE * lat.to_radians().cos().abs().max(0.01));
    q.push(" AND p.latitude BETWEEN ")
        .push_bind(lat - dlat)
        .push(" AND ")
        .push_bind(lat + dlat);
    q.push(" AND p.longitude BETWEEN ")
        .push_bind(lng - dlng)
        .push(" AND ")
        .push_bind(lng + dlng);
    q.push(" AND ");
    push_distance(q, search.near);
    q.push(" <= ").push_bind(search.radius_km);
}

fn push_order_and_page(q: &mut QueryBuilder<'_, Postgres>, search: &Search, fallback: &str) {
    q.push(" ORDER BY ");
    if search.near.is_some() {
        q.push("distance_km, ");
    }
    q.push(fallback);
    q.push(" LIMIT ")
        .push_bind(search.limit)
        .push(" OFFSET ")
        .push_bind(search.offset);
}

fn service_json(r: &PgRow) -> Result<Value, sqlx::Error> {
    Ok(json!({
        "id": r.try_get::<uuid::Uuid, _>("id")?,
        "category": r.try_get::<String, _>("category")?,
        "name": r.try_get::<String, _>("name")?,
        "description": r.try_get::<String, _>("description")?,
        "price": r.try_get::<f64, _>("price")?,
        "duration_minutes": r.try_get::<i32, _>("duration_minutes")?,
        "provider": provider_json(r, "provider_id")?,
    }))
}

/// A provider as both routes show it; `id_column` names its id in the row.
fn provider_json(r: &PgRow, id_column: &str) -> Result<Value, sqlx::Error> {
    Ok(json!({
        "id": r.try_get::<uuid::Uuid, _>(id_column)?,
        "business_name": r.try_get::<String, _>("business_name")?,
        "rating": r.try_get::<f64, _>("rating")?,
        "total_reviews": r.try_get::<i32, _>("total_reviews")?,
        "address": r.try_get::<Option<String>, _>("address")?,
        "latitude": r.try_get::<Option<f64>, _>("latitude")?,
        "longitude": r.try_get::<Option<f64>, _>("longitude")?,
        "distance_km": r.try_get::<Option<f64>, _>("distance_km")?,
    }))
}

/// How many rows match in all: the window count of the first row, or, for an empty
/// page past the end, of a one-row probe of the same search from the start.
async fn total(
    state: &AppState,
    rows: &[PgRow],
    search: &Search,
    query: for<'a> fn(&str, &'a Search) -> QueryBuilder<'a, Postgres>,
) -> Result<i64, ApiError> {
    if let Some(first) = rows.first() {
        return Ok(first.try_get::<i64, _>("total")?);
    }
    if search.offset == 0 {
        return Ok(0);
    }
    let probe = Search {
        offset: 0,
        limit: 1,
        ..search.clone()
    };
    let rows = query("", &probe).build().fetch_all(&state.db).await?;
    Ok(rows.first().map_or(Ok(0), |r| r.try_get::<i64, _>("total"))?)
}

fn page(kind: &str, items: Vec<Value>, total: i64, search: &Search) -> Value {
    json!({ kind: items, "total": total, "limit": search.limit, "offset": search.offset })
}
