//! A deterministic, realistic marketplace dataset written straight into the contract's
//! schema: providers scattered around a few city centres, their services, and
//! customers with a known password (for booking scenarios). The same size always gives
//! the same rows, so runs on different days compare.

mod data;

use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use crate::error::Context as _;
use crate::error::{Error, Result};
use data::{CITIES, SERVICE_KINDS};

pub use crate::accounts::{customer_email, SEEDED_PASSWORD};
/// Rows per INSERT.
const BATCH: usize = 5_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedSize {
    pub providers: usize,
    pub services_per_provider: usize,
    pub customers: usize,
}

/// What was written and how long it took.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedReport {
    pub size: SeedSize,
    pub services: usize,
    pub seconds: f64,
}

/// Connects to `url` and writes the dataset there.
pub async fn seed_url(url: &str, size: SeedSize) -> Result<SeedReport> {
    let pool = PgPool::connect(url)
        .await
        .stack_context(|| format!("cannot connect to {}", redact(url)))?;
    let report = seed(&pool, size).await;
    pool.close().await;
    report
}

/// A database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}://***{}", &url[..scheme], &url[at..]),
        _ => url.to_owned(),
    }
}

/// Writes the dataset. Idempotent per size: rows that exist are left alone.
pub async fn seed(pool: &PgPool, size: SeedSize) -> Result<SeedReport> {
    let started = Instant::now();
    let hash = bcrypt::hash(SEEDED_PASSWORD, 10).map_err(|e| Error::Internal(e.into()))?;
    let mut rng = StdRng::seed_from_u64(0x006b_6172_6967_6172);
    let providers: Vec<Provider> = (0..size.providers).map(|i| Provider::new(i, &mut rng)).collect();
    insert_users(
        pool,
        &providers
            .iter()
            .map(|p| (p.user_id, p.email.clone(), p.name.clone(), "service_provider"))
            .collect::<Vec<_>>(),
        &hash,
    )
    .await?;
    insert_providers(pool, &providers).await?;
    let services: Vec<Service> = providers
        .iter()
        .flat_map(|p| {
            (0..size.services_per_provider)
                .map(|n| Service::new(p, n, &mut rng))
                .collect::<Vec<_>>()
        })
        .collect();
    insert_services(pool, &services).await?;
    let customers: Vec<(Uuid, String, String, &str)> = (0..size.customers)
        .map(|i| {
            (
                uuid(&mut rng),
                customer_email(i),
                format!("Customer {i}"),
                "customer",
            )
        })
        .collect();
    insert_users(pool, &customers, &hash).await?;
    insert_customers(pool, &customers.iter().map(|c| c.0).collect::<Vec<_>>()).await?;
    sqlx::query("ANALYZE").execute(pool).await.map_err(db)?;
    Ok(SeedReport {
        size,
        services: services.len(),
        seconds: round(started.elapsed()),
    })
}

struct Provider {
    id: Uuid,
    user_id: Uuid,
    email: String,
    name: String,
    latitude: f64,
    longitude: f64,
    address: String,
    rating: f64,
    reviews: i32,
}

impl Provider {
    fn new(i: usize, rng: &mut StdRng) -> Self {
        let city = &CITIES[i % CITIES.len()];
        // Denser near the centre, as real listings are: radius grows with the square root.
        let distance_km = city.spread_km * rng.gen::<f64>().sqrt();
        let bearing = rng.gen::<f64>() * std::f64::consts::TAU;
        let latitude = city.latitude + distance_km * bearing.cos() / 111.32;
        let longitude =
            city.longitude + distance_km * bearing.sin() / (111.32 * city.latitude.to_radians().cos());
        Self {
            id: uuid(rng),
            user_id: uuid(rng),
            email: format!("provider-{i}@seed.karigar.test"),
            name: format!("{} Services {i}", city.name),
            latitude,
            longitude,
            address: format!(
                "{} {}, {}",
                1 + i % 400,
                data::STREETS[i % data::STREETS.len()],
                city.name
            ),
            rating: (rng.gen_range(2.5..5.0_f64) * 100.0).round() / 100.0,
            reviews: rng.gen_range(0..500),
        }
    }
}

struct Service {
    provider_id: Uuid,
    category: &'static str,
    name: String,
    price: f64,
    minutes: i32,
}

impl Service {
    fn new(provider: &Provider, n: usize, rng: &mut StdRng) -> Self {
        let kind = &SERVICE_KINDS[rng.gen_range(0..SERVICE_KINDS.len())];
        Self {
            provider_id: provider.id,
            category: kind.category,
            name: format!("{} #{}", kind.name, n + 1),
            price: (rng.gen_range(kind.price.0..kind.price.1) / 10.0).round() * 10.0,
            minutes: kind.minutes,
        }
    }
}

async fn insert_users(pool: &PgPool, users: &[(Uuid, String, String, &str)], hash: &str) -> Result<()> {
    for chunk in users.chunks(BATCH) {
        sqlx::query(
            "INSERT INTO users (id, email, password_hash, name, role, is_email_verified)
             SELECT id, email, $5, name, role, true FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[])
                 AS t (id, email, name, role)
             ON CONFLICT DO NOTHING",
        )
        .bind(chunk.iter().map(|u| u.0).collect::<Vec<_>>())
        .bind(chunk.iter().map(|u| u.1.clone()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|u| u.2.clone()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|u| u.3.to_owned()).collect::<Vec<_>>())
        .bind(hash)
        .execute(pool)
        .await
        .map_err(db)?;
    }
    Ok(())
}

async fn insert_providers(pool: &PgPool, providers: &[Provider]) -> Result<()> {
    for chunk in providers.chunks(BATCH) {
        sqlx::query(
            "INSERT INTO service_providers
                 (id, user_id, business_name, address, latitude, longitude, is_verified, rating, total_reviews)
             SELECT id, user_id, name, address, lat, lng, true, rating, reviews
             FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::float8[], $6::float8[], $7::float8[], $8::int4[])
                 AS t (id, user_id, name, address, lat, lng, rating, reviews)
             ON CONFLICT DO NOTHING",
        )
        .bind(chunk.iter().map(|p| p.id).collect::<Vec<_>>())
        .bind(chunk.iter().map(|p| p.user_id).collect::<Vec<_>>())
        .bind(chunk.iter().map(|p| p.name.clone()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|p| p.address.clone()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|p| p.latitude).collect::<Vec<_>>())
        .bind(chunk.iter().map(|p| p.longitude).collect::<Vec<_>>())
        .bind(chunk.iter().map(|p| p.rating).collect::<Vec<_>>())
        .bind(chunk.iter().map(|p| p.reviews).collect::<Vec<_>>())
        .execute(pool)
        .await
        .map_err(db)?;
    }
    Ok(())
}

async fn insert_services(pool: &PgPool, services: &[Service]) -> Result<()> {
    for chunk in services.chunks(BATCH) {
        sqlx::query(
            "INSERT INTO services (provider_id, category, name, description, price, duration_minutes)
             SELECT provider_id, category, name, name || ' by a verified local professional', price, minutes
             FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::float8[], $5::int4[])
                 AS t (provider_id, category, name, price, minutes)",
        )
        .bind(chunk.iter().map(|s| s.provider_id).collect::<Vec<_>>())
        .bind(chunk.iter().map(|s| s.category.to_owned()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|s| s.name.clone()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|s| s.price).collect::<Vec<_>>())
        .bind(chunk.iter().map(|s| s.minutes).collect::<Vec<_>>())
        .execute(pool)
        .await
        .map_err(db)?;
    }
    Ok(())
}

async fn insert_customers(pool: &PgPool, users: &[Uuid]) -> Result<()> {
    for chunk in users.chunks(BATCH) {
        sqlx::query(
            "INSERT INTO customers (user_id) SELECT * FROM UNNEST($1::uuid[]) ON CONFLICT (user_id) DO NOTHING",
        )
        .bind(chunk.to_vec())
        .execute(pool)
        .await
        .map_err(db)?;
    }
    Ok(())
}

/// A version-4 UUID from the seeded generator, so ids repeat across runs.
fn uuid(rng: &mut StdRng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.gen()).into_uuid()
}

fn db(e: sqlx::Error) -> Error {
    Error::stack(format!("seeding the database failed: {e}"))
}

fn round(d: Duration) -> f64 {
    (d.as_secs_f64() * 100.0).round() / 100.0
}
