//! HS256 access and refresh tokens with the contract's claims, and refresh-token
//! rotation: each refresh token's id lives in Redis until it is used once.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use redis::aio::ConnectionManager;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::config::JwtSettings;
use crate::error::ApiError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    Access,
    Refresh,
}

/// The contract's claims plus `jti` (refresh tracking) and `typ` (so a refresh token
/// cannot be used as an access token, or the reverse).
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub user_id: Uuid,
    pub email: String,
    pub role: String,
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    pub jti: Uuid,
    pub typ: TokenKind,
}

/// Who a token pair is for.
pub struct Subject<'a> {
    pub user_id: Uuid,
    pub email: &'a str,
    pub role: &'a str,
}

pub struct TokenPair {
    pub access: String,
    pub refresh: String,
}

pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    access_ttl: Duration,
    refresh_ttl: Duration,
}

impl TokenKeys {
    pub fn new(settings: &JwtSettings) -> Self {
        let secret = settings.secret.0.as_bytes();
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            access_ttl: settings.access_ttl,
            refresh_ttl: settings.refresh_ttl,
        }
    }

    /// Signs a new pair and records the refresh token's id in Redis.
    pub async fn issue(
        &self,
        subject: &Subject<'_>,
        redis: &mut ConnectionManager,
    ) -> Result<TokenPair, ApiError> {
        let access = self.sign(subject, TokenKind::Access, self.access_ttl)?;
        let refresh_id = Uuid::new_v4();
        let refresh = self.sign_with_id(subject, TokenKind::Refresh, self.refresh_ttl, refresh_id)?;
        let _: () = redis
            .set_ex(
                refresh_key(refresh_id),
                subject.user_id.to_string(),
                self.refresh_ttl.as_secs().max(1),
            )
            .await?;
        Ok(TokenPair { access, refresh })
    }

    /// Checks signature, expiry, not-before and kind.
    pub fn verify(&self, token: &str, kind: TokenKind) -> Result<Claims, ApiError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_nbf = true;
        validation.leeway = 0;
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|_| ApiError::Unauthorized("invalid or expired token".into()))?
            .claims;
        if claims.typ != kind {
            return Err(ApiError::Unauthorized("invalid or expired token".into()));
        }
        Ok(claims)
    }

    /// Takes a refresh token out of circulation; fails if it was used or revoked.
    pub async fn consume_refresh(
        &self,
        claims: &Claims,
        redis: &mut ConnectionManager,
    ) -> Result<(), ApiError> {
        let owner: Option<String> = redis.get_del(refresh_key(claims.jti)).await?;
        match owner {
            Some(owner) if owner == claims.user_id.to_string() => Ok(()),
            _ => Err(ApiError::Unauthorized(
                "refresh token has been used or revoked".into(),
            )),
        }
    }

    fn sign(&self, subject: &Subject<'_>, kind: TokenKind, ttl: Duration) -> Result<String, ApiError> {
        self.sign_with_id(subject, kind, ttl, Uuid::new_v4())
    }

    fn sign_with_id(
        &self,
        subject: &Subject<'_>,
        kind: TokenKind,
        ttl: Duration,
        jti: Uuid,
    ) -> Result<String, ApiError> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            user_id: subject.user_id,
            email: subject.email.to_owned(),
            role: subject.role.to_owned(),
            exp: now + ttl.as_secs() as i64,
            iat: now,
            nbf: now,
            jti,
            typ: kind,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ApiError::Internal(e.into()))
    }
}

fn refresh_key(id: Uuid) -> String {
    format!("refresh:{id}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn keys(secret: &str) -> TokenKeys {
        TokenKeys::new(&JwtSettings {
            secret: Secret(secret.into()),
            access_ttl: Duration::from_secs(60),
            refresh_ttl: Duration::from_secs(120),
        })
    }

    fn subject() -> Subject<'static> {
        Subject {
            user_id: Uuid::nil(),
            email: "a@b.co",
            role: "customer",
        }
    }

    #[test]
    fn tokens_are_checked_for_kind_and_signature() {
        let k = keys("0123456789abcdef0123456789abcdef");
        let access = k
            .sign(&subject(), TokenKind::Access, Duration::from_secs(60))
            .unwrap();
        let claims = k.verify(&access, TokenKind::Access).unwrap();
        assert_eq!(claims.email, "a@b.co");
        assert_eq!(claims.exp - claims.iat, 60);
        assert!(k.verify(&access, TokenKind::Refresh).is_err());
        let other = keys("fedcba9876543210fedcba9876543210");
        assert!(other.verify(&access, TokenKind::Access).is_err());
    }
}
