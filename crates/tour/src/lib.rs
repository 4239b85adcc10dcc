//! The tour's measurements, as a library so that the criterion benches measure with the same
//! code (`benches/switch.rs` calls [`lab::switch`]).

pub mod lab;
