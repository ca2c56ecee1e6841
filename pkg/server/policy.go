package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mailtrail/mailtrail/pkg/config"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/offenders"
	"github.com/mailtrail/mailtrail/pkg/policy"
	"github.com/mailtrail/mailtrail/pkg/privacy"
	"github.com/mailtrail/mailtrail/pkg/suspend"
)

// NewSuspensions builds the suspension store the configuration asks for,
// journaling through record, and loads the suspensions in force from the
// journal j. serve and the suspend commands share it; off (serve's
// offender windows) may be nil.
func NewSuspensions(ctx context.Context, c *config.Config, j *journal.Journal, redactor *privacy.Redactor, logger *slog.Logger, off *offenders.Tracker, record func(journal.Record) error) (*suspend.Store, error) {
	nets, err := c.Policy.AllowPrefixes()
	if err != nil {
		return nil, err
	}
	st, err := suspend.New(suspend.Config{
		DryRun: c.Policy.DryRun, PostfixEnforces: c.Policy.Listen != "", AllowNetworks: nets, AllowUsers: append([]string(nil), c.Policy.AllowUsers...),
		Rules: c.Policy.SuspendRules(), DefaultFor: time.Duration(c.Policy.DefaultFor),
		Offenders: off,
		Windows:   offenders.Config{Window: time.Duration(c.Auth.Window), Threshold: c.Auth.Threshold},
		Privacy:   redactor, Instance: c.Instance, Record: record, Logger: logger,
	})
	if err != nil {
		return nil, err
	}
	if err := st.Load(ctx, j); err != nil {
		return nil, err
	}
	return st, nil
}

// policyServices are serve's policy listeners.
type policyServices struct {
	store    *suspend.Store
	recorder *suspend.Recorder
	postfix  *policy.PostfixServer
	pfL      net.Listener
	dovecot  *http.Server
	dcL      net.Listener
	stop     context.CancelFunc
}

// startPolicy builds the suspension store (always: the API's suspend
// endpoints need it) and opens the policy listeners that are configured.
func (s *Server) startPolicy(ctx context.Context, reg prometheus.Registerer, off *offenders.Tracker) (*policyServices, error) {
	c, logger := s.cfg, s.logger
	ps := &policyServices{recorder: suspend.NewRecorder(s.journal, logger), stop: func() {}}
	st, err := NewSuspensions(ctx, c, s.journal, s.redactor, logger, off, ps.recorder.Record)
	if err != nil {
		ps.recorder.Close()
		return nil, err
	}
	ps.store = st
	if err := st.Register(reg); err != nil {
		ps.recorder.Close()
		return nil, err
	}
	m := policy.NewMetrics(reg)
	if c.Policy.Listen != "" {
		l, err := listenPolicy(c.Policy.Listen)
		if err != nil {
			ps.close()
			return nil, err
		}
		ps.pfL = l
		ps.postfix = &policy.PostfixServer{Decider: st, Metrics: m, Logger: logger.With("service", "postfix-policy")}
		go func() {
			if err := ps.postfix.Serve(l); err != nil {
				logger.Error("postfix policy service stopped", "err", err)
			}
		}()
		logger.Info("postfix policy service listening", "addr", l.Addr().String(), "dry_run", c.Policy.DryRun)
	}
	if c.Policy.DovecotListen != "" {
		key, err := c.Policy.DovecotAPIKey()
		if err != nil {
			ps.close()
			return nil, err
		}
		l, err := net.Listen("tcp", c.Policy.DovecotListen)
		if err != nil {
			ps.close()
			return nil, fmt.Errorf("policy.dovecot_listen %s: %w", c.Policy.DovecotListen, err)
		}
		ps.dcL = l
		ps.dovecot = &http.Server{
			Handler:           &policy.DovecotHandler{Decider: st, Metrics: m, Logger: logger.With("service", "dovecot-policy"), APIKey: key},
			ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second,
			IdleTimeout: 5 * time.Minute, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		}
		go func() {
			if err := ps.dovecot.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				logger.Error("dovecot auth-policy service stopped", "err", err)
			}
		}()
		logger.Info("dovecot auth-policy service listening", "addr", l.Addr().String(), "dry_run", c.Policy.DryRun)
	}
	runCtx, stop := context.WithCancel(ctx)
	ps.stop = stop
	go st.Run(runCtx, time.Second)
	return ps, nil
}

// close stops the listeners, then commits the records still queued.
func (ps *policyServices) close() {
	ps.stop()
	if ps.pfL != nil {
		ps.pfL.Close()
		ps.postfix.Close()
	}
	if ps.dovecot != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ps.dovecot.Shutdown(ctx)
		cancel()
	}
	ps.recorder.Close()
}

// listenPolicy opens host:port or unix:/path; a socket is made reachable
// by smtpd (which runs as postfix) and replaces a stale one.
func listenPolicy(addr string) (net.Listener, error) {
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
			os.Remove(path)
		}
		l, err := net.Listen("unix", path)
		if err != nil {
			return nil, fmt.Errorf("policy.listen %s: %w", addr, err)
		}
		if err := os.Chmod(path, 0o666); err != nil {
			l.Close()
			return nil, fmt.Errorf("policy.listen %s: %w", addr, err)
		}
		return l, nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("policy.listen %s: %w", addr, err)
	}
	return l, nil
}

// Addrs are the policy listeners' addresses ("" when off), for the start
// banner (a port 0 becomes the one given).
func (ps *policyServices) addrs() (postfix, dovecot string) {
	if ps.pfL != nil {
		postfix = ps.pfL.Addr().String()
	}
	if ps.dcL != nil {
		dovecot = ps.dcL.Addr().String()
	}
	return postfix, dovecot
}

func orOff(addr string) string {
	if addr == "" {
		return "off"
	}
	return addr
}
