// How many iterations to time: a port of harness/src/measure/ramp.rs, itself testing.B's launch
// loop (run N=1, predict N toward the benchtime from the last round, grow at most 100x and at
// least by one, round up), with the lab's two additions: the ramp goes on while N is below the
// workload's batch, and stops at the workload's cap on N.

package main

import (
	"math"
	"math/big"
	"time"
)

// maxN is testing.B's bound on N (n < 1e9).
const maxN = 1000000000

type round struct {
	n       int64
	elapsed time.Duration
}

// ramp runs run(n) (the time of the loop body only) with N = 1, then with N predicted from the
// previous round, until a round lasts at least benchtime and N is at least minN, or N reaches
// capN (at most maxN: the workload's cap, as the lab's registry gives it).
func ramp(benchtime time.Duration, minN, capN int64, run func(n int64) time.Duration) []round {
	capN = min64(max64(capN, 1), maxN)
	n := int64(1)
	rounds := []round{{n, run(n)}}
	// (Go 1.0 wants a return statement at the end, so the loop has its condition.)
	for last := rounds[0]; (last.elapsed < benchtime || n < minN) && n < capN; last = rounds[len(rounds)-1] {
		n = min64(predictN(benchtime, last), capN)
		if last.elapsed >= benchtime {
			// Only here because N is below the batch: go straight to it.
			n = min64(max64(n, roundUp(minN)), capN)
		}
		rounds = append(rounds, round{n, run(n)})
	}
	return rounds
}

// predictN is the next N after round last: benchtime*N/elapsed computed in 128 bits, plus a
// fifth, at most 100x the last N, at least one more, rounded up, at most maxN.
func predictN(benchtime time.Duration, last round) int64 {
	prev := uint64(last.elapsed.Nanoseconds())
	if prev == 0 {
		prev = 1
	}
	// The product in arbitrary precision (math/bits came with Go 1.9); every operand is a
	// positive int64.
	q := new(big.Int).Mul(big.NewInt(benchtime.Nanoseconds()), big.NewInt(last.n))
	q.Quo(q, big.NewInt(int64(prev)))
	n := uint64(math.MaxUint64 / 2)
	if q.BitLen() <= 63 {
		n = uint64(q.Int64())
	}
	n += n / 5
	n = minU64(n, 100*uint64(last.n))
	if n < uint64(last.n)+1 {
		n = uint64(last.n) + 1
	}
	return min64(roundUp(int64(minU64(n, maxN))), maxN)
}

// roundDown10 is the largest power of ten not above n (testing's roundDown10).
func roundDown10(n int64) int64 {
	result := int64(1)
	for n >= 10 {
		n /= 10
		result *= 10
	}
	return result
}

// roundUp rounds n up to 1, 2, 3 or 5 times a power of ten (testing's roundUp).
func roundUp(n int64) int64 {
	base := roundDown10(n)
	for _, m := range []int64{1, 2, 3, 5} {
		if n <= m*base {
			return m * base
		}
	}
	return 10 * base
}

func min64(a, b int64) int64 {
	if a < b {
		return a
	}
	return b
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

func minU64(a, b uint64) uint64 {
	if a < b {
		return a
	}
	return b
}
