//! `redis://host[:port]/channel` endpoints: `PUBLISH channel message` on
//! a kept connection; any integer reply (the number of subscribers, 0
//! included) is success, as in Tile38's `redis.go`. Uses the `redis`
//! crate the workspace already builds (its tokio multiplexed connection).

use ::redis::aio::MultiplexedConnection;
use ::redis::{Client, ConnectionAddr};

use super::SendError;

pub(crate) struct RedisConn {
    host: String,
    port: u16,
    channel: Vec<u8>,
    conn: Option<MultiplexedConnection>,
}

impl RedisConn {
    pub fn new(host: &str, port: u16, channel: &[u8]) -> RedisConn {
        RedisConn {
            host: host.to_string(),
            port,
            channel: channel.to_vec(),
            conn: None,
        }
    }

    pub async fn send(&mut self, msg: &[u8]) -> Result<(), SendError> {
        if self.conn.is_none() {
            let client = Client::open(ConnectionAddr::Tcp(self.host.clone(), self.port))?;
            self.conn = Some(client.get_multiplexed_async_connection().await?);
        }
        let conn = self.conn.as_mut().unwrap();
        let _subscribers: i64 = ::redis::cmd("PUBLISH")
            .arg(&self.channel[..])
            .arg(msg)
            .query_async(conn)
            .await?;
        Ok(())
    }

    pub fn reset(&mut self) {
        self.conn = None;
    }
}
