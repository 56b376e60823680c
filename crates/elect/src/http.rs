//! JSON over HTTP(S) for both stores: one request, its status and its
//! JSON body, and Kubernetes' `MicroTime` text. The HTTP client is the
//! workspace's hyper (see `etcd.rs` and `kube.rs` for why no store SDK).

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::StatusCode;
use hyper_util::client::legacy::connect::Connect;
use hyper_util::client::legacy::Client;
use serde_json::Value;

/// Sends `method uri` with a JSON `body` (content type `ctype`), returns
/// the status and the parsed body (`Null` when empty or not JSON).
pub async fn send<C>(
    client: &Client<C, Full<Bytes>>,
    method: hyper::Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, Vec<u8>)>,
) -> Result<(StatusCode, Value), String>
where
    C: Connect + Clone + Send + Sync + 'static,
{
    let mut req = hyper::Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req = req.header("accept", "application/json");
    let data = match body {
        Some((ctype, data)) => {
            req = req.header("content-type", ctype);
            data
        }
        None => Vec::new(),
    };
    let req = req
        .body(Full::new(Bytes::from(data)))
        .map_err(|e| e.to_string())?;
    let resp = client.request(req).await.map_err(|e| error_chain(&e))?;
    let status = resp.status();
    let bytes = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    ))
}

/// An error with its causes (hyper's top-level text is just "client
/// error (Connect)").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// The message of an error reply (etcd's `message`/`error`, Kubernetes'
/// Status `message`).
pub fn message(status: StatusCode, v: &Value) -> String {
    let msg = v.get("message").or(v.get("error")).and_then(Value::as_str);
    format!("{status}: {}", msg.unwrap_or("error"))
}

/// Now as a Kubernetes `MicroTime` (`2006-01-02T15:04:05.000000Z`).
pub fn micro_time_now() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    micro_time(d.as_secs(), d.subsec_micros())
}

fn micro_time(secs: u64, micros: u32) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn micro_time_is_rfc3339_utc() {
        assert_eq!(super::micro_time(0, 0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            super::micro_time(1_709_251_199, 42),
            "2024-02-29T23:59:59.000042Z"
        );
        assert_eq!(
            super::micro_time(951_782_400, 7),
            "2000-02-29T00:00:00.000007Z"
        );
    }
}
