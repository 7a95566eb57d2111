// The syscall family (seed 002's BenchmarkSyscall and its relatives) on the real runtime:
// GOMAXPROCS goroutines (or 4x as many) share N/calls batches through an atomic counter; each
// batch is a Gosched and then `calls` calls around a body. Here: the shared loop and
// syscall-block, whose calls are real system calls; the four workloads whose pairs are the
// runtime's own entersyscall/exitsyscall are in syscall_runtime.go (Go 1.5 and later).

package main

import (
	"runtime"
	"sync/atomic"
	"syscall"
)

// callsPerSched is BenchmarkSyscall's CallsPerSched: syscalls between two goscheds.
const callsPerSched = 1000

// blockCallsPerSched is syscall-block's batch: each call sleeps, so a short batch keeps N sane.
const blockCallsPerSched = 10

// excess is BenchmarkSyscallExcess's goroutines per proc.
const excess = 4

// localWork is BenchmarkSyscallWork's LocalWork (100), or the lab's -work.
var localWork = 100

// blockFor is how long each call of syscall-block sleeps (as the lab's BLOCK_FOR).
const blockFor = 20000 // ns

// batches runs the shared loop with `perProc` goroutines for each of GOMAXPROCS; `loop` does
// one goroutine's work and reports whether its foo came back as 42.
func batches(n int64, perProc int, calls int64, loop func(left *int64) bool) bool {
	procs := runtime.GOMAXPROCS(0)
	goroutines := procs * perProc
	left := n / calls
	c := make(chan bool, goroutines)
	for i := 0; i < goroutines; i++ {
		go func() { c <- loop(&left) }()
	}
	ok := true
	for i := 0; i < goroutines; i++ {
		ok = <-c && ok
	}
	return ok
}

// blockLoop's calls are real system calls: syscall.Nanosleep goes through syscall.Syscall,
// which makes the runtime's entersyscall/exitsyscall pair itself.
func blockLoop(left *int64) bool {
	ts := syscall.NsecToTimespec(blockFor)
	for atomic.AddInt64(left, -1) >= 0 {
		runtime.Gosched()
		for i := 0; i < blockCallsPerSched; i++ {
			if err := syscall.Nanosleep(&ts, nil); err != nil && err != syscall.EINTR {
				return false
			}
		}
	}
	return true
}

func benchSyscallBlock(n int64) bool { return batches(n, 1, blockCallsPerSched, blockLoop) }
