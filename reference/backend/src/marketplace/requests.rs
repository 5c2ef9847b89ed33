//! `POST /requests` (a customer books a service) and `GET /customers/requests`.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use sqlx::postgres::PgRow;
use sqlx::Row;
use uuid::Uuid;

use crate::auth::{Bearer, JsonBody};
use crate::error::ApiError;
use crate::log::ServedUser;
use crate::state::AppState;

const STATUSES: [&str; 4] = ["requested", "confirmed", "completed", "cancelled"];
const COLUMNS: &str =
    "id, customer_id, provider_id, service_id, status, requested_date, scheduled_date, address, notes, created_at";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    service_id: Option<String>,
    requested_date: Option<String>,
    address: Option<String>,
    notes: Option<String>,
}

pub async fn create(
    State(state): State<AppState>,
    Bearer(claims): Bearer,
    JsonBody(req): JsonBody<NewRequest>,
) -> Result<Response, ApiError> {
    if claims.role != "customer" {
        return Err(ApiError::Forbidden("only customers can request services".into()));
    }
    let service_id = parse_uuid(req.service_id.as_deref(), "service_id")?;
    let requested_date = parse_date(req.requested_date.as_deref())?;
    let address = crate::auth::validate::required(&req.address, "address")?;
    let customer_id = customer_of(&state, claims.user_id).await?;
    let row = sqlx::query(&format!(
        "INSERT INTO service_requests (customer_id, provider_id, service_id, requested_date, address, notes)
         SELECT $1, s.provider_id, s.id, $3, $4, $5 FROM services s WHERE s.id = $2 AND s.is_active
         RETURNING {COLUMNS}"
    ))
    .bind(customer_id)
    .bind(service_id)
    .bind(requested_date)
    .bind(address)
    .bind(req.notes.unwrap_or_default())
    .fetch_optional(&state.db)
    .await?
    .ok_or_else(|| ApiError::NotFound("service not found".into()))?;
    let body = request_json(&row)?;
    Ok((
        StatusCode::CREATED,
        Extension(ServedUser(claims.user_id)),
        Json(body),
    )
        .into_response())
}

pub async fn list(
    State(state): State<AppState>,
    Bearer(claims): Bearer,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let status = query.get("status").map(|s| s.trim()).filter(|s| !s.is_empty());
    if let Some(status) = status {
        if !STATUSES.contains(&status) {
            return Err(ApiError::BadRequest(format!(
                "status must be one of {}",
                STATUSES.join(", ")
            )));
        }
    }
    let limit = bounded(query.get("limit"), "limit", 1, 100)?.unwrap_or(20);
    let offset = bounded(query.get("offset"), "offset", 0, i64::MAX)?.unwrap_or(0);
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS}, count(*) OVER () AS total FROM service_requests
         WHERE customer_id = (SELECT id FROM customers WHERE user_id = $1)
           AND ($2::text IS NULL OR status = $2)
         ORDER BY created_at DESC, id LIMIT $3 OFFSET $4"
    ))
    .bind(claims.user_id)
    .bind(status)
    .bind(limit)
    .bind(offset)
    .fetch_all(&state.db)
    .await?;
    let total: i64 = rows.first().map_or(Ok(0), |r| r.try_get("total"))?;
    let requests: Vec<Value> = rows.iter().map(request_json).collect::<Result<_, _>>()?;
    Ok(Json(
        json!({ "requests": requests, "total": total, "limit": limit, "offset": offset }),
    ))
}

/// The customer row of a user, made on first use for accounts older than it.
async fn customer_of(state: &AppState, user_id: Uuid) -> Result<Uuid, ApiError> {
    let id: Uuid = sqlx::query_scalar(
        "WITH made AS (INSERT INTO customers (user_id) VALUES ($1) ON CONFLICT (user_id) DO NOTHING RETURNING id)
         SELECT id FROM made UNION ALL SELECT id FROM customers WHERE user_id = $1 LIMIT 1",
    )
    .bind(user_id)
    .fetch_one(&state.db)
    .await?;
    Ok(id)
}

fn request_json(r: &PgRow) -> Result<Value, sqlx::Error> {
    Ok(json!({
        "id": r.try_get::<Uuid, _>("id")?,
        "customer_id": r.try_get::<Uuid, _>("customer_id")?,
        "provider_id": r.try_get::<Uuid, _>("provider_id")?,
        "service_id": r.try_get::<Uuid, _>("service_id")?,
        "status": r.try_get::<String, _>("status")?,
        "requested_date": r.try_get::<DateTime<Utc>, _>("requested_date")?,
        "scheduled_date": r.try_get::<Option<DateTime<Utc>>, _>("scheduled_date")?,
        "address": r.try_get::<String, _>("address")?,
        "notes": r.try_get::<String, _>("notes")?,
        "created_at": r.try_get::<DateTime<Utc>, _>("created_at")?,
    }))
}

fn parse_uuid(value: Option<&str>, field: &str) -> Result<Uuid, ApiError> {
    let value = value.ok_or_else(|| ApiError::BadRequest(format!("{field} is required")))?;
    Uuid::parse_str(value.trim()).map_err(|_| ApiError::BadRequest(format!("{field} must be a UUID")))
}

/// An RFC 3339 timestamp that is not in the past.
fn parse_date(value: Option<&str>) -> Result<DateTime<Utc>, ApiError> {
    let value = value.ok_or_else(|| ApiError::BadRequest("requested_date is required".into()))?;
    let date = DateTime::parse_from_rfc3339(value.trim())
        .map_err(|_| ApiError::BadRequest("requested_date must be an RFC 3339 date-time".into()))?
        .with_timezone(&Utc);
    if date < Utc::now() - chrono::Duration::minutes(5) {
        return Err(ApiError::BadRequest(
            "requested_date must not be in the past".into(),
        ));
    }
    Ok(date)
}

fn bounded(value: Option<&String>, name: &str, min: i64, max: i64) -> Result<Option<i64>, ApiError> {
    let Some(value) = value.map(|v| v.trim()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    match value.parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
        _ => Err(ApiError::BadRequest(format!(
            "{name} must be a whole number from {min} to {max}"
        ))),
    }
}
