package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/mailtrail/mailtrail/pkg/enrich"
	"github.com/mailtrail/mailtrail/pkg/evidence"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/query"
	"github.com/mailtrail/mailtrail/pkg/report"
)

// reportKinds are the reports, in the order --help lists them.
var reportKinds = report.Kinds

func reportCommand(app *kingpin.Application, stdin io.Reader, stdout, stderr io.Writer) (string, func() error) {
	cmd := app.Command("report", "Audit reports from the journal: summary (pflogsumm-style), deliveries (timeline), logins (history), trace (one message).")
	var (
		kind, path, since, until, user, domain, queueID, messageID, format, output, blocklist, evidenceOut string
		geoip                                                                                              []string
		top                                                                                                int
	)
	cmd.Arg("report", "Which report: "+strings.Join(reportKinds, ", ")+".").Required().EnumVar(&kind, reportKinds...)
	cmd.Flag("journal.path", "SQLite event journal.").Default("mailtrail.db").StringVar(&path)
	cmd.Flag("since", "Start of the range (RFC 3339, or a duration ago like 2h; default 24h; trace: no limit).").StringVar(&since)
	cmd.Flag("until", "End of the range, exclusive (RFC 3339, or a duration ago; default now).").StringVar(&until)
	cmd.Flag("user", "Only this SASL/IMAP user (summary, deliveries, logins).").StringVar(&user)
	cmd.Flag("domain", "Only mail from or to this domain, subdomains included; logins: users of this domain.").StringVar(&domain)
	cmd.Flag("queue-id", "The message with this queue id (deliveries, trace).").StringVar(&queueID)
	cmd.Flag("message-id", "The message(s) with this Message-ID (deliveries, trace).").StringVar(&messageID)
	intVar(cmd.Flag("top", "Length of the summary's top lists.").Default("10"), &top)
	cmd.Flag("format", "Output format: "+strings.Join(report.Formats, ", ")+".").Default("table").StringVar(&format)
	cmd.Flag("output", "Write the report to this file instead of stdout.").StringVar(&output)
	cmd.Flag("evidence", "Also write an evidence bundle to this zip file: the report (CSV, JSON, PDF), its events, their inclusion proofs against the newest signed checkpoint, the checkpoint and the public key; check it with verify-evidence.").StringVar(&evidenceOut)
	cmd.Flag("enrich.geoip", "MaxMind database (GeoLite2/GeoIP2 Country, City or ASN) for countries and AS numbers, repeatable.").StringsVar(&geoip)
	cmd.Flag("enrich.blocklist", "Threat list, one CIDR or address per line ('#' comments): rows from listed addresses are marked.").StringVar(&blocklist)
	return cmd.FullCommand(), func() error {
		fail := func(code int, format string, args ...any) error {
			return &exitError{code: code, cmd: "report " + kind, msg: fmt.Sprintf(format, args...)}
		}
		now := time.Now()
		o := report.Options{User: user, Domain: domain, QueueID: queueID, MessageID: messageID, Top: top}
		var err error
		if o.Since, err = parseWhen(since, now); err != nil {
			return fail(2, "--since: %v", err)
		}
		if o.Until, err = parseWhen(until, now); err != nil {
			return fail(2, "--until: %v", err)
		}
		// A trace names its message; the range only narrows a
		// Message-ID search, so it has no default there.
		if o.Since.IsZero() && kind != "trace" {
			o.Since = now.Add(-24 * time.Hour)
		}
		if !o.Since.IsZero() && !o.Until.IsZero() && !o.Since.Before(o.Until) {
			return fail(2, "--since (%s) must be before --until (%s)", o.Since.Format(time.RFC3339), o.Until.Format(time.RFC3339))
		}
		if err := checkReportFlags(kind, o); err != nil {
			return fail(2, "%v", err)
		}
		if top <= 0 {
			return fail(2, "--top=%d: must be positive", top)
		}
		if !slices.Contains(report.Formats, format) {
			return fail(2, "--format=%s: unknown format (one of %s)", format, strings.Join(report.Formats, ", "))
		}
		if evidenceOut != "" && (len(geoip) > 0 || blocklist != "") {
			return fail(2, "--evidence cannot be combined with --enrich.geoip or --enrich.blocklist: a verifier could not build the report again without the same databases")
		}
		if output != "" {
			if fi, err := os.Stat(output); err == nil && fi.IsDir() {
				return fail(2, "--output=%s: is a directory", output)
			}
		}
		o.Enricher, err = enrich.New(enrich.Options{GeoIP: geoip, Blocklist: blocklist})
		if err != nil {
			return fail(2, "%v", err)
		}
		ctx := context.Background()
		j, err := journal.Open(ctx, path, journal.Options{ReadOnly: true})
		if err != nil {
			return fail(1, "%v", err)
		}
		defer j.Close()
		params := reportParams(j.Path(), o, now)
		var doc *report.Doc
		if evidenceOut != "" {
			doc, err = writeEvidence(ctx, stderr, evidenceOut, j.Path(), evidence.Request{Kind: kind, Options: o, Params: params, Generated: now, Version: version})
		} else {
			doc, err = report.Build(ctx, j, kind, o, params)
			if err == nil && format == "pdf" {
				doc.Checkpoint, err = newestCheckpoint(ctx, j)
			}
		}
		var ee *exitError
		if errors.As(err, &ee) {
			ee.cmd = "report " + kind
			return ee
		}
		if errors.Is(err, query.ErrNotFound) {
			return fail(1, "no message %s in %s", reportSubject(o), j.Path())
		}
		if err != nil {
			return fail(1, "%v", err)
		}
		doc.Generated, doc.Version = now, version
		if err := writeReport(stdout, output, doc, format); err != nil {
			return fail(1, "%v", err)
		}
		return nil
	}
}

// checkReportFlags refuses flags a report does not use: a filter that is
// silently ignored gives a compliance officer the wrong report.
func checkReportFlags(kind string, o report.Options) error {
	if o.Domain != "" && (strings.ContainsAny(o.Domain, "@/ \t") || strings.Trim(o.Domain, ".") == "") {
		return fmt.Errorf("--domain=%q: want a domain like example.com", o.Domain)
	}
	switch kind {
	case "summary", "logins":
		if o.QueueID != "" || o.MessageID != "" {
			return fmt.Errorf("--queue-id and --message-id apply to the deliveries and trace reports")
		}
	case "trace":
		if o.User != "" {
			return fmt.Errorf("--user does not apply to a trace: give --queue-id or --message-id")
		}
		if (o.QueueID == "") == (o.MessageID == "") {
			return fmt.Errorf("give --queue-id or --message-id (one of them)")
		}
	}
	return nil
}

func reportSubject(o report.Options) string {
	if o.QueueID != "" {
		return "with queue id " + o.QueueID
	}
	return "with Message-ID " + o.MessageID
}

// reportParams is the report's header: what was asked, of which journal.
func reportParams(path string, o report.Options, now time.Time) []report.Param {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	until := o.Until
	if until.IsZero() {
		until = now
	}
	rng := "until " + until.UTC().Format(time.RFC3339)
	if !o.Since.IsZero() {
		rng = o.Since.UTC().Format(time.RFC3339) + " to " + until.UTC().Format(time.RFC3339)
	}
	ps := []report.Param{{Name: "Journal", Value: abs}, {Name: "Range", Value: rng}}
	for _, f := range []struct{ name, v string }{
		{"User", o.User}, {"Domain", o.Domain}, {"Queue id", o.QueueID}, {"Message-ID", o.MessageID},
	} {
		if f.v != "" {
			ps = append(ps, report.Param{Name: f.name, Value: f.v})
		}
	}
	return ps
}

// writeReport writes to stdout, or to a file that appears whole or not at
// all: a half-written report attached to a ticket is worse than none.
func writeReport(stdout io.Writer, output string, d *report.Doc, format string) error {
	if output == "" || output == "-" {
		return report.Write(stdout, d, format)
	}
	var buf bytes.Buffer
	if err := report.Write(&buf, d, format); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(output), "."+filepath.Base(output)+".*")
	if err != nil {
		return fmt.Errorf("--output: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("--output: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("--output: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o640); err != nil {
		return fmt.Errorf("--output: %w", err)
	}
	if err := os.Rename(tmp.Name(), output); err != nil {
		return fmt.Errorf("--output: %w", err)
	}
	return nil
}
