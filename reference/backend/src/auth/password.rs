//! bcrypt hashing on the blocking pool: a cost-10 hash takes about 75 ms of one core,
//! which would stall the async workers if run on them.

use std::sync::OnceLock;

use crate::error::ApiError;

pub async fn hash(password: &str, cost: u32) -> Result<String, ApiError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || bcrypt::hash(password, cost))
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
        .map_err(|e| ApiError::Internal(e.into()))
}

/// Checks `password` against `hash`, or against a dummy hash of the same cost when
/// there is no account, so that a login for an unknown email costs the same time as
/// one with a wrong password (no account enumeration through timing).
pub async fn verify(password: &str, hash: Option<String>, cost: u32) -> Result<bool, ApiError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| dummy_hash(cost).to_owned());
        Ok(bcrypt::verify(password, &hash)? && known)
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))?
    .map_err(|e: bcrypt::BcryptError| ApiError::Internal(e.into()))
}

fn dummy_hash(cost: u32) -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| bcrypt::hash("not-a-real-password", cost).expect("bcrypt accepts a validated cost"))
}
