//! Ward's audit log: append-only, encrypted at rest, hash-chained. Filled by a later issue.
