package integrity

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"
)

// Signer, Verifier and Verifiers are the signed-note key types, aliased so
// that callers need not import the note package themselves.
type (
	Signer    = note.Signer
	Verifier  = note.Verifier
	Verifiers = note.Verifiers
)

// NewVerifiers returns the set of verifiers that ParseCheckpoint accepts.
func NewVerifiers(list ...Verifier) Verifiers { return note.VerifierList(list...) }

// Checkpoint is a commitment to the journal's tree at one size.
//
// Its signed body is the C2SP tlog-checkpoint format, one field per line:
//
//	<origin>
//	<size, decimal>
//	<root, standard base64>
//	time <unix seconds, decimal>
//
// The first three lines are the standard ones, so generic checkpoint
// tooling can read it. The fourth is a mailtrail extension line, present
// only when Time is set: it dates the commitment, so a checkpoint copied off
// the host bounds when a later rewrite could have happened. Extension lines
// are covered by the signature like the rest of the body.
type Checkpoint struct {
	// Origin names the log, conventionally the same as the signing key's
	// name. It must be non-empty and contain no control characters.
	Origin string
	// Size is the number of leaves in the tree.
	Size uint64
	// Root is the tree's RFC 6962 root hash.
	Root Hash
	// Time is when the checkpoint was made, at one-second precision (any
	// fraction is truncated when signing). The zero Time omits the line.
	Time time.Time
}

const timePrefix = "time "

// Sign returns cp as a signed note, signed by each of signers.
func Sign(cp Checkpoint, signers ...Signer) ([]byte, error) {
	if len(signers) == 0 {
		return nil, errors.New("integrity: signing a checkpoint needs at least one signer")
	}
	if err := checkOrigin(cp.Origin); err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString(cp.Origin)
	b.WriteByte('\n')
	b.WriteString(strconv.FormatUint(cp.Size, 10))
	b.WriteByte('\n')
	b.WriteString(base64.StdEncoding.EncodeToString(cp.Root[:]))
	b.WriteByte('\n')
	if !cp.Time.IsZero() {
		b.WriteString(timePrefix)
		b.WriteString(strconv.FormatInt(cp.Time.Unix(), 10))
		b.WriteByte('\n')
	}
	msg, err := note.Sign(&note.Note{Text: b.String()}, signers...)
	if err != nil {
		return nil, fmt.Errorf("integrity: signing checkpoint: %w", err)
	}
	return msg, nil
}

// checkOrigin rejects origins that would change the body's line structure
// or that note.Open would refuse.
func checkOrigin(origin string) error {
	if origin == "" {
		return fmt.Errorf("integrity: empty checkpoint origin: %w", ErrMalformedCheckpoint)
	}
	if !utf8.ValidString(origin) {
		return fmt.Errorf("integrity: checkpoint origin %q is not UTF-8: %w", origin, ErrMalformedCheckpoint)
	}
	for _, r := range origin {
		if unicode.IsControl(r) {
			return fmt.Errorf("integrity: checkpoint origin %q has a control character: %w", origin, ErrMalformedCheckpoint)
		}
	}
	return nil
}

// ParseCheckpoint verifies signed against verifiers and parses its body.
// It succeeds if at least one signature is by a known key and every
// signature by a known key verifies; signatures by other keys are ignored.
// The caller should still check Origin against the log it expects.
func ParseCheckpoint(signed []byte, verifiers Verifiers) (Checkpoint, error) {
	n, err := note.Open(signed, verifiers)
	if err != nil {
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		switch {
		case errors.As(err, &unverified):
			names := make([]string, len(unverified.Note.UnverifiedSigs))
			for i, s := range unverified.Note.UnverifiedSigs {
				names[i] = fmt.Sprintf("%s+%08x", s.Name, s.Hash)
			}
			return Checkpoint{}, fmt.Errorf("integrity: checkpoint signed only by unknown keys [%s]: %w", strings.Join(names, " "), ErrUnknownKey)
		case errors.As(err, &invalid):
			return Checkpoint{}, fmt.Errorf("integrity: checkpoint signature by key %s+%08x does not verify: %w", invalid.Name, invalid.Hash, ErrBadSignature)
		}
		// note.Open's other errors are unexported: a malformed envelope, or
		// a Verifiers implementation that misbehaved.
		return Checkpoint{}, fmt.Errorf("integrity: opening checkpoint: %v: %w", err, ErrMalformedNote)
	}
	return parseBody(n.Text)
}

// parseBody parses a verified checkpoint body. It is strict, rejecting
// anything Sign would not produce, because a verified but oddly formatted
// body points to a different writer than this package.
func parseBody(text string) (Checkpoint, error) {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 || len(lines) > 4 {
		return Checkpoint{}, fmt.Errorf("integrity: checkpoint body has %d lines, want 3 or 4: %w", len(lines), ErrMalformedCheckpoint)
	}
	var cp Checkpoint
	cp.Origin = lines[0]
	if err := checkOrigin(cp.Origin); err != nil {
		return Checkpoint{}, err
	}
	size, err := strconv.ParseUint(lines[1], 10, 64)
	// ParseUint accepts "+5" and "05"; only the canonical form is ours.
	if err != nil || strconv.FormatUint(size, 10) != lines[1] {
		return Checkpoint{}, fmt.Errorf("integrity: checkpoint size %q is not a decimal number: %w", lines[1], ErrMalformedCheckpoint)
	}
	cp.Size = size
	root, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(root) != HashSize {
		return Checkpoint{}, fmt.Errorf("integrity: checkpoint root %q is not a base64 %d-byte hash: %w", lines[2], HashSize, ErrMalformedCheckpoint)
	}
	copy(cp.Root[:], root)
	if len(lines) == 4 {
		v, ok := strings.CutPrefix(lines[3], timePrefix)
		sec, err := strconv.ParseInt(v, 10, 64)
		if !ok || err != nil || strconv.FormatInt(sec, 10) != v {
			return Checkpoint{}, fmt.Errorf("integrity: checkpoint line 4 %q is not %q followed by unix seconds: %w", lines[3], timePrefix, ErrMalformedCheckpoint)
		}
		cp.Time = time.Unix(sec, 0).UTC()
	}
	return cp, nil
}

// GenerateKey returns a new Ed25519 signer key ("PRIVATE+KEY+name+hash+
// base64") and its verifier key ("name+hash+base64"), in the text form
// that LoadSigner and LoadVerifier read from files.
func GenerateKey(name string) (skey, vkey string, err error) {
	skey, vkey, err = note.GenerateKey(rand.Reader, name)
	if err != nil {
		return "", "", fmt.Errorf("integrity: generating key %q: %w", name, err)
	}
	return skey, vkey, nil
}

// LoadSigner reads a signer key written by GenerateKey from path.
// Surrounding white space, such as a final newline, is ignored.
func LoadSigner(path string) (Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("integrity: reading signer key: %w", err)
	}
	s, err := note.NewSigner(strings.TrimSpace(string(b)))
	if err != nil {
		// The key text itself is secret: name the file, not its contents.
		return nil, fmt.Errorf("integrity: signer key in %s: %w", path, err)
	}
	return s, nil
}

// NewVerifier parses a verifier key as GenerateKey returns it (the journal
// stores one).
func NewVerifier(vkey string) (Verifier, error) {
	v, err := note.NewVerifier(strings.TrimSpace(vkey))
	if err != nil {
		return nil, fmt.Errorf("integrity: verifier key: %w", err)
	}
	return v, nil
}

// LoadVerifier reads a verifier key written by GenerateKey from path.
// Surrounding white space, such as a final newline, is ignored.
func LoadVerifier(path string) (Verifier, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("integrity: reading verifier key: %w", err)
	}
	v, err := note.NewVerifier(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("integrity: verifier key in %s: %w", path, err)
	}
	return v, nil
}
