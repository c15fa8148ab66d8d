//! The command line: clap definitions (the doc comments are the manual), the commands,
//! progress, completions, writing outputs safely, and everything the program prints.

pub mod args;
pub mod commands;
pub mod completions;
pub mod dispatch;
pub mod examples;
pub mod export;
pub mod output;
pub mod progress;
pub mod streams;
pub mod summary;
pub mod sweep;
pub mod train;
pub mod usage;
pub mod values;
