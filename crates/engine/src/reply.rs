//! The reply a command builds, in the connection's output mode.
//!
//! RESP mode: `buf` holds the RESP value. JSON mode: `buf` holds the members
//! that follow `{"ok":true` (each starting with `,`); the connection adds the
//! envelope and `"elapsed"`, and frames it (bulk string, native `$n `, HTTP,
//! WebSocket). A command that must answer outside that scheme sets `raw`.

use tile38_proto::fmt::{write_f64, write_json_str};
use tile38_proto::resp;

use crate::error::{Error, Result};

#[derive(Default)]
pub struct Reply {
    /// JSON output mode for this reply.
    pub json: bool,
    pub buf: Vec<u8>,
    /// `buf` is the complete reply bytes (no envelope, no framing).
    pub raw: bool,
    /// Print `elapsed` unquoted (Tile38's `OUTPUT` quirk).
    pub elapsed_unquoted: bool,
    /// Close the connection after sending this reply.
    pub close: bool,
    /// The command failed (HTTP status, metrics).
    pub failed: bool,
    /// Scratch space for text whose length must precede it (RESP bulks).
    pub tmp: Vec<u8>,
    /// A `NEARBY|WITHIN|INTERSECTS … FENCE` command succeeded: the
    /// connection goes live with this fence (the runtime writes the
    /// `{"ok":true,"live":true}` frame; `buf` is empty).
    pub live: Option<Box<tile38_geofence::Fence>>,
}

impl Reply {
    pub fn new(json: bool) -> Self {
        Reply {
            json,
            ..Default::default()
        }
    }

    pub fn reset(&mut self, json: bool) {
        self.json = json;
        self.buf.clear();
        self.raw = false;
        self.elapsed_unquoted = false;
        self.close = false;
        self.failed = false;
        self.live = None;
    }

    /// `+OK` / `{"ok":true}`.
    pub fn ok(&mut self) {
        if !self.json {
            resp::ok(&mut self.buf);
        }
    }

    /// RESP integer; JSON: plain ok.
    pub fn int_or_ok(&mut self, n: i64) {
        if !self.json {
            resp::int(&mut self.buf, n);
        }
    }

    /// A "not found" that is a null bulk in RESP but an error in JSON.
    pub fn null_or(&mut self, err: Error) -> Result<()> {
        if self.json {
            return Err(err);
        }
        resp::null(&mut self.buf);
        Ok(())
    }

    /// A "not found" that is `:0` in RESP but an error in JSON.
    pub fn zero_or(&mut self, err: Error) -> Result<()> {
        if self.json {
            return Err(err);
        }
        resp::int(&mut self.buf, 0);
        Ok(())
    }

    /// JSON: starts member `,"name":`.
    pub fn key(&mut self, name: &str) {
        self.buf.push(b',');
        self.buf.push(b'"');
        self.buf.extend_from_slice(name.as_bytes());
        self.buf.extend_from_slice(b"\":");
    }

    pub fn json_str(&mut self, s: &[u8]) {
        write_json_str(&mut self.buf, s);
    }

    pub fn json_f64(&mut self, v: f64) {
        if v.is_finite() {
            write_f64(&mut self.buf, v);
        } else {
            // NaN/Inf are not JSON numbers; Go would fail to marshal them.
            self.buf.extend_from_slice(b"null");
        }
    }

    /// A number as Tile38 appends it with `strconv` in the simple JSON
    /// forms (`{"lat":…,"lon":…}` points and bounds): NaN and ±Inf stay
    /// `NaN`, `+Inf`, `-Inf`, not JSON, but what Tile38 sends.
    pub fn go_f64(&mut self, v: f64) {
        write_f64(&mut self.buf, v);
    }

    pub fn json_i64(&mut self, v: i64) {
        tile38_proto::fmt::write_i64(&mut self.buf, v);
    }

    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    pub fn resp_bulk(&mut self, s: &[u8]) {
        resp::bulk(&mut self.buf, s);
    }

    /// A RESP bulk string of whatever `write` produces, without allocating.
    pub fn resp_bulk_with(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        let mut tmp = std::mem::take(&mut self.tmp);
        tmp.clear();
        write(&mut tmp);
        resp::bulk(&mut self.buf, &tmp);
        self.tmp = tmp;
    }

    pub fn resp_bulk_f64(&mut self, v: f64) {
        resp::bulk_f64(&mut self.buf, v);
    }

    pub fn resp_array(&mut self, n: usize) {
        resp::array(&mut self.buf, n);
    }

    pub fn resp_int(&mut self, n: i64) {
        resp::int(&mut self.buf, n);
    }

    pub fn resp_null(&mut self) {
        resp::null(&mut self.buf);
    }

    pub fn resp_simple(&mut self, s: &[u8]) {
        resp::simple(&mut self.buf, s);
    }
}
