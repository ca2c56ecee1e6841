package offenders

import (
	"testing"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// A repeat line stands for N failures in the windows: with the default
// threshold of 10, one line repeated 10 times stays below it and 11 times
// is an offender; Dovecot's attempts multiply with the repeat count.
func TestRepeatWeight(t *testing.T) {
	for _, tc := range []struct {
		line    string
		weight  int
		wantOff bool
	}{
		{`Jun  1 00:00:05 mail postfix/smtpd[9708]: message repeated 10 times: [ warning: unknown[203.0.113.66]: SASL LOGIN authentication failed: UGFzc3dvcmQ6, sasl_username=admin@example.com]`, 10, false},
		{`Jun  1 00:00:05 mail postfix/smtpd[9708]: message repeated 11 times: [ warning: unknown[203.0.113.66]: SASL LOGIN authentication failed: UGFzc3dvcmQ6, sasl_username=admin@example.com]`, 11, true},
		{`Jun  1 00:00:05 mail dovecot: message repeated 5 times: [ imap-login: Disconnected (auth failed, 2 attempts in 24 secs): user=<admin@example.com>, method=PLAIN, rip=203.0.113.66, lip=192.0.2.10, TLS, session=<w+SdnNy5/KRTYRQZ>]`, 10, false},
		{`Jun  1 00:00:05 mail dovecot: message repeated 4 times: [ imap-login: Disconnected (auth failed, 3 attempts in 24 secs): user=<admin@example.com>, method=PLAIN, rip=203.0.113.66, lip=192.0.2.10, TLS, session=<w+SdnNy5/KRTYRQZ>]`, 12, true},
	} {
		e := parseLine(t, tc.line)
		if e.Kind != event.KindAuthFailure || e.Repeat == 0 {
			t.Fatalf("parser gave kind %v repeat %d for %q", e.Kind, e.Repeat, tc.line)
		}
		tr := New(Config{})
		tr.Observe(e)
		if got := tr.Active(ScopeIP) == 1; got != tc.wantOff {
			t.Errorf("%d failures in one line: ip offender %v, want %v", tc.weight, got, tc.wantOff)
		}
		if got := tr.Active(ScopeUser) == 1; got != tc.wantOff {
			t.Errorf("%d failures in one line: user offender %v, want %v", tc.weight, got, tc.wantOff)
		}
	}
}
