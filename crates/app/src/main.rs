//! The `waybill` binary: everything lives in the library so tests can drive it in-process.

fn main() -> std::process::ExitCode {
    waybill::cli::main()
}
