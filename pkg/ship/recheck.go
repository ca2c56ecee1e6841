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
	// n is how many events were accepted; -1: as many as the journal
	// holds in the range (the range shipped before a restart).
	n  int64
	at time.Time
	// tries is how often the range was found short: once, it is asked
	// about again later (a cluster's insert node may still be holding
	// rows for a storage node that was away); twice, the missing events
	// are sent again; three times, the store will not keep them.
	tries int
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
	tries := 0
	// Consecutive batches found short as often are one question.
	for i < len(r.acks) && !r.acks[i].at.After(due) && n < maxRecheck {
		a := r.acks[i]
		if i == 0 {
			lo, tries = a.lo, a.tries
		} else if a.tries != tries || a.lo <= hi || a.n < 0 || n < 0 {
			break
		}
		hi, n = a.hi, n+a.n
		i++
	}
	if i == 0 {
		return nil
	}
	r.lastRecheck = now
	r.s.mu.RLock()
	defer r.s.mu.RUnlock()
	tooOld := r.tooOld(now)
	if n < 0 {
		n = 0
		if _, err := r.s.j.ReadAfter(ctx, lo-1, int(hi-lo+1), func(it *journal.Shipped) error {
			if tooOld.IsZero() || !it.Time.Before(tooOld) {
				n++
			}
			return nil
		}); err != nil {
			return err
		}
		r.acks[0].n = n
	}
	got, err := r.checker.CountSeqs(ctx, opts.Instance, lo, hi)
	if err != nil {
		return err
	}
	if got >= n {
		r.acks = r.acks[i:]
		return r.saveChecked(ctx)
	}
	if tries == 0 {
		r.acks = append(r.acks[i:], ack{lo: lo, hi: hi, n: n, at: now, tries: 1})
		return r.saveChecked(ctx)
	}
	held, err := r.checker.HeldSeqs(ctx, opts.Instance, lo, hi)
	if err != nil {
		return err
	}
	var missing []journal.Shipped
	if _, err := r.s.j.ReadAfter(ctx, lo-1, int(hi-lo+1), func(it *journal.Shipped) error {
		if !held[it.Seq] && (tooOld.IsZero() || !it.Time.Before(tooOld)) {
			missing = append(missing, *it)
		}
		return nil
	}); err != nil {
		return err
	}
	if tries >= 2 && len(missing) > 0 {
		// Sent twice and still not kept: older than the store's
		// retention, most likely. Counted, not sent forever.
		r.log.Warn("the store did not keep events sent to it twice (older than its -retentionPeriod? set max_age); counted as rejected",
			"events", len(missing), "from_seq", lo, "to_seq", hi)
		r.m.rejected.Add(float64(len(missing)))
		r.acks = r.acks[i:]
		return r.saveChecked(ctx)
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
	if tries >= 2 {
		r.acks = r.acks[i:]
		return r.saveChecked(ctx)
	}
	r.acks = append(r.acks[i:], ack{lo: lo, hi: hi, n: n, at: now, tries: 2})
	return r.saveChecked(ctx)
}

// checkedName is the journal's cursor of the events the store was found
// to hold: a restarted exporter rechecks from there.
func (r *runner) checkedName() string { return r.sink.Name() + ".checked" }

// saveChecked records how far the store is known to hold everything.
func (r *runner) saveChecked(ctx context.Context) error {
	checked := r.cursor
	for _, a := range r.acks {
		checked = min(checked, a.lo-1)
	}
	if checked == r.checked {
		return nil
	}
	if err := r.s.j.SetShipCursor(ctx, r.checkedName(), checked); err != nil {
		return err
	}
	r.checked = checked
	return nil
}

// loadChecked makes what was shipped but not yet rechecked before a
// restart the first thing to recheck.
func (r *runner) loadChecked(ctx context.Context) error {
	if r.checker == nil {
		return nil
	}
	c, err := r.s.j.ShipCursor(ctx, r.checkedName())
	if err != nil {
		return err
	}
	r.checked = c
	if c < r.cursor {
		// Rechecked RecheckAfter from now: what was sent just before
		// the restart may not be searchable yet.
		r.acks = append(r.acks[:0], ack{lo: max(c+1, r.cursor-maxRecheck+1), hi: r.cursor, n: -1, at: r.s.opts.Now()})
	}
	return nil
}
