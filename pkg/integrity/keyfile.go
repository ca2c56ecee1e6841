package integrity

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// LoadOrCreateKey returns the signer in keyPath and its verifier key,
// creating the pair (the public half in keyPath.pub) on first use so that a
// journal is signed from its first checkpoint on; created tells that it
// did, since the public half belongs off the host and the operator should
// hear of it.
func LoadOrCreateKey(keyPath, name string) (s Signer, vkey string, created bool, err error) {
	if _, err := os.Stat(keyPath); errors.Is(err, fs.ErrNotExist) {
		skey, vkey, err := GenerateKey(name)
		if err != nil {
			return nil, "", false, fmt.Errorf("generate signing key: %w", err)
		}
		if err := os.WriteFile(keyPath, []byte(skey+"\n"), 0o600); err != nil {
			return nil, "", false, fmt.Errorf("write signing key: %w", err)
		}
		if err := os.WriteFile(keyPath+".pub", []byte(vkey+"\n"), 0o644); err != nil {
			return nil, "", false, fmt.Errorf("write verifier key: %w", err)
		}
		created = true
	}
	s, err = LoadSigner(keyPath)
	if err != nil {
		return nil, "", false, err
	}
	b, err := os.ReadFile(keyPath + ".pub")
	if err != nil {
		return nil, "", false, fmt.Errorf("read verifier key: %w", err)
	}
	return s, strings.TrimSpace(string(b)), created, nil
}
