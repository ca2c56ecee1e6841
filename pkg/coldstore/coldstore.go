// Package coldstore keeps the journal's archive files on S3-compatible
// storage (AWS S3, MinIO, Ceph RGW, ...): one object per archive file
// under a bucket and prefix, each written whole with a single PUT (never
// multipart, so an interrupted upload leaves nothing), its MD5 checked by
// the server and its SHA-256 checked by reading it back, with Object Lock
// retention headers when configured. It implements journal.ColdStore.
package coldstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Config says where the archives go.
type Config struct {
	// URL is s3://bucket/prefix (the prefix may be empty).
	URL string
	// Endpoint is the server: host[:port] (HTTPS) or an http:// or
	// https:// URL; empty means AWS (s3.amazonaws.com).
	Endpoint string
	// Region is the bucket's region; empty means us-east-1.
	Region string
	// PathStyle addresses the bucket in the path (endpoint/bucket/key)
	// rather than in the host name (bucket.endpoint/key), as MinIO and
	// most self-hosted servers want.
	PathStyle bool
	// CredentialsFile is an AWS shared credentials file (INI, profile
	// AWS_PROFILE or "default"); empty takes AWS_ACCESS_KEY_ID and
	// AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) from the environment.
	CredentialsFile string
	// LockMode is "", "governance" or "compliance": each object is
	// written with that Object Lock mode, retained LockDays days.
	LockMode string
	LockDays int
	// MaxRetries bounds the client's own retries of one request; 0 means
	// 3 (a failed upload is retried at the next retention run anyway).
	MaxRetries int
	// Now is the clock for retain-until dates; nil means time.Now.
	Now func() time.Time
}

// Store is an archive bucket and prefix.
type Store struct {
	client         *minio.Client
	bucket, prefix string
	mode           minio.RetentionMode
	days           int
	now            func() time.Time
	// credErr is CheckCredentials' answer at New: every request fails
	// with it.
	credErr error
}

// ParseURL splits s3://bucket/prefix into the bucket and the prefix (no
// leading or trailing slash).
func ParseURL(raw string) (bucket, prefix string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", fmt.Errorf("archive URL %q: %w", raw, err)
	}
	if u.Scheme != "s3" {
		return "", "", fmt.Errorf("archive URL %q: want s3://bucket/prefix", raw)
	}
	if u.Host == "" {
		return "", "", fmt.Errorf("archive URL %q: no bucket (want s3://bucket/prefix)", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", "", fmt.Errorf("archive URL %q: want s3://bucket/prefix, without user, query or fragment", raw)
	}
	return u.Host, strings.Trim(u.Path, "/"), nil
}

// ParseLockMode checks an Object Lock mode setting.
func ParseLockMode(mode string) (minio.RetentionMode, error) {
	switch strings.ToLower(mode) {
	case "":
		return "", nil
	case "governance":
		return minio.Governance, nil
	case "compliance":
		return minio.Compliance, nil
	}
	return "", fmt.Errorf("object lock mode %q (want governance or compliance)", mode)
}

// SettingError is a bad setting: Setting is the Config field's name in
// the configuration file (url, endpoint, lock_mode, lock_days).
type SettingError struct {
	Setting string
	Err     error
}

func (e *SettingError) Error() string { return e.Err.Error() }
func (e *SettingError) Unwrap() error { return e.Err }

// Check tells what is wrong with the settings (a *SettingError), reading
// no file and contacting nothing: the configuration check.
func (c Config) Check() error {
	_, _, _, _, _, err := c.parse()
	return err
}

func (c Config) parse() (bucket, prefix string, mode minio.RetentionMode, host string, secure bool, err error) {
	if bucket, prefix, err = ParseURL(c.URL); err != nil {
		return "", "", "", "", false, &SettingError{"url", err}
	}
	if mode, err = ParseLockMode(c.LockMode); err != nil {
		return "", "", "", "", false, &SettingError{"lock_mode", err}
	}
	if c.LockDays < 0 || (mode != "" && c.LockDays == 0) {
		err = fmt.Errorf("object lock retain days %d (want more than 0 with a lock mode)", c.LockDays)
		return "", "", "", "", false, &SettingError{"lock_days", err}
	}
	if host, secure, err = endpoint(c.Endpoint); err != nil {
		return "", "", "", "", false, &SettingError{"endpoint", err}
	}
	return bucket, prefix, mode, host, secure, nil
}

// New makes the client; it does not contact the server.
func New(c Config) (*Store, error) {
	bucket, prefix, mode, host, secure, err := c.parse()
	if err != nil {
		return nil, err
	}
	creds := credentials.NewEnvAWS()
	if c.CredentialsFile != "" {
		creds = credentials.NewFileAWSCredentials(c.CredentialsFile, "")
	}
	region := c.Region
	if region == "" {
		region = "us-east-1"
	}
	lookup := minio.BucketLookupAuto
	if c.PathStyle {
		lookup = minio.BucketLookupPath
	}
	retries := c.MaxRetries
	if retries <= 0 {
		retries = 3
	}
	// TrailingHeaders only lets Put set x-amz-checksum-sha256 itself: it
	// always sends Content-MD5, so minio-go adds no trailing checksum.
	client, err := minio.New(host, &minio.Options{Creds: creds, Secure: secure, Region: region, BucketLookup: lookup, MaxRetries: retries, TrailingHeaders: true})
	if err != nil {
		return nil, fmt.Errorf("archive endpoint %q: %w", c.Endpoint, err)
	}
	now := c.Now
	if now == nil {
		now = time.Now
	}
	// Missing credentials fail each request rather than New: a command
	// that opens the journal without touching the bucket (replay) need
	// not have them.
	return &Store{client: client, bucket: bucket, prefix: prefix, mode: mode, days: c.LockDays, now: now, credErr: c.CheckCredentials()}, nil
}

// CheckCredentials tells whether credentials are there to sign with: the
// credentials file exists, or the environment has a key and a secret.
func (c Config) CheckCredentials() error {
	if c.CredentialsFile != "" {
		if _, err := os.Stat(c.CredentialsFile); err != nil {
			return fmt.Errorf("archive credentials file: %w", err)
		}
		return nil
	}
	if os.Getenv("AWS_ACCESS_KEY_ID") == "" || os.Getenv("AWS_SECRET_ACCESS_KEY") == "" {
		return errors.New("archive credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give a credentials file")
	}
	return nil
}

// endpoint turns the endpoint setting into minio's host and TLS switch.
func endpoint(e string) (host string, secure bool, err error) {
	switch {
	case e == "":
		return "s3.amazonaws.com", true, nil
	case strings.Contains(e, "://"):
		u, err := url.Parse(e)
		if err != nil {
			return "", false, fmt.Errorf("archive endpoint %q: %w", e, err)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") != "" {
			return "", false, fmt.Errorf("archive endpoint %q: want host:port, http://host:port or https://host:port", e)
		}
		return u.Host, u.Scheme == "https", nil
	}
	return e, true, nil
}

func (s *Store) key(name string) string {
	if s.prefix == "" {
		return name
	}
	return s.prefix + "/" + name
}

// URL names an object for messages: s3://bucket/prefix/name.
func (s *Store) URL(name string) string { return "s3://" + s.bucket + "/" + s.key(name) }

// Put stores data as the object name with one PUT (all or nothing),
// sending its MD5 for the server to check, then reads it back and
// compares SHA-256: a stored object that differs is removed and Put
// fails, so the caller keeps its copy and retries. A non-empty old is the
// version this one replaces (an erasure's rewrite): it is removed once the
// new one is checked, which Object Lock may refuse.
func (s *Store) Put(ctx context.Context, name string, data []byte, old string) error {
	if s.credErr != nil {
		return fmt.Errorf("upload %s: %w", s.URL(name), s.credErr)
	}
	sum := sha256.Sum256(data)
	opts := minio.PutObjectOptions{
		ContentType: "application/octet-stream",
		// The server checks both before it stores anything.
		SendContentMd5: true,
		UserMetadata:   map[string]string{"x-amz-checksum-sha256": base64.StdEncoding.EncodeToString(sum[:])},
		// The body as it is: over plain HTTP minio-go would otherwise
		// send it aws-chunked, which not every S3-compatible server
		// decodes (s3rver stores the chunk framing).
		DisableContentSha256: true,
		// One request: S3 applies a PUT atomically, while a multipart
		// upload cut off midway would leave parts behind.
		DisableMultipart: true,
	}
	if s.mode != "" {
		opts.Mode = s.mode
		opts.RetainUntilDate = s.now().UTC().AddDate(0, 0, s.days).Truncate(time.Second)
	}
	info, err := s.client.PutObject(ctx, s.bucket, s.key(name), bytes.NewReader(data), int64(len(data)), opts)
	if err != nil {
		return fmt.Errorf("upload %s: %w", s.URL(name), err)
	}
	got, version, err := s.get(ctx, name, info.VersionID)
	if err != nil {
		return fmt.Errorf("upload %s: read back: %w", s.URL(name), err)
	}
	if sha256.Sum256(got) != sum {
		// Best effort: the caller still has the archive and tries again.
		_ = s.client.RemoveObject(ctx, s.bucket, s.key(name), minio.RemoveObjectOptions{VersionID: version, GovernanceBypass: s.mode == minio.Governance})
		return fmt.Errorf("upload %s: the stored object is not what was sent (%d bytes, sha256 %s; sent %d bytes)", s.URL(name), len(got), shortSum(got), len(data))
	}
	// The version the PUT created, not the one read back: a server
	// without versioning answers none, and then nothing is removed.
	if old != "" && old != info.VersionID {
		if err := s.client.RemoveObject(ctx, s.bucket, s.key(name), minio.RemoveObjectOptions{VersionID: old, GovernanceBypass: s.mode == minio.Governance}); err != nil {
			return &OldVersionError{URL: s.URL(name), Version: old, Err: err}
		}
	}
	return nil
}

// OldVersionError is a rewrite whose new version is stored but whose
// previous version could not be removed: under Object Lock compliance
// mode (or governance mode without the bypass permission) it stays until
// its retain-until date.
type OldVersionError struct {
	URL, Version string
	Err          error
}

func (e *OldVersionError) Error() string {
	return fmt.Sprintf("%s: the new version is stored, but the previous version %s could not be removed (Object Lock keeps a locked version until its retain-until date): %v", e.URL, e.Version, e.Err)
}

func (e *OldVersionError) Unwrap() error { return e.Err }

// NewVersionStored tells journal.ColdStore's users that the data is safe.
func (e *OldVersionError) NewVersionStored() bool { return true }

func shortSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:8])
}

// Get returns the object name and its version ("" on a bucket without
// versioning).
func (s *Store) Get(ctx context.Context, name string) ([]byte, string, error) {
	if s.credErr != nil {
		return nil, "", fmt.Errorf("%s: %w", s.URL(name), s.credErr)
	}
	b, v, err := s.get(ctx, name, "")
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", s.URL(name), err)
	}
	return b, v, nil
}

func (s *Store) get(ctx context.Context, name, version string) ([]byte, string, error) {
	obj, err := s.client.GetObject(ctx, s.bucket, s.key(name), minio.GetObjectOptions{VersionID: version})
	if err != nil {
		return nil, "", err
	}
	defer obj.Close()
	st, err := obj.Stat()
	if err != nil {
		return nil, "", err
	}
	b, err := io.ReadAll(obj)
	if err != nil {
		return nil, "", err
	}
	if int64(len(b)) != st.Size {
		return nil, "", fmt.Errorf("read %d of %d bytes", len(b), st.Size)
	}
	return b, st.VersionID, nil
}

// List names the objects under the prefix (one level, names without the
// prefix), in key order.
func (s *Store) List(ctx context.Context) ([]string, error) {
	if s.credErr != nil {
		return nil, fmt.Errorf("list %s: %w", s.URL(""), s.credErr)
	}
	p := ""
	if s.prefix != "" {
		p = s.prefix + "/"
	}
	var names []string
	for o := range s.client.ListObjectsIter(ctx, s.bucket, minio.ListObjectsOptions{Prefix: p}) {
		if o.Err != nil {
			return nil, fmt.Errorf("list %s: %w", s.URL(""), o.Err)
		}
		if n := strings.TrimPrefix(o.Key, p); n != "" && !strings.Contains(n, "/") {
			names = append(names, n)
		}
	}
	return names, nil
}

// Split takes an s3:// URL given to restore: one object (its last element
// names an archive file: events-*.mtar) or a prefix. It returns the URL of
// the prefix and the object's name ("" for a prefix).
func Split(raw string) (prefixURL, name string) {
	if b := path.Base(raw); strings.HasPrefix(b, "events-") && strings.HasSuffix(b, ".mtar") {
		return strings.TrimSuffix(raw, "/"+b), b
	}
	return raw, ""
}
