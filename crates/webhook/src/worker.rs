//! One delivery task per hook (Tile38's `Hook.manager`/`proc`): take the
//! front event, try the endpoints in list order, the first success ends it
//! (failover, not fan-out); when every endpoint fails, wait and retry the
//! same event, so the order within a hook is kept. Each hook has its own
//! task, so a dead endpoint only delays its own hook.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::endpoint::Endpoint;
use crate::queue::{Event, HookQueue};
use crate::send::{Clients, SendError, Target};
use crate::{Config, LocalPublisher};

/// What every task shares: settings, the HTTP/gRPC clients, the broker
/// connection cache and the local publisher.
pub(crate) struct Ctx {
    pub retry_initial: Duration,
    pub retry_max: Duration,
    pub timeout: Duration,
    pub clients: Clients,
    pub local: Arc<dyn LocalPublisher>,
}

impl Ctx {
    pub fn new(config: &Config, local: Arc<dyn LocalPublisher>) -> std::io::Result<Ctx> {
        Ok(Ctx {
            retry_initial: config.retry_initial,
            retry_max: config.retry_max.max(config.retry_initial),
            timeout: config.timeout,
            clients: Clients::new(config)?,
            local,
        })
    }
}

pub(crate) async fn run(queue: Arc<HookQueue>, endpoints: Vec<(Vec<u8>, Endpoint)>, ctx: Arc<Ctx>) {
    let mut targets: Vec<Target> = endpoints
        .into_iter()
        .map(|(u, e)| Target::new(u, e))
        .collect();
    let mut delay = ctx.retry_initial;
    let mut failing = false;
    loop {
        let Some(ev) = queue.front() else {
            queue.wake.notified().await;
            continue;
        };
        let start = Instant::now();
        match attempt(&mut targets, &ctx, &queue, &ev).await {
            Ok(()) => {
                queue.delivered(ev.seq, start.elapsed());
                delay = ctx.retry_initial;
                if failing {
                    tracing::info!(hook = %name(&queue), "webhook delivering again");
                    failing = false;
                }
            }
            Err(errors) => {
                // One warning when a hook starts failing, then quiet
                // retries: the stats carry the count and the last error.
                if !failing {
                    tracing::warn!(hook = %name(&queue), errors = %errors, "webhook delivery failed; retrying");
                    failing = true;
                } else {
                    tracing::debug!(hook = %name(&queue), errors = %errors, "webhook retry failed");
                }
                queue.failed(errors);
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(ctx.retry_max);
            }
        }
    }
}

fn name(q: &HookQueue) -> String {
    String::from_utf8_lossy(&q.name).into_owned()
}

/// One round over the endpoints; the errors, endpoint by endpoint, when
/// none took the event.
async fn attempt(
    targets: &mut [Target],
    ctx: &Ctx,
    queue: &HookQueue,
    ev: &Event,
) -> Result<(), String> {
    let mut errors = String::new();
    for t in targets.iter_mut() {
        let err = match t.send(ctx, &ev.payload).await {
            Ok(()) => return Ok(()),
            Err(SendError::Unsupported(kind)) => {
                queue.unsupported();
                if !t.warned {
                    t.warned = true;
                    tracing::warn!(
                        hook = %name(queue),
                        endpoint = %String::from_utf8_lossy(&t.url),
                        "webhook endpoint kind {kind} is not delivered by this build"
                    );
                }
                format!("{kind} not delivered by this build")
            }
            Err(SendError::Failed(e)) => e,
        };
        if !errors.is_empty() {
            errors.push_str("; ");
        }
        errors.push_str(&String::from_utf8_lossy(&t.url));
        errors.push_str(": ");
        errors.push_str(&err);
    }
    Err(errors)
}
