//! observe::init (in progress)
