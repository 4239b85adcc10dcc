//! The notes' `crawl_page`: four pages that take 1, 2, 3 and 4 units, three ways.
//!
//! ```text
//! cargo run -p stage5-async-await --example crawl_page
//! cargo run -p stage5-async-await --example crawl_page -- --unit-ms 1000
//! cargo run -p stage5-async-await --example crawl_page -- --timeline /tmp/crawl_page.json   # its tasks, over time
//! ```
//!
//! Awaiting each page in turn is still one after another (about 1 + 2 + 3 + 4 = 10 units):
//! `.await` waits, it does not start anything. Spawning each page as a task first lets the
//! waits overlap (about 4 units, the longest); `gather` does the same in one call.

use std::time::Duration;

use stage5_async_await::time::sleep;
use stage5_async_await::{gather, spawn};

#[path = "shared/timed.rs"]
mod timed;
use timed::timed;

const URLS: [&str; 4] = ["url_1", "url_2", "url_3", "url_4"];

// ANCHOR: crawl_page
/// ```python
/// async def crawl_page(url):
///     print('crawling {}'.format(url))
///     sleep_time = int(url.split('_')[-1])
///     await asyncio.sleep(sleep_time)
///     print('OK {}'.format(url))
/// ```
async fn crawl_page(url: &'static str, unit: Duration) {
    println!("crawling {url}");
    let units: u32 = url.rsplit('_').next().and_then(|n| n.parse().ok()).expect("url_N");
    sleep(unit * units).await;
    println!("OK {url}");
}

/// `for url in urls: await crawl_page(url)`
async fn one_after_another(unit: Duration) {
    for url in URLS {
        crawl_page(url, unit).await;
    }
}

/// `tasks = [asyncio.create_task(crawl_page(url)) for url in urls]; for task in tasks: await task`
async fn as_tasks(unit: Duration) {
    let tasks: Vec<_> = URLS.iter().map(|&url| spawn(crawl_page(url, unit))).collect();
    for task in tasks {
        task.await.expect("crawl_page does not fail");
    }
}

/// `await asyncio.gather(*tasks)`
async fn with_gather(unit: Duration) {
    let tasks = URLS.iter().map(|&url| spawn(crawl_page(url, unit))).collect();
    for result in gather(tasks).await {
        result.expect("crawl_page does not fail");
    }
}
// ANCHOR_END: crawl_page

fn main() {
    let unit = crawl::demo::millis_flag_and_timeline("--unit-ms", 100, "crawl_page");
    timed("await, one after another", unit, one_after_another(unit));
    timed("spawn, then await each task", unit, as_tasks(unit));
    timed("gather", unit, with_gather(unit));
    crawl::demo::finish_timeline();
}
