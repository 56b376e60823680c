//! `mqtt://host[:port]/topic` endpoints: Tile38's `mqtt.go` (paho) with
//! client id `tile38`: connect, publish with the URL's QoS and retained
//! flag, and wait for what that QoS promises (QoS 0: written; 1: PUBACK;
//! 2: PUBCOMP), as paho's `token.Wait()` does. Uses rumqttc, the common
//! tokio MQTT client, without its TLS features: an endpoint with
//! `cacert=`, `cert=` or `key=` (TLS in Tile38) is not delivered and says
//! so in its error.

use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Outgoing, Packet, QoS};

use super::SendError;
use crate::endpoint::Mqtt;

pub(crate) struct MqttConn {
    ep: Mqtt,
    conn: Option<(AsyncClient, EventLoop)>,
}

impl MqttConn {
    pub fn new(ep: Mqtt) -> MqttConn {
        MqttConn { ep, conn: None }
    }

    async fn connect(&mut self) -> Result<(), SendError> {
        let mut opts = MqttOptions::new("tile38", self.ep.host.clone(), self.ep.port);
        opts.set_keep_alive(std::time::Duration::from_secs(30));
        let (client, mut events) = AsyncClient::new(opts, 16);
        loop {
            if let Event::Incoming(Packet::ConnAck(_)) = events.poll().await? {
                break;
            }
        }
        self.conn = Some((client, events));
        Ok(())
    }

    pub async fn send(&mut self, msg: &[u8]) -> Result<(), SendError> {
        if !(self.ep.ca_cert.is_empty() && self.ep.cert.is_empty() && self.ep.key.is_empty()) {
            return Err(SendError::Failed(
                "mqtt over TLS is not delivered by this build".into(),
            ));
        }
        let qos = match self.ep.qos {
            0 => QoS::AtMostOnce,
            1 => QoS::AtLeastOnce,
            2 => QoS::ExactlyOnce,
            q => return Err(SendError::Failed(format!("invalid qos {q}"))),
        };
        if self.conn.is_none() {
            self.connect().await?;
        }
        let (client, events) = self.conn.as_mut().unwrap();
        client
            .publish(self.ep.topic.clone(), qos, self.ep.retained, msg.to_vec())
            .await?;
        loop {
            let done = match events.poll().await? {
                Event::Outgoing(Outgoing::Publish(_)) => qos == QoS::AtMostOnce,
                Event::Incoming(Packet::PubAck(_)) => qos == QoS::AtLeastOnce,
                Event::Incoming(Packet::PubComp(_)) => qos == QoS::ExactlyOnce,
                _ => false,
            };
            if done {
                return Ok(());
            }
        }
    }

    pub fn reset(&mut self) {
        self.conn = None;
    }
}
