//! The recognisers, one module per family of identifiers; the detector runs them in turn.

pub(crate) mod address;
pub(crate) mod age;
pub(crate) mod dates;
pub(crate) mod facility;
pub(crate) mod identifiers;
pub(crate) mod location;
pub(crate) mod name_slots;
pub(crate) mod names;
pub(crate) mod phone;
pub(crate) mod ssn;
pub(crate) mod web;
