package parser

func parsePostfixMisc(e *Event, msg string) { parseLevel(e, msg) }
