package main

import pversion "github.com/prometheus/common/version"

// The build stamps the version, revision, branch, build user and date into
// prometheus/common/version (-ldflags -X, see LDFLAGS in the Makefile), as
// Prometheus exporters do: the same variables feed --version and the
// mailtrail_build_info metric, so the two never disagree.

// version is the short version serve prints and the API reports; an
// unstamped build (go build, go test) calls itself "dev" everywhere.
var version = func() string {
	if pversion.Version == "" {
		pversion.Version = "dev"
	}
	return pversion.Version
}()

// versionText is what --version prints: version, branch, revision, build
// user and date, Go version and platform.
func versionText(program string) string {
	return pversion.Print(program)
}
