package parser

func parseMilter(e *Event, msg string) { parseLevel(e, msg) }
