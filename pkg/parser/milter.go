package parser

import (
	"strings"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// parseMilter handles the authentication and content filters that log next
// to Postfix: OpenDKIM, OpenDMARC, the SPF policy servers (Python
// policyd-spf and Perl postfix-policyd-spf-perl) and amavisd-new. Their
// verdicts become policy events (check dkim, spf, dmarc or content); their
// other informational lines become notices.
func parseMilter(e *event.Event, msg string) {
	switch e.Program {
	case "opendkim":
		parseOpenDKIM(e, msg)
	case "opendmarc":
		parseOpenDMARC(e, msg)
	case "policyd-spf", "policyd-spf-perl", "policy-spf":
		parsePolicySPF(e, msg)
	case "amavis", "amavisd", "amavisd-new":
		parseAmavis(e, msg)
	default:
		parseLevel(e, msg)
	}
}

// policyResults are the verdict words of RFC 8601 and the milters, in the
// lower case the contract uses. Results are looked up here rather than
// lower-cased so that parsing allocates nothing.
var policyResults = [...]string{"pass", "fail", "softfail", "neutral", "none", "temperror", "permerror", "policy", "bestguesspass", "quarantine", "reject"}

// policyResult maps a verdict word in any case ("Pass", "SoftFail") to its
// lower-case form; unknown words are kept as written.
func policyResult(w string) string {
	for _, r := range policyResults {
		if strings.EqualFold(w, r) {
			return r
		}
	}
	return w
}

func setPolicy(e *event.Event, check, result string) {
	e.Kind = event.KindPolicy
	e.Check = check
	e.Result = result
}

// addrDomain returns the part of an address after its last '@'.
func addrDomain(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return ""
}

// milterTag returns the value of a DKIM-style "k=v" tag in s ("s=mail,
// d=example.com)"): the key must start s or follow a space, comma or '(',
// and the value ends at a space, comma, semicolon or ')'.
func milterTag(s, key string) string {
	for i := 0; i+len(key) < len(s); {
		j := strings.Index(s[i:], key)
		if j < 0 {
			return ""
		}
		j += i
		v := j + len(key)
		if v < len(s) && s[v] == '=' && (j == 0 || s[j-1] == ' ' || s[j-1] == ',' || s[j-1] == '(') {
			val := s[v+1:]
			if end := indexAnyOf(val, " ,;)"); end >= 0 {
				val = val[:end]
			}
			return val
		}
		i = v
	}
	return ""
}

// parseOpenDKIM reads OpenDKIM's per-message lines, which start with the
// Postfix queue id:
//
//	DKIM verification successful                      → dkim pass
//	DKIM-Signature field added (s=mail, d=example.com) → dkim signed
//	s=sel d=example.com [a=rsa-sha256] SSL error:...   → notice (the verdict follows)
//	s=sel d=example.com [a=rsa-sha256] SSL              → dkim fail
//	bad signature data / signature verification failed → dkim fail
//	no signature data                                 → dkim none
//	key retrieval failed (s=sel, d=example.com): ...  → dkim temperror/permerror
//	syntax error: ...                                 → dkim permerror
//	host [1.2.3.4] not internal / not authenticated   → notice
func parseOpenDKIM(e *event.Event, msg string) {
	rest := msg
	if id, r, ok := queueIDPrefix(msg); ok {
		e.QueueID = id
		rest = r
	} else if r, ok := strings.CutPrefix(msg, "(unknown-jobid): "); ok {
		rest = r
	} else {
		// Start-up, shutdown and configuration lines carry no job id.
		if strings.HasPrefix(msg, "OpenDKIM Filter") {
			setNoticeDetail(e, msg)
			return
		}
		parseLevel(e, msg)
		return
	}
	switch {
	case rest == "DKIM verification successful":
		setPolicy(e, "dkim", "pass")
	case strings.HasPrefix(rest, "DKIM-Signature field added"):
		setPolicy(e, "dkim", "signed")
		e.Domain = milterTag(rest, "d")
	case strings.HasPrefix(rest, "s=") && strings.Contains(rest, " SSL"):
		// A signature that did not verify, with OpenSSL's reason. When
		// there is a reason, OpenDKIM states the verdict on its next line
		// ("bad signature data"), so this one is a notice (counting both
		// would count one failed signature twice); a bare "SSL" line is
		// all OpenDKIM says, so it is the verdict.
		_, why, _ := strings.Cut(rest, " SSL")
		e.Detail = strings.TrimSpace(why)
		if e.Detail == "" {
			setPolicy(e, "dkim", "fail")
		} else {
			e.Kind = event.KindNotice
			e.Check = "dkim"
		}
		e.Domain = milterTag(rest, "d")
	case rest == "bad signature data":
		setPolicy(e, "dkim", "fail")
	case strings.HasPrefix(rest, "signature verification failed"):
		setPolicy(e, "dkim", "fail")
		e.Detail = strings.TrimPrefix(strings.TrimPrefix(rest, "signature verification failed"), ": ")
	case rest == "no signature data":
		setPolicy(e, "dkim", "none")
	case strings.HasPrefix(rest, "key retrieval failed"):
		// A missing key record is permanent (RFC 6376 6.1.2); a DNS
		// failure is not.
		result := "temperror"
		if strings.Contains(rest, "record not found") {
			result = "permerror"
		}
		setPolicy(e, "dkim", result)
		e.Domain = milterTag(rest, "d")
		if i := strings.Index(rest, "): "); i >= 0 {
			e.Detail = rest[i+3:]
		} else if r, ok := strings.CutPrefix(rest, "key retrieval failed: "); ok {
			e.Detail = r
		}
	case strings.HasPrefix(rest, "syntax error"):
		setPolicy(e, "dkim", "permerror")
		e.Detail = strings.TrimPrefix(strings.TrimPrefix(rest, "syntax error"), ": ")
	case strings.HasSuffix(rest, " not internal"):
		// "host [1.2.3.4] not internal": the client OpenDKIM will verify
		// rather than sign for.
		setNoticeDetail(e, rest)
		h := strings.TrimSuffix(rest, " not internal")
		if sp := strings.LastIndex(h, " ["); sp >= 0 && strings.HasSuffix(h, "]") {
			if ip := h[sp+2 : len(h)-1]; looksLikeIP(ip) {
				e.ClientIP = ip
				if host := h[:sp]; host != "" && host[0] != '[' {
					e.ClientHost = host
				}
			}
		}
	default:
		// "not authenticated", "no signing table match for '...'",
		// "message has signatures from ...", "failed to parse
		// Authentication-Results: header field": per-message notes.
		setNoticeDetail(e, rest)
	}
}

// parseOpenDMARC reads OpenDMARC's lines:
//
//	QUEUEID: example.com pass                    → dmarc verdict
//	QUEUEID: SPF(mailfrom): a@example.com pass   → spf verdict (SPFSelfValidate)
//	QUEUEID ignoring Authentication-Results at 11 from host → notice
//	QUEUEID: opendmarc_policy_query_dmarc(example.com) returned status 4 → notice
func parseOpenDMARC(e *event.Event, msg string) {
	id, rest, ok := queueIDPrefix(msg)
	if !ok {
		// "ignoring Authentication-Results" follows the id without a colon.
		if sp := strings.IndexByte(msg, ' '); sp > 0 && strings.HasPrefix(msg[sp+1:], "ignoring ") && isBareQueueID(msg[:sp]) {
			e.QueueID = msg[:sp]
			setNoticeDetail(e, msg[sp+1:])
			return
		}
		if strings.HasPrefix(msg, "OpenDMARC Filter") {
			setNoticeDetail(e, msg)
			return
		}
		parseLevel(e, msg)
		return
	}
	e.QueueID = id
	if r, ok := strings.CutPrefix(rest, "SPF("); ok {
		// "SPF(mailfrom): a@example.com pass" or "SPF(helo): host pass"
		scope, r, ok1 := strings.Cut(r, "): ")
		who, result, ok2 := strings.Cut(r, " ")
		if ok1 && ok2 && who != "" && isLowerWord(result) {
			setPolicy(e, "spf", result)
			if scope == "helo" {
				e.Helo = who
				e.Domain = who
			} else {
				e.Sender = who
				e.Domain = addrDomain(who)
			}
			return
		}
	}
	if domain, result, ok := strings.Cut(rest, " "); ok && domain != "" && isLowerWord(result) &&
		!strings.ContainsAny(domain, "():=") {
		setPolicy(e, "dmarc", result)
		e.Domain = domain
		return
	}
	setNoticeDetail(e, rest)
}

// isBareQueueID accepts a short Postfix queue id standing alone: upper-case
// letters and digits, with at least one digit.
func isBareQueueID(s string) bool {
	if len(s) < 5 || len(s) > 32 || !hasDigit(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isDigit(c) && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}

// isLowerWord reports whether s is one non-empty run of a-z.
func isLowerWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

// parsePolicySPF reads the SPF policy servers. Python policyd-spf:
//
//	prepend Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=1.2.3.4; helo=h; envelope-from=a@b; receiver=<UNKNOWN>
//	Softfail; identity=mailfrom; client-ip=1.2.3.4; helo=h; envelope-from=a@b; receiver=<UNKNOWN>
//	prepend Authentication-Results: mx; spf=pass (...) smtp.mailfrom=b (client-ip=...; helo=...; envelope-from=...; receiver=...)
//	550 5.7.23 Message rejected due to: SPF fail - not authorized. Please see http://www.openspf.net/Why?s=mfrom;id=a@b;ip=1.2.3.4;r=<UNKNOWN>
//	defer_if_permit 4.7.24 SPF temperror (DNS timeout) ...
//	Header field not prepended: Received-SPF: Pass (mailfrom) identity=mailfrom; ...
//
// (debugLevel 1, the default; spfDebug reads the lines of higher levels). Perl postfix-policyd-spf-perl (ident postfix/policy-spf), whose lines
// start with the queue id, empty before DATA (": Policy action=..."):
//
//	Policy action=PREPEND Received-SPF: pass (b: 1.2.3.4 is authorized ...) receiver=mx; identity=mailfrom; envelope-from="a@b"; helo=h; client-ip=1.2.3.4
//	Policy action=550 Please see http://www.openspf.net/Why?s=mfrom;id=a@b;ip=1.2.3.4;r=mx
//	Policy action=DEFER_IF_PERMIT SPF-Result=...
//	SPF pass (Mechanism 'ip4:1.2.3.0/24' matched): Envelope-from: a@b, IP Address: 1.2.3.4, Recipient: c@d
func parsePolicySPF(e *event.Event, msg string) {
	rest := msg
	if id, r, ok := queueIDPrefix(msg); ok {
		e.QueueID = id
		rest = r
	}
	// An empty queue id leaves ": "; some logs show it twice.
	for strings.HasPrefix(rest, ":") {
		rest = strings.TrimPrefix(rest[1:], " ")
	}
	if spfDebug(e, rest) {
		return
	}
	if a, ok := strings.CutPrefix(rest, "Policy action="); ok {
		rest = a
		switch {
		case strings.HasPrefix(rest, "PREPEND "):
			rest = rest[len("PREPEND "):]
		case strings.HasPrefix(rest, "DEFER_IF_PERMIT"):
			setPolicy(e, "spf", "temperror")
			e.Action = "defer"
			e.Detail = strings.TrimSpace(rest[len("DEFER_IF_PERMIT"):])
			return
		case len(rest) >= 3 && isDigit(rest[0]) && isDigit(rest[1]) && isDigit(rest[2]):
			spfReject(e, rest)
			return
		default:
			// DUNNO and the like: no verdict was reached.
			setNoticeDetail(e, rest)
			return
		}
	} else {
		// "Header field not prepended: H" (Header_Type = None) and
		// "result_only H" carry the verdict as "prepend H" does.
		for _, p := range [...]string{"prepend ", "Header field not prepended: ", "result_only "} {
			if r, ok := strings.CutPrefix(rest, p); ok {
				rest = r
				break
			}
		}
		if r, ok := strings.CutPrefix(rest, "defer_if_permit "); ok {
			// A temporary error: Postfix is told to defer unless a later
			// restriction rejects.
			setPolicy(e, "spf", "temperror")
			e.Action = "defer"
			e.Response = r
			e.DSN = dlvReplyDSN(r)
			return
		}
	}
	switch {
	case strings.HasPrefix(rest, "Received-SPF: "):
		r := rest[len("Received-SPF: "):]
		word, tail, _ := strings.Cut(r, " ")
		setPolicy(e, "spf", policyResult(word))
		if strings.HasPrefix(tail, "(") {
			_, tail, _ = paren(tail)
		}
		spfDetails(e, tail)
	case strings.HasPrefix(rest, "Authentication-Results: "):
		r := rest[len("Authentication-Results: "):]
		res, ok := kvValue(r, "spf")
		if !ok {
			setNoticeDetail(e, rest)
			return
		}
		setPolicy(e, "spf", policyResult(res))
		spfDetails(e, r)
		if d, ok := kvValue(r, "smtp.mailfrom"); ok && d != "" {
			e.Domain = addrDomain(d)
			if e.Domain == "" {
				e.Domain = d
			}
		} else if h, ok := kvValue(r, "smtp.helo"); ok {
			e.Domain = h
		}
	case len(rest) >= 3 && isDigit(rest[0]) && isDigit(rest[1]) && isDigit(rest[2]):
		spfReject(e, rest)
	case strings.HasPrefix(rest, "SPF not applicable"):
		// Perl's "SPF not applicable to localhost connection - skipped
		// check": no verdict.
		setNoticeDetail(e, rest)
	case strings.HasPrefix(rest, "SPF "):
		// Perl's verbose "SPF pass (...): Envelope-from: a@b, IP Address: ..."
		word, tail, _ := strings.Cut(rest[len("SPF "):], " ")
		word = strings.TrimSuffix(word, ":")
		setPolicy(e, "spf", policyResult(word))
		if _, from, ok := strings.Cut(tail, "Envelope-from: "); ok {
			from, _, _ = strings.Cut(from, ",")
			e.Sender = from
			e.Domain = addrDomain(from)
		} else if _, helo, ok := strings.Cut(tail, "HELO/EHLO: "); ok {
			helo, _, _ = strings.Cut(helo, ",")
			e.Helo = helo
			e.Domain = helo
		}
		if _, ip, ok := strings.Cut(tail, "IP Address: "); ok {
			ip, _, _ = strings.Cut(ip, ",")
			e.ClientIP = ip
		}
	default:
		// Python's debug line "Softfail; identity=mailfrom; ...".
		if word, tail, ok := strings.Cut(rest, "; "); ok && strings.HasPrefix(tail, "identity=") {
			if r := policyResult(word); r != word || isLowerWord(r) {
				setPolicy(e, "spf", r)
				spfDetails(e, tail)
				return
			}
		}
		if strings.HasPrefix(rest, "X-Comment: ") || strings.HasPrefix(rest, "handler ") {
			setNoticeDetail(e, rest)
			return
		}
		parseLevel(e, msg)
	}
}

// spfDebug reads the SPF policy servers' debugging and error lines, which
// carry no verdict of their own. Python policyd-spf at debugLevel 2-5:
//
//	Starting / Normal exit / Found the end of entry
//	Read line: "request=smtpd_access_policy"
//	Config: {'debugLevel': 3, ...}
//	Action: prepend: Text: Received-SPF: Pass (mailfrom) identity=mailfrom; ... Reject action: 550 5.7.23
//	ERROR: Could not match line "x"
//
// ("Action:" repeats the verdict that the "prepend ..." or "550 ..." line
// after it carries, so it must not count again). Perl postfix-policyd-spf-perl
// in verbose mode: "testing: stripped sender=a, stripped rcpt=b"; its errors:
// "HELO check failed - Mail::SPF->new(...) failed: reason".
func spfDebug(e *event.Event, s string) bool {
	switch {
	case s == "Starting", s == "Normal exit", s == "Found the end of entry",
		strings.HasPrefix(s, "Read line: "), strings.HasPrefix(s, "Config: "),
		strings.HasPrefix(s, "Action: "), strings.HasPrefix(s, "testing: "),
		strings.HasPrefix(s, "Per user configuration data in use for: "):
		e.Kind = event.KindNotice
		e.Level = "debug"
		e.Detail = s
	case strings.HasPrefix(s, "ERROR: "), strings.Contains(s, " check failed - "):
		e.Kind = event.KindWarning
		e.Level = "error"
		e.Detail = strings.TrimPrefix(s, "ERROR: ")
	case strings.HasPrefix(s, "WARNING: "):
		e.Kind = event.KindWarning
		e.Level = "warning"
		e.Detail = s[len("WARNING: "):]
	default:
		return false
	}
	return true
}

// spfDetails reads the "identity=mailfrom; client-ip=1.2.3.4; helo=h;
// envelope-from=a@b; receiver=x" list of a Received-SPF header (in any
// order, Perl quoting envelope-from) and sets the client, helo, sender and
// the domain the verdict is about.
func spfDetails(e *event.Event, s string) {
	identity := ""
	for len(s) > 0 {
		var item string
		item, s, _ = strings.Cut(s, ";")
		// Authentication-Results wraps the list in a comment:
		// "spf=pass (...) smtp.mailfrom=b (client-ip=1.2.3.4; ...; receiver=r)".
		if i := strings.LastIndexByte(item, '('); i >= 0 {
			item = item[i+1:]
		}
		item = strings.TrimSpace(item)
		item = strings.TrimRight(item, ")")
		k, v, ok := strings.Cut(item, "=")
		if !ok {
			continue
		}
		v = strings.Trim(v, "\"")
		switch k {
		case "identity":
			identity = v
		case "client-ip":
			e.ClientIP = v
		case "helo":
			e.Helo = v
		case "envelope-from":
			if v != "<>" {
				e.Sender = v
			}
		}
	}
	if e.Domain != "" {
		return
	}
	if identity == "helo" || e.Sender == "" {
		e.Domain = e.Helo
	} else {
		e.Domain = addrDomain(e.Sender)
	}
}

// spfReject reads a rejection the policy server returned ("550 5.7.23
// Message rejected due to: SPF fail - not authorized. Please see
// http://www.openspf.net/Why?s=mfrom;id=a@b;ip=1.2.3.4;r=mx", or Perl's
// "550 Please see ...").
func spfReject(e *event.Event, s string) {
	result := "fail"
	if _, r, ok := strings.Cut(s, "due to: SPF "); ok {
		w, _, _ := strings.Cut(r, " ")
		result = policyResult(strings.TrimRight(w, ".,"))
	}
	setPolicy(e, "spf", result)
	e.Action = "reject"
	if s[0] == '4' {
		e.Action = "defer"
	}
	e.Response = s
	e.DSN = smtpReply(s)
	_, q, ok := strings.Cut(s, "Why?")
	if !ok {
		return
	}
	scope := ""
	for len(q) > 0 {
		var item string
		item, q, _ = strings.Cut(q, ";")
		k, v, _ := strings.Cut(item, "=")
		switch k {
		case "s":
			scope = v
		case "id":
			if scope == "helo" {
				e.Helo = v
				e.Domain = v
			} else if strings.IndexByte(v, '@') >= 0 {
				e.Sender = v
				e.Domain = addrDomain(v)
			}
		case "ip":
			e.ClientIP = v
		}
	}
}

// parseAmavis reads amavisd-new. Its main log entry is the verdict:
//
//	(04336-07) Passed CLEAN {RelayedInbound}, [1.2.3.4]:34764 [5.6.7.8] <a@b> -> <c@d>, Queue-ID: 8BD903012026,
//	  Message-ID: <m@id>, mail_id: ULkC_-k7N-TY, Hits: -, size: 4641, queued_as: BF76C3012027, 91 ms
//	(10410-08) Blocked INFECTED (Eicar-Signature) {DiscardedInbound,Quarantined}, [1.2.3.4]:54908 [1.2.3.4] <a@b> -> <c@d>, ...
//
// which becomes a policy event with check "content", the verdict
// lower-cased in result and passed/blocked in action. Its other lines
// (Checking:, ESMTP ..., p001 Content-Type ..., FWD from, TIMING, ...) are
// notices; "(!)" and "(!!)" mark amavis's own warnings and errors.
func parseAmavis(e *event.Event, msg string) {
	rest := msg
	// The "(pid-task)" log id.
	if len(rest) > 2 && rest[0] == '(' && isDigit(rest[1]) {
		if end := strings.IndexByte(rest, ')'); end > 0 && end+1 < len(rest) && rest[end+1] == ' ' {
			rest = rest[end+2:]
		}
	}
	switch {
	case strings.HasPrefix(rest, "Passed"):
		amavisVerdict(e, rest[len("Passed"):], "passed")
		return
	case strings.HasPrefix(rest, "Blocked"):
		amavisVerdict(e, rest[len("Blocked"):], "blocked")
		return
	case strings.HasPrefix(rest, "(!!)"):
		amavisWarning(e, "error", rest[len("(!!)"):])
		return
	case strings.HasPrefix(rest, "_DIE: "):
		amavisWarning(e, "error", rest[len("_DIE: "):])
		return
	case strings.HasPrefix(rest, "(!)"):
		amavisWarning(e, "warning", rest[len("(!)"):])
		return
	case strings.HasPrefix(rest, "_WARN: "):
		// A Perl warning from amavis or a SpamAssassin plugin.
		amavisWarning(e, "warning", rest[len("_WARN: "):])
		return
	}
	if rest == "" {
		return
	}
	setNoticeDetail(e, rest)
}

func amavisWarning(e *event.Event, level, text string) {
	e.Kind = event.KindWarning
	e.Level = level
	e.Detail = text
}

// amavisVerdict reads what follows "Passed" or "Blocked".
func amavisVerdict(e *event.Event, s, action string) {
	e.Kind = event.KindPolicy
	e.Check = "content"
	e.Action = action
	s = strings.TrimPrefix(s, " ")
	// The verdict word: CLEAN, SPAM, SPAMMY, INFECTED, BANNED,
	// BAD-HEADER-0, UNCHECKED-ENCRYPTED, OVERSIZED, MTA-BLOCKED, ...
	end := indexAnyOf(s, " ,{(")
	if end < 0 {
		end = len(s)
	}
	e.Result = amavisResult(s[:end])
	s = s[end:]
	s = strings.TrimPrefix(s, " ")
	if strings.HasPrefix(s, "(") {
		// The virus name or banned part.
		var what string
		what, s, _ = paren(s)
		e.Detail = what
		s = strings.TrimPrefix(s, " ")
	}
	if strings.HasPrefix(s, "{") {
		if i := strings.IndexByte(s, '}'); i >= 0 {
			s = s[i+1:]
		} else {
			s = ""
		}
	}
	s = strings.TrimPrefix(s, ",")
	// Tokens up to the sender: "ORIGINATING", "LOCAL", "[1.2.3.4]:port"
	// (the SMTP client), "[5.6.7.8]" (the originating address from the
	// Received chain), a policy bank.
	for {
		s = strings.TrimLeft(s, " ")
		if s == "" || s[0] == '<' {
			break
		}
		tok := s
		if sp := strings.IndexByte(s, ' '); sp >= 0 {
			tok, s = s[:sp], s[sp:]
		} else {
			s = ""
		}
		if e.ClientIP == "" && len(tok) > 0 && tok[0] == '[' {
			if addr, port, _, ok := bracketAddr(tok); ok {
				e.ClientIP, e.ClientPort = addr, port
			}
		}
	}
	from, s, ok := angle(s)
	if !ok {
		return
	}
	e.Sender = from
	s = strings.TrimPrefix(s, " -> ")
	if to, r, ok := angle(s); ok {
		e.Recipient = to
		s = r
	}
	// Further recipients follow as ",<x>".
	for strings.HasPrefix(s, ",<") {
		_, r, ok := angle(s[1:])
		if !ok {
			break
		}
		s = r
	}
	for len(s) > 0 {
		s = strings.TrimPrefix(s, ", ")
		key, r, ok := strings.Cut(s, ": ")
		if !ok || strings.IndexByte(key, ' ') >= 0 {
			return
		}
		var val string
		if strings.HasPrefix(r, "<") {
			if i := strings.IndexByte(r, '>'); i >= 0 {
				val, s = r[:i+1], r[i+1:]
			} else {
				val, s = r, ""
			}
		} else if i := strings.Index(r, ", "); i >= 0 {
			val, s = r[:i], r[i:]
		} else {
			val, s = r, ""
		}
		switch key {
		case "Queue-ID":
			e.QueueID = val
		case "Message-ID":
			e.MessageID = unangle(val)
		case "size":
			e.Size = int64(atoi(val))
		case "queued_as":
			// Split deliveries list several ids; the first links on.
			if i := indexAnyOf(val, "/ ,"); i >= 0 {
				val = val[:i]
			}
			e.NextQueueID = val
		}
	}
}

// amavisVerdicts maps amavis's verdict words (CLEAN, SPAM, BAD-HEADER-0 ...)
// to lower-case results without allocating.
var amavisVerdicts = [...]string{"clean", "spammy", "spam", "infected", "banned", "bad-header", "unchecked", "oversized", "mta-blocked", "other"}

func amavisResult(w string) string {
	for _, v := range amavisVerdicts {
		if len(w) >= len(v) && strings.EqualFold(w[:len(v)], v) {
			// "SPAM" must not swallow "SPAMMY", hence the order above and
			// the boundary check here.
			if len(w) == len(v) || w[len(v)] == '-' {
				return v
			}
		}
	}
	return w
}
