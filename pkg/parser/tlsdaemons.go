package parser

import (
	"strings"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// parseTLSDaemon handles tlsmgr (the TLS session cache and PRNG manager,
// which mostly warns) and tlsproxy (the TLS side of postscreen and of
// smtp's connection reuse). tlsproxy's "CONNECT from [addr]:port" and
// "DISCONNECT [addr]:port" bracket one proxied session.
func parseTLSDaemon(e *event.Event, msg string) {
	first, rest, _ := strings.Cut(msg, " ")
	switch first {
	case "CONNECT":
		if s, ok := strings.CutPrefix(rest, "from "); ok {
			if host, addr, port, _, ok := hostAddr(s); ok {
				e.Kind = event.KindConnect
				e.ClientHost, e.ClientIP, e.ClientPort = host, addr, port
				return
			}
		}
	case "DISCONNECT":
		if host, addr, port, _, ok := hostAddr(rest); ok {
			e.Kind = event.KindDisconnect
			e.ClientHost, e.ClientIP, e.ClientPort = host, addr, port
			return
		}
	case "Anonymous", "Untrusted", "Trusted", "Verified":
		if parseTLSEstablished(e, first, rest) {
			return
		}
	case "SSL_accept":
		// The handshake with a client failed: "SSL_accept error from
		// h[addr]:port: lost connection".
		if s, ok := strings.CutPrefix(rest, "error from "); ok && setClient(e, s) {
			e.Kind = event.KindLostConnection
			e.Detail = "SSL_accept error"
			return
		}
	case "TLS":
		// "TLS handshake failed for service=smtpd peer=[addr]:port" (3.x).
		if _, peer, ok := strings.Cut(rest, " peer="); ok && strings.HasPrefix(rest, "handshake failed for ") {
			e.Kind = event.KindLostConnection
			e.Detail = msg
			setClient(e, peer)
			return
		}
	}
	parseLevel(e, msg)
}
