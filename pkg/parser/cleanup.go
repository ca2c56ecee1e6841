package parser

func parseCleanup(e *Event, msg string) { parseLevel(e, msg) }
