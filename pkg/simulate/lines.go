package simulate

import (
	"strconv"
	"time"
)

// inst is one Postfix instance: its syslog identifiers.
type inst struct {
	name                                   string
	smtpd, submission, cleanup, qmgr, smtp string
	lmtp, local, virtual, bounce, pickup   string
	postscreen, dnsblog, anvil             string
}

func newInst(name string) inst {
	p := name + "/"
	return inst{
		name:       name,
		smtpd:      p + "smtpd",
		submission: p + "submission/smtpd",
		cleanup:    p + "cleanup",
		qmgr:       p + "qmgr",
		smtp:       p + "smtp",
		lmtp:       p + "lmtp",
		local:      p + "local",
		virtual:    p + "virtual",
		bounce:     p + "bounce",
		pickup:     p + "pickup",
		postscreen: p + "postscreen",
		dnsblog:    p + "dnsblog",
		anvil:      p + "anvil",
	}
}

// client is the remote end of a session.
type client struct {
	idx  int32  // pool index, -1 outside the pool
	ip   string // address
	host string // reverse name or "unknown"
}

// begin starts a line from prog; pid 0 writes no "[pid]" (Dovecot's style).
func (s *Simulator) begin(prog string, pid int) {
	s.b = append(s.b[:0], prog...)
	if pid > 0 {
		s.b = append(s.b, '[')
		s.b = strconv.AppendInt(s.b, int64(pid), 10)
		s.b = append(s.b, ']')
	}
	s.b = append(s.b, ": "...)
	s.cur = pending{sub: [2]int32{-1, -1}, ip: -1, user: -1, dom: -1}
}

// beginQ starts a line from prog about queue id qid.
func (s *Simulator) beginQ(prog string, pid int, qid string) {
	s.begin(prog, pid)
	s.b = append(s.b, qid...)
	s.b = append(s.b, ": "...)
}

// emit schedules the line built so far at time t, counted in slot.
func (s *Simulator) emit(t int64, slot int32) {
	s.cur.t = t
	s.cur.seq = s.seq
	s.seq++
	s.cur.slot = slot
	s.cur.body = string(s.b)
	s.push(s.cur)
}

func (s *Simulator) w(str string)    { s.b = append(s.b, str...) }
func (s *Simulator) n(v int)         { s.b = strconv.AppendInt(s.b, int64(v), 10) }
func (s *Simulator) delay(ms int64)  { s.b = appendDelay(s.b, ms) }
func (s *Simulator) sub(slot int32)  { s.cur.sub[0] = slot }
func (s *Simulator) sub2(slot int32) { s.cur.sub[1], s.cur.subN = slot, 1 }

// hostIP writes "HOST[IP]" and marks the client as seen.
func (s *Simulator) hostIP(c client) {
	s.w(c.host)
	s.b = append(s.b, '[')
	s.w(c.ip)
	s.b = append(s.b, ']')
	s.cur.ip = c.idx
}

// bracketPort writes "[IP]:PORT" as postscreen does.
func (s *Simulator) bracketPort(c client, port int) {
	s.b = append(s.b, '[')
	s.w(c.ip)
	s.w("]:")
	s.n(port)
	s.cur.ip = c.idx
}

// user writes local user u's address. Negative values name users outside
// the pool: -1 is the brute-force target, -2 and below are guessed names
// such as "info@example.com".
func (s *Simulator) user(u int32) {
	switch {
	case u >= 0:
		s.b = appendUser(s.b, int(u))
		s.cur.user = u
	case u == -1:
		s.w(s.cfg.BruteForce.User)
	default:
		s.w(remoteLocals[int(-u-2)%len(remoteLocals)])
		s.w("@")
		s.w(localDomains[0])
	}
}

// remote writes a remote address local@domain; a negative domain is this
// server's own name.
func (s *Simulator) remote(a addr) {
	s.w(a.local)
	s.b = append(s.b, '@')
	if a.dom < 0 {
		s.w(serverName)
		return
	}
	s.b = appendDomain(s.b, int(a.dom))
	s.cur.dom = a.dom
}

// addr is an address: a local user (user >= 0) or local@remote-domain.
type addr struct {
	user  int32
	local string
	dom   int32
}

func (s *Simulator) address(a addr) {
	if a.local == "" {
		s.user(a.user)
	} else {
		s.remote(a)
	}
}

func (s *Simulator) angle(a addr) {
	s.b = append(s.b, '<')
	s.address(a)
	s.b = append(s.b, '>')
}

// pid returns a fresh process id; the counter wraps like Linux's pid_max.
func (s *Simulator) pid() int {
	s.pidNext += 1 + s.r.IntN(40)
	if s.pidNext > 4194303 {
		s.pidNext = 300 + s.r.IntN(1000)
	}
	return s.pidNext
}

// qid returns a Postfix short queue id for a message created at t: five hex
// digits of the microsecond, then the "inode" in hex. The inode only grows
// (5-6 digits, so ids are 10-11 characters), which keeps ids unique until it
// wraps after about four million messages.
func (s *Simulator) qid(t int64) string {
	s.inode += 1 + uint64(s.r.IntN(3))
	if s.inode > 0xFFFFFF {
		s.inode = 0x10000
	}
	us := t % 1e6
	if us < 0 {
		us += 1e6
	}
	var buf [16]byte
	b := appendHexFixed(buf[:0], uint64(us), 5)
	b = appendHex(b, s.inode)
	return string(b)
}

// us returns a random duration between lo and hi milliseconds, in µs.
func (s *Simulator) us(lo, hi int) int64 {
	return int64(lo)*1000 + s.r.Int64N(int64(hi-lo)*1000+1)
}

func (s *Simulator) port() int { return 1024 + s.r.IntN(64511) }

func (s *Simulator) pct(p int) bool { return s.r.IntN(100) < p }

// pick returns a pool index: an unused one with probability 3/4 while any
// remain, otherwise a used one skewed toward the first (busiest) members.
func (s *Simulator) pick(p *pool) int32 {
	if p.issued < p.n && (p.issued == 0 || s.r.IntN(4) != 0) {
		p.issued++
		return int32(p.issued - 1)
	}
	u := s.r.Float64()
	return int32(float64(p.issued) * u * u)
}

// newClient picks a pool client. Names depend only on the address, as
// reverse DNS would: MTAs get provider names, end users ISP names, and every
// fifth address has none ("unknown").
func (s *Simulator) newClient(mta bool) client {
	i := s.pick(&s.ips)
	c := client{idx: i, ip: string(appendClientIP(nil, int(i)))}
	if i%5 == 4 {
		c.host = "unknown"
		return c
	}
	b := make([]byte, 0, 48)
	if mta {
		b = append(b, "mail-"...)
		b = strconv.AppendInt(b, int64(i), 36)
		b = append(b, mtaZones[int(i)%len(mtaZones)]...)
	} else {
		b = append(b, "c-"...)
		b = strconv.AppendInt(b, int64(i), 36)
		b = append(b, ispZones[int(i)%len(ispZones)]...)
	}
	c.host = string(b)
	return c
}

var localhost = client{idx: -1, ip: relayIP, host: "localhost"}

func (s *Simulator) remoteAddr() addr {
	return addr{user: -1, local: remoteLocals[s.r.IntN(len(remoteLocals))], dom: s.pick(&s.domains)}
}

func (s *Simulator) localAddr() addr { return addr{user: s.pick(&s.users)} }

// noteConn feeds anvil's statistics with an smtpd connection.
func (s *Simulator) noteConn(svc string, c client, t int64) {
	if c.idx < 0 {
		return
	}
	if s.anvilIP.idx == c.idx && s.anvilSvc == svc {
		s.anvilCount++
	} else if s.anvilCount <= 1 {
		s.anvilIP, s.anvilSvc, s.anvilCount = c, svc, 1
	}
	s.anvilAt = t
	s.anvilCache++
}

// --- line shapes, one function per Truth bucket ---

func (s *Simulator) lConnect(t int64, prog string, pid int, c client) {
	s.begin(prog, pid)
	s.w("connect from ")
	s.hostIP(c)
	s.emit(t, s.slot(fConnects, prog, ""))
}

func (s *Simulator) lDisconnect(t int64, prog string, pid int, c client, counts string) {
	s.begin(prog, pid)
	s.w("disconnect from ")
	s.hostIP(c)
	s.b = append(s.b, ' ')
	s.w(counts)
	s.emit(t, s.slot(fDisconnects, prog, ""))
}

func (s *Simulator) lLost(t int64, prog string, pid int, c client, what, after string) {
	s.begin(prog, pid)
	s.w(what) // "lost connection" or "timeout"
	s.w(" after ")
	s.w(after)
	s.w(" from ")
	s.hostIP(c)
	s.emit(t, s.slot(fLost, prog, ""))
}

var tlsInbound = [...]string{
	": TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256",
	": TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 (128/128 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256",
	": TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)",
}

func (s *Simulator) lTLSIn(t int64, prog string, pid int, c client) {
	s.begin(prog, pid)
	s.w("Anonymous TLS connection established from ")
	s.hostIP(c)
	s.w(tlsInbound[s.r.IntN(len(tlsInbound))])
	s.emit(t, s.slot(fTLS, "inbound", ""))
}

var trustLevels = [...]string{"Verified", "Trusted", "Trusted", "Untrusted"}

func (s *Simulator) lTLSOut(t int64, prog string, pid int, mx string, dom int32) {
	s.begin(prog, pid)
	s.w(trustLevels[s.r.IntN(len(trustLevels))])
	s.w(" TLS connection established to ")
	s.w(mx)
	s.cur.dom = dom
	s.w(tlsInbound[s.r.IntN(len(tlsInbound))])
	s.emit(t, s.slot(fTLS, "outbound", ""))
}

func (s *Simulator) lClient(t int64, prog string, pid int, qid string, c client, sasl int32) {
	s.beginQ(prog, pid, qid)
	s.w("client=")
	s.hostIP(c)
	if sasl >= 0 {
		if s.r.IntN(3) == 0 {
			s.w(", sasl_method=LOGIN, sasl_username=")
		} else {
			s.w(", sasl_method=PLAIN, sasl_username=")
		}
		s.user(sasl)
		s.sub(s.slot(fSASLLogins, "", ""))
	}
	s.emit(t, s.slot(fClients, prog, ""))
}

// lMessageID writes cleanup's message-id line; mid is written verbatim and
// dom is the pool domain it contains, if any.
func (s *Simulator) lMessageID(t int64, in *inst, pid int, qid, mid string, dom int32, origin string) {
	s.beginQ(in.cleanup, pid, qid)
	s.w("message-id=<")
	s.w(mid)
	s.b = append(s.b, '>')
	s.cur.dom = dom
	s.emit(t, s.slot(fMsgRecv, origin, ""))
}

// origin is the message's origin on its first from= line and "" on the
// lines qmgr writes again when it retries a deferred message.
func (s *Simulator) lQueued(t int64, in *inst, qid string, from addr, null bool, size, nrcpt int, origin string) {
	s.beginQ(in.qmgr, s.qmgrPidOf(in), qid)
	if null {
		s.w("from=<>")
	} else {
		s.w("from=")
		s.angle(from)
	}
	s.w(", size=")
	s.n(size)
	s.w(", nrcpt=")
	s.n(nrcpt)
	s.w(" (queue active)")
	if origin != "" {
		s.sub(s.slot(fFirstQueued, origin, ""))
	}
	s.emit(t, s.slot(fQueued, in.qmgr, ""))
}

func (s *Simulator) lRemoved(t int64, in *inst, qid string) {
	s.beginQ(in.qmgr, s.qmgrPidOf(in), qid)
	s.w("removed")
	s.emit(t, s.slot(fRemoved, in.qmgr, ""))
}

func (s *Simulator) lExpired(t int64, in *inst, qid string, from addr) {
	s.beginQ(in.qmgr, s.qmgrPidOf(in), qid)
	s.w("from=")
	s.angle(from)
	s.w(", status=expired, returned to sender")
	s.emit(t, s.slot(fExpired, in.qmgr, ""))
}

func (s *Simulator) qmgrPidOf(in *inst) int {
	if in == &s.o {
		return s.qmgrPid[1]
	}
	return s.qmgrPid[0]
}

// delivery is one recipient's delivery attempt.
type delivery struct {
	prog   string
	pid    int
	qid    string
	to     addr
	origTo string // written verbatim as orig_to=<...> when set
	relay  string // "mx.d.example[203.0.113.20]:25", "local", ...
	dsn    string
	status string // sent, deferred, bounced
	resp   string // the parenthesised response, without parentheses
	// a..d are Postfix's delays in ms: before qmgr, in qmgr, connection
	// setup, transmission.
	a, b, c, d int64
	queuedAs   bool // resp ends in "queued as ID"
	relayed    bool // to the second instance
}

func (s *Simulator) lDelivery(t int64, d *delivery) {
	s.beginQ(d.prog, d.pid, d.qid)
	s.w("to=")
	s.angle(d.to)
	if d.origTo != "" {
		s.w(", orig_to=<")
		s.w(d.origTo)
		s.b = append(s.b, '>')
	}
	s.w(", relay=")
	s.w(d.relay)
	s.w(", delay=")
	s.delay(d.a + d.b + d.c + d.d)
	s.w(", delays=")
	s.delay(d.a)
	s.b = append(s.b, '/')
	s.delay(d.b)
	s.b = append(s.b, '/')
	s.delay(d.c)
	s.b = append(s.b, '/')
	s.delay(d.d)
	s.w(", dsn=")
	s.w(d.dsn)
	s.w(", status=")
	s.w(d.status)
	s.w(" (")
	s.w(d.resp)
	s.b = append(s.b, ')')
	if d.queuedAs {
		s.sub(s.slot(fQueuedAs, "", ""))
	}
	if d.relayed {
		s.sub2(s.slot(fRelayedToSecond, "", ""))
	}
	s.emit(t, s.slot(fDeliveries, d.prog, d.status))
}

func (s *Simulator) lBounceNotice(t int64, in *inst, qid, ndr string) {
	s.beginQ(in.bounce, s.pid(), qid)
	s.w("sender non-delivery notification: ")
	s.w(ndr)
	s.emit(t, s.slot(fBounceNotices, in.bounce, ""))
}

func (s *Simulator) lPostscreen(t int64, in *inst, c client, port int, verdict string) {
	s.begin(in.postscreen, s.psPid)
	switch verdict {
	case "CONNECT":
		s.w("CONNECT from ")
		s.bracketPort(c, port)
		s.w(" to [" + serverIP + "]:25")
	case "PREGREET":
		s.w("PREGREET ")
		s.n(6 + s.r.IntN(30))
		s.w(" after 0.")
		s.n(10 + s.r.IntN(89))
		s.w(" from ")
		s.bracketPort(c, port)
		s.w(": EHLO ylmf-pc\\r\\n")
	case "DNSBL":
		s.w("DNSBL rank ")
		s.n(2 + s.r.IntN(5))
		s.w(" for ")
		s.bracketPort(c, port)
	case "HANGUP":
		s.w("HANGUP after ")
		s.n(s.r.IntN(30))
		s.w(" from ")
		s.bracketPort(c, port)
		if s.r.IntN(2) == 0 {
			s.w(" in tests before SMTP handshake")
		} else {
			s.w(" in tests after SMTP handshake")
		}
	default: // PASS NEW, PASS OLD, DISCONNECT
		s.w(verdict)
		s.b = append(s.b, ' ')
		s.bracketPort(c, port)
	}
	s.emit(t, s.slot(fPostscreen, verdict, ""))
}

func class(code string) string {
	if code[0] == '4' {
		return "4xx"
	}
	return "5xx"
}

// lReject writes smtpd's "NOQUEUE: reject: STAGE from HOST[IP]: CODE TEXT;
// TAIL", where tail is "from=<..> to=<..> proto=ESMTP helo=<..>" or a part
// of it, written by the tail callback so addresses get marked.
func (s *Simulator) lReject(t int64, prog string, pid int, c client, stage, code, text string, tail func()) {
	s.begin(prog, pid)
	s.w("NOQUEUE: reject: ")
	s.w(stage)
	s.w(" from ")
	s.hostIP(c)
	s.w(": ")
	s.w(code)
	s.b = append(s.b, ' ')
	s.w(text)
	s.w("; ")
	tail()
	s.emit(t, s.slot(fRejects, stage, class(code)))
}

func (s *Simulator) lWarning(t int64, prog string, pid int, text func()) {
	s.begin(prog, pid)
	s.w("warning: ")
	text()
	s.emit(t, s.slot(fWarnings, prog, ""))
}

func (s *Simulator) lSASLFail(t int64, prog string, pid int, c client, burst bool) {
	s.begin(prog, pid)
	s.w("warning: ")
	s.hostIP(c)
	if s.r.IntN(2) == 0 {
		s.w(": SASL LOGIN authentication failed: UGFzc3dvcmQ6")
	} else {
		s.w(": SASL PLAIN authentication failed: authentication failure")
	}
	if burst {
		s.sub(s.slot(fBurst, "ip", ""))
	}
	s.emit(t, s.slot(fAuthFail, "smtpd", ""))
}

func (s *Simulator) session(b []byte, n int) []byte {
	for range n {
		b = append(b, b64Chars[s.r.IntN(64)])
	}
	return b
}

func (s *Simulator) lDovecotLogin(t int64, proto string, u int32, c client, mpid int, sess []byte) {
	s.begin("dovecot", 0)
	s.w(proto)
	s.w("-login: Login: user=<")
	s.user(u)
	s.w(">, method=PLAIN, rip=")
	s.w(c.ip)
	s.cur.ip = c.idx
	s.w(", lip=" + serverIP + ", mpid=")
	s.n(mpid)
	s.w(", TLS, session=<")
	s.b = append(s.b, sess...)
	s.b = append(s.b, '>')
	s.emit(t, s.slot(fLogins, proto, ""))
}

func (s *Simulator) lDovecotFail(t int64, proto string, u int32, c client, attempts int, burst bool) {
	s.begin("dovecot", 0)
	s.w(proto)
	s.w("-login: Disconnected (auth failed, ")
	s.n(attempts)
	s.w(" attempts in ")
	s.n(attempts*2 + s.r.IntN(10))
	s.w(" secs): user=<")
	s.user(u)
	s.w(">, method=PLAIN, rip=")
	s.w(c.ip)
	s.cur.ip = c.idx
	s.w(", lip=" + serverIP + ", TLS, session=<")
	s.b = s.session(s.b, 16)
	s.b = append(s.b, '>')
	s.cur.sub[1], s.cur.subN = s.slot(fDovecotAttempts, "", ""), int32(attempts)
	if burst {
		s.sub(s.slot(fBurst, "user", ""))
	}
	s.emit(t, s.slot(fAuthFail, "dovecot", ""))
}

func (s *Simulator) lPolicy(t int64, prog string, pid int, check, result string, text func()) {
	s.begin(prog, pid)
	text()
	s.emit(t, s.slot(fPolicy, check, result))
}

func (s *Simulator) lInfo(t int64, prog string, pid int, shape string, text func()) {
	s.begin(prog, pid)
	text()
	s.emit(t, s.slot(fInfo, shape, ""))
}

// appendAnvilTime writes the "Jun  1 00:03:12" form anvil uses inside its
// messages whatever the envelope format.
func (s *Simulator) appendAnvilTime(t int64) {
	s.b = time.UnixMicro(t).In(s.loc).AppendFormat(s.b, time.Stamp)
}
