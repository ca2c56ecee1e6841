package simulate

// Truth is what the simulator wrote, counted line by line as lines are
// emitted, so it is exact for any cut of the output.
//
// Every line falls into exactly one of the "bucket" fields; Total adds them
// up and always equals Lines. The "subset" fields count lines already counted
// in a bucket and are left out of Total.
//
// Keys named "program" are the syslog identifier without the pid, exactly as
// written: "postfix/smtpd", "postfix/submission/smtpd", "postfix-out/smtp",
// "dovecot", ... Below, PROG stands for such an identifier, HOST[IP] for a
// client such as "unknown[198.51.100.7]" and QID for a queue id.
type Truth struct {
	// Lines is every line written.
	Lines int `json:"lines"`

	// Connects, by program: "PROG: connect from HOST[IP]" (smtpd only).
	Connects map[string]int `json:"connects"`
	// Disconnects, by program: "PROG: disconnect from HOST[IP] ehlo=1 ...
	// commands=N" or "... commands=N/M".
	Disconnects map[string]int `json:"disconnects"`
	// LostConnections, by program: "PROG: lost connection after CMD from
	// HOST[IP]" and "PROG: timeout after CMD from HOST[IP]".
	LostConnections map[string]int `json:"lost_connections"`
	// TLS, by direction: "inbound" counts smtpd's "Anonymous TLS connection
	// established from HOST[IP]: ...", "outbound" counts smtp's
	// "{Verified,Trusted,Untrusted} TLS connection established to HOST[IP]:25: ...".
	TLS map[string]int `json:"tls"`
	// AuthFailures, by "smtpd" (any smtpd program, "warning: HOST[IP]: SASL
	// {LOGIN,PLAIN} authentication failed: ...") and "dovecot" ("dovecot:
	// {imap,pop3}-login: Disconnected (auth failed, N attempts in S secs):
	// user=<U>, ..."). One per line, whatever N says.
	AuthFailures map[string]int `json:"auth_failures"`
	// Logins, by "imap" and "pop3": "dovecot: {imap,pop3}-login: Login:
	// user=<U>, method=PLAIN, rip=IP, ...".
	Logins map[string]int `json:"logins"`
	// Clients, by program: "PROG: QID: client=HOST[IP]", with or without
	// ", sasl_method=M, sasl_username=U".
	Clients map[string]int `json:"clients"`
	// MessagesReceived, by origin, counts cleanup's "PROG: QID:
	// message-id=<ID>", which Postfix logs exactly once per message. Origins:
	// "smtpd" (port 25), "submission" (SASL on postfix/submission/smtpd),
	// "pickup" (local sendmail), "bounce" (non-delivery notifications) and
	// "relay" (received by the second instance from the first). A message
	// later milter-rejected still counts.
	MessagesReceived map[string]int `json:"messages_received"`
	// Queued, by program: qmgr's "PROG: QID: from=<S>, size=N, nrcpt=K (queue
	// active)". Postfix logs it again each time a deferred message is retried.
	Queued map[string]int `json:"queued"`
	// Deliveries, by program then status (sent, deferred, bounced): "PROG:
	// QID: to=<R>, [orig_to=<O>, ]relay=..., delay=D, delays=a/b/c/d, dsn=X.Y.Z,
	// status=S (RESPONSE)". Programs are the transports: postfix/smtp,
	// postfix/lmtp, postfix/local, postfix/virtual, postfix-out/smtp.
	Deliveries map[string]map[string]int `json:"deliveries"`
	// Removed, by program: qmgr's "PROG: QID: removed".
	Removed map[string]int `json:"removed"`
	// Expired, by program: qmgr's "PROG: QID: from=<S>, status=expired,
	// returned to sender".
	Expired map[string]int `json:"expired"`
	// BounceNotices, by program: "PROG: QID: sender non-delivery
	// notification: NDRID".
	BounceNotices map[string]int `json:"bounce_notices"`
	// Rejects, by stage then class ("4xx", "5xx"). The stage is the command
	// word as written: CONNECT, EHLO, HELO, MAIL, RCPT, DATA, END-OF-MESSAGE.
	// Shapes: smtpd's "NOQUEUE: reject: STAGE from HOST[IP]: CODE X.Y.Z ...",
	// postscreen's "NOQUEUE: reject: RCPT from [IP]:PORT: 550 5.7.1 Service
	// unavailable; client [IP] blocked using ..." and cleanup's "QID:
	// milter-reject: END-OF-MESSAGE from HOST[IP]: CODE X.Y.Z ...".
	Rejects map[string]map[string]int `json:"rejects"`
	// Postscreen, by verdict as written: CONNECT ("CONNECT from [IP]:PORT to
	// [IP]:25"), "PASS NEW", "PASS OLD", PREGREET, DNSBL ("DNSBL rank N for
	// [IP]:PORT"), HANGUP, DISCONNECT. Postscreen rejects are in Rejects.
	Postscreen map[string]int `json:"postscreen"`
	// Dnsblog: "postfix/dnsblog[PID]: addr IP listed by domain D as A".
	Dnsblog int `json:"dnsblog"`
	// PolicyResults, by check then result:
	//   dkim pass: "opendkim[PID]: QID: DKIM verification successful"
	//   dkim fail: "opendkim[PID]: QID: bad signature data"
	//   dkim none: "opendkim[PID]: QID: no signature data"
	//   spf pass|none|softfail|neutral: "policyd-spf[PID]: prepend
	//     Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=IP; ..."
	//   dmarc pass|fail|none: "opendmarc[PID]: QID: DOMAIN pass"
	PolicyResults map[string]map[string]int `json:"policy_results"`
	// MailboxSaves: Dovecot LMTP's "dovecot: lmtp(U)<PID><SESSION>:
	// msgid=<ID>: saved mail to INBOX".
	MailboxSaves int `json:"mailbox_saves"`
	// Pickups: "postfix/pickup[PID]: QID: uid=N from=<S>".
	Pickups int `json:"pickups"`
	// Warnings, by program: "PROG: warning: ..." lines not counted elsewhere
	// (SASL failures are AuthFailures): "hostname H does not resolve to
	// address IP: ...", "non-SMTP command from HOST[IP]: ...", "Illegal
	// address syntax from HOST[IP] in RCPT command: <...>", "TLS library
	// problem: ...".
	Warnings map[string]int `json:"warnings"`
	// Stats: anvil's "postfix/anvil[PID]: statistics: ...".
	Stats int `json:"stats"`
	// Info counts recognised informational lines, by shape:
	//   "dovecot-lmtp-connect":    "dovecot: lmtp(PID): Connect from local"
	//   "dovecot-lmtp-disconnect": "dovecot: lmtp(PID): Disconnect from local: Client has quit the connection (state=READY)"
	//   "dovecot-logout":          "dovecot: imap(U)<PID><S>: Logged out in=..." and "dovecot: pop3(U)<PID><S>: Disconnected: Logged out top=..."
	//   "dovecot-no-auth":         "dovecot: imap-login: Disconnected (no auth attempts in N secs): user=<>, rip=IP, ..."
	//   "opendkim-not-internal":   "opendkim[PID]: QID: HOST [IP] not internal"
	//   "opendkim-not-authenticated": "opendkim[PID]: QID: not authenticated"
	//   "opendkim-signed":         "opendkim[PID]: QID: DKIM-Signature field added (s=mail, d=D)"
	//   "opendkim-ssl-error":      "opendkim[PID]: QID: s=SEL d=D SSL error:...:bad signature"
	Info map[string]int `json:"info"`
	// Unknown counts lines no mail daemon wrote, by "foreign" (kernel, CRON,
	// systemd lines with a valid envelope) and "cut" (a Postfix line
	// truncated inside its syslog identifier, timestamp and host intact).
	Unknown map[string]int `json:"unknown"`

	// SASLLogins (subset of Clients): client= lines with sasl_username=.
	SASLLogins int `json:"sasl_logins"`
	// DovecotAuthAttempts (derived from AuthFailures["dovecot"]): the sum of
	// N over "auth failed, N attempts" lines.
	DovecotAuthAttempts int `json:"dovecot_auth_attempts"`
	// BurstAuthFailures (subset of AuthFailures): failures written by
	// brute-force bursts, by "ip" (smtpd failures from BruteForce.IP) and
	// "user" (Dovecot failures against BruteForce.User).
	BurstAuthFailures map[string]int `json:"burst_auth_failures"`
	// QueuedAs (subset of Deliveries): delivery lines whose response ends in
	// "queued as ID".
	QueuedAs int `json:"queued_as"`
	// RelayedToSecond (subset of QueuedAs): first-instance deliveries to the
	// second instance, "relay=127.0.0.1[127.0.0.1]:10026, ... status=sent
	// (250 2.0.0 Ok: queued as OUTID)" where OUTID is the second instance's
	// queue id.
	RelayedToSecond int `json:"relayed_to_second"`
	// MilterRejects and PostscreenRejects (subsets of Rejects).
	MilterRejects     int `json:"milter_rejects"`
	PostscreenRejects int `json:"postscreen_rejects"`
	// MessagesQueued (subset of Queued), by origin as in MessagesReceived:
	// the first qmgr "from=" line of each message, which is when the
	// message has entered the queue (retries of deferred messages log it
	// again and are not counted here).
	MessagesQueued map[string]int `json:"messages_queued"`

	// DistinctClientIPs, DistinctUsers and DistinctDomains count the pool
	// members that appear in written lines: client addresses (never
	// 127.0.0.1, the brute-force IP or a mail exchanger's address), local
	// mailbox users (never the brute-force user or guessed names such as
	// info@example.com) and remote domains (in addresses, "mx.DOMAIN" relay
	// hosts, DKIM d= and DMARC verdicts; client hostnames use other zones).
	DistinctClientIPs int `json:"distinct_client_ips"`
	DistinctUsers     int `json:"distinct_users"`
	DistinctDomains   int `json:"distinct_domains"`
}

// Total adds up the bucket fields; it equals Lines.
func (t *Truth) Total() int {
	n := t.Dnsblog + t.MailboxSaves + t.Pickups + t.Stats
	for _, m := range []map[string]int{t.Connects, t.Disconnects, t.LostConnections, t.TLS,
		t.AuthFailures, t.Logins, t.Clients, t.MessagesReceived, t.Queued, t.Removed, t.Expired,
		t.BounceNotices, t.Postscreen, t.Warnings, t.Info, t.Unknown} {
		n += sum(m)
	}
	for _, mm := range []map[string]map[string]int{t.Deliveries, t.Rejects, t.PolicyResults} {
		for _, m := range mm {
			n += sum(m)
		}
	}
	return n
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// field names a Truth counter; a slot is one field plus its keys.
type field uint8

const (
	fConnects field = iota
	fDisconnects
	fLost
	fTLS
	fAuthFail
	fLogins
	fClients
	fMsgRecv
	fQueued
	fDeliveries
	fRemoved
	fExpired
	fBounceNotices
	fRejects
	fPostscreen
	fDnsblog
	fPolicy
	fMailboxSaves
	fPickups
	fWarnings
	fStats
	fInfo
	fUnknown
	// Subsets from here on.
	fSASLLogins
	fDovecotAttempts
	fBurst
	fQueuedAs
	fRelayedToSecond
	fMilterRejects
	fPostscreenRejects
	fFirstQueued
)

type slotKey struct {
	f    field
	a, b string
}

// slot returns the counter index of a field and its keys, registering it on
// first use. Registration order depends only on the generated scenarios, so
// it is as deterministic as the output.
func (s *Simulator) slot(f field, a, b string) int32 {
	k := slotKey{f, a, b}
	if i, ok := s.slotIdx[k]; ok {
		return i
	}
	i := int32(len(s.slots))
	s.slots = append(s.slots, k)
	s.counts = append(s.counts, 0)
	s.slotIdx[k] = i
	return i
}

// Truth returns the counts of everything written so far.
func (s *Simulator) Truth() Truth {
	t := Truth{
		Lines:             s.lines,
		Connects:          map[string]int{},
		Disconnects:       map[string]int{},
		LostConnections:   map[string]int{},
		TLS:               map[string]int{},
		AuthFailures:      map[string]int{},
		Logins:            map[string]int{},
		Clients:           map[string]int{},
		MessagesReceived:  map[string]int{},
		Queued:            map[string]int{},
		Deliveries:        map[string]map[string]int{},
		Removed:           map[string]int{},
		Expired:           map[string]int{},
		BounceNotices:     map[string]int{},
		Rejects:           map[string]map[string]int{},
		Postscreen:        map[string]int{},
		PolicyResults:     map[string]map[string]int{},
		Warnings:          map[string]int{},
		Info:              map[string]int{},
		Unknown:           map[string]int{},
		BurstAuthFailures: map[string]int{},
		MessagesQueued:    map[string]int{},
		DistinctClientIPs: s.ips.distinct,
		DistinctUsers:     s.users.distinct,
		DistinctDomains:   s.domains.distinct,
	}
	two := func(m map[string]map[string]int, a, b string, n int) {
		if m[a] == nil {
			m[a] = map[string]int{}
		}
		m[a][b] += n
	}
	for i, k := range s.slots {
		n := s.counts[i]
		if n == 0 {
			continue
		}
		switch k.f {
		case fConnects:
			t.Connects[k.a] += n
		case fDisconnects:
			t.Disconnects[k.a] += n
		case fLost:
			t.LostConnections[k.a] += n
		case fTLS:
			t.TLS[k.a] += n
		case fAuthFail:
			t.AuthFailures[k.a] += n
		case fLogins:
			t.Logins[k.a] += n
		case fClients:
			t.Clients[k.a] += n
		case fMsgRecv:
			t.MessagesReceived[k.a] += n
		case fQueued:
			t.Queued[k.a] += n
		case fDeliveries:
			two(t.Deliveries, k.a, k.b, n)
		case fRemoved:
			t.Removed[k.a] += n
		case fExpired:
			t.Expired[k.a] += n
		case fBounceNotices:
			t.BounceNotices[k.a] += n
		case fRejects:
			two(t.Rejects, k.a, k.b, n)
		case fPostscreen:
			t.Postscreen[k.a] += n
		case fDnsblog:
			t.Dnsblog += n
		case fPolicy:
			two(t.PolicyResults, k.a, k.b, n)
		case fMailboxSaves:
			t.MailboxSaves += n
		case fPickups:
			t.Pickups += n
		case fWarnings:
			t.Warnings[k.a] += n
		case fStats:
			t.Stats += n
		case fInfo:
			t.Info[k.a] += n
		case fUnknown:
			t.Unknown[k.a] += n
		case fSASLLogins:
			t.SASLLogins += n
		case fDovecotAttempts:
			t.DovecotAuthAttempts += n
		case fBurst:
			t.BurstAuthFailures[k.a] += n
		case fQueuedAs:
			t.QueuedAs += n
		case fRelayedToSecond:
			t.RelayedToSecond += n
		case fMilterRejects:
			t.MilterRejects += n
		case fPostscreenRejects:
			t.PostscreenRejects += n
		case fFirstQueued:
			t.MessagesQueued[k.a] += n
		}
	}
	return t
}
