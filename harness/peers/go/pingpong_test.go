// The reference for the lab's ping-pong: the same two-channel loop as a plain testing.B
// benchmark, with nothing of the lab around it. `lab check-go` runs it with `go test` and
// compares it with the go peer's ping-pong row.

package main

import "testing"

func BenchmarkPingPong(b *testing.B) {
	ping, pong := make(chan bool), make(chan bool)
	go func() {
		for i := 0; i < b.N; i++ {
			pong <- <-ping
		}
	}()
	for i := 0; i < b.N; i++ {
		ping <- true
		<-pong
	}
}
