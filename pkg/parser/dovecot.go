package parser

func parseDovecot(e *Event, msg string) { parseLevel(e, msg) }

func parseDovecotProcess(e *Event, program, msg string) { parseLevel(e, msg) }
