package parser

func parseSaslauthd(e *Event, msg string) { parseLevel(e, msg) }
