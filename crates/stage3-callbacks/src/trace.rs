//! What `--trace` prints about callbacks: their type names, made short.
//!
//! A closure's type name says where it was written (`fetch::Fetch::waker::{{closure}}`), which is
//! exactly what a reader of the trace wants to know about the callback the loop is running.

/// A type name without crate prefixes, for `--trace`:
/// `stage3_callbacks::fetch::Fetch::waker::{{closure}}` becomes `fetch::Fetch::waker::{{closure}}`.
pub(crate) fn short_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for part in name.split_inclusive(['<', '>', ',', ' ', '(', '&']) {
        match part.split_once("::") {
            // The first segment of a path is its crate: drop it when a path follows.
            Some((first, rest))
                if !first.is_empty() && first.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
            {
                out.push_str(rest)
            }
            _ => out.push_str(part),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn trace_names_lose_their_crate_prefixes() {
        assert_eq!(
            super::short_name("stage3_callbacks::protocol::attach<callback_echo_server::Echo>::{{closure}}"),
            "protocol::attach<Echo>::{{closure}}"
        );
        assert_eq!(
            super::short_name("stage3_callbacks::fetch::Fetch::waker::{{closure}}"),
            "fetch::Fetch::waker::{{closure}}"
        );
        assert_eq!(super::short_name("call_soon_threadsafe"), "call_soon_threadsafe");
    }
}
