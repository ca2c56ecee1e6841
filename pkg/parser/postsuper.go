package parser

func parsePostsuper(e *Event, msg string) { parseLevel(e, msg) }
