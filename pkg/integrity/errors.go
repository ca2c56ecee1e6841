package integrity

import (
	"errors"
	"fmt"
)

// Errors are sentinels, wrapped with the details of the failing check, so
// that a verifier can both test for a class with errors.Is and report
// precisely which check failed.
var (
	// ErrSize reports tree sizes or a leaf index that no proof can relate:
	// negative, m > n, index >= n, or more leaves asked for than given.
	ErrSize = errors.New("invalid tree size")
	// ErrProofLength reports a proof with the wrong number of hashes for
	// its sizes; the length is fully determined by them, so this is
	// checked before any hashing.
	ErrProofLength = errors.New("wrong proof length")
	// ErrRootMismatch reports a proof that does not reproduce a claimed
	// root. ErrOldRootMismatch and ErrNewRootMismatch wrap it to say
	// which of a consistency proof's two roots failed.
	ErrRootMismatch    = errors.New("root mismatch")
	ErrOldRootMismatch = fmt.Errorf("old tree %w", ErrRootMismatch)
	ErrNewRootMismatch = fmt.Errorf("new tree %w", ErrRootMismatch)

	// ErrMalformedNote reports a signed note whose envelope cannot be
	// parsed: truncated, not UTF-8, control characters, no blank line
	// before the signatures, or a malformed signature line.
	ErrMalformedNote = errors.New("malformed signed note")
	// ErrUnknownKey reports a well-formed note with no signature by any of
	// the given keys: signed with another key, or under another name.
	ErrUnknownKey = errors.New("no signature by a known key")
	// ErrBadSignature reports a signature by a known key that does not
	// verify: the body or the signature was altered.
	ErrBadSignature = errors.New("invalid signature")
	// ErrMalformedCheckpoint reports a correctly signed note whose body is
	// not a checkpoint this package understands.
	ErrMalformedCheckpoint = errors.New("malformed checkpoint")
)
