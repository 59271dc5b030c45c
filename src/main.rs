use clap::Parser;

fn main() {
    // Rust ignores SIGPIPE, so printing into a closed pipe would panic; a command-line tool
    // should just stop, as `parkrace replay FILE | head` expects.
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to the default before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = match parkrace::cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) if e.use_stderr() => {
            // One line, as for every other bad input: clap's first line, without its usage
            // block.
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("bad arguments");
            eprintln!(
                "parkrace: {} (see --help)",
                first.strip_prefix("error: ").unwrap_or(first)
            );
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
