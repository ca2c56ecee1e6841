package offenders

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestRegister(t *testing.T) {
	tr := New(Config{MaxKeys: 3, SendThreshold: 5})
	for range 11 {
		tr.Observe(authFail(t0, "192.0.2.1", "bob@example.com"))
		tr.Observe(authFail(t0, "192.0.2.2", ""))
	}
	tr.Observe(authFail(t0, "192.0.2.3", ""))
	for range 6 {
		tr.Observe(delivery(t0, "bob@example.com", "192.0.2.1"))
	}
	reg := prometheus.NewPedanticRegistry()
	if err := tr.Register(reg); err != nil {
		t.Fatal(err)
	}
	want := func(ip, user, send, ipKeys, evictions int) string {
		r := strings.NewReplacer("<ip>", strconv.Itoa(ip), "<user>", strconv.Itoa(user), "<send>", strconv.Itoa(send), "<ipkeys>", strconv.Itoa(ipKeys), "<evict>", strconv.Itoa(evictions))
		return r.Replace(`
# HELP mailtrail_auth_offenders Client IPs (scope=ip) and user names (scope=user) with more authentication failures than the threshold within the window, at the newest log time.
# TYPE mailtrail_auth_offenders gauge
mailtrail_auth_offenders{scope="ip"} <ip>
mailtrail_auth_offenders{scope="user"} <user>
# HELP mailtrail_send_offenders SASL users who sent to more recipients than the send threshold within the send window, at the newest log time.
# TYPE mailtrail_send_offenders gauge
mailtrail_send_offenders <send>
# HELP mailtrail_offenders_tracked_keys Keys (IPs, user names, senders) whose windows the offender tracker holds.
# TYPE mailtrail_offenders_tracked_keys gauge
mailtrail_offenders_tracked_keys{scope="ip"} <ipkeys>
mailtrail_offenders_tracked_keys{scope="send"} 1
mailtrail_offenders_tracked_keys{scope="user"} 1
# HELP mailtrail_offenders_evictions_total Least recently seen keys the offender tracker dropped to stay within its key bound; their counts are lost.
# TYPE mailtrail_offenders_evictions_total counter
mailtrail_offenders_evictions_total{scope="ip"} <evict>
mailtrail_offenders_evictions_total{scope="send"} 0
mailtrail_offenders_evictions_total{scope="user"} 0
`)
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want(2, 1, 1, 3, 0))); err != nil {
		t.Error(err)
	}
	// The gauges follow log time: once the windows have passed, nothing
	// is over its threshold, though nothing was observed for those keys.
	tr.Observe(authFail(t0.Add(2*time.Hour), "192.0.2.4", ""))
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want(0, 0, 0, 3, 1))); err != nil {
		t.Error(err)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
	if err := tr.Register(reg); err == nil {
		t.Error("registering twice gave no error")
	}
}
