use clap::Parser;

fn main() {
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
