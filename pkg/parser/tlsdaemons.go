package parser

func parseTLSDaemon(e *Event, msg string) { parseLevel(e, msg) }
