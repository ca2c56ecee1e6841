package simulate

import (
	"strconv"
	"time"
)

// scenario plays one scenario starting at s.now. Its lines may reach far
// into the future (deferred retries, expiry); the queue interleaves them.
func (s *Simulator) scenario() {
	t := s.now
	s.nscen++
	if t >= s.psUntil {
		// postscreen is a long-lived process that master recycles when idle.
		s.psPid = s.pid()
		s.psUntil = t + 3600e6
	}
	if t >= s.nextAnvil {
		s.anvil(t)
		s.nextAnvil = t + 600e6
	}
	if bf := s.cfg.BruteForce; bf.Every > 0 && s.nscen%bf.Every == 0 {
		s.burst(t)
		return
	}
	if m := s.cfg.MalformedPerMille; m > 0 && s.r.IntN(1000) < m {
		s.malformed(t)
		return
	}
	switch x := s.r.IntN(1000); {
	case x < 280:
		s.inbound(t)
	case x < 400:
		s.inboundReject(t)
	case x < 480:
		s.postscreenBlock(t)
	case x < 630:
		s.submission(t)
	case x < 670:
		s.saslFailure(t)
	case x < 800:
		s.dovecotLogin(t)
	case x < 840:
		s.dovecotFailure(t)
	case x < 860:
		s.dovecotNoAuth(t)
	case x < 885:
		s.pickupLocal(t)
	case x < 910:
		s.milterReject(t)
	case x < 950:
		s.lostConnection(t)
	default:
		s.warningSession(t)
	}
}

// cmdCounts builds smtpd's disconnect summary "ehlo=1 mail=0/1 ... commands=N[/M]".
type cmdCounts struct {
	b         []byte
	ok, total int
}

func (c *cmdCounts) add(name string, ok, total int) *cmdCounts {
	c.b = append(c.b, name...)
	c.b = append(c.b, '=')
	c.b = strconv.AppendInt(c.b, int64(ok), 10)
	if ok != total {
		c.b = append(c.b, '/')
		c.b = strconv.AppendInt(c.b, int64(total), 10)
	}
	c.b = append(c.b, ' ')
	c.ok += ok
	c.total += total
	return c
}

func (c *cmdCounts) String() string {
	c.add("commands", c.ok, c.total)
	return string(c.b[:len(c.b)-1])
}

// greeting adds the EHLO (and STARTTLS) part of a session summary.
func greeting(tls bool) *cmdCounts {
	c := &cmdCounts{b: make([]byte, 0, 96)}
	if tls {
		return c.add("ehlo", 2, 2).add("starttls", 1, 1)
	}
	return c.add("ehlo", 1, 1)
}

var spamHelos = [...]string{"ylmf-pc", "User", "WIN-3KP8TJ2F5QO", "localhost", "mail.example.com"}

func (s *Simulator) helo(c client) string {
	if c.host != "unknown" {
		return c.host
	}
	return spamHelos[s.r.IntN(len(spamHelos))]
}

func (s *Simulator) size() int {
	u := s.r.Float64()
	return 900 + int(u*u*u*250000)
}

func (s *Simulator) cleanupPidOf(in *inst) int {
	i := 0
	if in == &s.o {
		i = 1
	}
	// cleanup processes serve many messages before master replaces them.
	if s.r.IntN(40) == 0 {
		s.cleanupPid[i] = s.pid()
	}
	return s.cleanupPid[i]
}

func (s *Simulator) hexID(n int) []byte {
	b := make([]byte, 0, n+24)
	for range n {
		b = append(b, "0123456789abcdef"[s.r.IntN(16)])
	}
	return b
}

// remoteMID is a message-id minted by a remote sender in pool domain dom.
func (s *Simulator) remoteMID(dom int32) string {
	b := s.hexID(24)
	b = append(b, '@')
	return string(appendDomain(b, int(dom)))
}

// localMID is a message-id minted by a local user's mail client.
func (s *Simulator) localMID(u int32) string {
	b := s.hexID(8)
	b = append(b, '-')
	b = append(b, s.hexID(4)...)
	b = append(b, '@')
	return string(append(b, localDomains[int(u)%len(localDomains)]...))
}

// postfixMID is the message-id Postfix itself writes for notifications and
// header-less local mail: <YYYYMMDDhhmmss.QID@myhostname>.
func (s *Simulator) postfixMID(t int64, qid string) string {
	b := time.UnixMicro(t).In(s.loc).AppendFormat(make([]byte, 0, 48), "20060102150405")
	b = append(b, '.')
	b = append(b, qid...)
	b = append(b, '@')
	return string(append(b, serverName...))
}

// screen runs postscreen in front of an smtpd session that will be let in.
func (s *Simulator) screen(t int64, c client, port int) int64 {
	s.lPostscreen(t, &s.a, c, port, "CONNECT")
	if s.pct(8) {
		s.lDnsblog(t+s.us(5, 200), c, "list.dnswl.org", "127.0.10.0")
	}
	if s.pct(25) {
		t += s.us(6000, 6500) // postscreen_greet_wait
		s.lPostscreen(t, &s.a, c, port, "PASS NEW")
	} else {
		t += s.us(2, 300)
		s.lPostscreen(t, &s.a, c, port, "PASS OLD")
	}
	return t + s.us(1, 30)
}

func (s *Simulator) lDnsblog(t int64, c client, list, answer string) {
	s.begin(s.a.dnsblog, s.pid())
	s.w("addr ")
	s.w(c.ip)
	s.cur.ip = c.idx
	s.w(" listed by domain ")
	s.w(list)
	s.w(" as ")
	s.w(answer)
	s.emit(t, s.slot(fDnsblog, "", ""))
}

var spfResults = [...]struct{ word, key string }{
	{"Pass", "pass"}, {"Pass", "pass"}, {"Pass", "pass"}, {"Pass", "pass"}, {"Pass", "pass"}, {"Pass", "pass"},
	{"None", "none"}, {"None", "none"}, {"Softfail", "softfail"}, {"Neutral", "neutral"},
}

func (s *Simulator) spf(t int64, c client, from addr, helo string) {
	r := spfResults[s.r.IntN(len(spfResults))]
	s.lPolicy(t, "policyd-spf", s.pid(), "spf", r.key, func() {
		s.w("prepend Received-SPF: ")
		s.w(r.word)
		s.w(" (mailfrom) identity=mailfrom; client-ip=")
		s.w(c.ip)
		s.cur.ip = c.idx
		s.w("; helo=")
		s.w(helo)
		s.w("; envelope-from=")
		s.address(from)
		s.w("; receiver=<UNKNOWN>")
	})
}

// milters writes OpenDKIM's and OpenDMARC's verdicts on an inbound message.
func (s *Simulator) milters(t int64, qid string, c client, from addr) int64 {
	if s.pct(50) {
		s.lInfo(t, "opendkim", s.dkimPid, "opendkim-not-internal", func() {
			s.w(qid)
			s.w(": ")
			s.w(c.host)
			s.w(" [")
			s.w(c.ip)
			s.cur.ip = c.idx
			s.w("] not internal")
		})
		s.lInfo(t, "opendkim", s.dkimPid, "opendkim-not-authenticated", func() {
			s.w(qid)
			s.w(": not authenticated")
		})
	}
	t += s.us(1, 80)
	switch x := s.r.IntN(100); {
	case x < 55:
		s.lPolicy(t, "opendkim", s.dkimPid, "dkim", "pass", func() {
			s.w(qid)
			s.w(": DKIM verification successful")
		})
	case x < 92:
		s.lPolicy(t, "opendkim", s.dkimPid, "dkim", "none", func() {
			s.w(qid)
			s.w(": no signature data")
		})
	default:
		s.lInfo(t, "opendkim", s.dkimPid, "opendkim-ssl-error", func() {
			s.w(qid)
			s.w(": s=mail d=")
			s.b = appendDomain(s.b, int(from.dom))
			s.cur.dom = from.dom
			s.w(" SSL error:04091068:rsa routines:int_rsa_verify:bad signature")
		})
		s.lPolicy(t, "opendkim", s.dkimPid, "dkim", "fail", func() {
			s.w(qid)
			s.w(": bad signature data")
		})
	}
	t += s.us(1, 30)
	res := "pass"
	switch x := s.r.IntN(100); {
	case x < 10:
		res = "fail"
	case x < 30:
		res = "none"
	}
	s.lPolicy(t, "opendmarc", s.dmarcPid, "dmarc", res, func() {
		s.w(qid)
		s.w(": ")
		s.b = appendDomain(s.b, int(from.dom))
		s.cur.dom = from.dom
		s.b = append(s.b, ' ')
		s.w(res)
	})
	return t
}

// inbound is a clean message from a remote MTA to local mailboxes.
func (s *Simulator) inbound(t int64) {
	in := &s.a
	from := s.remoteAddr()
	c := s.newClient(true)
	t = s.screen(t, c, s.port())
	pid := s.pid()
	if c.host != "unknown" && s.pct(4) {
		host := c.host
		s.lWarning(t, in.smtpd, pid, func() {
			s.w("hostname ")
			s.w(host)
			s.w(" does not resolve to address ")
			s.w(c.ip)
			s.cur.ip = c.idx
			s.w(": Name or service not known")
		})
		c.host = "unknown"
	}
	helo := s.helo(c)
	s.lConnect(t, in.smtpd, pid, c)
	s.noteConn("smtpd", c, t)
	tls := s.pct(75)
	if tls {
		t += s.us(20, 300)
		s.lTLSIn(t, in.smtpd, pid, c)
	}
	rcpts := make([]addr, s.nrcpt())
	for i := range rcpts {
		rcpts[i] = s.localAddr()
	}
	t += s.us(40, 600)
	s.spf(t, c, from, helo)
	t += s.us(5, 100)
	qid := s.qid(t)
	recv := t
	s.lClient(t, in.smtpd, pid, qid, c, -1)
	t += s.us(30, 1500)
	mid := s.remoteMID(from.dom)
	s.lMessageID(t, in, s.cleanupPidOf(in), qid, mid, from.dom, "smtpd")
	t = s.milters(t, qid, c, from)
	t += s.us(1, 40)
	qt := t
	size := s.size()
	s.lQueued(qt, in, qid, from, false, size, len(rcpts), "smtpd")
	cc := greeting(tls).add("mail", 1, 1).add("rcpt", len(rcpts), len(rcpts)).add("data", 1, 1).add("quit", 1, 1)
	s.lDisconnect(t+s.us(1, 20), in.smtpd, pid, c, cc.String())
	end, bounced := s.deliverLocal(qt, in, qid, mid, rcpts, qt-recv, true)
	if !bounced {
		s.lRemoved(end+s.us(0, 5), in, qid)
		return
	}
	t, ndr := s.notify(end+s.us(1, 20), in, qid)
	s.lRemoved(t+s.us(0, 5), in, qid)
	s.deliverNDR(t+s.us(1, 10), in, ndr, from)
}

func (s *Simulator) nrcpt() int {
	switch x := s.r.IntN(100); {
	case x < 80:
		return 1
	case x < 95:
		return 2
	default:
		return 3
	}
}

// deliverLocal delivers to local mailboxes through one transport; waitMs is
// the time the message spent before the queue manager. It returns the time
// of the last delivery line and whether any recipient bounced (only
// possible when canBounce: notifications themselves never bounce here).
func (s *Simulator) deliverLocal(qt int64, in *inst, qid, mid string, rcpts []addr, beforeQmgr int64, canBounce bool) (int64, bool) {
	d := delivery{qid: qid, a: beforeQmgr / 1000, dsn: "2.0.0", status: "sent"}
	t := qt
	bounced := false
	switch x := s.r.IntN(100); {
	case x < 70:
		d.prog, d.pid, d.relay = in.lmtp, s.pid(), serverName+"[private/dovecot-lmtp]"
		lpid := s.pid()
		sess := string(s.session(make([]byte, 0, 22), 22))
		t += s.us(1, 20)
		s.lInfo(t, "dovecot", 0, "dovecot-lmtp-connect", func() {
			s.w("lmtp(")
			s.n(lpid)
			s.w("): Connect from local")
		})
		for _, r := range rcpts {
			d.to = r
			d.b, d.c, d.d = s.r.Int64N(30), s.r.Int64N(20), 5+s.r.Int64N(120)
			t += (d.c + d.d) * 1000
			if canBounce && s.pct(2) {
				bounced = true
				d.dsn, d.status = "5.2.2", "bounced"
				d.resp = "host " + serverName + "[private/dovecot-lmtp] said: 552 5.2.2 <" + string(appendUser(nil, int(r.user))) +
					"> Quota exceeded (mailbox for user is full) (in reply to end of DATA command)"
			} else {
				d.dsn, d.status = "2.0.0", "sent"
				s.lSaved(t, r.user, lpid, sess, mid)
				d.resp = "250 2.0.0 <" + string(appendUser(nil, int(r.user))) + "> " + sess + " Saved"
			}
			s.lDelivery(t+s.us(0, 3), &d)
		}
		t += s.us(1, 5)
		s.lInfo(t, "dovecot", 0, "dovecot-lmtp-disconnect", func() {
			s.w("lmtp(")
			s.n(lpid)
			s.w("): Disconnect from local: Client has quit the connection (state=READY)")
		})
	case x < 90:
		d.prog, d.relay, d.resp = in.virtual, "virtual", "delivered to maildir"
		d.pid = s.pid()
		for _, r := range rcpts {
			d.to = r
			d.b, d.c, d.d = s.r.Int64N(30), 0, s.r.Int64N(40)
			t += (d.b + d.d) * 1000
			s.lDelivery(t, &d)
		}
	default:
		d.prog, d.relay, d.resp = in.local, "local", "delivered to mailbox"
		d.pid = s.pid()
		for _, r := range rcpts {
			d.to = r
			d.b, d.c, d.d = s.r.Int64N(30), 0, s.r.Int64N(60)
			t += (d.b + d.d) * 1000
			s.lDelivery(t, &d)
		}
	}
	return t, bounced
}
