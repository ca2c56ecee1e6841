package main

import (
	"bytes"
	"compress/gzip"
	"path/filepath"
	"testing"
)

const summaryLog = `Jun  3 10:40:57 mail postfix/smtpd[9708]: connect from a.example[192.0.2.1]
Jun  3 10:40:58 mail postfix/smtpd[9708]: frobnicated unknown[192.0.2.1] 3 times
Jun  3 10:40:59 mail postfix/smtpd[9708]: frobnicated mail.example.com[2001:db8::7] 13 times
Jun  3 10:41:00 mail postfix/smtpd[9708]: something else from bob@example.com
Jun  3 10:41:01 mail postfix/smtpd[9708]: frobnicated unknown[192.0.2.9] 1 times
Jun  3 10:41:02 mail postfix/qmgr[200]: 4AA091855DA0: removed
Jun  3 10:41:03 mail postfix/qmgr[200]: 4AA091855DA0: wibble 12 wobbles
this is not syslog
`

// A file with Dovecot's log_path lines (hostless), compressed as logrotate
// leaves it.
const summaryDovecotLog = `Jan 29 09:33:58 imap-login: Info: Login: user=<bob>, method=PLAIN, rip=192.0.2.10, lip=192.0.2.1, mpid=4242, TLS, session=<Hx3GdQAB>
Jan 29 09:33:59 imap(bob)<4242><Hx3GdQAB>: Info: frobnicated mailbox INBOX
`

func TestCLIParseSummary(t *testing.T) {
	dir := t.TempDir()
	plain := cliWriteFile(t, filepath.Join(dir, "mail.log"), summaryLog)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(summaryDovecotLog))
	zw.Close()
	compressed := cliWriteFile(t, filepath.Join(dir, "dovecot.log.1.gz"), gz.String())

	got := cliMust(t, "", "parse", "--summary", "--summary.top=1", "--log.timezone=UTC", plain, compressed)
	want := `10 lines read from 2 files: 3 typed (30.0%), 7 unparsed

PROGRAM                LINES     TYPED  UNPARSED
postfix/smtpd              5         1         4
postfix/qmgr               2         1         1
(no syslog header)         1         0         1
dovecot/imap               1         0         1
dovecot/imap-login         1         1         0

unparsed postfix/smtpd: 4 lines in 2 shapes
  3  postfix/smtpd: frobnicated <host>[<ip>] <n> times
  ... 1 more shape (1 line)

unparsed postfix/qmgr: 1 line in 1 shape
  1  postfix/qmgr: <queueid>: wibble <n> wobbles

unparsed (no syslog header): 1 line in 1 shape
  1  this is not syslog

unparsed dovecot/imap: 1 line in 1 shape
  1  dovecot: imap(<user>)<n><id>: Info: frobnicated mailbox INBOX
`
	if got != want {
		t.Errorf("parse --summary:\n got:\n%s\nwant:\n%s", got, want)
	}

	// stdin, the default top of 10.
	got = cliMust(t, summaryLog, "parse", "--summary")
	want = `8 lines read from 1 file: 2 typed (25.0%), 6 unparsed

PROGRAM                LINES     TYPED  UNPARSED
postfix/smtpd              5         1         4
postfix/qmgr               2         1         1
(no syslog header)         1         0         1

unparsed postfix/smtpd: 4 lines in 2 shapes
  3  postfix/smtpd: frobnicated <host>[<ip>] <n> times
  1  postfix/smtpd: something else from <addr>

unparsed postfix/qmgr: 1 line in 1 shape
  1  postfix/qmgr: <queueid>: wibble <n> wobbles

unparsed (no syslog header): 1 line in 1 shape
  1  this is not syslog
`
	if got != want {
		t.Errorf("parse --summary of stdin:\n got:\n%s\nwant:\n%s", got, want)
	}
}

func TestCLIParseSummaryErrors(t *testing.T) {
	dir := t.TempDir()
	a := cliWriteFile(t, filepath.Join(dir, "a.log"), summaryLog)
	t.Run("several files without --summary", func(t *testing.T) {
		cliExpect(t, cliRun(t, "", "parse", a, a), 2, "exporter parse: one FILE at a time (or --summary for several)\n")
	})
	t.Run("negative top", func(t *testing.T) {
		cliExpect(t, cliRun(t, "", "parse", "--summary", "--summary.top=-1", a), 2, "exporter parse: --summary.top=-1: must not be negative\n")
	})
	t.Run("missing file", func(t *testing.T) {
		absent := filepath.Join(dir, "absent.log")
		cliExpect(t, cliRun(t, "", "parse", "--summary", a, absent), 1, "exporter parse: open "+absent+": no such file or directory\n")
	})
	t.Run("not gzip", func(t *testing.T) {
		bad := cliWriteFile(t, filepath.Join(dir, "b.log.gz"), summaryLog)
		cliExpect(t, cliRun(t, "", "parse", "--summary", bad), 1, "exporter parse: "+bad+": gzip: invalid header\n")
	})
}
