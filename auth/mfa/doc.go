// Package mfa adds a second factor to password logins: TOTP (RFC 6238) enrolment and
// verification with replay refusal, single-use recovery codes, secrets sealed at rest with
// AES-256-GCM, and argon2id password hashing. It has no HTTP handler of its own: call it from
// your login handlers, and write refusals with [Problem] and the encode package.
//
// It stops: replay of an observed one-time code, at the same server or another one sharing
// the Store (RFC 6238 §5.2, ASVS5 6.5.1); guessing codes, through a per-user attempt limit
// that refuses before any code is checked (NIST SP 800-63B-4 §3.2.2, RFC 4226 §7.3, API4:2023);
// use of a half-finished enrolment; theft of TOTP secrets from a database dump or their
// transplant to another user's row; and offline cracking of stolen password hashes and
// recovery codes (ASVS5 11.4.2, 6.5.2).
//
// # Enrolment
//
// [Verifier.Enroll] makes a secret of 160 bits (Options.SecretSize) from crypto/rand, the
// otpauth key URL (with [KeyURL]; parse one with [ParseKeyURL]) and a QR code PNG
// ([Enrollment.PNG]), and returns the secret sealed as pending. [Verifier.Confirm] turns it
// into an active secret once the user proves one code; [Verifier.Verify] refuses a pending
// one, and Confirm an active one, because the kind is sealed with the secret. Existing
// enrolments can be moved in with [Verifier.Import].
//
// # Verification
//
// [Verifier.Verify] accepts the code of the current 30-second step or of the step before it
// (RFC 6238 §5.2 recommends one step back for network delay). This deviates from
// pquerna/otp's default Skew of 1, which also accepts the next step: a device whose clock runs
// ahead needs Options.AcceptNextStep, and Options.RejectPreviousStep narrows the window to
// the 30 s ASVS5 6.5.5 asks for. pquerna/otp only answers yes or no, so Verify computes the
// code of each accepted step itself and compares each in constant time to find the step that
// matched; the [Store] then records that step per user, atomically, and refuses any code of
// that step or an earlier one ever after. The time is the server's (ASVS5 6.5.8): there is no
// way to pass the client's.
//
// # Recovery codes
//
// [Verifier.NewRecoveryCodes] makes ten codes of 80 bits each ("7KQ2-M9XD-4RTB-ZC0F"), to
// show once, and a string to store holding only their argon2id hashes under one random salt.
// [Verifier.Recover] consumes one and returns the remaining set.
//
// # Passwords
//
// [Hasher] writes PHC strings ("$argon2id$v=19$m=19456,t=2,p=1$salt$hash") at the OWASP
// minimum by default, verifies in constant time, refuses passwords above MaxLength (1024
// bytes) before hashing, never truncates, and tells when a hash needs a rehash.
//
// # Security notes for operators
//
//   - Options.Store must be shared by every server that verifies codes: use the redisstore
//     subpackage behind more than one server. The default [MemoryStore] is per process.
//   - Wire Options.Allow, Failed and Succeeded to a per-user limiter, such as ratelimit's
//     guard store (see Example_ratelimit): a 6-digit code is guessed in 10^6/2 attempts on
//     average without one. Limit by user, not by address, so rotating addresses does not
//     help, and remember that a lockout can be used to lock a user out (ASVS5 6.1.1).
//   - Load sealing keys from the environment, a file or a secret manager, never from code.
//     To rotate, put the new key first and keep the old one: both open, only the new one
//     seals; move old values with [Sealer.Reseal] and drop the old key when
//     [Sealer.NeedsReseal] is false for every stored value.
//   - Never log or store an [Enrollment]'s URL or Secret, codes, or recovery codes; the
//     errors of this package never contain them.
//   - After [Verifier.Recover] succeeds, save the returned set before treating the user as
//     logged in. Offer new recovery codes when few are left, and notify the user out of band
//     when a recovery code is used or a replay is refused (ErrReplayed).
//   - Issue tokens with "amr" containing [AMR] ("otp") after a successful Verify or Recover,
//     and the time in "auth_time"; protect sensitive routes with auth.RequireMFA.
//   - Changing or removing a second factor is itself sensitive: require a fresh code first
//     (ASVS5 7.5.1).
//   - Call [Hasher.VerifyUnknownUser] when a login names no user, so timing does not reveal
//     which users exist (ASVS5 6.3.8). Raise HasherOptions as your hardware allows; old
//     hashes still verify, and [Hasher.NeedsRehash] says when to replace them.
package mfa
