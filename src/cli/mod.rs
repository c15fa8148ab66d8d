//! The command line: clap definitions (the doc comments are the manual), the commands, and
//! writing outputs safely.

pub mod args;
pub mod commands;
pub mod output;
pub mod train;
pub mod values;
