//! The recording subscriber, the fixture that runs commands through a
//! session, and the expected-change builders the journal tests share.

use std::sync::{Arc, Mutex};

use tile38_collection::Database;
use tile38_engine::journal::{Change, ChangeSink, Origin, What};
use tile38_engine::{Engine, Reply, Session};
use tile38_proto::Args;

/// An object as the recorder saw it: its text, its fields, whether it has
/// a deadline.
#[derive(Clone, Debug, PartialEq)]
pub struct Obj {
    pub value: String,
    pub fields: Vec<(String, String)>,
    pub expires: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Seen {
    pub id: String,
    pub before: Option<Obj>,
    pub after: Option<Obj>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    Objects(Vec<Seen>),
    /// How many objects the dropped collection held.
    Dropped(usize),
    Flushed,
    Renamed {
        to: String,
        replaced: Option<usize>,
    },
    Definitions,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Rec {
    pub command: &'static str,
    pub record: Vec<String>,
    pub origin: Origin,
    pub key: String,
    pub kind: Kind,
    pub idempotent: bool,
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn obj(o: tile38_engine::journal::Object) -> Obj {
    Obj {
        value: text(&o.value.to_text()),
        fields: o
            .fields
            .iter()
            .map(|(k, v)| (text(k), text(&v.raw_bytes())))
            .collect(),
        expires: o.expires.is_some(),
    }
}

/// Records every change it hears of, as owned snapshots.
#[derive(Default)]
pub struct Recorder(pub Mutex<Vec<Rec>>);

impl ChangeSink for Recorder {
    fn on_change(&self, db: &Database, change: &Change) {
        let kind = match &change.what {
            What::Objects(edits) => Kind::Objects(
                edits
                    .iter()
                    .map(|e| {
                        let after = change.after(db, e.id);
                        assert_eq!(after.is_some(), e.exists_after());
                        Seen {
                            id: text(e.id),
                            before: e.before(after).map(obj),
                            after: after.map(|item| obj(tile38_engine::journal::Object::of(item))),
                        }
                    })
                    .collect(),
            ),
            What::Dropped(col) => Kind::Dropped(col.len()),
            What::Flushed => Kind::Flushed,
            What::Renamed { to, replaced } => Kind::Renamed {
                to: text(to),
                replaced: replaced.map(|c| c.len()),
            },
            What::Definitions => Kind::Definitions,
        };
        self.0.lock().unwrap().push(Rec {
            command: change.command,
            record: change.record.words().map(text).collect(),
            origin: change.origin,
            key: text(change.key),
            kind,
            idempotent: change.idempotent,
        });
    }
}

pub struct Fixture {
    pub engine: Engine,
    pub session: Session,
    pub recorder: Arc<Recorder>,
}

impl Fixture {
    pub fn new() -> Fixture {
        Fixture::with_engine(Engine::in_process())
    }

    pub fn with_engine(engine: Engine) -> Fixture {
        let recorder = Arc::new(Recorder::default());
        engine.subscribe(recorder.clone());
        let session = Session::local(&engine, 1);
        Fixture {
            engine,
            session,
            recorder,
        }
    }

    /// Runs one command; its RESP reply or its error's message.
    pub fn run(&mut self, line: &str) -> String {
        let words: Vec<&str> = line.split(' ').collect();
        let mut args = Args::from_slices(&words);
        let mut out = Reply::new(false);
        let res = self.session.execute(&self.engine, &mut args, &mut out);
        self.session.lock.release();
        res.map(|()| text(&out.buf)).unwrap_or_else(|e| e.message())
    }

    /// Runs commands whose changes are not under test.
    pub fn given(&mut self, lines: &[&str]) {
        for line in lines {
            self.run(line);
        }
        self.take();
    }

    /// The changes heard since the last call.
    pub fn take(&self) -> Vec<Rec> {
        std::mem::take(&mut *self.recorder.0.lock().unwrap())
    }

    /// Runs `line` and returns the one change it made.
    pub fn one(&mut self, line: &str) -> Rec {
        self.run(line);
        let mut got = self.take();
        assert_eq!(got.len(), 1, "{line}: {got:?}");
        got.remove(0)
    }

    /// Runs `line`: answered `reply`, and no change was heard.
    pub fn none(&mut self, line: &str, reply: &str) {
        assert_eq!(self.run(line), reply, "{line}");
        assert_eq!(self.take(), [], "{line}");
    }
}

pub fn point(lat: &str, lon: &str) -> String {
    format!(r#"{{"type":"Point","coordinates":[{lon},{lat}]}}"#)
}

pub fn object(value: &str, fields: &[(&str, &str)], expires: bool) -> Option<Obj> {
    Some(Obj {
        value: value.into(),
        fields: fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        expires,
    })
}

pub fn rec(command: &'static str, line: &str, key: &str, kind: Kind) -> Rec {
    Rec {
        command,
        record: line.split(' ').map(String::from).collect(),
        origin: Origin::Client,
        key: key.into(),
        kind,
        idempotent: true,
    }
}

pub fn edit(id: &str, before: Option<Obj>, after: Option<Obj>) -> Kind {
    Kind::Objects(vec![Seen {
        id: id.into(),
        before,
        after,
    }])
}
