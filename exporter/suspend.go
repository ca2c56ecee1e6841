package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/config"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/server"
	"github.com/mailtrail/mailtrail/pkg/suspend"
)

// addPolicyFlags declares serve's policy-service settings.
func addPolicyFlags(cmd *kingpin.CmdClause, sf *settingFlags) {
	bind(sf, cmd, "policy.listen", "policy.listen", "Serve Postfix's policy delegation protocol (check_policy_service) on host:port or unix:/path; off when empty. See docs/responding.md.", "", flagString,
		func(c *config.Config, v string) { c.Policy.Listen = v })
	bind(sf, cmd, "policy.dovecot-listen", "policy.dovecot_listen", "Serve Dovecot's auth policy (auth_policy_server_url) over HTTP on host:port; off when empty.", "", flagString,
		func(c *config.Config, v string) { c.Policy.DovecotListen = v })
	bind(sf, cmd, "policy.dovecot-api-key-file", "policy.dovecot_api_key_file", "File holding the key Dovecot must send in X-API-Key (auth_policy_server_api_header); without it anyone reaching --policy.dovecot-listen may report.", "", flagString,
		func(c *config.Config, v string) { c.Policy.DovecotAPIKeyFile = v })
	bind(sf, cmd, "policy.dry-run", "policy.dry_run", "Refuse nobody: journal and count what would be refused.", "", flagBool,
		func(c *config.Config, v bool) { c.Policy.DryRun = v })
	bind(sf, cmd, "policy.allow-network", "policy.allow_networks", "Network (CIDR) or address never refused nor suspended, repeatable.", "", flagStrings,
		func(c *config.Config, v []string) { c.Policy.AllowNetworks = v })
	bind(sf, cmd, "policy.allow-user", "policy.allow_users", "User name never refused nor suspended, repeatable.", "", flagStrings,
		func(c *config.Config, v []string) { c.Policy.AllowUsers = v })
	bind(sf, cmd, "policy.default-for", "policy.default_for", "How long a suspension without a duration lasts.", config.DefaultConfig().Policy.DefaultFor.String(), flagDuration,
		func(c *config.Config, v time.Duration) { c.Policy.DefaultFor = config.Duration(v) })
	bind(sf, cmd, "policy.rule", "policy.rules", "Automatic response DETECTION[:FOR[:RESPONSE]], repeatable, first match wins: brute_force_ip, brute_force_user, send_volume or compromised; reject (default), defer_if_permit or hold. Replaces policy.rules of the configuration file.", "", flagStrings,
		func(c *config.Config, v []string) {
			c.Policy.Rules = nil
			for _, r := range v {
				pr, err := config.ParsePolicyRule(r)
				if err != nil {
					// Validation names it, whole, as an unknown detection.
					pr = config.PolicyRule{Detection: r}
				}
				c.Policy.Rules = append(c.Policy.Rules, pr)
			}
		})
}

// fleetFlags say how the suspend commands reach running exporters: their
// API, with an admin token. Without --exporter they write the journal
// (serve must be stopped: the journal has one writer).
type fleetFlags struct {
	exporters []string
	tokenFile string
	timeout   time.Duration
}

func addFleetFlags(cmd *kingpin.CmdClause) *fleetFlags {
	f := &fleetFlags{}
	cmd.Flag("exporter", "Base URL of a running exporter (http://host:9744), repeatable: the command goes to each through its API (admin token). Without it, the journal is written directly (stop serve first).").StringsVar(&f.exporters)
	cmd.Flag("api.token-file", "File holding the admin bearer token for --exporter.").StringVar(&f.tokenFile)
	durationVar(cmd.Flag("api.timeout", "Deadline of each exporter's call.").Default("10s"), &f.timeout)
	return f
}

type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// clients are the API clients of --exporter.
func (f *fleetFlags) clients() ([]*apiv1.Client, error) {
	hc := &http.Client{Timeout: f.timeout}
	if f.tokenFile != "" {
		b, err := os.ReadFile(f.tokenFile)
		if err != nil {
			return nil, fail(2, "--api.token-file: %v", err)
		}
		hc.Transport = bearer{token: strings.TrimSpace(string(b)), next: http.DefaultTransport}
	}
	var out []*apiv1.Client
	for _, e := range f.exporters {
		u, err := url.Parse(e)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fail(2, "--exporter=%q: want a URL such as http://mx1:9744", e)
		}
		out = append(out, &apiv1.Client{HTTP: hc, Base: u})
	}
	return out, nil
}

// fanOut calls each exporter, prints one line per answer, and fails when
// any failed: a fleet where some exporters missed a suspension must be
// seen (run the command again: suspending again replaces, lifting what
// is not suspended says so).
func (f *fleetFlags) fanOut(stdout io.Writer, call func(ctx context.Context, c *apiv1.Client) (string, error)) error {
	clients, err := f.clients()
	if err != nil {
		return err
	}
	failed := 0
	for i, c := range clients {
		ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
		line, err := call(ctx, c)
		cancel()
		if err != nil {
			failed++
			fmt.Fprintf(stdout, "%s: FAILED: %v\n", f.exporters[i], err)
			continue
		}
		fmt.Fprintf(stdout, "%s: %s\n", f.exporters[i], line)
	}
	if failed > 0 {
		return fail(1, "%d of %d exporters failed", failed, len(clients))
	}
	return nil
}

// offline opens the journal as its writer, with the store loaded from it;
// records are committed at once. done signs a checkpoint and closes.
func offline(c *config.Config, stderr io.Writer) (*suspend.Store, func() error, error) {
	ctx := context.Background()
	if _, err := os.Stat(c.Journal.Path); err != nil {
		// Opening would create an empty journal that serve never reads.
		return nil, nil, fail(1, "--journal.path: %v", err)
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	j, _, err := server.OpenJournal(ctx, c, logger)
	if err != nil {
		return nil, nil, fail(1, "%v; its API: --exporter=URL --api.token-file=F", err)
	}
	r, err := c.Redactor()
	if err != nil {
		j.Close()
		return nil, nil, fail(2, "%v", err)
	}
	st, err := server.NewSuspensions(ctx, c, j, r, logger, nil, func(rec journal.Record) error {
		return j.Commit(ctx, []journal.Record{rec}, nil)
	})
	if err != nil {
		j.Close()
		return nil, nil, fail(1, "%v", err)
	}
	return st, func() error {
		err := j.Checkpoint(ctx)
		if cerr := j.Close(); err == nil {
			err = cerr
		}
		return err
	}, nil
}

// offlineChange makes one change to the suspensions in the journal itself
// (serve stopped) and signs a checkpoint over it.
func offlineChange(sf *settingFlags, stderr io.Writer, change func(*suspend.Store) (apiv1.Suspension, error)) (apiv1.Suspension, error) {
	c, err := sf.settings()
	if err != nil {
		return apiv1.Suspension{}, fail(2, "%v", err)
	}
	st, done, err := offline(c, stderr)
	if err != nil {
		return apiv1.Suspension{}, err
	}
	v, err := change(st)
	if cerr := done(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return apiv1.Suspension{}, fail(1, "%v", err)
	}
	return v, nil
}

// cliActor is who a command journals as having asked: the user behind
// sudo, else the login. $USER is unset under cron, systemd and
// containers, where the account the process runs as still names someone.
func cliActor() string {
	name := firstNonEmpty(os.Getenv("SUDO_USER"), os.Getenv("USER"))
	if name == "" {
		if u, err := user.Current(); err == nil {
			name = u.Username
		}
	}
	return "cli:" + firstNonEmpty(name, "unknown")
}

func subjectFlags(user, ip string) (scope, subject string, err error) {
	switch {
	case user != "" && ip != "":
		return "", "", fail(2, "give --user or --ip, not both")
	case user != "":
		scope, subject = apiv1.SuspendUser, user
	case ip != "":
		scope, subject = apiv1.SuspendIP, ip
	default:
		return "", "", fail(2, "--user or --ip is required")
	}
	if _, err := suspend.CheckSubject(scope, subject); err != nil {
		return "", "", fail(2, "--%v", err)
	}
	return scope, subject, nil
}

func describe(v apiv1.Suspension) string {
	until := "permanent"
	if !v.Until.IsZero() {
		until = "until " + v.Until.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("%s %s (%s, %s, by %s: %s)", v.Scope, v.Subject, v.Response, until, v.By, v.Reason)
}

func suspendCommand(app *kingpin.Application, _ io.Reader, stdout, stderr io.Writer) (string, func() error) {
	cmd := app.Command("suspend", "Suspend a SASL user or a client IP: the policy services refuse it until the suspension expires or is lifted. Journaled with who and why.")
	sf := addSourceFlags(cmd)
	ff := addFleetFlags(cmd)
	var user, ip, reason, response string
	var dur time.Duration
	var permanent bool
	cmd.Flag("user", "SASL user name to suspend.").StringVar(&user)
	cmd.Flag("ip", "Client IP address to suspend.").StringVar(&ip)
	durationVar(cmd.Flag("for", "How long (default: policy.default_for, 24h)."), &dur)
	cmd.Flag("permanent", "Never expires (lift it with unsuspend).").BoolVar(&permanent)
	cmd.Flag("reason", "Why; journaled with the suspension.").Required().StringVar(&reason)
	cmd.Flag("response", "How Postfix refuses: reject, defer_if_permit or hold.").Default(suspend.Reject).StringVar(&response)
	return cmd.FullCommand(), func() error {
		scope, subject, err := subjectFlags(user, ip)
		if err != nil {
			return err
		}
		if err := suspend.CheckResponse(response); err != nil {
			return fail(2, "--%v", err)
		}
		if dur < 0 || (permanent && dur > 0) {
			return fail(2, "--for=%s: want a positive duration, and not with --permanent", dur)
		}
		if len(ff.exporters) > 0 {
			p := url.Values{scope: {subject}, "reason": {reason}, "response": {response}}
			if dur > 0 {
				p.Set("for", dur.String())
			}
			if permanent {
				p.Set("permanent", "true")
			}
			return ff.fanOut(stdout, func(ctx context.Context, c *apiv1.Client) (string, error) {
				r, err := c.Suspend(ctx, p)
				if err != nil {
					return "", err
				}
				return "suspended " + describe(r.Suspension), nil
			})
		}
		v, err := offlineChange(sf, stderr, func(st *suspend.Store) (apiv1.Suspension, error) {
			return st.Suspend(scope, subject, dur, permanent, response, reason, cliActor())
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "suspended %s; serve enforces it from its next start (running exporters: --exporter)\n", describe(v))
		return nil
	}
}

func unsuspendCommand(app *kingpin.Application, _ io.Reader, stdout, stderr io.Writer) (string, func() error) {
	cmd := app.Command("unsuspend", "Lift a suspension before it expires. Journaled with who and why.")
	sf := addSourceFlags(cmd)
	ff := addFleetFlags(cmd)
	var user, ip, reason string
	cmd.Flag("user", "SASL user name to lift.").StringVar(&user)
	cmd.Flag("ip", "Client IP address to lift.").StringVar(&ip)
	cmd.Flag("reason", "Why; journaled with the lift.").StringVar(&reason)
	return cmd.FullCommand(), func() error {
		scope, subject, err := subjectFlags(user, ip)
		if err != nil {
			return err
		}
		if len(ff.exporters) > 0 {
			p := url.Values{scope: {subject}}
			if reason != "" {
				p.Set("reason", reason)
			}
			return ff.fanOut(stdout, func(ctx context.Context, c *apiv1.Client) (string, error) {
				r, err := c.Unsuspend(ctx, p)
				if err != nil {
					return "", err
				}
				return "lifted " + describe(r.Suspension), nil
			})
		}
		v, err := offlineChange(sf, stderr, func(st *suspend.Store) (apiv1.Suspension, error) {
			return st.Lift(scope, subject, reason, cliActor())
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "lifted %s\n", describe(v))
		return nil
	}
}

func suspensionsCommand(app *kingpin.Application, _ io.Reader, stdout, stderr io.Writer) (string, func() error) {
	cmd := app.Command("suspensions", "List the suspensions in force: from running exporters (--exporter) or from the journal.")
	sf := addSourceFlags(cmd)
	ff := addFleetFlags(cmd)
	var format string
	cmd.Flag("format", "table or json.").Default("table").EnumVar(&format, "table", "json")
	return cmd.FullCommand(), func() error {
		type row struct {
			Exporter string `json:"exporter,omitempty"`
			apiv1.Suspension
		}
		var rows []row
		if len(ff.exporters) > 0 {
			clients, err := ff.clients()
			if err != nil {
				return err
			}
			for i, c := range clients {
				ctx, cancel := context.WithTimeout(context.Background(), ff.timeout)
				r, err := c.Suspensions(ctx)
				cancel()
				if err != nil {
					return fail(1, "%s: %v", ff.exporters[i], err)
				}
				for _, v := range r.Suspensions {
					rows = append(rows, row{ff.exporters[i], v})
				}
			}
		} else {
			c, err := sf.settings()
			if err != nil {
				return fail(2, "%v", err)
			}
			// A reader: listing works while serve runs.
			j, err := journal.Open(context.Background(), c.Journal.Path, journal.Options{ReadOnly: true})
			if err != nil {
				return fail(1, "%v", err)
			}
			defer j.Close()
			r, err := c.Redactor()
			if err != nil {
				return fail(2, "%v", err)
			}
			st, err := server.NewSuspensions(context.Background(), c, j, r, nil, nil, nil)
			if err != nil {
				return fail(1, "%v", err)
			}
			for _, v := range st.List() {
				rows = append(rows, row{"", v})
			}
		}
		if format == "json" {
			enc := json.NewEncoder(stdout)
			for _, r := range rows {
				if err := enc.Encode(r); err != nil {
					return err
				}
			}
			return nil
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "EXPORTER\tSCOPE\tSUBJECT\tRESPONSE\tUNTIL\tBY\tREASON")
		for _, r := range rows {
			until := "permanent"
			if !r.Until.IsZero() {
				until = r.Until.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", firstNonEmpty(r.Exporter, "-"), r.Scope, r.Subject, r.Response, until, r.By, r.Reason)
		}
		return tw.Flush()
	}
}
