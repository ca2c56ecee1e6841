package config

import (
	"bytes"
	"fmt"
	"os"
)

// FleetStore is the fleet store (a VictoriaLogs, a select node in a
// cluster) the query API answers source=fleet from (docs/api.md,
// docs/fleet.md), with optional credentials for a proxy in front of it.
type FleetStore struct {
	URL string `yaml:"url"`
	// User and PasswordFile are basic auth; BearerTokenFile, when given,
	// wins over them.
	User            string `yaml:"user"`
	PasswordFile    string `yaml:"password_file"`
	BearerTokenFile string `yaml:"bearer_token_file"`
}

// Credentials reads the password and the bearer token from their files.
func (f FleetStore) Credentials() (password, bearer string, err error) {
	read := func(key, path string) (string, error) {
		if path == "" {
			return "", nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("api.fleet_store.%s: %w", key, err)
		}
		return string(bytes.TrimSpace(b)), nil
	}
	if password, err = read("password_file", f.PasswordFile); err != nil {
		return "", "", err
	}
	bearer, err = read("bearer_token_file", f.BearerTokenFile)
	return password, bearer, err
}
