package parser

func parseDelivery(e *Event, msg string) { parseLevel(e, msg) }
