//! The command path run in process, without a socket: a [`Session`] over
//! an in-process [`Engine`]. For states a test cannot hold the real binary
//! in (LOADING lasts as long as the AOF load) and for observing the
//! database lock directly.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use tile38_engine::{Engine, Reply, Session};
use tile38_proto::Args;

fn text(reply: &[u8]) -> String {
    String::from_utf8_lossy(reply).into_owned()
}

/// A GeoJSON MultiPoint of `n` points.
fn multipoint(n: usize) -> Vec<u8> {
    let mut obj = Vec::with_capacity(n * 17 + 64);
    obj.extend_from_slice(b"{\"type\":\"MultiPoint\",\"coordinates\":[");
    for i in 0..n {
        if i > 0 {
            obj.push(b',');
        }
        write!(obj, "[{}.{},{}.{}]", i % 170, i % 997, i % 80, i % 991).unwrap();
    }
    obj.extend_from_slice(b"]}");
    obj
}

/// Runs `words` as one batch; the reply's RESP text or the error's message.
fn run(engine: &Engine, session: &mut Session, words: &[&str]) -> String {
    let mut args = Args::from_slices(words);
    let mut out = Reply::new(false);
    let res = session.execute(engine, &mut args, &mut out);
    session.lock.release();
    res.map(|()| text(&out.buf)).unwrap_or_else(|e| e.message())
}

/// TIMEOUT gets no shortcut past LOADING or READONLY.
#[test]
fn timeout_passes_the_loading_and_read_only_gates() {
    let engine = Engine::in_process();
    let mut session = Session::local(&engine, 1);
    engine.loading.store(true, Ordering::SeqCst);
    assert_eq!(run(&engine, &mut session, &["PING"]), "+PONG\r\n");
    for words in [
        &["TIMEOUT", "1", "GET", "k", "id"][..],
        &["TIMEOUT", "1", "PING"],
        &["TIMEOUT"],
        &["FOO"],
    ] {
        assert_eq!(
            run(&engine, &mut session, words),
            "LOADING Tile38 is loading the dataset in memory",
            "{words:?}"
        );
    }
    engine.loading.store(false, Ordering::SeqCst);
    assert_eq!(run(&engine, &mut session, &["READONLY", "yes"]), "+OK\r\n");
    let set = ["TIMEOUT", "1", "SET", "k", "id", "POINT", "1", "2"];
    assert_eq!(run(&engine, &mut session, &set), "read only");
    // JDEL stays a write (Tile38 runs it anyway: docs/compatibility.md).
    for jdel in [
        &["JDEL", "k", "id", "x"][..],
        &["TIMEOUT", "1", "JDEL", "k", "id", "x"],
    ] {
        assert_eq!(run(&engine, &mut session, jdel), "read only");
    }
    let get = ["TIMEOUT", "1", "GET", "k", "id"];
    assert_eq!(run(&engine, &mut session, &get), "$-1\r\n");
}

/// A session keeps the write lock across its pipelined writes; a big
/// command after one is parsed with that lock released.
#[test]
fn a_big_command_after_a_pipelined_write_parses_unlocked() {
    let engine = Engine::in_process();
    let mut session = Session::local(&engine, 1);
    let mut out = Reply::new(false);
    let mut tiny = Args::from_slices(&["SET", "fleet", "tiny", "POINT", "1", "2"]);
    session.execute(&engine, &mut tiny, &mut out).unwrap();
    assert!(engine.db.try_read().is_none(), "the batch keeps the lock");
    let obj = multipoint(2_000_000);
    let mut big = Args::from_slices(&[&b"SET"[..], b"fleet", b"big", b"OBJECT", &obj]);
    out.reset(false);
    let done = AtomicBool::new(false);
    let unlocked = std::thread::scope(|scope| {
        let setter = scope.spawn(|| {
            let res = session.execute(&engine, &mut big, &mut out);
            done.store(true, Ordering::SeqCst);
            res
        });
        let mut unlocked = 0u64;
        while !done.load(Ordering::SeqCst) {
            unlocked += u64::from(engine.db.try_read().is_some());
        }
        setter.join().unwrap().unwrap();
        unlocked
    });
    assert!(unlocked > 0, "the lock was held while the big SET parsed");
    assert_eq!(text(&out.buf), "+OK\r\n");
}

/// A write changes the engine's data and a read in another session sees it;
/// every reply is Tile38's RESP.
#[test]
fn sessions_share_one_engine() {
    let engine = Engine::in_process();
    let mut a = Session::local(&engine, 1);
    let mut b = Session::local(&engine, 2);
    let set = ["SET", "fleet", "truck1", "POINT", "33.5", "-112.1"];
    assert_eq!(run(&engine, &mut a, &set), "+OK\r\n");
    let get = ["GET", "fleet", "truck1", "POINT"];
    assert_eq!(
        run(&engine, &mut b, &get),
        "*2\r\n$4\r\n33.5\r\n$6\r\n-112.1\r\n"
    );
    assert_eq!(
        run(&engine, &mut b, &["FOLLOW", "127.0.0.1", "1"]),
        "cannot follow: no runtime"
    );
    assert_eq!(engine.clients.lock().len(), 2);
}

/// A session keeps the shared lock across its pipelined reads (others may
/// read, nobody may write), gives it up for a write of its own or a
/// connection command, and after 64 commands at most.
#[test]
fn pipelined_reads_share_one_hold() {
    let engine = Engine::in_process();
    let mut session = Session::local(&engine, 1);
    let mut out = Reply::new(false);
    let mut exec = |session: &mut Session, words: &[&str]| {
        out.reset(false);
        session
            .execute(&engine, &mut Args::from_slices(words), &mut out)
            .unwrap();
        text(&out.buf)
    };
    exec(&mut session, &["SET", "fleet", "a", "POINT", "1", "2"]);
    session.lock.release();
    let get = ["GET", "fleet", "a", "POINT"];
    assert_eq!(exec(&mut session, &get), "*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
    assert!(session.lock.holds_shared());
    assert!(engine.db.try_write().is_none() && engine.db.try_read().is_some());
    // A write of the same batch trades the shared hold for the write lock.
    exec(&mut session, &["SET", "fleet", "b", "POINT", "3", "4"]);
    assert!(!session.lock.holds_shared() && session.lock.held().is_some());
    assert!(engine.db.try_read().is_none());
    // A read after it reads under that write lock.
    exec(&mut session, &get);
    assert!(!session.lock.holds_shared() && session.lock.held().is_some());
    session.lock.release();
    exec(&mut session, &get);
    assert_eq!(exec(&mut session, &["PING"]), "+PONG\r\n");
    assert!(!session.lock.holds_shared() && engine.db.try_write().is_some());
    // The 65th read of a batch takes the lock afresh: a writer waiting
    // for the hold gets in between.
    for _ in 0..64 {
        exec(&mut session, &get);
    }
    let wrote = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let _db = engine.db.write();
            wrote.store(true, Ordering::SeqCst);
        });
        // The writer has claimed the lock (new readers wait) and waits
        // for the shared hold to go.
        while engine.db.try_read().is_some() {
            std::hint::spin_loop();
        }
        assert!(!wrote.load(Ordering::SeqCst));
        exec(&mut session, &get);
        let let_in = wrote.load(Ordering::SeqCst);
        session.lock.release();
        assert!(let_in, "the hold was given up");
    });
}

/// A writer blocked on the lock a batch of reads holds gets in before the
/// batch's next read, as it did when each read took the lock for itself.
#[test]
fn a_waiting_writer_gets_in_before_the_next_read() {
    let engine = Engine::in_process();
    let mut a = Session::local(&engine, 1);
    let get = ["GET", "fleet", "a", "POINT"];
    assert_eq!(
        run(&engine, &mut a, &["SET", "fleet", "a", "POINT", "1", "2"]),
        "+OK\r\n"
    );
    let mut out = Reply::new(false);
    a.execute(&engine, &mut Args::from_slices(&get), &mut out)
        .unwrap();
    assert!(a.lock.holds_shared());
    let seen = std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            let mut b = Session::local(&engine, 2);
            let set = ["SET", "fleet", "a", "POINT", "3", "4"];
            let mut out = Reply::new(false);
            b.execute(&engine, &mut Args::from_slices(&set), &mut out)
                .unwrap();
            b.lock.release();
        });
        while engine.write_pending.load(Ordering::SeqCst) == 0 {
            std::hint::spin_loop();
        }
        out.reset(false);
        a.execute(&engine, &mut Args::from_slices(&get), &mut out)
            .unwrap();
        a.lock.release();
        writer.join().unwrap();
        text(&out.buf)
    });
    assert_eq!(seen, "*2\r\n$1\r\n3\r\n$1\r\n4\r\n");
}
