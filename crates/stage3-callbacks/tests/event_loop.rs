//! The event loop's contract, one rule per test.

use std::cell::{Cell, RefCell};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::rc::Rc;
use std::time::{Duration, Instant};

use stage3_callbacks::event_loop::{EventLoop, Interest};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A connected pair of loopback sockets, the first nonblocking (for the loop).
fn socket_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    server.set_nonblocking(true).unwrap();
    (server, client)
}

#[test]
fn timers_fire_in_deadline_order_and_not_early() {
    let lp = EventLoop::new().unwrap();
    let fired = Rc::new(RefCell::new(Vec::new()));
    let start = Instant::now();
    for (delay, name) in [(60, "c"), (20, "a"), (40, "b"), (40, "b2")] {
        let fired = Rc::clone(&fired);
        lp.call_later(ms(delay), move |_| fired.borrow_mut().push((name, start.elapsed())));
    }
    lp.run().unwrap();
    let fired = fired.borrow();
    let order: Vec<&str> = fired.iter().map(|(n, _)| *n).collect();
    assert_eq!(order, ["a", "b", "b2", "c"], "deadline order; equal deadlines in scheduling order");
    for ((_, at), expected) in fired.iter().zip([20, 40, 40, 60]) {
        assert!(*at >= ms(expected), "fired at {at:?}, before its {expected} ms deadline");
        // Wide margin: late only by scheduling noise, not by a whole extra period.
        assert!(*at < ms(expected) * 5, "fired at {at:?}, far past its {expected} ms deadline");
    }
}

#[test]
fn a_cancelled_timer_never_fires_even_when_due_in_the_same_turn() {
    let lp = EventLoop::new().unwrap();
    let fired = Rc::new(Cell::new(0));
    let late = {
        let fired = Rc::clone(&fired);
        lp.call_later(ms(10), move |_| fired.set(fired.get() + 100))
    };
    // Both are due in the same turn; the earlier one cancels the later one.
    let fired2 = Rc::clone(&fired);
    lp.call_later(ms(5), move |lp| {
        fired2.set(fired2.get() + 1);
        assert!(lp.cancel(late), "still pending when cancelled");
    });
    std::thread::sleep(ms(15));
    let never = lp.call_later(ms(1), |_| panic!("cancelled timer fired"));
    assert!(lp.cancel(never));
    assert!(!lp.cancel(never), "cancelling twice says it was not pending");
    lp.run().unwrap();
    assert_eq!(fired.get(), 1);
}

#[test]
fn run_returns_when_the_work_runs_out() {
    let lp = EventLoop::new().unwrap();
    let (server, _client) = socket_pair();
    let token = lp.register(Rc::new(server), Interest::READ, |_, _| {}).unwrap();
    let steps = Rc::new(Cell::new(0));
    let s = Rc::clone(&steps);
    lp.call_later(ms(10), move |lp| {
        s.set(s.get() + 1);
        lp.deregister(token).unwrap(); // the last thing keeping the loop busy
    });
    let started = Instant::now();
    lp.run().unwrap();
    assert_eq!(steps.get(), 1);
    assert!(started.elapsed() < ms(1000));
    // An empty loop returns at once.
    EventLoop::new().unwrap().run().unwrap();
}

#[test]
fn callbacks_may_register_modify_and_deregister_themselves_and_schedule_more() {
    let lp = EventLoop::new().unwrap();
    let (server, mut client) = socket_pair();
    let server = Rc::new(server);
    let log = Rc::new(RefCell::new(Vec::<String>::new()));
    let token = Rc::new(Cell::new(None));
    let (log2, token2, reader) = (Rc::clone(&log), Rc::clone(&token), Rc::clone(&server));
    let registered = lp
        .register(Rc::clone(&server), Interest::READ, move |lp, ready| {
            assert!(ready.readable);
            let mut buf = [0; 16];
            let n = (&*reader).read(&mut buf).unwrap();
            log2.borrow_mut().push(String::from_utf8_lossy(&buf[..n]).into_owned());
            if log2.borrow().len() < 2 {
                lp.modify(token2.get().unwrap(), Interest::READ).unwrap(); // re-arm itself
            } else {
                lp.deregister(token2.get().unwrap()).unwrap(); // deregister itself
                let log3 = Rc::clone(&log2);
                lp.call_soon(move |_| log3.borrow_mut().push("scheduled from a callback".into()));
            }
        })
        .unwrap();
    token.set(Some(registered));
    client.write_all(b"one").unwrap();
    let l = Rc::clone(&log);
    lp.call_later(ms(30), move |_| {
        l.borrow_mut().push("timer".into());
        client.write_all(b"two").unwrap();
    });
    lp.run().unwrap();
    assert_eq!(*log.borrow(), ["one", "timer", "two", "scheduled from a callback"]);
    assert_eq!(lp.registered(), 0);
}

#[test]
fn oneshot_sources_stay_quiet_until_rearmed() {
    let lp = EventLoop::new().unwrap();
    let (server, mut client) = socket_pair();
    client.write_all(b"unread bytes").unwrap();
    let calls = Rc::new(Cell::new(0));
    let c = Rc::clone(&calls);
    let token = lp.register(Rc::new(server), Interest::READ, move |_, _| c.set(c.get() + 1)).unwrap();
    // The bytes are never read and the source is never re-armed: one event only.
    lp.call_later(ms(50), move |lp| lp.deregister(token).unwrap());
    lp.run().unwrap();
    assert_eq!(calls.get(), 1);
}

#[test]
fn call_soon_threadsafe_wakes_a_loop_blocked_in_wait() {
    let lp = EventLoop::new().unwrap();
    let remote = lp.remote();
    let woken_at = Rc::new(Cell::new(None));
    let started = Instant::now();
    let sender = std::thread::spawn(move || {
        std::thread::sleep(ms(100));
        remote.call_soon_threadsafe(|lp| lp.stop()).unwrap();
        // `remote` dropped here: nothing else keeps the loop waiting.
    });
    // Nothing registered, no timers: only the remote handle keeps the loop in `wait`.
    let w = Rc::clone(&woken_at);
    lp.call_later(ms(10_000), move |_| w.set(Some("timer")));
    lp.run().unwrap();
    sender.join().unwrap();
    let elapsed = started.elapsed();
    assert!(elapsed >= ms(100) && elapsed < ms(5_000), "woken by the other thread after {elapsed:?}");
    assert_eq!(woken_at.get(), None, "the 10 s timer did not wake it");
}

#[test]
fn a_remote_handle_keeps_the_loop_waiting_until_dropped() {
    let lp = EventLoop::new().unwrap();
    let remote = lp.remote();
    let ran = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let r = std::sync::Arc::clone(&ran);
    let sender = std::thread::spawn(move || {
        std::thread::sleep(ms(50));
        remote.call_soon_threadsafe(move |_| r.store(true, std::sync::atomic::Ordering::SeqCst)).unwrap();
    });
    // Nothing is registered or scheduled, yet `run` must not return before the callback: the
    // handle promised work. It returns once the callback ran and the handle is gone.
    lp.run().unwrap();
    sender.join().unwrap();
    assert!(ran.load(std::sync::atomic::Ordering::SeqCst));
}

#[test]
fn dropping_the_last_remote_handle_on_another_thread_wakes_the_loop() {
    // The loop's only reason to wait is the handle; the other thread drops it without sending
    // anything, while the loop sleeps. Before the fix the loop slept on forever: nothing woke it
    // to see that the handle was gone. The loop runs on its own thread so that a regression fails
    // this test (after a generous minute) instead of hanging it.
    let (handles, handle) = std::sync::mpsc::channel();
    let (finished, done) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let lp = EventLoop::new().unwrap();
        handles.send(lp.remote()).unwrap();
        lp.run().unwrap();
        finished.send(()).unwrap();
    });
    let remote = handle.recv().unwrap();
    std::thread::sleep(ms(50)); // most likely asleep in `wait` by now; either way it must end
    drop(remote);
    assert!(done.recv_timeout(Duration::from_secs(60)).is_ok(), "the loop never noticed");
}

#[test]
fn a_remote_handle_is_refused_once_the_loop_is_gone() {
    let lp = EventLoop::new().unwrap();
    let remote = lp.remote();
    drop(lp);
    assert!(remote.call_soon_threadsafe(|_| {}).is_err());
}

#[test]
fn stop_works_from_inside_a_callback() {
    let lp = EventLoop::new().unwrap();
    let later = Rc::new(Cell::new(false));
    let l = Rc::clone(&later);
    lp.call_soon(|lp| lp.stop());
    lp.call_later(ms(50), move |_| l.set(true));
    lp.run().unwrap();
    assert!(!later.get(), "run returned right after the stopping turn");
    lp.run().unwrap(); // what was scheduled is still there for the next run
    assert!(later.get());
}

#[test]
fn an_idle_loop_sleeps_instead_of_spinning() {
    use nix::sys::resource::{UsageWho, getrusage};
    let cpu = || {
        let usage = getrusage(UsageWho::RUSAGE_THREAD).unwrap();
        let micros = |t: nix::sys::time::TimeVal| t.tv_sec() as u64 * 1_000_000 + t.tv_usec() as u64;
        Duration::from_micros(micros(usage.user_time()) + micros(usage.system_time()))
    };
    let lp = EventLoop::new().unwrap();
    lp.call_later(ms(300), |_| {});
    let (wall, cpu_before) = (Instant::now(), cpu());
    lp.run().unwrap();
    let (wall, used) = (wall.elapsed(), cpu() - cpu_before);
    assert!(wall >= ms(300));
    assert!(used < ms(30), "an idle 300 ms wait used {used:?} of CPU");
}
