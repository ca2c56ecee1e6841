package parser

func parseBounce(e *Event, msg string) { parseLevel(e, msg) }
