//! ward-router
