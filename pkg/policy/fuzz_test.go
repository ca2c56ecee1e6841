package policy_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail/pkg/policy"
)

// FuzzReadPostfixRequest feeds arbitrary bytes to the request reader as a
// connection would: requests until the stream ends. It must never panic,
// never keep more than the limits allow, and every request it returns
// without a problem must be one the decision can use.
func FuzzReadPostfixRequest(f *testing.F) {
	f.Add(readmeRequest("RCPT", "1.2.3.4", "you") + readmeRequest("CONNECT", "::1", ""))
	f.Add("request=smtpd_access_policy\nclient_address 1.2.3.4\n\n")
	f.Add("request=smtpd_access_policy\r\nclient_address=10.0.0.1\r\n\r\n")
	f.Add("\n\n\n")
	f.Add("request=smtpd_access_policy\nsasl_username=" + strings.Repeat("a", policy.MaxLineBytes+1) + "\n\n")
	f.Add("=\n=\n\n")
	f.Add("request=smtpd_access_policy\nclient_address=[::1]\n\x00=\n\n")
	f.Fuzz(func(t *testing.T, in string) {
		r := policy.NewPostfixReader(strings.NewReader(in))
		for n := 0; ; n++ {
			if n > len(in)+1 {
				t.Fatalf("more requests (%d) than input bytes", n)
			}
			req, err := policy.ReadPostfixRequest(r)
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, policy.ErrTooLarge) {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if req.Attributes > policy.MaxAttributes {
				t.Fatalf("%d attributes kept, limit %d", req.Attributes, policy.MaxAttributes)
			}
			if req.Problem() == "" && req.Request != "smtpd_access_policy" {
				t.Fatalf("request %q accepted", req.Request)
			}
			for _, v := range []string{req.ClientAddress, req.SASLUsername, req.ProtocolState} {
				if len(v) > policy.MaxLineBytes || strings.ContainsAny(v, "\n") {
					t.Fatalf("value %.40q kept", v)
				}
			}
			if a := policy.PostfixAction(policy.Decision{Refuse: true, Response: "reject", Text: req.SASLUsername}); strings.ContainsAny(a, "\r\n\x00") {
				t.Fatalf("answer %q breaks the protocol's lines", a)
			}
		}
	})
}
