//! [`Geofence::evaluate`]: one change → the events of every fence it
//! concerns, as `aof.go:queueHooks` (candidates, `FenceMatch` each,
//! `sortMsgs`) and `live.go` (live fences of the key) produce them.

use std::cmp::Ordering;

use tile38_collection::Database;

use crate::change::{write_time, Details};
use crate::fence::{Command, Detect, Target};
use crate::matcher::{fence_match, Ctx};
use crate::{Change, Event, Fence, FenceId, Geofence, Groups};

impl Geofence {
    /// Evaluates `change` (already applied to `db`) against the fences of
    /// its key and appends their events to `out`, then updates the group
    /// table for DEL/DROP. Returns how many fences were evaluated.
    ///
    /// Only fences the index finds are evaluated, and of those only the
    /// ones `listened` accepts: a channel nobody subscribes to costs
    /// nothing (its groups then stay as they were, unlike Tile38, where
    /// they move on unseen).
    ///
    /// Order of `out` (from its previous length on): channel events, then
    /// hook events, each sorted stably by detect (cross/roam/del/drop,
    /// exit, outside, enter, inside) then name, as Tile38 publishes and
    /// queues them; then live-fence events in evaluation order (each live
    /// connection gets its own in `fenceMatch` order).
    pub fn evaluate(
        &mut self,
        change: &Change,
        db: &Database,
        mut listened: impl FnMut(FenceId, &Fence) -> bool,
        out: &mut Vec<Event>,
    ) -> usize {
        let d = Details::of(change);
        let evaluated = match self.keys.get(d.key) {
            Some(index) if relevant(&d) => {
                let s = &mut self.scratch;
                s.ids.clear();
                let del_or_drop = matches!(d.command, Command::Del | Command::Drop);
                let bbox = |i: Option<&tile38_collection::Item>| i.map(|i| i.value.bbox());
                index.candidates(bbox(d.old), bbox(d.obj), del_or_drop, &mut s.ids);
                self.run(&d, change.time, db, &mut listened, out)
            }
            _ => 0,
        };
        match d.command {
            Command::Del => self.groups.disconnect_object(d.key, d.id),
            Command::Drop => self.groups.disconnect_key(d.key),
            _ => {}
        }
        evaluated
    }

    /// Evaluates the candidates in `scratch.ids`.
    fn run(
        &mut self,
        d: &Details,
        time: i64,
        db: &Database,
        listened: &mut impl FnMut(FenceId, &Fence) -> bool,
        out: &mut Vec<Event>,
    ) -> usize {
        let s = &mut self.scratch;
        let slots = &self.slots;
        s.candidates.clear();
        s.candidates
            .extend(s.ids.iter().map(|&id| (slots[id.index as usize].seq, id)));
        s.candidates.sort_unstable();
        s.candidates.dedup();
        s.time.clear();
        write_time(&mut s.time, time);
        let mut cx = Ctx {
            db,
            groups: &mut self.groups,
            time_json: &s.time,
            secs: time.div_euclid(1_000_000_000),
            body: &mut s.body,
            nested: &mut s.nested,
            pattern: &mut s.pattern,
        };
        let start = out.len();
        let mut evaluated = 0;
        for &(_, id) in &s.candidates {
            let Some(fence) = slots[id.index as usize].fence.as_ref() else {
                continue;
            };
            if listened(id, fence) {
                evaluated += 1;
                fence_match(&mut cx, id, fence, d, out);
            }
        }
        let fence = |e: &Event| slots[e.fence.index as usize].fence.as_ref();
        if out.len() - start > 1 {
            out[start..].sort_by(|a, b| order(fence(a), a, fence(b), b));
        }
        evaluated
    }
}

/// One fence against one change, outside any [`Geofence`]: Tile38's
/// `FenceMatch` (spec §6.1) on its own. Appends the fence's messages to
/// `out` in `fenceMatch` order, with `fence` set to [`FenceId::DETACHED`].
/// No candidate rules, no sorting across fences, and the caller updates
/// the group table for DEL and DROP itself (`Groups::disconnect_object` /
/// `disconnect_key`, after every fence has seen the change).
pub fn match_fence(
    fence: &Fence,
    change: &Change,
    db: &Database,
    groups: &mut Groups,
    out: &mut Vec<Event>,
) {
    let d = Details::of(change);
    let (mut time, mut body, mut nested, mut pattern) = Default::default();
    write_time(&mut time, change.time);
    let mut cx = Ctx {
        db,
        groups,
        time_json: &time,
        secs: change.time.div_euclid(1_000_000_000),
        body: &mut body,
        nested: &mut nested,
        pattern: &mut pattern,
    };
    fence_match(&mut cx, FenceId::DETACHED, fence, &d, out);
}

/// Whether any fence can report the change: drop always; otherwise only
/// spatial objects (STRING objects never produce events, not even del).
fn relevant(d: &Details) -> bool {
    d.command == Command::Drop || d.obj.is_some_and(|o| o.value.is_spatial())
}

/// `sortMsgs` within channels and within hooks; live events stay in
/// evaluation order.
fn order(fa: Option<&Fence>, a: &Event, fb: Option<&Fence>, b: &Event) -> Ordering {
    let key = |f: Option<&Fence>, e: &Event| match f.map(Fence::target) {
        Some(Target::Channel) => (0, Detect::sort_code(e.detect)),
        Some(Target::Hook) => (1, Detect::sort_code(e.detect)),
        _ => (2, 0),
    };
    let (ka, kb) = (key(fa, a), key(fb, b));
    ka.cmp(&kb).then_with(|| {
        if ka.0 == 2 {
            return Ordering::Equal;
        }
        fn name(f: Option<&Fence>) -> &[u8] {
            f.map_or(&[], Fence::name)
        }
        name(fa).cmp(name(fb))
    })
}
