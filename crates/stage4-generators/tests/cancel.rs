//! A cancelled task releases its socket. Alone in its test binary: it counts this process's open
//! file descriptors, which another test running at the same time would disturb.

use std::net::TcpListener;
use std::rc::Rc;
use std::time::Duration;

use crawl::Config;
use stage3_callbacks::event_loop::EventLoop;
use stage4_generators::fetch::FetchOnce;
use stage4_generators::task::{Cancelled, Task};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[test]
fn a_cancelled_task_closes_its_socket_and_completes_as_cancelled() {
    // A server that accepts (the kernel does, into the backlog) but never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", silent.local_addr().unwrap());
    let config = Rc::new(Config::from_cli_args(["test", url.as_str()]).unwrap());
    let lp = EventLoop::new().unwrap();
    let before = open_fds();

    let task = Task::spawn(&lp, FetchOnce::new(config.roots[0].clone(), Rc::clone(&config)));
    let (probe, cancel) = (Rc::new(std::cell::Cell::new(0)), task.clone());
    let during = Rc::clone(&probe);
    lp.call_later(Duration::from_millis(100), move |_| {
        during.set(open_fds()); // the try is waiting for a response: its socket is open
        assert!(cancel.cancel());
    });
    lp.run().unwrap();

    assert_eq!(probe.get(), before + 1, "one socket while the try waited");
    assert_eq!(open_fds(), before, "the cancelled try closed its socket");
    assert_eq!(task.future().take_result().map(|r| r.map(|_| ())), Some(Err(Cancelled)));
    assert_eq!(lp.registered(), 0, "and deregistered it");
}
