package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/mailtrail/mailtrail/pkg/doctor"
)

// doctorCommand checks the configuration serve would use and the host
// around it, and says what to do about each problem. It takes serve's
// settings so the operator passes it the same flags or file.
func doctorCommand(app *kingpin.Application, _ io.Reader, stdout, _ io.Writer) (string, func() error) {
	cmd := app.Command("doctor", "Check the configuration and the host as serve would meet them, and say what to do about each problem.")
	sf := addSourceFlags(cmd)
	addServeSettings(cmd, sf)
	addPolicyFlags(cmd, sf)
	addRetentionFlags(cmd, sf)
	addArchiveFlags(cmd, sf)
	webFlags := kingpinflag.AddFlags(cmd, defaultListen)
	var as string
	cmd.Flag("doctor.user", "Check file access as this user (the service's, e.g. mailtrail) rather than the one running doctor.").StringVar(&as)
	return cmd.FullCommand(), func() error {
		c, err := sf.settings()
		if err != nil {
			return fail(2, "%v", err)
		}
		u := doctor.Current()
		if as != "" {
			if u, err = doctor.Lookup(as); err != nil {
				return fail(2, "--doctor.user: %v", err)
			}
		}
		var listen []string
		if !*webFlags.WebSystemdSocket {
			listen = *webFlags.WebListenAddresses
		}
		found := doctor.Run(context.Background(), c, doctor.Options{User: u, Listen: listen})
		failed := 0
		for _, f := range found {
			fmt.Fprintf(stdout, "%-4s  %-11s  %s\n", f.Status, f.Check, f.Found)
			if f.Status != doctor.OK && f.Fix != "" {
				fmt.Fprintf(stdout, "%s  fix: %s\n", strings.Repeat(" ", 17), f.Fix)
			}
			if f.Status == doctor.Fail {
				failed++
			}
		}
		if failed > 0 {
			return fail(1, "%d of %d checks failed", failed, len(found))
		}
		return nil
	}
}
