//! The tokio-based queue keeps stage 5's contract: every item reaches exactly one `get`, a `get`
//! on an empty queue waits for a `put`, and `join` waits for the last `task_done`.

use std::cell::RefCell;
use std::rc::Rc;

use stage6_tokio::queue::Queue;
use stage6_tokio::run;
use tokio::task::{spawn_local, yield_now};

#[test]
fn join_on_a_queue_never_used_returns_at_once() {
    run(async { Queue::<u32>::new().join().await });
}

#[test]
fn a_get_waits_for_the_put() {
    let got = run(async {
        let queue = Queue::new();
        let getter = spawn_local({
            let queue = queue.clone();
            async move { queue.get().await }
        });
        for _ in 0..10 {
            yield_now().await; // the getter runs, finds nothing, and waits
        }
        assert!(!getter.is_finished());
        queue.put("job");
        getter.await.unwrap()
    });
    assert_eq!(got, "job");
}

#[test]
fn every_item_reaches_one_worker_and_join_waits_for_the_last_task_done() {
    let done = run(async {
        let queue = Queue::new();
        let done = Rc::new(RefCell::new(Vec::new()));
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let (queue, done) = (queue.clone(), Rc::clone(&done));
                spawn_local(async move {
                    loop {
                        let item: u32 = queue.get().await;
                        yield_now().await; // the work takes a while: the others get turns
                        done.borrow_mut().push(item);
                        if item < 50 {
                            queue.put(item + 50); // work found more work, before its task_done
                        }
                        queue.task_done();
                    }
                })
            })
            .collect();
        for item in 0..50 {
            queue.put(item);
        }
        queue.join().await;
        let done = done.borrow().clone();
        for worker in &workers {
            worker.abort();
        }
        done
    });
    let mut sorted = done;
    sorted.sort_unstable();
    assert_eq!(sorted, (0..100).collect::<Vec<u32>>());
}

#[test]
#[should_panic(expected = "task_done called more often than put")]
fn task_done_without_a_put_panics() {
    Queue::<u32>::new().task_done();
}
