package parser

func parseAnvil(e *Event, msg string) { parseLevel(e, msg) }

func parseScache(e *Event, msg string) { parseLevel(e, msg) }
