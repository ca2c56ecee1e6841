package cputime

import "testing"

// Busy work shows up as CPU time, and the time never goes back.
func TestProcessGrows(t *testing.T) {
	before := Process()
	x := 0
	for i := 0; i < 50_000_000; i++ {
		x ^= i * 7
	}
	after := Process()
	if after <= before {
		t.Fatalf("CPU time %v after a busy loop, %v before (x=%d)", after, before, x)
	}
}
