//! Blocking work off the loop (asyncio's `run_in_executor`).
//!
//! A callback that makes a blocking call (`getaddrinfo`, a file read, a long computation) holds
//! the loop's only thread, and every other socket and timer waits with it. So the call is handed
//! to another thread, and the loop hears when it has returned: [`EventLoop::run_in_executor`]
//! starts the call on a thread of its own and gives back a [`Job`], whose result the loop's
//! thread takes with [`Job::poll`], as it reads a socket that said it was ready. When the call
//! returns, the thread wakes the loop with `call_soon_threadsafe`, and the loop runs the callback
//! given for the job.
//!
//! That callback is not `Send` (it holds the fetch's `Rc`), so it cannot travel to the thread:
//! the loop keeps it, under the job's number, and the thread sends back only the number.
//!
//! Who holds what:
//! * the loop holds the job's callback, until the call returns or the [`Job`] is dropped;
//! * the thread holds the call, and a share of the slot its result goes to;
//! * the [`Job`] holds the other share of the slot. Dropping it gives up on the call: the loop
//!   forgets the callback (and stops waiting for it), and the thread's result is dropped unread.
//!   A thread cannot be cancelled, so it runs the call to the end either way.
//!
//! asyncio's default executor is a pool of threads; here each call has a thread of its own, and
//! nothing caps them: a crawler makes one lookup per try, and a lookup given up on keeps its
//! thread until the resolver answers, so a resolver that hangs costs a thread per try until it
//! does. Stage 5's `spawn_blocking` has a pool, with a cap.

use std::io;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::Poll;
use std::thread;

use crate::event_loop::{EventLoop, JobId, WeakEventLoop};

/// A blocking call running on another thread; its result is taken with [`Job::poll`].
#[derive(Debug)]
pub struct Job<T> {
    /// Where the thread puts the call's result, or its panic.
    result: Arc<Mutex<Option<thread::Result<T>>>>,
    /// The loop's record of the job (`None` for a job that needed no thread, see [`Job::ready`]).
    id: Option<JobId>,
    /// To forget the job's callback when the result is taken or the job dropped.
    event_loop: WeakEventLoop,
}

impl EventLoop {
    // ANCHOR: run_in_executor
    /// Runs the blocking `call` on a thread of its own; `on_done` runs on the loop once it has
    /// returned, or panicked (asyncio's `run_in_executor`). The loop keeps running while a job is
    /// pending. A thread the OS refuses (a process or system limit) is the OS's error.
    pub fn run_in_executor<T, F>(
        &self,
        call: F,
        on_done: impl FnOnce(&EventLoop) + 'static,
    ) -> io::Result<Job<T>>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let result = Arc::new(Mutex::new(None));
        let id = self.add_job(on_done);
        let (slot, remote) = (Arc::clone(&result), self.weak_remote());
        let spawned = std::thread::Builder::new().name("executor".into()).spawn(move || {
            let value = std::panic::catch_unwind(AssertUnwindSafe(call));
            *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(value);
            // The loop may be gone, or may have given up on the job: either way nobody waits.
            let _ = remote.call_soon_threadsafe(move |lp| lp.finish_job(id));
        });
        if let Err(e) = spawned {
            self.forget_job(id);
            return Err(e);
        }
        Ok(Job { result, id: Some(id), event_loop: self.downgrade() })
    }
    // ANCHOR_END: run_in_executor
}

impl<T> Job<T> {
    /// A job whose result is already known: nothing to run, and [`Job::poll`] is ready at once.
    pub fn ready(lp: &EventLoop, value: T) -> Job<T> {
        Job { result: Arc::new(Mutex::new(Some(Ok(value)))), id: None, event_loop: lp.downgrade() }
    }

    /// The call's result once it has returned; `Pending` until then. Once it has been taken,
    /// the job's callback will not run (so the caller is not woken for a result it has). A call
    /// that panicked panics here, on the loop's thread, as `JoinHandle::join` hands a thread's
    /// panic to whoever joins it: catch it in the call to make it a value.
    pub fn poll(&mut self) -> Poll<T> {
        let taken = self.result.lock().unwrap_or_else(PoisonError::into_inner).take();
        match taken {
            Some(outcome) => {
                self.forget();
                Poll::Ready(outcome.unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            }
            None => Poll::Pending,
        }
    }

    /// Tells the loop to stop waiting for this job and drop its callback.
    fn forget(&mut self) {
        if let (Some(id), Some(lp)) = (self.id.take(), self.event_loop.upgrade()) {
            lp.forget_job(id);
        }
    }
}

impl<T> Drop for Job<T> {
    fn drop(&mut self) {
        self.forget();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::time::{Duration, Instant};

    #[test]
    fn the_callback_runs_on_the_loop_once_the_call_has_returned() {
        let lp = EventLoop::new().unwrap();
        let seen = Rc::new(RefCell::new(None));
        let job = Rc::new(RefCell::new(None));
        let (seen_in, job_in) = (Rc::clone(&seen), Rc::clone(&job));
        let started = lp
            .run_in_executor(
                || {
                    std::thread::sleep(Duration::from_millis(20));
                    std::thread::current().name().map(str::to_string)
                },
                move |_| {
                    let mut job: std::cell::RefMut<'_, Option<Job<Option<String>>>> = job_in.borrow_mut();
                    *seen_in.borrow_mut() = Some(job.as_mut().unwrap().poll());
                },
            )
            .unwrap();
        *job.borrow_mut() = Some(started);
        lp.run().unwrap(); // returns: the pending job kept it running until its callback ran
        assert_eq!(*seen.borrow(), Some(Poll::Ready(Some("executor".to_string()))));
    }

    #[test]
    fn a_dropped_job_no_longer_keeps_the_loop_running() {
        let lp = EventLoop::new().unwrap();
        let job = lp
            .run_in_executor(|| std::thread::sleep(Duration::from_secs(10)), |_| panic!("forgotten"))
            .unwrap();
        lp.call_later(Duration::from_millis(10), move |_| drop(job));
        let started = Instant::now();
        lp.run().unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "run waited {:?} for a dropped job",
            started.elapsed()
        );
    }

    #[test]
    fn a_call_that_panics_ends_its_job_and_panics_where_its_result_is_taken() {
        let lp = EventLoop::new().unwrap();
        let job = Rc::new(RefCell::new(None));
        let job_in = Rc::clone(&job);
        let taken = Rc::new(RefCell::new(None));
        let taken_in = Rc::clone(&taken);
        let started = lp
            .run_in_executor(
                || -> u32 { panic!("the call failed") },
                move |_| {
                    let mut job: std::cell::RefMut<'_, Option<Job<u32>>> = job_in.borrow_mut();
                    let job = job.as_mut().unwrap();
                    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| job.poll()));
                    *taken_in.borrow_mut() = Some(outcome.is_err());
                },
            )
            .unwrap();
        *job.borrow_mut() = Some(started);
        lp.run().unwrap(); // returns: the job ended, panic and all
        assert_eq!(*taken.borrow(), Some(true), "poll hands the call's panic on");
    }

    #[test]
    fn a_ready_job_needs_no_thread() {
        let lp = EventLoop::new().unwrap();
        let mut job = Job::ready(&lp, 7);
        assert_eq!(job.poll(), Poll::Ready(7));
        assert_eq!(job.poll(), Poll::Pending); // taken
    }
}
