package parser

import (
	"strings"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// parsePostscreen handles postscreen's connection log. Verdicts are kept
// exactly as Postfix writes them (PASS NEW, PREGREET, DNSBL, ...), so a
// metrics layer can label by them without a translation table.
func parsePostscreen(e *event.Event, msg string) {
	switch {
	case strings.HasPrefix(msg, "CONNECT from "):
		// "CONNECT from [client]:port to [server]:port"
		addr, port, rest, ok := bracketAddr(msg[len("CONNECT from "):])
		if !ok {
			break
		}
		e.Kind = event.KindConnect
		e.ClientIP, e.ClientPort = addr, port
		if s, ok := strings.CutPrefix(rest, " to "); ok {
			if addr, port, _, ok := bracketAddr(s); ok {
				e.ServerIP, e.ServerPort = addr, port
			}
		}
		return
	case strings.HasPrefix(msg, "reject: connect from "):
		// "reject: connect from [addr]:port: all screening ports busy":
		// postscreen turned the connection away before any test.
		addr, port, rest, ok := bracketAddr(msg[len("reject: connect from "):])
		if !ok {
			break
		}
		e.Kind = event.KindReject
		e.Action = "reject"
		e.RejectStage = "connect"
		e.ClientIP, e.ClientPort = addr, port
		e.Response = strings.TrimPrefix(rest, ": ")
		return
	case strings.HasPrefix(msg, "entering STRESS mode"), strings.HasPrefix(msg, "leaving STRESS mode"):
		// "entering STRESS mode with 70 connections"
		e.Kind = event.KindNotice
		e.Detail = msg
		return
	case strings.HasPrefix(msg, "["):
		// "[addr]:port: replacing command "x" with "y"" (postscreen's
		// command filter), "[addr]:port: discarding EHLO keywords: x".
		addr, port, rest, ok := bracketAddr(msg)
		if !ok {
			break
		}
		if r, ok := strings.CutPrefix(rest, ": "); ok && (strings.HasPrefix(r, "replacing command ") || strings.HasPrefix(r, "discarding EHLO keywords: ")) {
			e.Kind = event.KindNotice
			e.ClientIP, e.ClientPort = addr, port
			e.Detail = r
			return
		}
	case strings.HasPrefix(msg, "NOQUEUE: "):
		parseSmtpdAction(e, msg[len("NOQUEUE: "):])
		return
	case strings.HasPrefix(msg, "DNSBL rank "):
		// "DNSBL rank 3 for [addr]:port"
		rank, s, ok := strings.Cut(msg[len("DNSBL rank "):], " for ")
		if !ok || !setPostscreenClient(e, s) {
			break
		}
		e.Kind = event.KindPostscreen
		e.Verdict = "DNSBL"
		e.DNSBLRank = atoi(rank)
		return
	case strings.HasPrefix(msg, "PREGREET "), strings.HasPrefix(msg, "HANGUP "):
		// "PREGREET 11 after 0.1 from [addr]:port: EHLO x\r\n"
		// "HANGUP after 0.5 from [addr]:port in tests after SMTP handshake"
		verdict, _, _ := strings.Cut(msg, " ")
		_, s, ok := strings.Cut(msg, " from ")
		if !ok {
			break
		}
		addr, port, rest, ok := bracketAddr(s)
		if !ok {
			break
		}
		e.Kind = event.KindPostscreen
		e.Verdict = verdict
		e.ClientIP, e.ClientPort = addr, port
		if t, ok := strings.CutPrefix(rest, ": "); ok {
			e.Detail = t
		} else if t, ok := strings.CutPrefix(rest, " in "); ok {
			e.Detail = t
		}
		return
	case strings.HasPrefix(msg, "cache "):
		// "cache btree:/var/lib/postfix/postscreen_cache full cleanup:
		// retained=242 dropped=7 entries"
		if _, s, ok := strings.Cut(msg, " full cleanup: "); ok {
			e.Kind = event.KindStats
			e.Detail = s
			return
		}
	case strings.HasPrefix(msg, "using backwards-compatible default setting "):
		e.Kind = event.KindNotice
		e.Detail = msg
		if i := strings.Index(msg, " for client ["); i >= 0 {
			setPostscreenClient(e, msg[i+len(" for client "):])
		}
		return
	case strings.HasPrefix(msg, "warning: dnsblog reply timeout "):
		// "warning: dnsblog reply timeout 10s for zen.spamhaus.org"
		parseLevel(e, msg)
		if _, d, ok := strings.Cut(msg, " for "); ok {
			e.DNSBLDomain = d
		}
		return
	case len(msg) > 0 && msg[0] >= 'A' && msg[0] <= 'Z':
		if parsePostscreenVerdict(e, msg) {
			return
		}
	}
	parseLevel(e, msg)
}

// parsePostscreenVerdict handles the remaining verdict lines, which all read
// "VERDICT [from ][addr]:port[ after CMD][: text]":
//
//	PASS NEW [addr]:port            WHITELISTED / ALLOWLISTED [addr]:port
//	DISCONNECT [addr]:port          BLACKLISTED / DENYLISTED [addr]:port
//	WHITELIST VETO [addr]:port      COMMAND PIPELINING from [addr]:port after EHLO: text
//	NON-SMTP COMMAND from [addr]:port after CONNECT: GET / HTTP/1.1
//	BARE NEWLINE from [addr]:port after .   DATA without valid RCPT from [addr]:port
func parsePostscreenVerdict(e *event.Event, msg string) bool {
	i := strings.Index(msg, " [")
	if i <= 0 {
		return false
	}
	verdict := strings.TrimSuffix(msg[:i], " from")
	addr, port, rest, ok := bracketAddr(msg[i+1:])
	if !ok || !looksLikeIP(addr) {
		return false
	}
	e.Kind = event.KindPostscreen
	e.Verdict = verdict
	e.ClientIP, e.ClientPort = addr, port
	if s, ok := strings.CutPrefix(rest, " after "); ok {
		// The command may be empty or junk ("after : \r\n"); the text after
		// ": " is what the client sent.
		cmd, text, found := strings.Cut(s, ": ")
		if !found {
			cmd = s
		}
		e.After = cmd
		e.Detail = text
	} else if s, ok := strings.CutPrefix(rest, ": "); ok {
		e.Detail = s
	}
	return true
}

// setPostscreenClient fills the client from "[addr]:port".
func setPostscreenClient(e *event.Event, s string) bool {
	addr, port, _, ok := bracketAddr(s)
	if ok {
		e.ClientIP, e.ClientPort = addr, port
	}
	return ok
}

// parseDnsblog handles "addr 1.2.3.4 listed by domain zen.spamhaus.org as
// 127.0.0.2": one DNSBL answer for a client postscreen is screening.
func parseDnsblog(e *event.Event, msg string) {
	if s, ok := strings.CutPrefix(msg, "addr "); ok {
		addr, s, ok1 := strings.Cut(s, " listed by domain ")
		domain, answer, ok2 := strings.Cut(s, " as ")
		if ok1 && ok2 && looksLikeIP(addr) {
			e.Kind = event.KindPostscreen
			e.ClientIP = addr
			e.DNSBLDomain = domain
			e.Detail = answer
			return
		}
	}
	parseLevel(e, msg)
}
