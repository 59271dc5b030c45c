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
        Err(e) => {
            let code = if e.use_stderr() {
                parkrace::cli::EXIT_USAGE
            } else {
                parkrace::cli::EXIT_OK
            };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    std::process::exit(parkrace::cli::main_with(cli));
}
