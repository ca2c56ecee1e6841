package parser

func parseSmtpd(e *Event, msg string) { parseLevel(e, msg) }
