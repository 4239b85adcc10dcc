//! The work queue: FIFO, `join` after every `task_done`, and no wake lost to a dropped `get`.

use std::time::Duration;

use stage5_async_await::queue::Queue;
use stage5_async_await::time::timeout;
use stage5_async_await::{run, spawn, yield_now};

#[test]
fn items_come_out_in_order_and_join_waits_for_every_task_done() {
    run(async {
        let queue = Queue::new();
        for n in 1..=3 {
            queue.put(n);
        }
        let worker = {
            let queue = queue.clone();
            spawn(async move {
                let mut seen = Vec::new();
                for _ in 0..3 {
                    seen.push(queue.get().await);
                    yield_now().await; // `join` must not return while an item is in hand
                    queue.task_done();
                }
                seen
            })
        };
        queue.join().await;
        assert!(worker.is_finished(), "join returned before the last task_done");
        assert_eq!(worker.await, Ok(vec![1, 2, 3]));
    });
    let seen = run(async {
        let queue = Queue::new();
        let getter = {
            let queue = queue.clone();
            spawn(async move { vec![queue.get().await, queue.get().await] })
        };
        yield_now().await; // the getter is waiting now
        queue.put("a");
        queue.put("b");
        getter.await.unwrap()
    });
    assert_eq!(seen, ["a", "b"]);
}

#[test]
fn a_get_dropped_after_its_wake_hands_the_wake_on() {
    run(async {
        let queue = Queue::new();
        let first = spawn({
            let queue = queue.clone();
            async move { queue.get().await }
        });
        let second = spawn({
            let queue = queue.clone();
            async move { queue.get().await }
        });
        yield_now().await; // both wait, `first` at the front
        queue.put(7); // wakes `first` ...
        first.abort(); // ... which never runs
        let got = timeout(Duration::from_secs(2), second).await;
        assert_eq!(got, Ok(Ok(7)), "the item must reach the other waiting get");
    });
}

#[test]
fn a_get_cancelled_by_timeout_leaves_no_stale_waiter() {
    run(async {
        let queue: Queue<u32> = Queue::new();
        assert!(timeout(Duration::from_millis(10), queue.get()).await.is_err());
        let getter = spawn({
            let queue = queue.clone();
            async move { queue.get().await }
        });
        yield_now().await;
        queue.put(1); // must wake the live getter, not the timed-out one
        assert_eq!(timeout(Duration::from_secs(2), getter).await, Ok(Ok(1)));
    });
}
