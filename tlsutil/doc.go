// Package tlsutil makes an API speak only HTTPS: server TLS configurations that follow
// Mozilla's guidance, middleware that refuses (or redirects) plain HTTP and sends HSTS, a
// redirect handler for the plain-HTTP listener, certificates that reload without a restart,
// ACME, expiry warnings, development certificates, and an [http.Server] with safe timeouts.
//
// A typical server:
//
//	certs, err := tlsutil.NewReloader(tlsutil.ReloaderOptions{CertFile: "cert.pem", KeyFile: "key.pem"})
//	cfg := tlsutil.Intermediate()
//	cfg.GetCertificate = certs.GetCertificate
//	requireHTTPS, err := tlsutil.RequireHTTPS(tlsutil.Options{})
//	srv, err := tlsutil.NewServer(tlsutil.ServerOptions{Addr: ":8443", Handler: requireHTTPS(mux), TLSConfig: cfg})
//	go certs.Run(ctx)
//	err = tlsutil.ListenAndServe(ctx, srv)
//
// # TLS configurations
//
// [Intermediate] allows TLS 1.2 and 1.3 and, for TLS 1.2, only the six ECDHE suites with
// AES-GCM or ChaCha20-Poly1305; [Modern] allows only TLS 1.3. Both set MinVersion, the cipher
// suites and the groups (X25519MLKEM768, X25519, P-256, P-384) explicitly, because Go's
// defaults are wider (ECDHE-CBC-SHA suites) and follow the go line of go.mod and GODEBUG.
// Use an ECDSA P-256 certificate, or RSA of at least 2048 bits. [WithClientAuth] adds mutual
// TLS; [ClientIdentity] gives handlers the verified client certificate.
//
// # Refuse, do not redirect, on APIs
//
// [RequireHTTPS] refuses a plain-HTTP request with 403 problem+json by default. Redirecting
// an API call does not help: the request, with its token or cookie, has already crossed the
// network in clear text, and many HTTP clients follow the redirect silently, so the mistake is
// never noticed (ASVS5 4.1.2). A refusal makes the misconfigured client fail loudly. Such a
// request that carried an Authorization header or a cookie is logged as "authn_token_leaked"
// and passed to Options.OnLeakedCredential so that the credential can be revoked. Set
// Options.Redirect only on routes that browsers open by typing a URL.
//
// [RedirectHandler] is for the plain-HTTP listener of browser-facing hosts. It never copies
// the Host header into Location: the host must be in an allow-list, or the configured
// canonical host is used, so it cannot be turned into an open redirect or a header injection.
//
// # Proxies
//
// Behind a TLS-terminating proxy, r.TLS is nil and the proxy's X-Forwarded-Proto (or
// Forwarded proto=) tells whether the client used HTTPS. That header is believed only when
// the TCP peer is in Options.TrustedProxies; a client that sends it directly is refused
// (ASVS5 4.1.3). List only the addresses of your own proxies, and make sure they overwrite
// (not pass through) the header. Set Options.UseForwardedHeader if they write the RFC 7239
// Forwarded header instead. The same parser (internal/forwarded) gives ratelimit and the logs
// the client address, so all of them agree.
//
// # HSTS
//
// HTTPS responses carry Strict-Transport-Security: max-age=63072000; includeSubDomains
// (two years, MOZ-TLS 6.0; ASVS5 3.4.1 asks for at least one). Plain-HTTP responses never
// carry it: browsers ignore it there (RFC 6797 §7.2). includeSubDomains makes browsers refuse
// plain HTTP on every subdomain, so first make sure none still needs it. Options.HSTSPreload
// adds preload and is refused unless max-age is at least one year and includeSubDomains is on.
// Preloading is hard to undo: browsers ship the list, and removal takes months to reach users;
// the domain must also redirect HTTP to HTTPS on the same host and serve HSTS on that redirect
// (see hstspreload.org) before you submit it.
//
// # Certificate reload
//
// [Reloader] serves the pair from its files and replaces it atomically when [Reloader.Reload]
// is called (for example on SIGHUP) or when [Reloader.Run] sees the files change. A new pair
// is used only if it parses, its key matches the certificate, and it is within its validity
// period; otherwise the old pair keeps being served and "tls_cert_reload_fail" is logged with
// the reason. Write new files by renaming them into place (as [WriteDevCertificate] does); if
// the certificate and key change in two steps, the first poll may see a mismatch and log it,
// and the next one loads the pair. [ExpiryWatcher] logs "tls_cert_expiring" and calls a hook
// when the served certificate is within 21 days (by default) of expiry. [NewACME] obtains and renews
// certificates with autocert, limited by a [HostPolicy] and kept in a private cache directory.
//
// # Server
//
// [NewServer] sets ReadHeaderTimeout (which also bounds the TLS handshake), ReadTimeout,
// WriteTimeout, IdleTimeout and MaxHeaderBytes, so a client that sends its headers slowly
// (slowloris) is cut off instead of holding a connection forever (API4:2023). [Serve] and
// [ListenAndServe] shut the server down gracefully on SIGINT, SIGTERM or when the context is
// done. Message framing (Transfer-Encoding versus Content-Length) is left to net/http, which
// rejects ambiguous requests (ASVS5 4.2.1).
//
// # What is logged
//
// Refusals go through the ErrorHandler option; the default logs them once, at Warn, as
// "input_validation_fail" with the method, path (never the query), peer address and request
// id, and answers with a generic problem+json. "authn_token_leaked" (Error) names only the
// kind of credential (authorization, cookie), never its value or the cookie names.
// Certificate events carry the file names, serial, subject and expiry, never key material.
package tlsutil
