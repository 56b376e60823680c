//! `grpc://host[:port]` endpoints: Tile38's `HookService.Send`
//! (`internal/hservice/hservice.proto`: package `hservice`, `rpc Send
//! (MessageRequest) returns (MessageReply)`, `MessageRequest { string
//! value = 1; }`, `MessageReply { bool ok = 1; }`), over plaintext HTTP/2
//! as Tile38 dials it (`grpc.WithInsecure`). Success needs `grpc-status`
//! 0 and `ok = true`.
//!
//! A unary call is one HTTP/2 POST with a 5-byte length prefix and a
//! `grpc-status` trailer, so it goes through the same hyper client stack
//! as HTTP (HTTP/2 only) with the two messages written against `prost`'s
//! `Message` trait by hand: no tonic (its tower stack is far more than one
//! call shape needs) and no protoc/prost-build step, so it builds offline.

use bytes::{Buf, BufMut, Bytes};
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderValue, CONTENT_TYPE, TE, USER_AGENT};
use hyper::{HeaderMap, Request};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use prost::encoding::{self, DecodeContext, WireType};
use prost::{DecodeError, Message};

use super::{chain, SendError};

/// `hservice.MessageRequest`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MessageRequest {
    pub value: String,
}

/// `hservice.MessageReply`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MessageReply {
    pub ok: bool,
}

impl Message for MessageRequest {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        if !self.value.is_empty() {
            encoding::string::encode(1, &self.value, buf);
        }
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        match tag {
            1 => encoding::string::merge(wire_type, &mut self.value, buf, ctx),
            _ => encoding::skip_field(wire_type, tag, buf, ctx),
        }
    }

    fn encoded_len(&self) -> usize {
        if self.value.is_empty() {
            0
        } else {
            encoding::string::encoded_len(1, &self.value)
        }
    }

    fn clear(&mut self) {
        self.value.clear();
    }
}

impl Message for MessageReply {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        if self.ok {
            encoding::bool::encode(1, &self.ok, buf);
        }
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        match tag {
            1 => encoding::bool::merge(wire_type, &mut self.ok, buf, ctx),
            _ => encoding::skip_field(wire_type, tag, buf, ctx),
        }
    }

    fn encoded_len(&self) -> usize {
        if self.ok {
            encoding::bool::encoded_len(1, &self.ok)
        } else {
            0
        }
    }

    fn clear(&mut self) {
        self.ok = false;
    }
}

/// A gRPC message frame: uncompressed flag, big-endian length, bytes.
pub fn frame(msg: &impl Message) -> Bytes {
    let len = msg.encoded_len();
    let mut out = Vec::with_capacity(5 + len);
    out.push(0);
    out.extend_from_slice(&(len as u32).to_be_bytes());
    msg.encode_raw(&mut out);
    out.into()
}

pub(crate) struct GrpcClient {
    client: Client<HttpConnector, Full<Bytes>>,
}

fn grpc_status(h: &HeaderMap) -> Option<(&HeaderValue, Option<&HeaderValue>)> {
    h.get("grpc-status").map(|s| (s, h.get("grpc-message")))
}

impl GrpcClient {
    pub fn new() -> GrpcClient {
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .http2_only(true)
            .build(http);
        GrpcClient { client }
    }

    pub async fn send(&self, host: &str, port: u16, msg: &[u8]) -> Result<(), SendError> {
        let uri = format!("http://{host}:{port}/hservice.HookService/Send");
        let body = frame(&MessageRequest {
            value: String::from_utf8_lossy(msg).into_owned(),
        });
        let req = Request::post(uri)
            .header(CONTENT_TYPE, "application/grpc")
            .header(TE, "trailers")
            .header(USER_AGENT, "tile38-webhook")
            .body(Full::new(body))?;
        let resp = self.client.request(req).await.map_err(|e| chain(&e))?;
        if resp.status() != 200 {
            return Err(SendError::Failed(format!("status {}", resp.status())));
        }
        let head = resp.headers().clone();
        let body = resp.into_body().collect().await.map_err(|e| chain(&e))?;
        // A trailers-only reply carries the status in the headers.
        let status = body
            .trailers()
            .and_then(grpc_status)
            .or_else(|| grpc_status(&head));
        match status {
            Some((s, _)) if s == "0" => {}
            Some((s, m)) => {
                let m = m.map(|m| String::from_utf8_lossy(m.as_bytes()).into_owned());
                return Err(SendError::Failed(format!(
                    "grpc-status {s:?} {}",
                    m.unwrap_or_default()
                )));
            }
            None => return Err(SendError::Failed("no grpc-status".into())),
        }
        let data = body.to_bytes();
        if data.len() < 5 || data[0] != 0 {
            return Err(SendError::Failed("bad reply frame".into()));
        }
        let reply = MessageReply::decode(&data[5..])?;
        if reply.ok {
            Ok(())
        } else {
            Err(SendError::Failed("reply ok=false".into()))
        }
    }
}
