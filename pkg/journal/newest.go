package journal

import (
	"context"
	"fmt"

	"github.com/mailtrail/mailtrail/pkg/integrity"
)

// NewestCheckpoint is the journal's newest signed checkpoint, checked
// against the verifier key stored with the journal; nil without an error
// when the journal holds no checkpoint or no key (it is unsigned).
func (j *Journal) NewestCheckpoint(ctx context.Context) (*integrity.Checkpoint, error) {
	notes, err := j.Checkpoints(ctx)
	if err != nil || len(notes) == 0 {
		return nil, err
	}
	vkey, err := j.SignerKey(ctx)
	if err != nil || vkey == "" {
		return nil, err
	}
	v, err := integrity.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("journal %s: signer key: %w", j.path, err)
	}
	cp, err := integrity.ParseCheckpoint(notes[len(notes)-1], integrity.NewVerifiers(v))
	if err != nil {
		return nil, fmt.Errorf("journal %s: newest checkpoint: %w", j.path, err)
	}
	return &cp, nil
}
