package offenders

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/parser"
	"github.com/mailtrail/mailtrail/pkg/simulate"
)

// BenchmarkObserve measures one event per op on the paths ingest takes.
func BenchmarkObserve(b *testing.B) {
	const keys = 10000
	ips := make([]string, keys)
	users := make([]string, keys)
	for i := range ips {
		ips[i] = fmt.Sprintf("198.51.%d.%d", i/256, i%256)
		users[i] = fmt.Sprintf("user%d@example.com", i)
	}
	for _, bc := range []struct {
		name string
		step time.Duration // log time between events
		ev   func(i int) event.Event
	}{
		// Failures for keys already tracked, each key under the threshold:
		// the common case.
		{"auth_failure/tracked", 5 * time.Millisecond, func(i int) event.Event {
			return event.Event{Kind: event.KindAuthFailure, ClientIP: ips[i%keys], SASLUsername: users[i%keys]}
		}},
		// A few keys far over the threshold: a brute-force burst.
		{"auth_failure/offending", time.Millisecond, func(i int) event.Event {
			return event.Event{Kind: event.KindAuthFailure, ClientIP: ips[i%10], SASLUsername: users[i%10]}
		}},
		// Every failure a new key, the oldest evicted: spraying from more
		// addresses than MaxKeys.
		{"auth_failure/new_key_evicting", time.Millisecond, func(i int) event.Event {
			return event.Event{Kind: event.KindAuthFailure, ClientIP: fmt.Sprint(i)}
		}},
		{"delivery/tracked", 5 * time.Millisecond, func(i int) event.Event {
			return event.Event{Kind: event.KindDelivery, SASLUsername: users[i%keys], ClientIP: ips[i%keys]}
		}},
		{"other_kind", time.Millisecond, func(i int) event.Event {
			return event.Event{Kind: event.KindConnect, ClientIP: ips[i%keys]}
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			tr := New(Config{MaxKeys: keys})
			evs := make([]event.Event, 1<<16)
			for i := range evs {
				evs[i] = bc.ev(i)
			}
			// Log time moves on through warm-up and the timed loop, so
			// windows slide as they would on a live log.
			var n int
			for i := range evs {
				evs[i].Time = t0.Add(time.Duration(n) * bc.step)
				tr.Observe(&evs[i])
				n++
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				e := &evs[i&(len(evs)-1)]
				e.Time = t0.Add(time.Duration(n) * bc.step)
				tr.Observe(e)
				n++
			}
		})
	}
}

// BenchmarkObserveSimulated feeds the simulator's mix (with frequent
// bursts) as ingest would: every parsed event, whatever its kind.
func BenchmarkObserveSimulated(b *testing.B) {
	var buf bytes.Buffer
	if err := simulate.New(simulate.Config{Seed: 42, BruteForce: simulate.BruteForce{Every: 200}}).WriteLines(&buf, 200_000); err != nil {
		b.Fatal(err)
	}
	p := &parser.Parser{Location: time.UTC}
	var evs []event.Event
	for l := range bytes.Lines(buf.Bytes()) {
		evs = append(evs, p.Parse(string(l), t0))
	}
	tr := New(Config{})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tr.Observe(&evs[i%len(evs)])
	}
}

func BenchmarkActive(b *testing.B) {
	tr := New(Config{})
	for k := range 1000 {
		for range 11 {
			tr.Observe(authFail(t0, fmt.Sprint(k), ""))
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if tr.Active(ScopeIP) != 1000 {
			b.Fatal("offenders drained")
		}
	}
}
