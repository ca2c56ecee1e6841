package simulate

import "strconv"

// lSaved is Dovecot LMTP's "lmtp(U)<PID><SESSION>: msgid=<ID>: saved mail to INBOX".
func (s *Simulator) lSaved(t int64, u int32, lpid int, sess, mid string) {
	s.begin("dovecot", 0)
	s.w("lmtp(")
	s.user(u)
	s.w(")<")
	s.n(lpid)
	s.w("><")
	s.w(sess)
	s.w(">: msgid=<")
	s.w(mid)
	s.w(">: saved mail to INBOX")
	s.emit(t, s.slot(fMailboxSaves, "", ""))
}

func (s *Simulator) addrString(a addr) string {
	s.b = s.b[:0]
	s.address(a)
	return string(s.b)
}

// notify has the bounce daemon create a non-delivery notification for qid:
// cleanup's message-id line for the new message, then bounce's notice.
func (s *Simulator) notify(t int64, in *inst, qid string) (int64, string) {
	ndr := s.qid(t)
	s.lMessageID(t, in, s.cleanupPidOf(in), ndr, s.postfixMID(t, ndr), -1, "bounce")
	t += s.us(0, 5)
	s.lBounceNotice(t, in, qid, ndr)
	return t, ndr
}

// deliverNDR runs a notification's own life: queued with the null sender,
// delivered to the original sender, removed.
func (s *Simulator) deliverNDR(t int64, in *inst, ndr string, to addr) {
	s.lQueued(t, in, ndr, addr{}, true, 2500+s.r.IntN(6000), 1, "bounce")
	var end int64
	if to.local != "" {
		end = s.smtpOut(t, in, ndr, to, s.us(0, 20), "sent")
	} else {
		end, _ = s.deliverLocal(t, in, ndr, s.postfixMID(t, ndr), []addr{to}, s.us(0, 20), false)
	}
	s.lRemoved(end+s.us(0, 5), in, ndr)
}

// smtpOut delivers one recipient to its domain's mail exchanger; qt is when
// the queue manager took the message, beforeQmgr (µs) the time before that.
// It returns the time of the delivery line.
func (s *Simulator) smtpOut(qt int64, in *inst, qid string, to addr, beforeQmgr int64, outcome string) int64 {
	b := []byte("mx.")
	b = appendDomain(b, int(to.dom))
	b = append(b, '[')
	b = appendMXIP(b, int(to.dom))
	b = append(b, ']')
	mx := string(b)
	rcpt := s.addrString(to)
	d := delivery{prog: in.smtp, pid: s.pid(), qid: qid, to: to, a: beforeQmgr / 1000, status: outcome, relay: mx + ":25"}
	d.b = s.r.Int64N(40)
	d.c = 20 + s.r.Int64N(900)
	d.d = 40 + s.r.Int64N(1500)
	tls := s.pct(85)
	switch outcome {
	case "sent":
		d.dsn = "2.0.0"
		switch x := s.r.IntN(10); {
		case x < 5:
			d.queuedAs = true
			id := make([]byte, 0, 40)
			id = append(id, "250 2.0.0 Ok: queued as 4"...)
			for range 11 {
				id = append(id, alnum[s.r.IntN(len(alnum))])
			}
			d.resp = string(id)
		case x < 8:
			id := make([]byte, 0, 80)
			id = append(id, "250 2.0.0 OK  "...)
			id = strconv.AppendInt(id, qt/1e6, 10)
			id = append(id, ' ')
			for range 20 {
				id = append(id, alnum[s.r.IntN(len(alnum))])
			}
			d.resp = string(append(id, " - gsmtp"...))
		default:
			d.resp = "250 Requested mail action okay, completed"
		}
	case "deferred":
		if s.pct(40) {
			tls = false
			d.relay, d.dsn = "none", "4.4.1"
			d.c, d.d = 30000, 0
			d.resp = "connect to " + mx + ":25: Connection timed out"
		} else {
			d.dsn = "4.7.1"
			d.d = 10 + s.r.Int64N(200)
			dom := string(appendDomain(nil, int(to.dom)))
			d.resp = "host " + mx + " said: 450 4.7.1 <" + rcpt + ">: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/" +
				dom + ".html (in reply to RCPT TO command)"
		}
	case "bounced":
		d.dsn = "5.1.1"
		d.d = 10 + s.r.Int64N(200)
		d.resp = "host " + mx + " said: 550 5.1.1 <" + rcpt + ">: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)"
	}
	if tls {
		s.lTLSOut(qt+(d.b+d.c)*1000, in.smtp, d.pid, d.relay, to.dom)
	}
	t := qt + (d.b+d.c+d.d)*1000
	s.lDelivery(t, &d)
	return t
}

// submission is an authenticated user sending mail out, either directly or
// through the second instance.
func (s *Simulator) submission(t int64) {
	in := &s.a
	u := s.localAddr()
	c := s.newClient(false)
	pid := s.pid()
	s.lConnect(t, in.submission, pid, c)
	s.noteConn("submission", c, t)
	t += s.us(20, 200)
	s.lTLSIn(t, in.submission, pid, c)
	t += s.us(50, 500)
	qid := s.qid(t)
	recv := t
	s.lClient(t, in.submission, pid, qid, c, u.user)
	rcpts := make([]addr, s.nrcpt())
	for i := range rcpts {
		rcpts[i] = s.remoteAddr()
	}
	t += s.us(50, 3000)
	mid := s.localMID(u.user)
	s.lMessageID(t, in, s.cleanupPidOf(in), qid, mid, -1, "submission")
	t += s.us(1, 50)
	s.lInfo(t, "opendkim", s.dkimPid, "opendkim-signed", func() {
		s.w(qid)
		s.w(": DKIM-Signature field added (s=mail, d=")
		s.w(localDomains[int(u.user)%len(localDomains)])
		s.w(")")
	})
	t += s.us(1, 30)
	qt := t
	size := s.size()
	s.lQueued(qt, in, qid, u, false, size, len(rcpts), "submission")
	cc := greeting(true).add("auth", 1, 1).add("mail", 1, 1).add("rcpt", len(rcpts), len(rcpts)).add("data", 1, 1).add("quit", 1, 1)
	s.lDisconnect(t+s.us(1, 20), in.submission, pid, c, cc.String())
	wait := qt - recv
	if s.cfg.RelayPercent > 0 && s.pct(s.cfg.RelayPercent) {
		end := s.relayHop(qt, qid, u, rcpts, wait, mid, size)
		s.lRemoved(end+s.us(0, 5), in, qid)
		return
	}
	if len(rcpts) > 1 {
		end := qt
		for _, r := range rcpts {
			end = max(end, s.smtpOut(qt, in, qid, r, wait, "sent"))
		}
		s.lRemoved(end+s.us(0, 5), in, qid)
		return
	}
	r := rcpts[0]
	switch x := s.r.IntN(100); {
	case x < 88:
		s.lRemoved(s.smtpOut(qt, in, qid, r, wait, "sent")+s.us(0, 5), in, qid)
	case x < 92:
		e := s.smtpOut(qt, in, qid, r, wait, "bounced")
		t, ndr := s.notify(e+s.us(1, 20), in, qid)
		s.lRemoved(t+s.us(0, 5), in, qid)
		s.deliverNDR(t+s.us(1, 10), in, ndr, u)
	default:
		e := s.smtpOut(qt, in, qid, r, wait, "deferred")
		rt := e + s.us(300_000, 1_800_000)
		s.lQueued(rt, in, qid, u, false, size, 1, "")
		if s.pct(70) {
			s.lRemoved(s.smtpOut(rt, in, qid, r, rt-recv, "sent")+s.us(0, 5), in, qid)
			return
		}
		e = s.smtpOut(rt, in, qid, r, rt-recv, "deferred")
		// A short maximal_queue_lifetime keeps expiry inside a test-sized log.
		et := e + s.us(3_600_000, 4*3_600_000)
		s.lExpired(et, in, qid, u)
		t, ndr := s.notify(et+s.us(1, 20), in, qid)
		s.lRemoved(t+s.us(0, 5), in, qid)
		s.deliverNDR(t+s.us(1, 10), in, ndr, u)
	}
}

// relayHop hands a message from the first instance to the second, which
// delivers it. It returns the time of the first instance's last delivery
// line.
func (s *Simulator) relayHop(qt int64, qid string, from addr, rcpts []addr, wait int64, mid string, size int) int64 {
	a, o := &s.a, &s.o
	t := qt + s.us(1, 20)
	opid := s.pid()
	s.lConnect(t, o.smtpd, opid, localhost)
	t += s.us(1, 10)
	oid := s.qid(t)
	orecv := t
	s.lClient(t, o.smtpd, opid, oid, localhost, -1)
	t += s.us(5, 200)
	s.lMessageID(t, o, s.cleanupPidOf(o), oid, mid, -1, "relay")
	d := delivery{prog: a.smtp, pid: s.pid(), qid: qid, relay: relayIP + "[" + relayIP + "]:" + strconv.Itoa(relayPort),
		a: wait / 1000, dsn: "2.0.0", status: "sent", resp: "250 2.0.0 Ok: queued as " + oid, queuedAs: true, relayed: true}
	d.b, d.c = s.r.Int64N(20), 1+s.r.Int64N(10)
	d.d = (t-qt)/1000 - d.b - d.c + 2
	t += s.us(1, 5)
	for _, r := range rcpts {
		d.to = r
		s.lDelivery(t, &d)
	}
	end := t
	oqt := t + s.us(1, 10)
	s.lQueued(oqt, o, oid, from, false, size+600, len(rcpts), "relay")
	cc := greeting(false).add("mail", 1, 1).add("rcpt", len(rcpts), len(rcpts)).add("data", 1, 1).add("quit", 1, 1)
	s.lDisconnect(oqt+s.us(0, 5), o.smtpd, opid, localhost, cc.String())
	last := oqt
	if s.pct(92) {
		for _, r := range rcpts {
			last = max(last, s.smtpOut(oqt, o, oid, r, oqt-orecv, "sent"))
		}
	} else {
		for _, r := range rcpts {
			last = max(last, s.smtpOut(oqt, o, oid, r, oqt-orecv, "deferred"))
		}
		rt := last + s.us(300_000, 1_200_000)
		s.lQueued(rt, o, oid, from, false, size+600, len(rcpts), "")
		last = rt
		for _, r := range rcpts {
			last = max(last, s.smtpOut(rt, o, oid, r, rt-orecv, "sent"))
		}
	}
	s.lRemoved(last+s.us(0, 5), o, oid)
	return end
}

// inboundReject is a session smtpd refuses at one SMTP stage.
func (s *Simulator) inboundReject(t int64) {
	in := &s.a
	c := s.newClient(true)
	t = s.screen(t, c, s.port())
	pid := s.pid()
	helo := s.helo(c)
	s.lConnect(t, in.smtpd, pid, c)
	s.noteConn("smtpd", c, t)
	t += s.us(30, 800)
	cc := greeting(false)
	stage := "RCPT"
	switch x := s.r.IntN(100); {
	case x < 8:
		stage = "CONNECT"
		cc = &cmdCounts{b: make([]byte, 0, 64)}
		s.lReject(t, in.smtpd, pid, c, stage, "554", "5.7.1 <"+c.host+"["+c.ip+"]>: Client host rejected: Access denied", func() {
			s.w("proto=SMTP")
		})
	case x < 20:
		stage = "EHLO"
		cc = (&cmdCounts{b: make([]byte, 0, 64)}).add("ehlo", 0, 1)
		code, text := "504", "5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname"
		h := "localhost"
		if s.pct(40) {
			h = spamHelos[s.r.IntN(3)]
			code, text = "450", "4.7.1 <"+h+">: Helo command rejected: Host not found"
		}
		s.lReject(t, in.smtpd, pid, c, stage, code, text, func() {
			s.w("proto=ESMTP helo=<")
			s.w(h)
			s.w(">")
		})
	case x < 30:
		stage = "MAIL"
		cc.add("mail", 0, 1)
		from := s.remoteAddr()
		f := s.addrString(from)
		code, text := "553", "5.7.1 <"+f+">: Sender address rejected: not logged in"
		if s.pct(50) {
			code, text = "450", "4.1.8 <"+f+">: Sender address rejected: Domain not found"
		}
		s.lReject(t, in.smtpd, pid, c, stage, code, text, func() {
			s.w("from=")
			s.angle(from)
			s.w(" proto=ESMTP helo=<")
			s.w(helo)
			s.w(">")
		})
	case x < 40:
		stage = "DATA"
		if s.pct(50) {
			cc.add("mail", 1, 1).add("rcpt", 2, 2).add("data", 0, 1)
			s.lReject(t, in.smtpd, pid, c, stage, "550", "5.5.3 <DATA>: Data command rejected: Multi-recipient bounce", func() {
				s.w("from=<> proto=ESMTP helo=<")
				s.w(helo)
				s.w(">")
			})
		} else {
			cc.add("mail", 1, 1).add("rcpt", 1, 1).add("data", 0, 1)
			from, u := s.remoteAddr(), s.localAddr()
			s.lReject(t, in.smtpd, pid, c, stage, "450", "4.7.1 <DATA>: Data command rejected: Improper use of SMTP command pipelining", func() {
				s.w("from=")
				s.angle(from)
				s.w(" to=")
				s.angle(u)
				s.w(" proto=ESMTP helo=<")
				s.w(helo)
				s.w(">")
			})
		}
	default:
		cc.add("mail", 1, 1).add("rcpt", 0, 1)
		from := s.remoteAddr()
		var to addr
		relayTo := ""
		var code, text string
		y := s.r.IntN(5)
		if y == 2 && c.host != "unknown" {
			// reject_unknown_client_hostname only fires for clients that
			// connected as unknown.
			y = 4
		}
		if y >= 2 {
			to = s.localAddr()
		}
		switch y {
		case 0:
			relayTo = remoteLocals[s.r.IntN(len(remoteLocals))] + "@mailbox.invalid"
			code, text = "554", "5.7.1 <"+relayTo+">: Relay access denied"
		case 1:
			to = addr{user: -2 - int32(s.r.IntN(len(remoteLocals)))}
			code, text = "550", "5.1.1 <"+s.addrString(to)+">: Recipient address rejected: User unknown in virtual mailbox table"
		case 2:
			code, text = "450", "4.7.1 Client host rejected: cannot find your hostname, ["+c.ip+"]"
		case 3:
			code, text = "450", "4.7.1 <"+s.addrString(to)+">: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/"+localDomains[int(to.user)%len(localDomains)]+".html"
		default:
			code, text = "554", "5.7.1 Service unavailable; Client host ["+c.ip+"] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/"+c.ip
		}
		s.lReject(t, in.smtpd, pid, c, stage, code, text, func() {
			s.w("from=")
			s.angle(from)
			if relayTo != "" {
				s.w(" to=<")
				s.w(relayTo)
				s.w(">")
			} else {
				s.w(" to=")
				s.angle(to)
			}
			s.w(" proto=ESMTP helo=<")
			s.w(helo)
			s.w(">")
		})
	}
	t += s.us(10, 500)
	if s.pct(20) {
		s.lLost(t, in.smtpd, pid, c, "lost connection", stage)
	} else {
		cc.add("quit", 1, 1)
	}
	s.lDisconnect(t+s.us(0, 3), in.smtpd, pid, c, cc.String())
}

// postscreenBlock is a client postscreen stops or that gives up.
func (s *Simulator) postscreenBlock(t int64) {
	in := &s.a
	c := s.newClient(false)
	port := s.port()
	s.lPostscreen(t, in, c, port, "CONNECT")
	switch x := s.r.IntN(100); {
	case x < 25:
		t += s.us(50, 2500)
		s.lPostscreen(t, in, c, port, "PREGREET")
	case x < 65:
		s.lDnsblog(t+s.us(5, 300), c, "zen.spamhaus.org", "127.0.0."+strconv.Itoa(2+s.r.IntN(10)))
		if s.pct(40) {
			s.lDnsblog(t+s.us(5, 300), c, "b.barracudacentral.org", "127.0.0.2")
		}
		t += s.us(1000, 6000)
		s.lPostscreen(t, in, c, port, "DNSBL")
		if s.pct(50) {
			from, to := s.remoteAddr(), s.localAddr()
			helo := s.helo(client{host: "unknown"})
			t += s.us(300, 3000)
			s.begin(in.postscreen, s.psPid)
			s.w("NOQUEUE: reject: RCPT from ")
			s.bracketPort(c, port)
			s.w(": 550 5.7.1 Service unavailable; client [")
			s.w(c.ip)
			s.w("] blocked using zen.spamhaus.org; from=")
			s.angle(from)
			s.w(", to=")
			s.angle(to)
			s.w(", proto=ESMTP, helo=<")
			s.w(helo)
			s.w(">")
			s.sub(s.slot(fPostscreenRejects, "", ""))
			s.emit(t, s.slot(fRejects, "RCPT", "5xx"))
		}
	case x < 85:
		t += s.us(100, 30000)
		s.lPostscreen(t, in, c, port, "HANGUP")
	default:
		// Passes the tests, then drops the real session at once.
		t += s.us(6000, 6500)
		s.lPostscreen(t, in, c, port, "PASS NEW")
		pid := s.pid()
		t += s.us(1, 30)
		s.lConnect(t, in.smtpd, pid, c)
		s.noteConn("smtpd", c, t)
		t += s.us(10, 5000)
		s.lLost(t, in.smtpd, pid, c, "lost connection", "CONNECT")
		s.lDisconnect(t+s.us(0, 2), in.smtpd, pid, c, "commands=0/0")
		return
	}
	s.lPostscreen(t+s.us(0, 5), in, c, port, "DISCONNECT")
}

// saslFailure is a session whose password guesses fail.
func (s *Simulator) saslFailure(t int64) {
	in := &s.a
	c := s.newClient(false)
	prog, tls := in.submission, true
	if s.pct(30) {
		prog, tls = in.smtpd, false
	}
	s.authSession(t, prog, c, tls, 1+s.r.IntN(3), false)
}

// authSession writes connect, fails failures and the end; it returns the
// time of the last line.
func (s *Simulator) authSession(t int64, prog string, c client, tls bool, fails int, burst bool) int64 {
	pid := s.pid()
	s.lConnect(t, prog, pid, c)
	svc := "smtpd"
	if prog == s.a.submission {
		svc = "submission"
	}
	s.noteConn(svc, c, t)
	if tls {
		t += s.us(20, 200)
		s.lTLSIn(t, prog, pid, c)
	}
	for range fails {
		t += s.us(300, 3000)
		s.lSASLFail(t, prog, pid, c, burst)
	}
	cc := greeting(tls).add("auth", 0, fails)
	t += s.us(5, 300)
	if s.pct(50) {
		s.lLost(t, prog, pid, c, "lost connection", "AUTH")
	} else {
		cc.add("quit", 1, 1)
	}
	t += s.us(0, 3)
	s.lDisconnect(t, prog, pid, c, cc.String())
	return t
}

func (s *Simulator) dovecotLogin(t int64) {
	u := s.localAddr()
	c := s.newClient(false)
	mpid := s.pid()
	sess := s.session(make([]byte, 0, 16), 16)
	if s.pct(80) {
		s.lDovecotLogin(t, "imap", u.user, c, mpid, sess)
		t += s.us(2000, 1_800_000)
		s.lInfo(t, "dovecot", 0, "dovecot-logout", func() {
			s.w("imap(")
			s.user(u.user)
			s.w(")<")
			s.n(mpid)
			s.w("><")
			s.b = append(s.b, sess...)
			s.w(">: Logged out in=")
			s.n(30 + s.r.IntN(4000))
			s.w(" out=")
			s.n(500 + s.r.IntN(400000))
			s.w(" deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0")
		})
		return
	}
	s.lDovecotLogin(t, "pop3", u.user, c, mpid, sess)
	t += s.us(100, 3000)
	n, size := s.r.IntN(3), s.size()
	s.lInfo(t, "dovecot", 0, "dovecot-logout", func() {
		s.w("pop3(")
		s.user(u.user)
		s.w(")<")
		s.n(mpid)
		s.w("><")
		s.b = append(s.b, sess...)
		s.w(">: Disconnected: Logged out top=0/0, retr=")
		s.n(n)
		s.w("/")
		s.n(n * size)
		s.w(", del=")
		s.n(n)
		s.w("/")
		s.n(n)
		s.w(", size=")
		s.n(n * size)
	})
}

func (s *Simulator) dovecotFailure(t int64) {
	var u int32
	if s.pct(30) {
		// A guessed name that is not a mailbox.
		u = -2 - int32(s.r.IntN(len(remoteLocals)))
	} else {
		u = s.localAddr().user
	}
	proto := "imap"
	if s.pct(25) {
		proto = "pop3"
	}
	s.lDovecotFail(t, proto, u, s.newClient(false), 1+s.r.IntN(3), false)
}

func (s *Simulator) dovecotNoAuth(t int64) {
	c := s.newClient(false)
	s.lInfo(t, "dovecot", 0, "dovecot-no-auth", func() {
		s.w("imap-login: Disconnected (no auth attempts in ")
		s.n(1 + s.r.IntN(60))
		s.w(" secs): user=<>, rip=")
		s.w(c.ip)
		s.cur.ip = c.idx
		s.w(", lip=" + serverIP + ", TLS: Connection closed, session=<")
		s.b = s.session(s.b, 16)
		s.w(">")
	})
}

// pickupLocal is mail from a local cron job to a mailbox.
func (s *Simulator) pickupLocal(t int64) {
	in := &s.a
	u := s.localAddr()
	qid := s.qid(t)
	s.begin(in.pickup, s.pickupPid)
	s.w(qid)
	s.w(": uid=0 from=<root>")
	s.emit(t, s.slot(fPickups, "", ""))
	t += s.us(1, 20)
	s.lMessageID(t, in, s.cleanupPidOf(in), qid, s.postfixMID(t, qid), -1, "pickup")
	t += s.us(1, 20)
	s.lQueued(t, in, qid, addr{user: -1, local: "root", dom: -1}, false, 400+s.r.IntN(3000), 1, "pickup")
	d := delivery{prog: in.local, pid: s.pid(), qid: qid, to: u, origTo: "root", relay: "local",
		dsn: "2.0.0", status: "sent", resp: "delivered to mailbox", a: 40 + s.r.Int64N(40), b: s.r.Int64N(10), d: s.r.Int64N(30)}
	t += (d.b + d.d) * 1000
	s.lDelivery(t, &d)
	s.lRemoved(t+s.us(0, 3), in, qid)
}

// milterReject is a message a content milter refuses at end of data.
func (s *Simulator) milterReject(t int64) {
	in := &s.a
	from := s.remoteAddr()
	to := s.localAddr()
	c := s.newClient(true)
	t = s.screen(t, c, s.port())
	pid := s.pid()
	helo := s.helo(c)
	s.lConnect(t, in.smtpd, pid, c)
	s.noteConn("smtpd", c, t)
	tls := s.pct(50)
	if tls {
		t += s.us(20, 300)
		s.lTLSIn(t, in.smtpd, pid, c)
	}
	t += s.us(50, 600)
	qid := s.qid(t)
	s.lClient(t, in.smtpd, pid, qid, c, -1)
	t += s.us(50, 2000)
	cpid := s.cleanupPidOf(in)
	s.lMessageID(t, in, cpid, qid, s.remoteMID(from.dom), from.dom, "smtpd")
	t += s.us(50, 3000)
	code, text := "554", "5.7.1 Spam message rejected"
	if s.pct(15) {
		code, text = "451", "4.7.1 Try again later"
	}
	s.beginQ(in.cleanup, cpid, qid)
	s.w("milter-reject: END-OF-MESSAGE from ")
	s.hostIP(c)
	s.w(": ")
	s.w(code)
	s.w(" ")
	s.w(text)
	s.w("; from=")
	s.angle(from)
	s.w(" to=")
	s.angle(to)
	s.w(" proto=ESMTP helo=<")
	s.w(helo)
	s.w(">")
	s.sub(s.slot(fMilterRejects, "", ""))
	s.emit(t, s.slot(fRejects, "END-OF-MESSAGE", class(code)))
	cc := greeting(tls).add("mail", 1, 1).add("rcpt", 1, 1).add("data", 0, 1).add("quit", 1, 1)
	s.lDisconnect(t+s.us(5, 200), in.smtpd, pid, c, cc.String())
}

// lostConnection is a session the client drops or lets time out.
func (s *Simulator) lostConnection(t int64) {
	in := &s.a
	c := s.newClient(true)
	t = s.screen(t, c, s.port())
	pid := s.pid()
	s.lConnect(t, in.smtpd, pid, c)
	s.noteConn("smtpd", c, t)
	t += s.us(100, 5000)
	var cc *cmdCounts
	switch s.r.IntN(4) {
	case 0:
		cc = greeting(false)
		s.lLost(t, in.smtpd, pid, c, "lost connection", "EHLO")
	case 1:
		cc = greeting(false).add("starttls", 0, 1)
		s.lLost(t, in.smtpd, pid, c, "lost connection", "STARTTLS")
	case 2:
		s.lTLSIn(t, in.smtpd, pid, c)
		cc = greeting(true).add("mail", 1, 1).add("rcpt", 1, 1)
		t += s.us(100, 2000)
		s.lLost(t, in.smtpd, pid, c, "lost connection", "RCPT")
	default:
		cc = greeting(false).add("mail", 1, 1).add("rcpt", 1, 1).add("data", 0, 1)
		t += 300e6 // smtpd_timeout
		s.lLost(t, in.smtpd, pid, c, "timeout", "DATA ("+strconv.Itoa(s.size())+" bytes)")
	}
	s.lDisconnect(t+s.us(0, 3), in.smtpd, pid, c, cc.String())
}

// warningSession is a session that makes smtpd warn.
func (s *Simulator) warningSession(t int64) {
	in := &s.a
	c := s.newClient(false)
	pid := s.pid()
	s.lConnect(t, in.smtpd, pid, c)
	s.noteConn("smtpd", c, t)
	t += s.us(50, 2000)
	var cc *cmdCounts
	switch s.r.IntN(3) {
	case 0:
		s.lWarning(t, in.smtpd, pid, func() {
			s.w("non-SMTP command from ")
			s.hostIP(c)
			s.w(": GET / HTTP/1.1")
		})
		cc = (&cmdCounts{b: make([]byte, 0, 32)}).add("unknown", 0, 1)
	case 1:
		s.lWarning(t, in.smtpd, pid, func() {
			s.w("Illegal address syntax from ")
			s.hostIP(c)
			s.w(" in RCPT command: <info@>")
		})
		cc = greeting(false).add("mail", 1, 1).add("rcpt", 0, 1).add("quit", 1, 1)
	default:
		s.lWarning(t, in.smtpd, pid, func() {
			s.w("TLS library problem: error:0A000126:SSL routines::unexpected eof while reading:../ssl/record/rec_layer_s3.c:317:")
		})
		cc = greeting(false).add("starttls", 0, 1)
		s.lLost(t+s.us(0, 2), in.smtpd, pid, c, "lost connection", "STARTTLS")
	}
	s.lDisconnect(t+s.us(1, 5), in.smtpd, pid, c, cc.String())
}

// burst is a brute-force attack: alternately many sessions from one address
// against SASL, and many addresses against one Dovecot user.
func (s *Simulator) burst(t int64) {
	bf := s.cfg.BruteForce
	s.bursts++
	if s.bursts%2 == 1 {
		c := client{idx: -1, ip: bf.IP, host: "unknown"}
		for left := bf.Attempts; left > 0; {
			n := min(left, 1+s.r.IntN(3))
			t = s.authSession(t, s.a.submission, c, true, n, true) + s.us(100, 1500)
			left -= n
		}
		return
	}
	for range bf.Attempts {
		s.lDovecotFail(t, "imap", -1, s.newClient(false), 1, true)
		t += s.us(200, 3000)
	}
}

// malformed writes a line no mail daemon wrote: a foreign program's line or
// a Postfix line cut inside its syslog identifier.
func (s *Simulator) malformed(t int64) {
	s.cur = pending{sub: [2]int32{-1, -1}, ip: -1, user: -1, dom: -1}
	s.b = s.b[:0]
	kind := "foreign"
	switch s.r.IntN(4) {
	case 0:
		s.w("kernel: [")
		s.n(100000 + s.r.IntN(900000))
		s.w(".")
		s.b = appendDec(s.b, uint64(s.r.IntN(1000000)), 6)
		s.w("] [UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=203.0.113.")
		s.n(100 + s.r.IntN(100))
		s.w(" DST=" + serverIP + " LEN=44 TOS=0x00 PREC=0x00 TTL=243 ID=54321 PROTO=TCP SPT=")
		s.n(s.port())
		s.w(" DPT=23 WINDOW=1024 RES=0x00 SYN URGP=0")
	case 1:
		s.w("CRON[")
		s.n(s.pid())
		s.w("]: (root) CMD (   cd / && run-parts --report /etc/cron.hourly)")
	case 2:
		s.w("systemd[1]: Started session-")
		s.n(1 + s.r.IntN(5000))
		s.w(".scope - Session of User root.")
	default:
		kind = "cut"
		s.w(s.a.smtpd)
		s.w("[")
		s.n(s.pid())
	}
	s.emit(t, s.slot(fUnknown, kind, ""))
}

// anvil writes the connection statistics anvil logs every
// anvil_status_update_time when it saw any connection.
func (s *Simulator) anvil(t int64) {
	if s.anvilCount == 0 {
		return
	}
	pid := s.pid()
	c, at := s.anvilIP, s.anvilAt
	stat := func(what string, n int, withClient bool) {
		s.begin(s.a.anvil, pid)
		s.w("statistics: max ")
		s.w(what)
		s.n(n)
		if what == "connection rate " {
			s.w("/60s")
		}
		if withClient {
			s.w(" for (")
			s.w(s.anvilSvc)
			s.w(":")
			s.w(c.ip)
			s.cur.ip = c.idx
			s.w(")")
		}
		s.w(" at ")
		s.appendAnvilTime(at)
		s.emit(t, s.slot(fStats, "", ""))
	}
	stat("connection rate ", s.anvilCount, true)
	stat("connection count ", 1, true)
	stat("cache size ", max(1, min(s.anvilCache, 1+s.anvilCache/20)), false)
	s.anvilCount, s.anvilCache = 0, 0
}
