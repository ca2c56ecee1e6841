package main

import (
	"strings"
	"testing"
	"time"
)

// TestCLISimulateStartNow: --start=now begins the log at the current time,
// which the container demo's simulators rely on (the image has no shell to
// compute a date).
func TestCLISimulateStartNow(t *testing.T) {
	before := time.Now().UTC().Truncate(time.Second)
	out := cliMust(t, "", "simulate", "--start=now", "--lines=1", "--format=rfc3339")
	after := time.Now().UTC()
	ts, err := time.Parse(time.RFC3339Nano, strings.Fields(out)[0])
	if err != nil {
		t.Fatalf("first line %q: %v", out, err)
	}
	if ts.Before(before) || ts.After(after) {
		t.Errorf("--start=now wrote %s, want between %s and %s", ts, before, after)
	}
}
