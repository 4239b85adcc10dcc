//! The tour as a library: the list of stages, the measuring of one stage's run and the row it
//! becomes, and the lab's measurements. Beside the tour binary, the cross-stage tests and the
//! criterion benches take their stages from [`stages::ALL`] (and `benches/switch.rs` measures
//! with [`lab::switch`]), and `book-gen` reads the tour's JSON back as [`table::Row`].

pub mod lab;
pub mod measure;
pub mod stages;
pub mod table;
