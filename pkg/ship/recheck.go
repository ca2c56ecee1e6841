package ship

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/mailtrail/mailtrail/pkg/journal"
)

// DefaultRecheckAfter is serve's recheck delay for VictoriaLogs: twice its
// default -inmemoryDataFlushInterval (5s), the most a crash can lose.
const DefaultRecheckAfter = 10 * time.Second

// maxRecheck bounds the events one recheck covers.
const maxRecheck = 100_000

// Checker is a sink whose store can be asked which events it holds. A
// store that answered "accepted" may still lose rows it had not saved when
// it crashes (VictoriaLogs keeps its last -inmemoryDataFlushInterval in
// memory): the shipper asks again once they must be saved, and sends what
// is missing.
type Checker interface {
	// CountSeqs is how many distinct seqs of instance in [lo, hi] the
	// store holds.
	CountSeqs(ctx context.Context, instance string, lo, hi int64) (int64, error)
	// HeldSeqs are those seqs.
	HeldSeqs(ctx context.Context, instance string, lo, hi int64) (map[int64]bool, error)
}

// ack is a batch the store accepted, to be rechecked.
type ack struct {
	lo, hi int64 // the batch's first and last seq
	n      int64 // the events accepted
	at     time.Time
	// again marks a range already found short once: what is still
	// missing the second time, the store will not keep.
	again bool
}

func (v *VictoriaLogs) logsQL(ctx context.Context, query string) ([]map[string]string, error) {
	u := *v.base
	u.Path += "/select/logsql/query"
	u.RawQuery = url.Values{"query": {query}}.Encode()
	b, err := v.p.get(ctx, u.String())
	if err != nil {
		return nil, err
	}
	var rows []map[string]string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var m map[string]string
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return nil, fmt.Errorf("recheck: unexpected answer from %s: %.200q", v.p.shown, sc.Text())
		}
		rows = append(rows, m)
	}
	return rows, sc.Err()
}

func seqRangeQuery(instance string, lo, hi int64) string {
	return fmt.Sprintf("instance:=%s seq:range[%d, %d]", strconv.Quote(instance), lo, hi)
}

// CountSeqs asks VictoriaLogs for the distinct seqs it holds in [lo, hi].
func (v *VictoriaLogs) CountSeqs(ctx context.Context, instance string, lo, hi int64) (int64, error) {
	rows, err := v.logsQL(ctx, seqRangeQuery(instance, lo, hi)+" | stats count_uniq(seq) n")
	if err != nil {
		return 0, err
	}
	if len(rows) != 1 {
		return 0, fmt.Errorf("recheck: %d rows from a stats query to %s", len(rows), v.p.shown)
	}
	n, err := strconv.ParseInt(rows[0]["n"], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("recheck: count %q from %s", rows[0]["n"], v.p.shown)
	}
	return n, nil
}

// HeldSeqs asks VictoriaLogs for the seqs it holds in [lo, hi].
func (v *VictoriaLogs) HeldSeqs(ctx context.Context, instance string, lo, hi int64) (map[int64]bool, error) {
	rows, err := v.logsQL(ctx, seqRangeQuery(instance, lo, hi)+" | fields seq")
	if err != nil {
		return nil, err
	}
	out := make(map[int64]bool, len(rows))
	for _, r := range rows {
		if n, err := strconv.ParseInt(r["seq"], 10, 64); err == nil {
			out[n] = true
		}
	}
	return out, nil
}

// recheck asks the store about the batches accepted at least RecheckAfter
// ago and sends again the events it no longer holds.
func (r *runner) recheck(ctx context.Context) error {
	opts := &r.s.opts
	now := opts.Now()
	if r.checker == nil || len(r.acks) == 0 || now.Sub(r.lastRecheck) < opts.RecheckAfter/4 {
		return nil
	}
	due := now.Add(-opts.RecheckAfter)
	i := 0
	var lo, hi, n int64
	again := false
	// Consecutive batches, first sent or already found short alike, are
	// one question.
	for i < len(r.acks) && !r.acks[i].at.After(due) && n < maxRecheck {
		a := r.acks[i]
		if i == 0 {
			lo, again = a.lo, a.again
		} else if a.again != again || a.lo <= hi {
			break
		}
		hi, n = a.hi, n+a.n
		i++
	}
	if i == 0 {
		return nil
	}
	r.lastRecheck = now
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	got, err := r.checker.CountSeqs(ctx, opts.Instance, lo, hi)
	if err != nil {
		return err
	}
	if got >= n {
		r.acks = r.acks[i:]
		return nil
	}
	held, err := r.checker.HeldSeqs(ctx, opts.Instance, lo, hi)
	if err != nil {
		return err
	}
	var missing []journal.Shipped
	tooOld := r.tooOld(now)
	if _, err := r.s.j.ReadAfter(ctx, lo-1, int(hi-lo+1), func(it *journal.Shipped) error {
		if !held[it.Seq] && (tooOld.IsZero() || !it.Time.Before(tooOld)) {
			missing = append(missing, *it)
		}
		return nil
	}); err != nil {
		return err
	}
	if again && len(missing) > 0 {
		// Sent twice and still not kept: older than the store's
		// retention, most likely. Counted, not sent forever.
		r.log.Warn("the store did not keep events sent to it twice (older than its -retentionPeriod? set max_age); counted as rejected",
			"events", len(missing), "from_seq", lo, "to_seq", hi)
		r.m.rejected.Add(float64(len(missing)))
		r.acks = r.acks[i:]
		return nil
	}
	if len(missing) > 0 {
		accepted, _, err := r.send(ctx, missing)
		if err != nil {
			return err
		}
		r.log.Warn("the store had lost events it had accepted (a crash before it saved them?); they were sent again",
			"events", accepted, "from_seq", lo, "to_seq", hi)
		r.m.resent.Add(float64(accepted))
	}
	if again {
		r.acks = r.acks[i:]
		return nil
	}
	r.acks = append(r.acks[i:], ack{lo: lo, hi: hi, n: n, at: now, again: true})
	return nil
}
