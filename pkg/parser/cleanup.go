package parser

import (
	"strings"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// parseCleanup handles the cleanup daemon (also under other master.cf names:
// sender-cleanup/cleanup, authclean/cleanup):
//
//	QUEUEID: message-id=<x>                                   → message_id
//	QUEUEID: resent-message-id=<x>                            → notice
//	QUEUEID: milter-reject: END-OF-MESSAGE from h[ip]: 5.7.1 text; from=<a> ...
//	QUEUEID: replace: header H: v from h[ip]; from=<a> to=<b> proto=ESMTP helo=<h>: text
//	QUEUEID: to=<a>, relay=none, delay=0.1, delays=0.1/0/0/0, dsn=5.7.1, status=bounced (text)
//
// Milter actions are read exactly as smtpd's (same shape, same fields).
// Header/body check actions: reject, discard and hold stop normal delivery
// and are rejects (like milter-discard and milter-hold); warning is a
// warning; replace, prepend, redirect, filter, bcc, strip, info and the
// like are notices. The action is in action, the matched header or body
// line in detail, and for a reject the text sent back in response/dsn.
func parseCleanup(e *event.Event, msg string) {
	if id, rest, ok := queueIDPrefix(msg); ok {
		e.QueueID = id
		switch {
		case strings.HasPrefix(rest, "message-id="):
			e.Kind = event.KindMessageID
			e.MessageID = clnMessageID(rest[len("message-id="):])
			return
		case strings.HasPrefix(rest, "resent-message-id="):
			// A resent message keeps its original message-id line too; this
			// one must not replace it, hence a notice that names itself in
			// detail.
			e.Kind = event.KindNotice
			e.Detail = rest[:len("resent-message-id")]
			e.MessageID = clnMessageID(rest[len("resent-message-id="):])
			return
		}
		if strings.HasPrefix(rest, "to=") && parseDeliveryRecord(e, rest) {
			// A recipient cleanup bounced itself (a milter or
			// header_checks rejected it in mail that did not come over
			// SMTP): the same record the delivery agents write, with
			// relay=none.
			return
		}
		action, s, ok := strings.Cut(rest, ": ")
		if ok {
			switch action {
			case "milter-reject", "milter-discard", "milter-hold":
				parseSmtpdAction(e, rest)
				return
			}
			if parseCleanupCheck(e, action, s) {
				return
			}
		}
		// "QUEUEID: warning: ..." as well as Postfix's "warning: QUEUEID: ...".
		if parseLevel(e, rest) {
			return
		}
	}
	parseLevel(e, msg)
}

// clnMessageID strips the angle brackets of a Message-ID. Damaged ids occur
// (an unclosed bracket, MIME-encoded words): what is there is kept.
func clnMessageID(v string) string {
	if strings.HasPrefix(v, "<") {
		v = strings.TrimSuffix(v[1:], ">")
	}
	return v
}

// parseCleanupCheck reads a header_checks/body_checks (or
// milter_header_checks, logged as "milter-header-ACTION") action line after
// "QUEUEID: ACTION: ".
func parseCleanupCheck(e *event.Event, action, s string) bool {
	core := action
	if c, ok := strings.CutPrefix(core, "milter-header-"); ok {
		core = c
	} else if c, ok := strings.CutPrefix(core, "milter-body-"); ok {
		core = c
	}
	var kind event.Kind
	switch core {
	case "reject", "discard", "hold":
		kind = event.KindReject
	case "warning":
		kind = event.KindWarning
	case "replace", "prepend", "redirect", "filter", "bcc", "strip", "info", "ignore", "dunno":
		kind = event.KindNotice
	default:
		return false
	}
	// The class comes first: "header Subject: ...", "body ...",
	// "mime-header ...", "nested-header ...".
	class, _, _ := strings.Cut(s, " ")
	// "content" is a check on the whole message, "mime-error" a MIME
	// structure error rejected under strict_mime_encoding_domain and the
	// like ("reject: mime-error invalid message/* or multipart/* encoding
	// domain: ...").
	if !strings.HasSuffix(class, "header") && class != "body" && class != "content" && class != "mime-error" {
		return false
	}
	e.Kind = kind
	e.Action = action
	if kind == event.KindWarning {
		e.Level = "warning"
	}
	// The matched text is cut at 200 bytes but may hold anything, so the
	// envelope is found by its first field and the client by the last
	// " from " before it.
	head, tail := s, ""
	if i := strings.Index(s, "; from=<"); i >= 0 {
		head, tail = s[:i], s[i+2:]
	} else if i := strings.Index(s, "; to=<"); i >= 0 {
		head, tail = s[:i], s[i+2:]
	}
	if j := strings.LastIndex(head, " from "); j >= 0 && tail != "" {
		client := head[j+len(" from "):]
		head = head[:j]
		// "from local" for mail that did not come over SMTP.
		if host, addr, port, r, ok := hostAddr(client); ok && r == "" {
			e.ClientHost, e.ClientIP, e.ClientPort = host, addr, port
		}
	}
	e.Detail = head
	text := clnEnvelope(e, tail)
	if kind == event.KindReject && text != "" {
		e.Response = text
		e.DSN = dlvReplyDSN(text)
	}
	return true
}

// clnEnvelope reads "from=<a> to=<b> proto=ESMTP helo=<h>: text" (every
// field optional, in this order) and returns the text after the fields.
func clnEnvelope(e *event.Event, s string) string {
	for {
		s = strings.TrimLeft(s, " ")
		var v string
		var ok bool
		switch {
		case strings.HasPrefix(s, "from="):
			if v, s, ok = angle(s[len("from="):]); !ok {
				return ""
			}
			e.Sender = v
		case strings.HasPrefix(s, "to="):
			if v, s, ok = angle(s[len("to="):]); !ok {
				return ""
			}
			e.Recipient = v
		case strings.HasPrefix(s, "helo="):
			if v, s, ok = angle(s[len("helo="):]); !ok {
				return ""
			}
			e.Helo = v
		case strings.HasPrefix(s, "proto="):
			s = s[len("proto="):]
			end := indexAnyOf(s, " :")
			if end < 0 {
				end = len(s)
			}
			e.Protocol, s = s[:end], s[end:]
		case strings.HasPrefix(s, ": "):
			return s[2:]
		default:
			return ""
		}
	}
}
