package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ErrKeyFile is returned by [ParsePrivateKeyPEM] and [DevelopmentKey] for key material
// that cannot be used. Its messages never contain the key.
var ErrKeyFile = errors.New("auth: unusable private key")

// ParsePrivateKeyPEM parses one PEM-encoded private key: "PRIVATE KEY" (PKCS #8, ECDSA,
// Ed25519 or RSA), "EC PRIVATE KEY" (SEC 1) or "RSA PRIVATE KEY" (PKCS #1). Encrypted PEM
// and trailing data are refused. Read the bytes from a file only the service can read,
// an environment variable or a secret manager.
func ParsePrivateKeyPEM(data []byte) (crypto.Signer, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM block", ErrKeyFile)
	}
	if len(block.Headers) > 0 {
		return nil, fmt.Errorf("%w: PEM headers (an encrypted key?) are not supported", ErrKeyFile)
	}
	if next, _ := pem.Decode(rest); next != nil {
		return nil, fmt.Errorf("%w: more than one PEM block", ErrKeyFile)
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("%w: PEM type %q is not a private key", ErrKeyFile, block.Type)
	}
	if err != nil {
		// x509's errors describe the structure, never the key's bytes.
		return nil, fmt.Errorf("%w: %w", ErrKeyFile, err)
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: not a signing key", ErrKeyFile)
	}
	return s, nil
}

// DevelopmentKey returns the ECDSA P-256 key stored in PEM at path, generating it and
// writing it there with 0600 permissions if the file does not exist. It refuses a file
// that group or others may read or write.
//
// It is for development and tests only: in production, keys come from the operator (a
// secret manager, a KMS, or a PEM file deployed with the service), never generated on
// the fly, since a key generated per instance breaks validation across a fleet and is
// lost with the instance.
func DevelopmentKey(path string) (crypto.Signer, error) {
	data, err := readPrivateFile(path)
	if err == nil {
		return ParsePrivateKeyPEM(data)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeyFile, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeyFile, err)
	}
	// O_EXCL: if another process created the file meanwhile, fail rather than overwrite.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeyFile, err)
	}
	werr := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("%w: writing %s: %w", ErrKeyFile, path, werr)
	}
	return key, nil
}

// readPrivateFile reads path if only its owner may read or write it.
func readPrivateFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s is accessible to group or others (mode %v); chmod 600 it", ErrKeyFile, path, fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeyFile, err)
	}
	return data, nil
}
