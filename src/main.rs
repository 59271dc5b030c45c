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
