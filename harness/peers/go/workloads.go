// The rest of the lab's workloads on the real runtime, as Go's own runtime benchmarks write
// them (proc_test.go): goroutine creation, ping-pong (with and without a CPU hog), matmult,
// and the pause of a collection.

package main

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// benchmarkCreateGoroutines: `procs` chains of n/procs goroutines, each spawning the next and
// exiting; the last of each chain signals c.
func createChains(n int64, procs int) bool {
	c := make(chan bool)
	var f func(n int64)
	f = func(n int64) {
		if n == 0 {
			c <- true
			return
		}
		go f(n - 1)
	}
	for i := 0; i < procs; i++ {
		go f(n / int64(procs))
	}
	for i := 0; i < procs; i++ {
		<-c
	}
	return true
}

// BenchmarkCreateGoroutines: one chain of N.
func benchCreateGoroutines(n int64) bool { return createChains(n, 1) }

// BenchmarkCreateGoroutinesParallel: GOMAXPROCS chains of N/GOMAXPROCS.
func benchCreateGoroutinesParallel(n int64) bool {
	return createChains(n, runtime.GOMAXPROCS(-1))
}

// BenchmarkCreateGoroutinesSingle: main spawns all N goroutines, each marking a WaitGroup
// done, and waits (the lab caps N with -maxn).
func benchCreateGoroutinesSingle(n int64) bool {
	var wg sync.WaitGroup
	wg.Add(int(n))
	for i := int64(0); i < n; i++ {
		go func() { wg.Done() }()
	}
	wg.Wait()
	return true
}

// pingPongHog is BenchmarkPingPongHog: at GOMAXPROCS 1 (set and restored inside, as there),
// two goroutines relay a value N round trips over unbuffered channels beside a goroutine
// spinning on a select with a default case, which only preemption interrupts.
func pingPongHog(n int64) bool {
	stop, done := make(chan bool), make(chan bool)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	go func() {
		for {
			select {
			case <-stop:
				done <- true
				return
			default:
			}
		}
	}()
	ping, pong := make(chan bool), make(chan bool)
	go func() {
		for j := int64(0); j < n; j++ {
			pong <- <-ping
		}
		close(stop)
		done <- true
	}()
	go func() {
		for i := int64(0); i < n; i++ {
			ping <- <-pong
		}
		done <- true
	}()
	ping <- true // start
	<-stop       // the ponger's loop is over
	<-ping       // let the last pinger exit
	for i := 0; i < 3; i++ {
		<-done
	}
	return true
}

// pingPong is the lab's ping-pong: N round trips between the benchmark's goroutine and an
// echo goroutine over two unbuffered channels, the loop `ping <- true; <-pong` and nothing
// else (the same loop as pingpong_test.go's BenchmarkPingPong beside this file).
func pingPong(n int64) bool {
	ping, pong := make(chan bool), make(chan bool)
	go func() {
		for i := int64(0); i < n; i++ {
			pong <- <-ping
		}
	}()
	for i := int64(0); i < n; i++ {
		ping <- true
		<-pong
	}
	return true
}

// chanSync is Go's BenchmarkChanSync (runtime/chan_test.go): two goroutines claim batches of
// 1000 from a shared counter and alternate over one unbuffered channel, receive-then-send on
// even batches and send-then-receive on odd ones. One op is one exchange.
func chanSync(n int64) bool {
	const callsPerSched = 1000
	const procs = 2
	left := int64(n / callsPerSched / procs * procs)
	c := make(chan bool, procs)
	myc := make(chan int)
	for p := 0; p < procs; p++ {
		go func() {
			for {
				i := atomic.AddInt64(&left, -1)
				if i < 0 {
					break
				}
				for g := 0; g < callsPerSched; g++ {
					if i%2 == 0 {
						<-myc
						myc <- 0
					} else {
						myc <- 0
						<-myc
					}
				}
			}
			c <- true
		}()
	}
	for p := 0; p < procs; p++ {
		<-c
	}
	return true
}

func benchPingPong(n int64) bool    { return pingPong(n) }
func benchPingPongHog(n int64) bool { return pingPongHog(n) }
func benchChanSync(n int64) bool    { return chanSync(n) }

// Matrix is BenchmarkMatmult's matrix.
type Matrix [][]float64

func makeMatrix(n int) Matrix {
	m := make(Matrix, n)
	for i := 0; i < n; i++ {
		m[i] = make([]float64, n)
		for j := 0; j < n; j++ {
			m[i][j] = float64(i*n + j)
		}
	}
	return m
}

// benchMatmult is BenchmarkMatmult: O(n^3) work for N, so n is the cube root of N (plus one);
// as there, only the product is timed. The check compares the diagonal with a direct product.
func benchMatmult(N int64) (time.Duration, time.Duration, bool) {
	n := int(math.Cbrt(float64(N))) + 1
	A, B, C := makeMatrix(n), makeMatrix(n), makeMatrix(n)
	for i := range C {
		for j := range C[i] {
			C[i][j] = 0
		}
	}
	t := time.Now()
	matmult(nil, A, B, C, 0, n, 0, n, 0, n, 8)
	d := time.Since(t)
	for i := 0; i < n; i++ {
		want := 0.0
		for k := 0; k < n; k++ {
			want += A[i][k] * B[k][i]
		}
		if math.Abs(C[i][i]-want) > 1e-9*math.Abs(want) {
			return d, d, false
		}
	}
	return d, d, true
}

// matmult is proc_test.go's matmult: split the largest dimension in two, the i and j halves
// on a new goroutine, the k halves one after the other (they write the same cells).
func matmult(done chan<- struct{}, A, B, C Matrix, i0, i1, j0, j1, k0, k1, threshold int) {
	di := i1 - i0
	dj := j1 - j0
	dk := k1 - k0
	if di >= dj && di >= dk && di >= threshold {
		mi := i0 + di/2
		done1 := make(chan struct{}, 1)
		go matmult(done1, A, B, C, i0, mi, j0, j1, k0, k1, threshold)
		matmult(nil, A, B, C, mi, i1, j0, j1, k0, k1, threshold)
		<-done1
	} else if dj >= dk && dj >= threshold {
		mj := j0 + dj/2
		done1 := make(chan struct{}, 1)
		go matmult(done1, A, B, C, i0, i1, j0, mj, k0, k1, threshold)
		matmult(nil, A, B, C, i0, i1, mj, j1, k0, k1, threshold)
		<-done1
	} else if dk >= threshold {
		mk := k0 + dk/2
		matmult(nil, A, B, C, i0, i1, j0, j1, k0, mk, threshold)
		matmult(nil, A, B, C, i0, i1, j0, j1, mk, k1, threshold)
	} else {
		for i := i0; i < i1; i++ {
			for j := j0; j < j1; j++ {
				for k := k0; k < k1; k++ {
					C[i][j] += A[i][k] * B[k][j]
				}
			}
		}
	}
	if done != nil {
		done <- struct{}{}
	}
}

// gc-pause's spinners work this long between two checks of the stop flag, and call Gosched
// once a millisecond (the lab's WORK_BETWEEN_PREEMPT_POINTS and GOSCHED_EVERY; Go needs no
// preempt point of its own: it preempts a spinning goroutine asynchronously).
const (
	spinFor      = 2 * time.Microsecond
	goschedEvery = time.Millisecond
)

// benchGCPause: N calls of runtime.GC() while GOMAXPROCS goroutines spin, as the lab's
// gc-pause. The round's figure is the stop-the-world time the runtime itself recorded for
// those collections (MemStats.PauseTotalNs: both pauses of each cycle), not the wall time of
// runtime.GC(), which also waits for the concurrent mark and sweep; the wall time drives the
// ramp and is reported beside it (gc_wall_ns), with the pause of each collection (stw_pause).
func benchGCPause(n int64) (time.Duration, time.Duration, bool) {
	var stop int32
	var wg sync.WaitGroup
	procs := runtime.GOMAXPROCS(0)
	wg.Add(procs)
	for i := 0; i < procs; i++ {
		go func() {
			defer wg.Done()
			last := time.Now()
			for atomic.LoadInt32(&stop) == 0 {
				now := time.Now()
				for time.Since(now) < spinFor {
				}
				if now.Sub(last) >= goschedEvery {
					runtime.Gosched()
					last = time.Now()
				}
			}
		}()
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	t := time.Now()
	for i := int64(0); i < n; i++ {
		runtime.GC()
	}
	wall := time.Since(t)
	runtime.ReadMemStats(&after)
	atomic.StoreInt32(&stop, 1)
	wg.Wait()
	gcs := after.NumGC - before.NumGC
	gcWall += uint64(wall)
	// The pause of each of this round's collections, from the runtime's ring of the last 256.
	pauses = pauses[:0]
	for i := uint32(0); i < gcs && i < uint32(len(after.PauseNs)); i++ {
		pauses = append(pauses, after.PauseNs[(after.NumGC-1-i)%uint32(len(after.PauseNs))])
	}
	return wall, time.Duration(after.PauseTotalNs - before.PauseTotalNs), int64(gcs) >= n
}

// gcWall is the wall time of gc-pause's runtime.GC() calls over every round; pauses the pauses
// of the last round's collections (at most 256).
var (
	gcWall uint64
	pauses []uint64
)

// chainSpawn is tokio's chained_spawn (the lab's chain-spawn): each op, a chain of 1000
// goroutines, each spawning the next, the last signalling main.
func benchChainSpawn(n int64) bool {
	for i := int64(0); i < n; i++ {
		createChains(chainLen, 1)
	}
	return true
}

// yieldMany is tokio's yield_many (the lab's yield-many): each op, 200 goroutines Gosched
// 1000 times each and signal; main waits for all.
func benchYieldMany(n int64) bool {
	done := make(chan struct{}, yieldTasks)
	for i := int64(0); i < n; i++ {
		for t := 0; t < yieldTasks; t++ {
			go func() {
				for y := 0; y < yields; y++ {
					runtime.Gosched()
				}
				done <- struct{}{}
			}()
		}
		for t := 0; t < yieldTasks; t++ {
			<-done
		}
	}
	return true
}

// tokio's benchmark sizes, as the lab's workloads/tokio.rs has them.
const (
	chainLen   = 1000
	yieldTasks = 200
	yields     = 1000
)
