// Command waitmetric waits until counters on a Prometheus /metrics page
// reach their targets and prints when each did: how bench-serve.sh times a
// running exporter. One process polling over one kept-alive connection
// costs ~0.3 ms of CPU a poll; a curl and two awks cost ~10 ms, which on a
// machine whose two cores the exporter keeps busy were taken from it, and
// made its two-core rate look worse than it is.
//
// Usage:
//
//	waitmetric -url http://127.0.0.1:9154/metrics [-every 100ms] [-timeout 300s] NAME=N...
//
// For each NAME (a counter, summed over its labels) it prints "NAME TIME",
// TIME in Unix seconds, once the counter reached N: the instant it reached
// N, interpolated between the two polls either side of it (the counters
// grow steadily while a log is read, and the poll interval would otherwise
// be the timing's error). It exits 0 once all have, 1 on timeout.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type target struct {
	name  string
	want  float64
	done  bool
	prevT time.Time
	prevV float64
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("waitmetric", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "", "the /metrics URL")
	every := fs.Duration("every", 100*time.Millisecond, "poll interval")
	timeout := fs.Duration("timeout", 300*time.Second, "give up after")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *url == "" || fs.NArg() == 0 {
		fmt.Fprintln(stderr, "waitmetric: -url and at least one NAME=N are required")
		return 2
	}
	var targets []*target
	for _, a := range fs.Args() {
		name, n, ok := strings.Cut(a, "=")
		v, err := strconv.ParseFloat(n, 64)
		if !ok || name == "" || err != nil {
			fmt.Fprintf(stderr, "waitmetric: target %q: want NAME=N\n", a)
			return 2
		}
		targets = append(targets, &target{name: name, want: v})
	}
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(*timeout)
	left := len(targets)
	for left > 0 {
		if time.Now().After(deadline) {
			for _, t := range targets {
				if !t.done {
					fmt.Fprintf(stderr, "waitmetric: %s did not reach %g in %s (last %g)\n", t.name, t.want, *timeout, t.prevV)
				}
			}
			return 1
		}
		values, now, err := scrape(client, *url, targets)
		if err == nil {
			for _, t := range targets {
				if t.done {
					continue
				}
				v := values[t.name]
				if v >= t.want {
					at := now
					if !t.prevT.IsZero() && v > t.prevV {
						at = t.prevT.Add(time.Duration(float64(now.Sub(t.prevT)) * (t.want - t.prevV) / (v - t.prevV)))
					}
					fmt.Fprintf(stdout, "%s %.6f\n", t.name, float64(at.UnixNano())/1e9)
					t.done = true
					left--
					continue
				}
				t.prevT, t.prevV = now, v
			}
		}
		time.Sleep(*every)
	}
	return 0
}

// scrape reads the page once and sums each target's samples; now is the
// middle of the request, the best guess of when the values were read.
func scrape(client *http.Client, url string, targets []*target) (map[string]float64, time.Time, error) {
	start := time.Now()
	resp, err := client.Get(url)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer resp.Body.Close()
	values := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		for _, t := range targets {
			rest, ok := strings.CutPrefix(line, t.name)
			if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '{') {
				continue
			}
			if i := strings.LastIndexByte(rest, '}'); i >= 0 {
				rest = rest[i+1:]
			}
			fields := strings.Fields(rest)
			if len(fields) == 0 {
				continue
			}
			if v, err := strconv.ParseFloat(fields[0], 64); err == nil {
				values[t.name] += v
			}
		}
	}
	end := time.Now()
	return values, start.Add(end.Sub(start) / 2), sc.Err()
}
