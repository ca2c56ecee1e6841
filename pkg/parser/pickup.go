package parser

func parsePickup(e *Event, msg string) { parseLevel(e, msg) }
