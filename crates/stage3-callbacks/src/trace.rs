//! What `--trace` prints about callbacks: their type names, made short.
//!
//! A closure's type name says where it was written (`fetch::Fetch::waker::{{closure}}`), which is
//! exactly what a reader of the trace wants to know about the callback the loop is running. The
//! timeline names them the same way, so the shortening is `crawl::timeline`'s.

pub(crate) use crawl::timeline::short_name;
