use clap::Parser;

/// The command's allocator. Every execution a search runs builds a world, spawns its threads
/// and drops them again: under the system allocator, malloc and free took about 14 % of a
/// profile of `verify` (README "Verification"). The library sets none: fuzz targets and
/// benches keep theirs.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    // Rust ignores SIGPIPE, so printing into a closed pipe would panic; a command-line tool
    // should just stop, as `parkrace replay FILE | head` expects.
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to the default before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    quiet_panics();
    let cli = match parkrace::cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) if e.use_stderr() => {
            // One line, as for every other bad input: clap's first line, without its usage
            // block; a first line that ends in a colon ("the following required arguments
            // were not provided:") gets the indented lines under it (the arguments).
            let text = e.to_string();
            let mut lines = text.lines();
            let first = lines.next().unwrap_or("bad arguments");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            let mut line = first.to_string();
            if first.ends_with(':') {
                let items: Vec<&str> = lines
                    .take_while(|l| l.starts_with(' ') && !l.trim().is_empty())
                    .map(str::trim)
                    .collect();
                line = format!("{} {}", first, items.join(", "));
            }
            eprintln!("parkrace: {} (see --help)", line.trim_end());
            std::process::exit(parkrace::cli::EXIT_USAGE);
        }
        Err(e) => {
            // --help, --version.
            let _ = e.print();
            std::process::exit(parkrace::cli::EXIT_OK);
        }
    };
    std::process::exit(parkrace::cli::main_with(cli));
}

/// A panic is a bug in parkrace. In a worker thread, the one that runs it (the worker pool,
/// a stress instance, a soak session) reports it in one line and fails the run with exit 4,
/// so the panic itself prints nothing; in the main thread it is one line and exit 4.
/// `RUST_BACKTRACE` set: Rust's own report, with the backtrace, as well.
fn quiet_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0") {
            default(info);
        }
        if std::thread::current().name() == Some("main") {
            let msg = parkrace::harness::panic_message(info.payload());
            let at = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            eprintln!("parkrace: internal error{at}: {msg}");
            std::process::exit(parkrace::cli::EXIT_CRASH);
        }
    }));
}
