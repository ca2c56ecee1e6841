module github.com/mailtrail/mailtrail

go 1.26

require github.com/alecthomas/kingpin/v2 v2.4.0

require (
	github.com/alecthomas/units v0.0.0-20211218093645-b94a6e3cc137 // indirect
	github.com/xhit/go-str2duration/v2 v2.1.0 // indirect
)
