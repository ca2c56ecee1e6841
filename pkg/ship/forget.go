package ship

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail/pkg/journal"
)

// DefaultDeleteWait is how long an erasure waits for the store's deletion
// task to finish before saying it is still running.
const DefaultDeleteWait = 30 * time.Second

// StoreAnswer is what one fleet store did about an erasure.
type StoreAnswer struct {
	Sink, URL string
	// Deleted says the store deleted its rows naming the subject (and
	// that the deletion finished).
	Deleted bool
	// NoDelete says the sink has no way to delete (OTLP): its backend's
	// copies are for its operator to erase, which Detail says.
	NoDelete bool
	// Detail says what happened, in words, for the erasure record and
	// the operator.
	Detail string
}

func (a StoreAnswer) String() string { return a.Sink + " " + a.URL + ": " + a.Detail }

// Deleter is a sink that can delete its copies of a subject's events.
type Deleter interface {
	DeleteSubjects(ctx context.Context, instance string, subjects []string, wait time.Duration) StoreAnswer
}

// SetSelectURL points the deletions and rechecks elsewhere than the
// inserts: in a VictoriaLogs cluster, /delete and /select are served by a
// select node.
func (v *VictoriaLogs) SetSelectURL(raw string) error {
	u, err := parseURL(SinkVictoriaLogs, raw)
	if err != nil {
		return err
	}
	u.Path = strings.TrimRight(u.Path, "/")
	v.base = u
	return nil
}

// DeleteSubjects asks VictoriaLogs (started with -delete.enable) to
// delete this instance's rows that name any subject in any field, as a
// whole word in any letter case, the way the journal's erasure matches,
// and waits up to wait for the deletion task to end.
func (v *VictoriaLogs) DeleteSubjects(ctx context.Context, instance string, subjects []string, wait time.Duration) StoreAnswer {
	shown := v.base.Redacted()
	ans := StoreAnswer{Sink: SinkVictoriaLogs, URL: shown}
	var words []string
	for _, s := range subjects {
		words = append(words, "*:i("+strconv.Quote(s)+")")
	}
	filter := "instance:=" + strconv.Quote(instance) + " (" + strings.Join(words, " or ") + ")"
	run := *v.base
	run.Path += "/delete/run_task"
	run.RawQuery = url.Values{"filter": {filter}}.Encode()
	b, err := v.p.post(ctx, run.String(), "", nil)
	if err != nil {
		ans.Detail = "not deleted, its copies still name the subject: " + deleteError(err)
		return ans
	}
	var task struct {
		ID string `json:"task_id"`
	}
	if err := json.Unmarshal(b, &task); err != nil || task.ID == "" {
		ans.Detail = fmt.Sprintf("not deleted: unexpected answer to /delete/run_task: %.200q", b)
		return ans
	}
	if wait <= 0 {
		wait = DefaultDeleteWait
	}
	deadline := time.Now().Add(wait)
	active := *v.base
	active.Path += "/delete/active_tasks"
	for {
		running, err := v.taskRunning(ctx, active.String(), task.ID)
		switch {
		case err != nil:
			ans.Detail = fmt.Sprintf("deletion task %s started; its end could not be checked: %s", task.ID, deleteError(err))
			return ans
		case !running:
			// The store's word is checked: a row still found is said.
			rows, err := v.logsQL(ctx, filter+" | stats count() n")
			switch {
			case err != nil:
				ans.Detail = fmt.Sprintf("deletion task %s done; whether rows remain could not be checked: %s", task.ID, deleteError(err))
			case len(rows) == 1 && rows[0]["n"] == "0":
				ans.Deleted = true
				ans.Detail = fmt.Sprintf("rows deleted (instance %s, task %s done)", instance, task.ID)
			default:
				ans.Detail = fmt.Sprintf("deletion task %s done, but rows still name the subject: %v", task.ID, rows)
			}
			return ans
		case time.Now().After(deadline):
			ans.Detail = fmt.Sprintf("deletion task %s still running after %v (see /delete/active_tasks)", task.ID, wait)
			return ans
		}
		select {
		case <-ctx.Done():
			ans.Detail = fmt.Sprintf("deletion task %s started; stopped waiting: %v", task.ID, ctx.Err())
			return ans
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (v *VictoriaLogs) taskRunning(ctx context.Context, u, id string) (bool, error) {
	b, err := v.p.get(ctx, u)
	if err != nil {
		return false, err
	}
	var tasks []struct {
		ID string `json:"task_id"`
	}
	if err := json.Unmarshal(b, &tasks); err != nil {
		return false, fmt.Errorf("unexpected answer to /delete/active_tasks: %.200q", b)
	}
	for _, t := range tasks {
		if t.ID == id {
			return true, nil
		}
	}
	return false, nil
}

// deleteError explains a failed deletion request; a refused one usually
// means the store runs without -delete.enable.
func deleteError(err error) string {
	var se *Error
	if errors.As(err, &se) {
		if se.Status != 0 {
			msg := fmt.Sprintf("the store answered %d: %s", se.Status, se.Msg)
			if strings.Contains(se.Msg, "-delete.enable") {
				msg += " (start VictoriaLogs with -delete.enable; in a cluster, the select node with -delete.enable and the storage nodes with -internaldelete.enable)"
			}
			return msg
		}
		if se.Err != nil {
			return fmt.Sprintf("store not reached (%s): %v", se.Reason, se.Err)
		}
	}
	return err.Error()
}

// Forget erases subjects from the journal and from the stores' copies.
// The shipper is paused throughout, so that no batch read before the
// erasure reaches a store after it. Each store that can delete is asked
// to first, and every store's answer goes into the journal's erasure
// record; the events the erasure rewrote are then sent again to the stores
// that deleted their copies, so they keep every event, with the subject
// replaced. A store that could not delete is in the answers with Deleted
// false: the caller must say so.
func (s *Shipper) Forget(ctx context.Context, subjects []string, actor string, wait time.Duration) (journal.EraseResult, []StoreAnswer, error) {
	resume := s.Pause()
	defer resume()
	var answers []StoreAnswer
	deleted := map[string]bool{}
	for _, r := range s.runners {
		d, ok := r.sink.(Deleter)
		if !ok {
			answers = append(answers, StoreAnswer{Sink: r.sink.Name(), URL: sinkURL(r.sink), NoDelete: true,
				Detail: "not deleted: an OTLP receiver has no delete; erase the subject in the backend behind it"})
			continue
		}
		a := d.DeleteSubjects(ctx, s.opts.Instance, subjects, wait)
		if a.Deleted {
			deleted[r.sink.Name()] = true
		} else {
			s.opts.Logger.Warn("erasure: a fleet store still holds copies naming the subject", "sink", a.Sink, "url", a.URL, "detail", a.Detail)
		}
		answers = append(answers, a)
	}
	notes := make([]string, len(answers))
	for i, a := range answers {
		notes[i] = a.String()
	}
	res, err := s.j.EraseNoted(ctx, subjects, actor, "stores: "+strings.Join(notes, ", "))
	if err != nil || res.Seq == 0 || len(deleted) == 0 {
		return res, answers, err
	}
	seqs, err := s.j.ErasedSeqs(ctx, res.Seq)
	if err == nil {
		err = s.resend(ctx, seqs, deleted)
	}
	if err != nil {
		for i := range answers {
			if deleted[answers[i].Sink] {
				answers[i].Detail += fmt.Sprintf("; the rewritten events were not sent again (%v): the store lacks them until they are", err)
			}
		}
	}
	return res, answers, nil
}

func sinkURL(k Sink) string {
	if u, ok := k.(interface{ URL() string }); ok {
		return u.URL()
	}
	return ""
}
