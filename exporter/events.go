package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/mailtrail/mailtrail/pkg/config"
	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/journal"
)

func eventsCommand(app *kingpin.Application, stdin io.Reader, stdout, stderr io.Writer) (string, func() error) {
	cmd := app.Command("events", "Print journaled events.")
	var (
		path, since, until, queueID, user, ip, format, configFile string
		kinds                                                     []string
		limit                                                     int
	)
	cmd.Flag("journal.path", "SQLite event journal.").Default("mailtrail.db").StringVar(&path)
	cmd.Flag("since", "Only events at or after this time (RFC 3339, or a duration ago like 2h).").StringVar(&since)
	cmd.Flag("until", "Only events before this time (RFC 3339, or a duration ago).").StringVar(&until)
	cmd.Flag("kind", "Only events of this kind, repeatable.").StringsVar(&kinds)
	cmd.Flag("queue-id", "Only events of this queue id.").StringVar(&queueID)
	cmd.Flag("sasl-username", "Only events of this SASL user.").StringVar(&user)
	cmd.Flag("client-ip", "Only events from this client IP.").StringVar(&ip)
	intVar(cmd.Flag("limit", "At most this many events, the oldest first (0: all); when more match, stderr says so.").Default("1000"), &limit)
	cmd.Flag("format", "Output format.").Default("jsonl").EnumVar(&format, "jsonl", "table")
	cmd.Flag("config.file", "The exporter's configuration: with pseudonymised fields, --sasl-username and --client-ip are looked up by their pseudonyms.").StringVar(&configFile)
	return cmd.FullCommand(), func() error {
		now := time.Now()
		f := journal.Filter{QueueID: queueID, SASLUsername: user, ClientIP: ip, Limit: limit}
		var err error
		if f.Since, err = parseWhen(since, now); err != nil {
			return fail(2, "--since: %v", err)
		}
		if f.Until, err = parseWhen(until, now); err != nil {
			return fail(2, "--until: %v", err)
		}
		if configFile != "" {
			c, err := config.Load(configFile)
			if err != nil {
				return fail(2, "%v", err)
			}
			r, err := c.Redactor()
			if err != nil {
				return fail(2, "%v", err)
			}
			if user != "" {
				f.SASLUsername = r.Query("sasl_username", user)
			}
			if ip != "" {
				f.ClientIP = r.Query("client_ip", ip)
			}
		}
		if limit < 0 {
			return fail(2, "--limit=%d: must not be negative", limit)
		}
		for _, k := range kinds {
			kind, err := event.ParseKind(k)
			if err != nil {
				return fail(2, "--kind: %v (one of %s)", err, kindList())
			}
			f.Kinds = append(f.Kinds, kind)
		}
		ctx := context.Background()
		j, err := journal.Open(ctx, path, journal.Options{ReadOnly: true})
		if err != nil {
			return fail(1, "%v", err)
		}
		defer j.Close()
		if limit > 0 {
			f.Limit = limit + 1 // one more tells whether the limit cut the listing
		}
		evs, err := j.Events(ctx, f)
		if err != nil {
			return fail(1, "%v", err)
		}
		cut := limit > 0 && len(evs) > limit
		if cut {
			evs = evs[:limit]
		}
		if err := writeEvents(stdout, evs, format); err != nil {
			return fail(1, "%v", err)
		}
		if cut {
			// A silent cut reads as "that is all there is".
			fmt.Fprintf(stderr, "exporter events: printed the first %d matching events; more match (--limit=0 prints them all, --since/--until/--kind narrow them)\n", limit)
		}
		return nil
	}
}

func kindList() string {
	var names []string
	for _, k := range event.Kinds() {
		names = append(names, k.String())
	}
	return strings.Join(names, ", ")
}

// parseWhen reads an RFC 3339 time or a duration before now ("2h").
func parseWhen(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time nor a duration like 2h", s)
	}
	return now.Add(-d), nil
}

func writeEvents(w io.Writer, evs []journal.Stored, format string) error {
	bw := bufio.NewWriter(w)
	switch format {
	case "table":
		tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "TIME\tKIND\tQUEUE ID\tPROGRAM\tCLIENT\tUSER\tSENDER\tRECIPIENT\tSTATUS")
		for _, s := range evs {
			e := &s.Event
			t := ""
			if !e.Time.IsZero() {
				t = e.Time.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t, e.Kind, e.QueueID, e.Program, e.ClientIP, e.SASLUsername, e.Sender, e.Recipient, e.Status)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	default:
		enc := json.NewEncoder(bw)
		enc.SetEscapeHTML(false)
		for i := range evs {
			if err := enc.Encode(&evs[i].Event); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}
