// Package rbac is role-based access control for net/http: roles grant permissions, roles
// inherit roles, an explicit deny beats any allow, and everything else is denied.
//
// It stops broken function-level authorization (OWASP API5:2023: a user calling an admin
// function) with permissions attached to ServeMux routes and deny by default, and broken
// object-level authorization (API1:2023: user A reading B's record) with one ownership check,
// [CheckAccess], used the same way in every handler.
//
// # Wiring
//
// The subject and its roles come from function values, so rbac never imports the
// authentication package:
//
//	mux := http.NewServeMux()
//	mux.Handle("GET /notes/{id}", getNote)
//	mux.Handle("DELETE /notes/{id}", rbac.Require("notes:delete")(deleteNote))
//
//	authz, err := rbac.New(rbac.Options{
//		File:    "/etc/notes/policy.yaml",
//		Subject: auth.SubjectKey,
//		Roles:   auth.Roles, // or mapper.Roles, see NewClaimMapper
//		Mux:     mux,
//	})
//	if err != nil {
//		log.Fatal(err) // the policy file's problems, with line numbers
//	}
//	go authz.Run(ctx) // hot reload
//	srv.Handler = authn(authz.Middleware(mux))
//
// # Policy
//
// A policy is built in code ([Policy]) or read from YAML or JSON ([ParsePolicy]):
//
//	roles:
//	  viewer:
//	    allow: [notes:read]
//	  editor:
//	    inherits: [viewer]
//	    allow: [notes:write, notes:delete]
//	  moderator:
//	    inherits: [editor]
//	    allow: ["notes:*"]        # every notes:... permission, including notes:read:any
//	    deny: [notes:purge]       # beats every allow, of this role or any other
//	  suspended:
//	    deny: ["*"]
//	routes:
//	  "GET /notes/{id}": [notes:read]
//	  "DELETE /notes/{id}": [notes:delete]
//	  "GET /healthz": public
//
// Permissions are matched by whole ':'-separated segments, never by substring: "notes:*"
// grants "notes:read" but neither "notes" nor "notesx:read". Loading refuses unknown roles,
// inheritance cycles, malformed permissions, duplicate roles, routes or permissions, unknown
// keys and YAML aliases, reporting every problem with its file and line.
//
// # Routes and deny by default
//
// [Authorizer.Middleware] finds each request's ServeMux pattern (r.Pattern, or the pattern
// Options.Mux picks when it wraps the whole mux) and never looks at the raw path, so
// "//admin", "/admin/../admin" and "%2e%2e" cannot slip past a rule. A pattern listed in the
// policy's routes needs its permissions; one that is not listed is refused with 403 unless the
// handler registered for it is a [Require] or [RequireAny] middleware. Requests no pattern
// matches get the mux's own 404 or 405.
//
// At startup, pass the patterns you register to [Authorizer.RouteReport]: it lists routes
// without a rule, rules for no route (typos: patterns must match byte for byte) and routes
// registered without a method, which serve GET and TRACE too (ASVS5 3.5.3, 4.1.4).
//
// # Claims
//
// [NewClaimMapper] maps identity-provider claims to roles in one place: "roles", "groups",
// "scope"/"scp", "permissions", Keycloak's "realm_access.roles" and verified e-mail domains.
// Scopes, groups and permissions get a prefix ("scope:notes.read") so that a scope can never
// pose as a role of the same name.
//
// # Reload and dry run
//
// [Authorizer.Reload] (or [Authorizer.Run], which calls it every Options.ReloadInterval)
// re-reads the file and swaps the compiled policy atomically. A file that does not load keeps
// the policy in use; the reason is logged once as authz_policy_invalid at Error. Replace the
// file with a rename, not in place. [Authorizer.SetPolicy] swaps a policy built in code.
// Options.DryRun logs what would be refused and refuses nothing: use it to try a new policy,
// then turn it off.
//
// # Logs
//
// Refusals are logged by the default ErrorHandler as authz_fail at Warn, with the subject,
// route, permission and the deciding rule (file line included); clients only get a generic
// 401 or 403 problem+json. Options.LogGranted adds authz_granted at Info for every grant.
// Policy changes are logged as authz_change. Nothing from request headers, cookies or query
// strings is logged. [Authorizer.Explain] returns the deciding rule of any check.
//
// # Access review
//
// The Authorizer remembers, for each subject, the roles it held when last seen and when it
// last used each permission, and [Authorizer.AccessReview] lists grants unused for 90 days
// (or another age) and roles no active subject holds, for a periodic least-privilege review.
// The record lives in memory and is bounded: at most Options.ReviewSubjects subjects (10000
// by default, least recently seen evicted first, counted in the report), 1024 permissions per
// subject (they come from the code, not from requests), and subject ids up to 512 bytes
// (longer ones are counted, not stored). A restart empties it; export reports to keep history.
//
// # Failing closed
//
// Every error denies: a route without a rule, a request without a pattern, a missing
// Authorizer in the context (500), [Require] with no or malformed permissions (500),
// unknown roles (ignored), malformed permissions asked for (denied), a policy that does not
// load (the old one stays). Nothing panics on bad input; wrapping a nil handler panics, as in
// [http.ServeMux.Handle].
//
// # Performance
//
// Policies are compiled when loaded: for every permission a rule names, and for every
// wildcard prefix, the sets of roles allowed and denied after inheritance. A check
// ([Authorizer.Allowed]) is one map lookup for the permission (a few more when only a
// wildcard covers it) and one per role of the subject, about 25-35 ns with no allocation on
// a three-level, 50-rule policy. The middleware adds the request context and the access
// review's bookkeeping.
package rbac
