//! The `waybill` CLI under test (same code as the shipped binary: `waybill::cli::main`).

fn main() -> std::process::ExitCode {
    waybill::cli::main()
}
