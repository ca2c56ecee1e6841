package parser

func parsePostscreen(e *Event, msg string) { parseLevel(e, msg) }

func parseDnsblog(e *Event, msg string) { parseLevel(e, msg) }
