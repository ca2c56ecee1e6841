package integrity

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

func testKeys(t testing.TB, name string) (Signer, Verifier) {
	t.Helper()
	skey, vkey, err := GenerateKey(name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

func testCheckpoint() Checkpoint {
	return Checkpoint{
		Origin: "mail.example.org/mailtrail",
		Size:   12345,
		Root:   LeafHash([]byte("root")),
		Time:   time.Unix(1760000000, 0).UTC(),
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	s, v := testKeys(t, "mail.example.org/mailtrail")
	for _, cp := range []Checkpoint{
		testCheckpoint(),
		{Origin: "o", Size: 0, Root: EmptyRoot()},
		{Origin: "ünïcode log", Size: 1<<64 - 1, Root: Hash{0xff}, Time: time.Unix(-5, 0).UTC()},
	} {
		signed, err := Sign(cp, s)
		if err != nil {
			t.Fatalf("Sign(%+v): %v", cp, err)
		}
		got, err := ParseCheckpoint(signed, NewVerifiers(v))
		if err != nil {
			t.Fatalf("ParseCheckpoint: %v\n%s", err, signed)
		}
		if got != cp {
			t.Errorf("round trip: got %+v, want %+v", got, cp)
		}
	}
}

func TestCheckpointFormat(t *testing.T) {
	s, _ := testKeys(t, "mailtrail")
	cp := testCheckpoint()
	cp.Root = Hash{0xfb, 0xff}
	signed, err := Sign(cp, s)
	if err != nil {
		t.Fatal(err)
	}
	body, sigs, ok := strings.Cut(string(signed), "\n\n")
	if !ok {
		t.Fatalf("no blank line before signatures:\n%s", signed)
	}
	want := "mail.example.org/mailtrail\n12345\n" +
		"+/8AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\ntime 1760000000"
	if body != want {
		t.Errorf("body:\n%s\nwant:\n%s", body, want)
	}
	if !strings.HasPrefix(sigs, "— mailtrail ") || strings.Count(sigs, "\n") != 1 {
		t.Errorf("signature block %q is not one \"— name sig\" line", sigs)
	}
}

func TestCheckpointTruncatedTime(t *testing.T) {
	s, v := testKeys(t, "k")
	cp := testCheckpoint()
	cp.Time = cp.Time.Add(999 * time.Millisecond)
	signed, err := Sign(cp, s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseCheckpoint(signed, NewVerifiers(v))
	if err != nil || !got.Time.Equal(cp.Time.Truncate(time.Second)) {
		t.Errorf("got %v, %v; want time %v", got.Time, err, cp.Time.Truncate(time.Second))
	}
}

func TestCheckpointFailures(t *testing.T) {
	s, v := testKeys(t, "mailtrail")
	_, other := testKeys(t, "mailtrail") // same name, different key
	signed, err := Sign(testCheckpoint(), s)
	if err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Replace(signed, []byte("12345"), []byte("12346"), 1)
	truncated := signed[:len(signed)-1]

	for _, tc := range []struct {
		name string
		msg  []byte
		vs   Verifiers
		want error
	}{
		{"tampered body", tampered, NewVerifiers(v), ErrBadSignature},
		{"wrong key", signed, NewVerifiers(other), ErrUnknownKey},
		{"no keys", signed, NewVerifiers(), ErrUnknownKey},
		{"nil verifiers", signed, nil, ErrUnknownKey},
		{"truncated", truncated, NewVerifiers(v), ErrMalformedNote},
		{"signatures cut off", signed[:bytes.Index(signed, []byte("\n\n"))+2], NewVerifiers(v), ErrMalformedNote},
		{"empty", nil, NewVerifiers(v), ErrMalformedNote},
	} {
		_, err := ParseCheckpoint(tc.msg, tc.vs)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
		for _, e := range []error{ErrBadSignature, ErrUnknownKey, ErrMalformedNote, ErrMalformedCheckpoint} {
			if e != tc.want && errors.Is(err, e) {
				t.Errorf("%s: error %v also matches %v", tc.name, err, e)
			}
		}
	}

	// Every truncation fails; none may be mistaken for a valid checkpoint.
	for i := range len(signed) {
		if _, err := ParseCheckpoint(signed[:i], NewVerifiers(v)); err == nil {
			t.Fatalf("truncation to %d bytes verified", i)
		}
	}
}

func TestCheckpointMalformedBody(t *testing.T) {
	s, v := testKeys(t, "k")
	for _, body := range []string{
		"origin\n",
		"origin\n5\n",
		"origin\n05\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		"origin\n+5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		"origin\n-1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		"origin\n5\nAAAA\n",
		"origin\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nwhen 5\n",
		"origin\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\ntime 5x\n",
		"origin\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\ntime 5\nextra\n",
		"\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
	} {
		signed, err := note.Sign(&note.Note{Text: body}, s)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseCheckpoint(signed, NewVerifiers(v)); !errors.Is(err, ErrMalformedCheckpoint) {
			t.Errorf("body %q: got %v, want ErrMalformedCheckpoint", body, err)
		}
	}
	good := "origin\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
	signed, _ := note.Sign(&note.Note{Text: good}, s)
	if cp, err := ParseCheckpoint(signed, NewVerifiers(v)); err != nil || cp.Size != 5 || !cp.Time.IsZero() {
		t.Errorf("body without time line: got %+v, %v", cp, err)
	}
}

func TestSignRejects(t *testing.T) {
	s, _ := testKeys(t, "k")
	for _, origin := range []string{"", "two\nlines", "tab\there", "\xff"} {
		cp := testCheckpoint()
		cp.Origin = origin
		if _, err := Sign(cp, s); !errors.Is(err, ErrMalformedCheckpoint) {
			t.Errorf("origin %q: got %v, want ErrMalformedCheckpoint", origin, err)
		}
	}
	if _, err := Sign(testCheckpoint()); err == nil {
		t.Error("Sign with no signers succeeded")
	}
}

func TestMultipleSigners(t *testing.T) {
	s1, v1 := testKeys(t, "one")
	s2, v2 := testKeys(t, "two")
	signed, err := Sign(testCheckpoint(), s1, s2)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []Verifier{v1, v2} {
		if _, err := ParseCheckpoint(signed, NewVerifiers(v)); err != nil {
			t.Errorf("verifier %s: %v", v.Name(), err)
		}
	}
}

func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	skey, vkey, err := GenerateKey("mailtrail")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(skey, "PRIVATE+KEY+mailtrail+") || !strings.HasPrefix(vkey, "mailtrail+") {
		t.Fatalf("unexpected key formats %q, %q", skey[:20], vkey)
	}
	sp, vp := filepath.Join(dir, "mailtrail.key"), filepath.Join(dir, "mailtrail.pub")
	if err := os.WriteFile(sp, []byte(skey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(vp, []byte(vkey+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := LoadSigner(sp)
	if err != nil {
		t.Fatal(err)
	}
	v, err := LoadVerifier(vp)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := Sign(testCheckpoint(), s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseCheckpoint(signed, NewVerifiers(v)); err != nil {
		t.Fatal(err)
	}

	// Swapped files, and missing ones, fail without echoing the secret.
	if _, err := LoadSigner(vp); err == nil {
		t.Error("LoadSigner accepted a verifier key")
	}
	if _, err := LoadVerifier(sp); err == nil {
		t.Error("LoadVerifier accepted a signer key")
	} else if strings.Contains(err.Error(), skey[len(skey)-10:]) {
		t.Errorf("error leaks the private key: %v", err)
	}
	if _, err := LoadSigner(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: got %v", err)
	}
}

func FuzzParseCheckpoint(f *testing.F) {
	skey := "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
	vkey := "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
	s, err := note.NewSigner(skey)
	if err != nil {
		f.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		f.Fatal(err)
	}
	signed, err := Sign(testCheckpoint(), s)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(signed)
	f.Add([]byte("origin\n1\nAAAA\n\n— x AAAAAAAA\n"))
	f.Add([]byte{})
	vs := NewVerifiers(v)
	f.Fuzz(func(t *testing.T, msg []byte) {
		cp, err := ParseCheckpoint(msg, vs)
		if err != nil {
			return
		}
		// Whatever verifies must re-sign to a note that parses back equal
		// (Ed25519 signatures are deterministic, so the bytes match too).
		again, err := Sign(cp, s)
		if err != nil {
			t.Fatalf("re-signing %+v: %v", cp, err)
		}
		if cp2, err := ParseCheckpoint(again, vs); err != nil || cp2 != cp {
			t.Fatalf("re-parse: %+v, %v; want %+v", cp2, err, cp)
		}
	})
}
