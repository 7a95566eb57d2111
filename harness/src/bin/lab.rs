//! `lab`: runs the lab's workloads on the scheduler generations side by side. The command
//! line lives in the library, `harness::cli`, one module per subcommand.

fn main() -> std::process::ExitCode {
    harness::cli::main()
}
