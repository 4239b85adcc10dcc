//! The job the race and the timeout examples give their futures: it sleeps its units, says when
//! it starts and finishes, and cleans up when it is dropped, finished or not.

use std::time::Duration;

use stage5_async_await::time::sleep;

/// Says when it is dropped: the job's cleanup, run whether it finished or not.
pub struct Cleanup(&'static str);

impl Drop for Cleanup {
    fn drop(&mut self) {
        println!("{}: cleaned up", self.0);
    }
}

// ANCHOR: job
/// Sleeps `units` of `unit`, saying when it starts and when it is done; its [`Cleanup`] runs
/// whenever it is dropped.
pub async fn job(name: &'static str, units: u32, unit: Duration) -> &'static str {
    let _cleanup = Cleanup(name);
    println!("{name}: start, needs {units} units");
    sleep(unit * units).await;
    println!("{name}: done");
    name
}
// ANCHOR_END: job
