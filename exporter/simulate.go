package main

import (
	"io"

	"github.com/alecthomas/kingpin/v2"
)

func simulateCommand(app *kingpin.Application, stdin io.Reader, stdout, stderr io.Writer) (string, func() int) {
	cmd := app.Command("simulate", "Write a realistic, deterministic Postfix/Dovecot log.")
	return cmd.FullCommand(), func() int { return 0 }
}
