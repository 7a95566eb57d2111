// An assembly file, empty on purpose: with one in the package, the compiler accepts the
// body-less declarations of runtime.entersyscall and runtime.exitsyscall in syscall.go (their
// bodies come from the runtime through //go:linkname).
