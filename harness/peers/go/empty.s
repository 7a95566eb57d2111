//go:build go1.5
// +build go1.5

// An assembly file, empty on purpose: with one in the package, the compiler accepts the
// body-less declarations of runtime.entersyscall and runtime.exitsyscall in
// syscall_runtime.go (their bodies come from the runtime through //go:linkname). Built by Go
// 1.5 and later only, as that file is.
