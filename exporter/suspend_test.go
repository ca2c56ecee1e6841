package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLISuspendOffline: with serve stopped, suspend and unsuspend write
// the journal (signed), suspensions reads it, and verify passes.
func TestCLISuspendOffline(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "j.db")
	// A journal to write to: replay an empty log creates it.
	logf := cliWriteFile(t, filepath.Join(dir, "mail.log"), "")
	cliMust(t, "", "replay", "--journal.path="+db, logf)

	out := cliMust(t, "", "suspend", "--journal.path="+db, "--user=bob@example.com", "--for=2h", "--reason=phished", "--response=hold")
	if !strings.Contains(out, "suspended user bob@example.com (hold, until ") {
		t.Errorf("suspend said %q", out)
	}
	cliMust(t, "", "suspend", "--journal.path="+db, "--ip=192.0.2.9", "--permanent", "--reason=scanner")
	list := cliMust(t, "", "suspensions", "--journal.path="+db)
	for _, want := range []string{"bob@example.com  hold", "192.0.2.9", "permanent", "cli:"} {
		if !strings.Contains(list, want) {
			t.Errorf("suspensions does not show %q:\n%s", want, list)
		}
	}
	if out := cliMust(t, "", "unsuspend", "--journal.path="+db, "--user=bob@example.com", "--reason=reset"); !strings.HasPrefix(out, "lifted user bob@example.com") {
		t.Errorf("unsuspend said %q", out)
	}
	r := cliRun(t, "", "unsuspend", "--journal.path="+db, "--user=bob@example.com")
	if r.code != 1 || !strings.Contains(r.stderr, "user bob@example.com: not suspended") {
		t.Errorf("unsuspend again: %s", r)
	}
	if list := cliMust(t, "", "suspensions", "--journal.path="+db, "--format=json"); strings.Contains(list, "bob@") || !strings.Contains(list, `"subject":"192.0.2.9"`) {
		t.Errorf("after the lift:\n%s", list)
	}
	events := cliMust(t, "", "events", "--journal.path="+db, "--kind=suspend", "--kind=unsuspend")
	if n := strings.Count(events, "\n"); n != 3 {
		t.Errorf("journaled %d records, want 3:\n%s", n, events)
	}
	if r := cliRun(t, "", "verify", "--journal.path="+db, "--pubkey="+db+".key.pub"); r.code != 0 {
		t.Errorf("verify: %s", r)
	}
}

func TestCLISuspendBadInput(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "j.db")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"suspend", "--reason=x"}, 2, "--user or --ip is required"},
		{[]string{"suspend", "--user=a", "--ip=192.0.2.1", "--reason=x"}, 2, "not both"},
		{[]string{"suspend", "--ip=999.1.1.1", "--reason=x"}, 2, `--ip "999.1.1.1": not an IP address`},
		{[]string{"suspend", "--user=bob", "--reason=x", "--response=bounce"}, 2, `--response "bounce"`},
		{[]string{"suspend", "--user=bob", "--reason=x", "--permanent", "--for=1h"}, 2, "--for=1h0m0s"},
		{[]string{"suspend", "--user=bob", "--reason=x", "--journal.path=" + db}, 1, "no such file"},
		{[]string{"suspend", "--user=bob", "--reason=x", "--exporter=mx1:9744"}, 2, `--exporter="mx1:9744"`},
		{[]string{"serve", "--config.check", "--policy.rule=everything"}, 2, `--policy.rule: rule 1: detection "everything"`},
		{[]string{"serve", "--config.check", "--policy.rule=brute_force_ip:soon"}, 2, `--policy.rule: rule 1: detection "brute_force_ip:soon"`},
		{[]string{"serve", "--config.check", "--policy.listen=10040"}, 2, "--policy.listen=10040: want host:port or unix:/path"},
		{[]string{"serve", "--config.check", "--policy.allow-network=10.0.0.0/33"}, 2, `--policy.allow-network: "10.0.0.0/33" is neither a CIDR network nor an address`},
	} {
		r := cliRun(t, "", c.args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%s: %s\nwant exit %d saying %q", strings.Join(c.args, " "), r, c.code, c.want)
		}
	}
}

// TestCLISuspendFleet: the fan-out names the exporter that failed and
// exits 1, after the others took the suspension.
func TestCLISuspendFleet(t *testing.T) {
	var got []string
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization")+" "+r.URL.Query().Get("user"))
		w.Write([]byte(`{"suspension":{"scope":"user","subject":"bob","response":"reject","reason":"x","by":"api:ops","since":"2026-01-01T00:00:00Z"}}`))
	}))
	defer ok.Close()
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	token := cliWriteFile(t, filepath.Join(t.TempDir(), "token"), "s3cret-token-0123456789\n")
	r := cliRun(t, "", "suspend", "--user=bob", "--reason=x", "--exporter="+ok.URL, "--exporter="+down.URL, "--api.token-file="+token)
	if r.code != 1 || !strings.Contains(r.stdout, ok.URL+": suspended user bob (reject, permanent, by api:ops: x)") ||
		!strings.Contains(r.stdout, down.URL+": FAILED") || !strings.Contains(r.stderr, "1 of 2 exporters failed") {
		t.Errorf("fan-out: %s", r)
	}
	if len(got) != 1 || got[0] != "POST /api/v1/suspend Bearer s3cret-token-0123456789 bob" {
		t.Errorf("the exporter was asked %q", got)
	}
}

// TestCLIServePolicyPortInUse: a policy address in use stops serve before
// anything is read, naming the setting.
func TestCLIServePolicyPortInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := t.TempDir()
	for flag, key := range map[string]string{"--policy.listen=": "policy.listen ", "--policy.dovecot-listen=": "policy.dovecot_listen "} {
		r := cliRun(t, "a line nobody must read\n", "serve", "--log.path=-", "--journal.path="+filepath.Join(dir, "j.db"),
			"--web.listen-address=127.0.0.1:0", "--postfix.postqueue=", flag+busy.Addr().String())
		if r.code != 1 || !strings.Contains(r.stderr, key+busy.Addr().String()+": listen tcp") || !strings.Contains(r.stderr, "address already in use") {
			t.Errorf("%s: %s", flag, r)
		}
	}
}
