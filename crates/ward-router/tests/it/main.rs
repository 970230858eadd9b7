//! ward-router's integration tests: the classifier on its labelled set, and routing laws.

mod complexity;
mod dispatch;
mod egress;
mod labelled;
