//go:build go1.5
// +build go1.5

// The four syscall workloads whose pairs are the runtime's own entersyscall and exitsyscall,
// reached through //go:linkname as Go's runtime test reaches them through export_test.go
// (runtime.Entersyscall, runtime.Exitsyscall). //go:linkname came with Go 1.5, so the
// historical releases build the program without this file (and without empty.s); the lab
// measures those workloads on them with the release's own runtime benchmarks where it has
// them.

package main

import (
	"runtime"
	"sync/atomic"
	_ "unsafe" // for go:linkname
)

//go:linkname entersyscall runtime.entersyscall
func entersyscall()

//go:linkname exitsyscall runtime.exitsyscall
func exitsyscall()

func init() {
	workloads["syscall"] = benchSyscall
	workloads["syscall-work"] = benchSyscallWork
	workloads["syscall-excess"] = benchSyscallExcess
	workloads["syscall-excess-work"] = benchSyscallExcessWork
}

// The loops are written out once per body, with nothing but inline code between
// entersyscall and exitsyscall: a call there could grow the stack, which the runtime forbids
// inside a syscall.

func emptyLoop(left *int64) bool {
	for atomic.AddInt64(left, -1) >= 0 {
		runtime.Gosched()
		for i := 0; i < callsPerSched; i++ {
			entersyscall()
			exitsyscall()
		}
	}
	return true
}

func workLoop(left *int64) bool {
	foo := int64(42)
	for atomic.AddInt64(left, -1) >= 0 {
		runtime.Gosched()
		for i := 0; i < callsPerSched; i++ {
			entersyscall()
			for j := 0; j < localWork; j++ {
				foo *= 2
				foo /= 2
			}
			exitsyscall()
		}
	}
	return foo == 42
}

func benchSyscall(n int64) bool       { return batches(n, 1, callsPerSched, emptyLoop) }
func benchSyscallWork(n int64) bool   { return batches(n, 1, callsPerSched, workLoop) }
func benchSyscallExcess(n int64) bool { return batches(n, excess, callsPerSched, emptyLoop) }
func benchSyscallExcessWork(n int64) bool {
	return batches(n, excess, callsPerSched, workLoop)
}
