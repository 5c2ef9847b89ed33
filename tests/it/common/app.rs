//! `spawn_app()`: the reference backend served in-process on port 0 against a fresh
//! database, with typed helpers for the calls tests make.

use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::stores::stores;

pub struct TestApp {
    pub address: String,
    pub database_url: String,
    pub client: reqwest::Client,
}

/// The answer to one call.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts the backend with extra environment settings (e.g. rate limits on).
pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    let stores = stores();
    let database = stores.fresh_database();
    let mut env: Vec<(String, String)> = vec![
        ("DB_HOST".into(), "127.0.0.1".into()),
        ("DB_PORT".into(), stores.pg_port.to_string()),
        ("DB_NAME".into(), database.clone()),
        ("REDIS_HOST".into(), "127.0.0.1".into()),
        ("REDIS_PORT".into(), stores.redis_port.to_string()),
        ("REDIS_PASSWORD".into(), stores.redis_password.clone()),
        (
            "JWT_SECRET".into(),
            "test-secret-that-is-at-least-32-characters".into(),
        ),
        // The backend writes to stdout directly, past the test harness's capture.
        ("LOG_LEVEL".into(), "error".into()),
    ];
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let settings = karigar_backend::Settings::from_lookup(|name| {
        env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    })
    .expect("test settings are valid");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(karigar_backend::serve(settings, listener, std::future::pending()));
    let app = TestApp {
        address,
        database_url: stores.database_url(&database),
        client: reqwest::Client::new(),
    };
    app.wait_until_healthy().await;
    app
}

impl TestApp {
    async fn wait_until_healthy(&self) {
        for _ in 0..200 {
            if let Ok(r) = self.client.get(format!("{}/health", self.address)).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("backend at {} never became healthy", self.address);
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        let mut request = self.client.get(format!("{}{path}", self.address));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        reply(request.send().await.unwrap()).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.post_from(path, body, None).await
    }

    /// A POST with an optional bearer token.
    pub async fn post_authed(&self, path: &str, body: Value, token: Option<&str>) -> Reply {
        let mut request = self.client.post(format!("{}{path}", self.address)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        reply(request.send().await.unwrap()).await
    }

    /// A POST that claims to come from `client_ip` (through `X-Forwarded-For`).
    pub async fn post_from(&self, path: &str, body: Value, client_ip: Option<&str>) -> Reply {
        let mut request = self.client.post(format!("{}{path}", self.address)).json(&body);
        if let Some(ip) = client_ip {
            request = request.header("x-forwarded-for", ip);
        }
        reply(request.send().await.unwrap()).await
    }

    /// A raw POST: any body, any content type.
    pub async fn post_raw(&self, path: &str, body: &'static str, content_type: &str) -> Reply {
        let request = self
            .client
            .post(format!("{}{path}", self.address))
            .header("content-type", content_type)
            .body(body);
        reply(request.send().await.unwrap()).await
    }

    /// Registers a customer and returns the `AuthResponse`.
    pub async fn register(&self, email: &str, password: &str) -> Value {
        let r = self
            .post(
                "/api/v1/auth/register",
                json!({"email": email, "password": password, "name": "Test User", "role": "customer"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body
    }

    /// One column of the user row, read straight from the database.
    pub async fn user_column(&self, email: &str, column: &str) -> Option<String> {
        let pool = sqlx::PgPool::connect(&self.database_url).await.unwrap();
        let query = format!("SELECT {column}::text FROM users WHERE email = $1");
        let value: Option<String> = sqlx::query_scalar(&query)
            .bind(email)
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        value
    }
}

async fn reply(response: reqwest::Response) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Reply {
        status,
        headers,
        body,
    }
}

/// A unique address for one test.
pub fn unique_email() -> String {
    format!("user-{}@example.com", uuid::Uuid::new_v4().simple())
}
