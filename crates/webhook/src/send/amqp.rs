//! `amqp://` endpoints: Tile38's `amqp.go` (streadway/amqp): dial
//! `amqp://<uri>`, declare the exchange named after the queue with the
//! URL's type and flags, and unless the type is `topic` declare the queue
//! and bind it with the route key; then publish to exchange=queue,
//! key=route, `content-type: application/json`, the URL's delivery mode
//! and priority, empty headers.
//!
//! One addition: the channel is in confirm mode and a send waits for the
//! broker's ack, so success means the broker took the message (Tile38
//! counts a written frame as delivered). Uses lapin on tokio, without TLS:
//! `amqps://` endpoints are not delivered and say so in their error.

use lapin::options::{
    BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{
    BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, ExchangeKind,
};

use super::SendError;
use crate::endpoint::Amqp;

pub(crate) struct AmqpConn {
    ep: Amqp,
    conn: Option<(Connection, Channel)>,
}

fn kind(k: &str) -> ExchangeKind {
    match k {
        "direct" => ExchangeKind::Direct,
        "fanout" => ExchangeKind::Fanout,
        "headers" => ExchangeKind::Headers,
        "topic" => ExchangeKind::Topic,
        other => ExchangeKind::Custom(other.to_string()),
    }
}

impl AmqpConn {
    pub fn new(ep: Amqp) -> AmqpConn {
        AmqpConn { ep, conn: None }
    }

    async fn connect(&mut self) -> Result<(), SendError> {
        let ep = &self.ep;
        if ep.tls {
            return Err(SendError::Failed(
                "amqps is not delivered by this build".into(),
            ));
        }
        let conn = Connection::connect(
            &format!("amqp://{}", ep.uri),
            ConnectionProperties::default(),
        )
        .await?;
        let ch = conn.create_channel().await?;
        ch.confirm_select(ConfirmSelectOptions::default()).await?;
        let opts = ExchangeDeclareOptions {
            passive: false,
            durable: ep.durable,
            auto_delete: ep.auto_delete,
            internal: ep.internal,
            nowait: ep.no_wait,
        };
        let name = ep.queue.as_str();
        ch.exchange_declare(name.into(), kind(&ep.kind), opts, FieldTable::default())
            .await?;
        if ep.kind != "topic" {
            let opts = QueueDeclareOptions {
                passive: false,
                durable: ep.durable,
                exclusive: false,
                auto_delete: ep.auto_delete,
                nowait: ep.no_wait,
            };
            ch.queue_declare(name.into(), opts, FieldTable::default())
                .await?;
            let opts = QueueBindOptions { nowait: ep.no_wait };
            ch.queue_bind(
                name.into(),
                name.into(),
                ep.route.as_str().into(),
                opts,
                FieldTable::default(),
            )
            .await?;
        }
        self.conn = Some((conn, ch));
        Ok(())
    }

    pub async fn send(&mut self, msg: &[u8]) -> Result<(), SendError> {
        if self.conn.is_none() {
            self.connect().await?;
        }
        let (_, ch) = self.conn.as_ref().unwrap();
        let ep = &self.ep;
        let props = BasicProperties::default()
            .with_headers(FieldTable::default())
            .with_content_type("application/json".into())
            .with_delivery_mode(ep.delivery_mode)
            .with_priority(ep.priority);
        let opts = BasicPublishOptions {
            mandatory: ep.mandatory,
            immediate: ep.immediate,
        };
        let confirm = ch
            .basic_publish(
                ep.queue.as_str().into(),
                ep.route.as_str().into(),
                opts,
                msg,
                props,
            )
            .await?;
        match confirm.await? {
            Confirmation::Nack(_) => Err(SendError::Failed("broker nacked the message".into())),
            _ => Ok(()),
        }
    }

    pub fn reset(&mut self) {
        self.conn = None;
    }
}
