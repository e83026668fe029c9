//! The request helper: `client.caller(token).get(path)` answers `(status, json)`.

use reqwest::Method;
use serde_json::Value;

/// An HTTP client for one running service.
#[derive(Clone)]
pub struct TestClient {
    base_url: String,
    http: reqwest::Client,
}

/// The answer to a request: status, headers and the body as JSON (`Value::Null` when empty or
/// not JSON; then `text` has it).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub json: Value,
    pub text: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A request body of the walk or of a test.
#[derive(Debug, Clone)]
pub enum Body {
    None,
    Json(Value),
    Bytes {
        content_type: &'static str,
        bytes: Vec<u8>,
    },
    Form(Vec<(String, String)>),
}

impl TestClient {
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("HTTP client"),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Requests with `token` as the bearer token.
    pub fn caller(&self, token: &str) -> Caller<'_> {
        Caller {
            client: self,
            token: Some(token.to_string()),
        }
    }

    /// Requests without a token.
    pub fn anonymous(&self) -> Caller<'_> {
        Caller {
            client: self,
            token: None,
        }
    }
}

/// One caller of a service: every request carries its token (if any).
pub struct Caller<'a> {
    client: &'a TestClient,
    token: Option<String>,
}

impl Caller<'_> {
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let answer = self.send("GET", path, &Body::None).await;
        (answer.status, answer.json)
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let answer = self.send("POST", path, &Body::Json(body)).await;
        (answer.status, answer.json)
    }

    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        let answer = self.send("PUT", path, &Body::Json(body)).await;
        (answer.status, answer.json)
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        let answer = self.send("DELETE", path, &Body::None).await;
        (answer.status, answer.json)
    }

    /// Any method and body; updates carry `If-Match: *` so that the walk reaches the handler.
    pub async fn send(&self, method: &str, path: &str, body: &Body) -> Answer {
        let method = Method::from_bytes(method.as_bytes()).expect("HTTP method");
        let mut request = self
            .client
            .http
            .request(method, self.client.url(path))
            .header("If-Match", "*");
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        request = match body {
            Body::None => request,
            Body::Json(value) => request.json(value),
            Body::Bytes {
                content_type,
                bytes,
            } => request
                .header("Content-Type", *content_type)
                .body(bytes.clone()),
            Body::Form(fields) => request.form(fields),
        };
        let response = request.send().await.expect("send the request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            json,
            text,
        }
    }
}
