package parser

func parseQmgr(e *Event, msg string) { parseLevel(e, msg) }
