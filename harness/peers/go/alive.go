// Go-scale goroutine counts (the lab's workloads/alive.rs): groups of goroutines all alive at
// once, each blocked on one channel until a close releases the group, and the memory they
// cost (the process's resident set at start and at its peak, read from /proc/self/status).

package main

import (
	"io/ioutil"
	"runtime"
	"strconv"
	"strings"
	"sync"
)

// peakGoroutines is the most goroutines the workloads saw alive at once, sampled with
// runtime.NumGoroutine() where a workload knows it is at its peak (0: not sampled).
var peakGoroutines int64

// notePeak samples runtime.NumGoroutine() into peakGoroutines. Called outside timed loops'
// inner parts only: once per group.
func notePeak() {
	if n := int64(runtime.NumGoroutine()); n > peakGoroutines {
		peakGoroutines = n
	}
}

// alive does n goroutine lives in groups of `group` (a round with n below it, or the last
// group, has what is left): main spawns the group's goroutines, each marks ready and blocks
// receiving on the group's channel; once all are ready main closes the channel and waits for
// every one to finish.
func alive(group int64) func(n int64) bool {
	return func(n int64) bool {
		for left := n; left > 0; {
			k := left
			if k > group {
				k = group
			}
			left -= k
			release := make(chan struct{})
			var ready, done sync.WaitGroup
			ready.Add(int(k))
			done.Add(int(k))
			for i := int64(0); i < k; i++ {
				go func() {
					ready.Done()
					<-release
					done.Done()
				}()
			}
			ready.Wait()
			notePeak()
			close(release)
			done.Wait()
		}
		return true
	}
}

// statusBytes reads a `Name:  1234 kB` line of /proc/self/status, in bytes (0 without it).
func statusBytes(field string) uint64 {
	status, err := ioutil.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, field) {
			parts := strings.Fields(line[len(field):])
			if len(parts) == 0 {
				return 0
			}
			kb, err := strconv.ParseUint(parts[0], 10, 64)
			if err != nil {
				return 0
			}
			return kb * 1024
		}
	}
	return 0
}
