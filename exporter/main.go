// Command exporter is mailtrail's per-host daemon and toolbox: it tails the
// mail logs, journals every event and serves metrics and the query API. Its
// subcommands work on log files and journals offline.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/alecthomas/kingpin/v2"
)

func main() {
	stop := startProfile()
	code := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// command is one subcommand: it declares its flags on the kingpin clause and
// returns the function that runs it once the flags are parsed.
type command func(app *kingpin.Application, stdin io.Reader, stdout, stderr io.Writer) (name string, run func() error)

// commands lists the subcommands; each lives in its own file.
var commands = []command{
	serveCommand,
	eventsCommand,
	verifyCommand,
	checkpointsCommand,
	restoreCommand,
	forgetCommand,
	replayCommand,
	parseCommand,
	simulateCommand,
	reportCommand,
	doctorCommand,
	verifyEvidenceCommand,
	suspendCommand,
	unsuspendCommand,
	suspensionsCommand,
}

// run parses the arguments and runs one subcommand. It returns the process
// exit code: 0 on success, 1 when the work failed, 2 for bad usage.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	app := kingpin.New("exporter", "mailtrail: a mail-access monitor for Postfix and Dovecot.")
	app.Version(versionText(app.Name))
	app.HelpFlag.Short('h')
	app.UsageWriter(stdout)
	app.ErrorWriter(stderr)
	exit := -1
	app.Terminate(func(code int) { exit = code })
	runners := map[string]func() error{}
	for _, c := range commands {
		name, fn := c(app, stdin, stdout, stderr)
		runners[name] = fn
	}
	selected, err := app.Parse(args)
	if exit >= 0 {
		// --help or --version ran.
		return exit
	}
	if err != nil {
		fmt.Fprintf(stderr, "exporter: error: %v, try --help\n", err)
		return 2
	}
	fn, ok := runners[selected]
	if !ok {
		fmt.Fprintf(stderr, "exporter: error: no command given, try --help\n")
		return 2
	}
	return exitCode(stderr, selected, fn())
}

// exitError is a command's failure: the exit code and what to say. Every
// command's error reaches the user through exitCode, in one form.
type exitError struct {
	code int
	// cmd replaces the command's name in the message (report names its
	// kind: "report summary").
	cmd string
	msg string
}

func (e *exitError) Error() string { return e.msg }

// fail is a command's error with its exit code: 2 bad usage, 1 the work
// failed, or a command's own code (verify's 3). An empty message exits
// quietly, for commands that said what went wrong themselves.
func fail(code int, format string, args ...any) error {
	return &exitError{code: code, msg: fmt.Sprintf(format, args...)}
}

// exitCode says what went wrong, "exporter COMMAND: message", and gives
// the exit code: 0 without an error, 1 for an error without a code.
func exitCode(stderr io.Writer, cmd string, err error) int {
	if err == nil {
		return 0
	}
	code, msg := 1, err.Error()
	var e *exitError
	if errors.As(err, &e) {
		code = e.code
		if e.cmd != "" {
			cmd = e.cmd
		}
	}
	if msg != "" {
		fmt.Fprintf(stderr, "exporter %s: %s\n", cmd, msg)
	}
	return code
}
