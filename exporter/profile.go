package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// startProfile writes a CPU profile of the whole run to the file named by
// MAILTRAIL_CPUPROFILE, and an allocation profile at its end to the file
// named by MAILTRAIL_MEMPROFILE, when set: how the benchmarks
// (scripts/bench-serve.sh) profile a real serve without a debug endpoint
// on the exporter's port. Allocations matter beside the CPU profile because
// the garbage collector's work, which they drive, is spread over every
// goroutine's samples.
func startProfile() (stop func()) {
	stopCPU := func() {}
	if path := os.Getenv("MAILTRAIL_CPUPROFILE"); path != "" {
		stopCPU = startCPUProfile(path)
	}
	memPath := os.Getenv("MAILTRAIL_MEMPROFILE")
	if memPath == "" {
		return stopCPU
	}
	// Every 64 KiB allocated rather than 512 KiB: a line's allocations are
	// small and many, and the run is short.
	runtime.MemProfileRate = 64 << 10
	return func() {
		stopCPU()
		if err := writeAllocProfile(memPath); err != nil {
			fmt.Fprintf(os.Stderr, "exporter: allocation profile: %v\n", err)
		}
	}
}

func startCPUProfile(path string) (stop func()) {
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "exporter: cpu profile: %v\n", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(os.Stderr, "exporter: cpu profile: %v\n", err)
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

func writeAllocProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
