// lab-go-peer: the lab's workloads on the real Go runtime, for `lab compare --peers go`.
//
// One run of one workload per process, as every lab figure comes from a fresh runtime:
//
//	lab-go-peer -bench syscall -procs 2 -benchtime 250ms -batch 1000
//
// GOMAXPROCS is the row's procs (the lab also sets it in the environment, so the runtime
// boots with that many P's). The main goroutine ramps N as testing.B does (ramp.go) and times
// only the workload's loop; stdout gets one JSON line that harness/src/subjects/peers/child.rs
// parses:
//
//	{"peer":"go","version":"go1.19.8","bench":"syscall","procs":2,"rounds":[{"n":1,"ns":812},...],"counters":{"gc":0,"threads":4},"memory":{"rss_start":..,"rss_peak":..}}
//
// (gc-pause adds "latencies":{"stw_pause":[ns,...]}, the pauses of its last round; memory is
// the process's VmRSS when main starts and its VmHWM at the end, in bytes, with
// "peak_goroutines" where the workload samples runtime.NumGoroutine() at its peak.)
//
// A failed check prints {"error": "..."} instead and exits 1. `-list` prints the workloads.
//
// The program is written in the Go 1 language and library of Go 1.0, so that the historical
// releases the lab builds (`lab history`) compile it too: no digit separators, no math/bits,
// no bufio.Scanner, no `for range` without variables. The one thing Go 1.0 to 1.4 cannot
// express is a call of the runtime's own entersyscall/exitsyscall (//go:linkname came with Go
// 1.5): syscall_runtime.go and empty.s carry a build constraint, and an older release's
// program has no such workloads (its -list says which it has).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"time"
)

// A workload does n operations and reports whether its check held.
type workload func(n int64) bool

// workloads by their lab name (harness/src/subjects/registry.rs): a round is the wall time of
// the call.
// (The four syscall workloads that call the runtime's entersyscall/exitsyscall join them
// from syscall_runtime.go, built by Go 1.5 and later only.)
var workloads = map[string]workload{
	"syscall-block":              benchSyscallBlock,
	"create-goroutines":          benchCreateGoroutines,
	"create-goroutines-parallel": benchCreateGoroutinesParallel,
	"create-goroutines-single":   benchCreateGoroutinesSingle,
	"goroutines-alive-10k":       alive(10000),
	"goroutines-alive-100k":      alive(100000),
	"goroutines-alive":           alive(1000000),
	"chain-spawn":                benchChainSpawn,
	"yield-many":                 benchYieldMany,
	"ping-pong":                  benchPingPong,
	"ping-pong-hog":              benchPingPongHog,
	"chan-sync":                  benchChanSync,
}

// timed workloads measure their own round: the time that drives the ramp, the figure reported
// for the round, and whether the check held. matmult times the product alone (both times);
// gc-pause ramps on the wall time of its collections and reports the pauses the runtime
// recorded for them, so a run lasts about the benchtime while its figure is the pause.
var timed = map[string]func(n int64) (ramp, figure time.Duration, ok bool){
	"gc-pause": benchGCPause,
	"matmult":  benchMatmult,
}

type roundJSON struct {
	N  int64 `json:"n"`
	Ns int64 `json:"ns"`
}

type output struct {
	Peer     string            `json:"peer"`
	Version  string            `json:"version"`
	Bench    string            `json:"bench"`
	Procs    int               `json:"procs"`
	Rounds   []roundJSON       `json:"rounds"`
	Counters map[string]uint64 `json:"counters"`
	// Latencies in ns by histogram name: for gc-pause, `stw_pause`, the last round's pauses.
	Latencies map[string][]uint64 `json:"latencies,omitempty"`
	Memory    *memoryJSON         `json:"memory,omitempty"`
}

type memoryJSON struct {
	RSSStart       uint64 `json:"rss_start"`
	RSSPeak        uint64 `json:"rss_peak"`
	PeakGoroutines int64  `json:"peak_goroutines,omitempty"`
}

func main() {
	bench := flag.String("bench", "", "the workload's lab name")
	procs := flag.Int("procs", 0, "GOMAXPROCS")
	benchtime := flag.Duration("benchtime", 250*time.Millisecond, "aim for a timed round this long")
	batch := flag.Int64("batch", 1, "the smallest N that does any work (the ramp goes on to it)")
	capN := flag.Int64("maxn", maxN, "the largest N the ramp may reach (the workload's cap)")
	list := flag.Bool("list", false, "print the workloads and exit")
	flag.IntVar(&localWork, "work", localWork, "steps of foo*=2; foo/=2 in each syscall of the -work workloads")
	flag.Parse()

	if *list {
		names := make([]string, 0, len(workloads)+len(timed))
		for name := range workloads {
			names = append(names, name)
		}
		for name := range timed {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			fmt.Println(name)
		}
		return
	}
	if *procs < 1 {
		fail("-procs must be at least 1")
	}
	if *benchtime <= 0 {
		fail("-benchtime must be above zero")
	}
	if *capN < 1 {
		fail("-maxn must be at least 1")
	}
	rssStart := statusBytes("VmRSS:")
	runtime.GOMAXPROCS(*procs)

	var round func(n int64) (time.Duration, time.Duration, bool)
	if w, ok := workloads[*bench]; ok {
		round = func(n int64) (time.Duration, time.Duration, bool) {
			t := time.Now()
			ok := w(n)
			d := time.Since(t)
			return d, d, ok
		}
	} else if t, ok := timed[*bench]; ok {
		round = t
	} else {
		fail(fmt.Sprintf("no workload %q (see -list)", *bench))
	}

	var gcs uint32
	ok := true
	var figures []time.Duration
	rounds := ramp(*benchtime, *batch, *capN, func(n int64) time.Duration {
		// As testing.B's runN: collect before each round, outside the timing.
		runtime.GC()
		before := numGC()
		d, figure, good := round(n)
		gcs += numGC() - before
		ok = ok && good
		figures = append(figures, figure)
		return d
	})
	if !ok {
		fail(*bench + " failed its check")
	}
	out := output{
		Peer:    "go",
		Version: runtime.Version(),
		Bench:   *bench,
		Procs:   runtime.GOMAXPROCS(0),
		Counters: map[string]uint64{
			"gc":      uint64(gcs),
			"threads": uint64(pprof.Lookup("threadcreate").Count()),
		},
	}
	if peak := statusBytes("VmHWM:"); rssStart > 0 && peak > 0 {
		out.Memory = &memoryJSON{RSSStart: rssStart, RSSPeak: peak, PeakGoroutines: peakGoroutines}
	}
	if *bench == "gc-pause" {
		out.Counters["gc_wall_ns"] = gcWall
		out.Latencies = map[string][]uint64{"stw_pause": pauses}
	}
	for i, r := range rounds {
		out.Rounds = append(out.Rounds, roundJSON{N: r.n, Ns: figures[i].Nanoseconds()})
	}
	line, err := json.Marshal(out)
	if err != nil {
		fail(err.Error())
	}
	fmt.Println(string(line))
}

func numGC() uint32 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.NumGC
}

// fail prints the error line and exits 1.
func fail(msg string) {
	line, _ := json.Marshal(map[string]string{"error": msg})
	fmt.Println(string(line))
	fmt.Fprintln(os.Stderr, "lab-go-peer:", msg)
	os.Exit(1)
}
