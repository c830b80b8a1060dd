package rbac_test

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/encode"
	"github.com/bulwark-go/bulwark/rbac"
)

// notesPolicy is the policy most tests use: a three-level chain viewer <- editor <- moderator,
// an admin, a suspended role that denies everything, and a route table.
func notesPolicy() rbac.Policy {
	return rbac.Policy{
		Roles: []rbac.Role{
			{Name: "viewer", Allow: []string{"notes:read"}},
			{Name: "editor", Inherits: []string{"viewer"}, Allow: []string{"notes:write", "notes:delete"}},
			{Name: "moderator", Inherits: []string{"editor"}, Allow: []string{"notes:*"}, Deny: []string{"notes:purge"}},
			{Name: "admin", Allow: []string{"admin:*", "notes:*"}},
			{Name: "suspended", Deny: []string{"*"}},
			{Name: "unused"},
		},
		Routes: []rbac.Route{
			{Pattern: "GET /notes/{id}", Require: []string{"notes:read"}},
			{Pattern: "PUT /notes/{id}", Require: []string{"notes:write"}},
			{Pattern: "DELETE /notes/{id}", Require: []string{"notes:delete"}},
			{Pattern: "DELETE /admin/users/{id}", Require: []string{"admin:users:delete"}},
			{Pattern: "GET /admin/", Require: []string{"admin:read"}},
			{Pattern: "GET /healthz", Public: true},
		},
	}
}

// The model: inheritance chains, deny beats allow, wildcards by whole segments, deny by
// default (OWASP API5:2023, ASVS5 8.2.1).
func TestAllowed_Model_API5(t *testing.T) {
	a := mustAuthorizer(t, rbac.Options{Policy: notesPolicy()})
	for _, tt := range []struct {
		name  string
		roles []string
		perm  string
		want  bool
	}{
		{"direct grant", []string{"viewer"}, "notes:read", true},
		{"not granted", []string{"viewer"}, "notes:write", false},
		{"inherited one level", []string{"editor"}, "notes:read", true},
		{"inherited two levels", []string{"moderator"}, "notes:read", true},
		{"wildcard grants deeper segments", []string{"moderator"}, "notes:read:any", true},
		{"wildcard is not a substring match", []string{"moderator"}, "notesx:read", false},
		{"wildcard needs one more segment", []string{"moderator"}, "notes", false},
		{"deny beats own wildcard allow", []string{"moderator"}, "notes:purge", false},
		{"deny beats another role's allow", []string{"admin", "moderator"}, "notes:purge", false},
		{"other role still allows the rest", []string{"admin", "moderator"}, "admin:users:delete", true},
		{"deny * beats everything", []string{"admin", "suspended"}, "notes:read", false},
		{"deny does not flow down to parents", []string{"editor"}, "notes:purge", false},
		{"unknown role ignored", []string{"root", "viewer"}, "notes:read", true},
		{"only unknown roles", []string{"root"}, "notes:read", false},
		{"no roles", nil, "notes:read", false},
		{"no rule for the permission", []string{"admin"}, "billing:read", false},
		{"malformed permission", []string{"admin"}, "notes::read", false},
		{"wildcard asked for", []string{"admin"}, "notes:*", false},
		{"empty permission", []string{"admin"}, "", false},
		{"case-sensitive", []string{"viewer"}, "Notes:Read", false},
		{"role names are exact", []string{"Viewer"}, "notes:read", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := a.Allowed(tt.roles, tt.perm); got != tt.want {
				t.Errorf("Allowed(%q, %q) = %v, want %v", tt.roles, tt.perm, got, tt.want)
			}
			if got := a.Explain(tt.roles, tt.perm).Allowed; got != tt.want {
				t.Errorf("Explain(%q, %q).Allowed = %v, want %v", tt.roles, tt.perm, got, tt.want)
			}
		})
	}
}

func TestExplain(t *testing.T) {
	a := mustAuthorizer(t, rbac.Options{Policy: notesPolicy()})
	for _, tt := range []struct {
		roles      []string
		perm       string
		wantRule   rbac.Rule
		wantRole   string
		wantString string
	}{
		{[]string{"moderator"}, "notes:read", rbac.Rule{Role: "moderator", Permission: "notes:*"}, "moderator", `"notes:read": allow notes:* (role moderator)`},
		{[]string{"editor"}, "notes:read", rbac.Rule{Role: "viewer", Permission: "notes:read"}, "editor", `"notes:read": allow notes:read (role viewer) via "editor"`},
		{[]string{"admin", "moderator"}, "notes:purge", rbac.Rule{Role: "moderator", Permission: "notes:purge", Deny: true}, "moderator", `"notes:purge": deny notes:purge (role moderator)`},
		{[]string{"viewer"}, "notes:write", rbac.Rule{}, "", `"notes:write": no rule (deny by default)`},
	} {
		d := a.Explain(tt.roles, tt.perm)
		if d.Rule != tt.wantRule || d.Role != tt.wantRole || d.String() != tt.wantString {
			t.Errorf("Explain(%q, %q) = %+v (%s), want rule %+v via %q (%s)", tt.roles, tt.perm, d, d, tt.wantRule, tt.wantRole, tt.wantString)
		}
	}
}

func TestNew_Options(t *testing.T) {
	subj := func(*http.Request) string { return "" }
	roles := func(*http.Request) []string { return nil }
	for _, tt := range []struct {
		name   string
		opts   rbac.Options
		fields []string
	}{
		{"zero", rbac.Options{}, []string{"Options.Subject", "Options.Roles", "Options.Policy or Options.File"}},
		{"both sources", rbac.Options{Subject: subj, Roles: roles, Policy: notesPolicy(), File: "x.yaml"}, []string{"only one of Options.Policy and Options.File"}},
		{"ranges", rbac.Options{Subject: subj, Roles: roles, Policy: notesPolicy(), ReloadInterval: 1, ReviewSubjects: -1}, []string{"Options.ReloadInterval", "Options.ReviewSubjects"}},
		{"missing file", rbac.Options{Subject: subj, Roles: roles, File: "/nonexistent/policy.yaml"}, []string{"reading policy"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := rbac.New(tt.opts)
			if err == nil {
				t.Fatalf("New(%+v) = nil error, want one naming %q", tt.opts, tt.fields)
			}
			for _, f := range tt.fields {
				if !strings.Contains(err.Error(), f) {
					t.Errorf("New error %q does not name %q", err, f)
				}
			}
		})
	}
	bad := rbac.Policy{Roles: []rbac.Role{{Name: "a", Inherits: []string{"ghost"}}}}
	if _, err := rbac.New(rbac.Options{Subject: subj, Roles: roles, Policy: bad}); !errors.Is(err, rbac.ErrUnknownRole) {
		t.Errorf("New with an unknown inherited role: err = %v, want ErrUnknownRole", err)
	}
}

// newMuxServer registers routes on a mux wrapped by the Authorizer (with Options.Mux), the
// reference wiring.
func newMuxServer(t *testing.T, opts rbac.Options, extra func(mux *http.ServeMux)) (http.Handler, *rbac.Authorizer) {
	t.Helper()
	mux := http.NewServeMux()
	for _, p := range []string{"GET /notes/{id}", "PUT /notes/{id}", "DELETE /notes/{id}", "DELETE /admin/users/{id}", "GET /admin/", "GET /healthz", "GET /unlisted"} {
		mux.Handle(p, ok)
	}
	if extra != nil {
		extra(mux)
	}
	opts.Mux = mux
	a := mustAuthorizer(t, opts)
	return a.Middleware(mux), a
}

func serve(h http.Handler, method, target, subject string, roles ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	if subject != "" {
		r = withWho(r, subject, roles...)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// Function-level authorization through the route table: deny by default for routes without
// a rule, admin functions refused to users (OWASP API5:2023, ASVS5 8.2.1), 401 without a
// subject, generic problem+json bodies (ASVS5 16.5.1).
func TestMiddleware_Routes_API5(t *testing.T) {
	h, _ := newMuxServer(t, rbac.Options{Policy: notesPolicy()}, nil)
	for _, tt := range []struct {
		name, method, target, subject string
		roles                         []string
		want                          int
	}{
		{"viewer reads", "GET", "/notes/1", "alice", []string{"viewer"}, 200},
		{"viewer cannot write", "PUT", "/notes/1", "alice", []string{"viewer"}, 403},
		{"editor writes", "PUT", "/notes/1", "bob", []string{"editor"}, 200},
		{"editor deletes", "DELETE", "/notes/1", "bob", []string{"editor"}, 200},
		{"user on admin function", "DELETE", "/admin/users/7", "bob", []string{"editor"}, 403},
		{"moderator on admin function", "DELETE", "/admin/users/7", "mo", []string{"moderator"}, 403},
		{"admin on admin function", "DELETE", "/admin/users/7", "root", []string{"admin"}, 200},
		{"admin subtree", "GET", "/admin/settings", "root", []string{"admin"}, 200},
		{"suspended admin", "GET", "/admin/settings", "root", []string{"admin", "suspended"}, 403},
		{"route without rule: deny by default", "GET", "/unlisted", "root", []string{"admin"}, 403},
		{"no subject", "GET", "/notes/1", "", nil, 401},
		{"no subject on route without rule", "GET", "/unlisted", "", nil, 401},
		{"public route without subject", "GET", "/healthz", "", nil, 200},
		{"unknown path reaches the mux 404", "GET", "/nowhere", "", nil, 404},
		{"unsupported method: 405 (ASVS5 4.1.4)", "TRACE", "/notes/1", "root", []string{"admin"}, 405},
		{"method not registered: 405 (ASVS5 4.1.4)", "POST", "/notes/1", "root", []string{"admin"}, 405},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := serve(h, tt.method, tt.target, tt.subject, tt.roles...)
			if w.Code != tt.want {
				t.Fatalf("%s %s as %q %q: status = %d, want %d", tt.method, tt.target, tt.subject, tt.roles, w.Code, tt.want)
			}
			if w.Code == 401 || w.Code == 403 {
				checkProblem(t, w, tt.want)
			}
		})
	}
}

func checkProblem(t *testing.T, w *httptest.ResponseRecorder, status int) {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != encode.ProblemContentType {
		t.Errorf("Content-Type = %q, want %q", ct, encode.ProblemContentType)
	}
	var body map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q: %v", w.Body, err)
	}
	if body["status"] != float64(status) || body["detail"] != nil {
		t.Errorf("body = %v, want status %d and no detail", body, status)
	}
	for _, leak := range []string{"notes:", "admin:", "rule", "role", "secret data"} {
		if strings.Contains(w.Body.String(), leak) {
			t.Errorf("body %q reveals %q", w.Body, leak)
		}
	}
	if w.Header().Get("WWW-Authenticate") == "" {
		t.Errorf("%d without WWW-Authenticate", status)
	}
}

// Rules attach to the ServeMux pattern, never the raw path: path tricks end on the pattern
// the mux would serve, which carries its own rule, or get the mux's redirect; never the
// handler's data.
func TestMiddleware_PathTricks_API5(t *testing.T) {
	h, _ := newMuxServer(t, rbac.Options{Policy: notesPolicy()}, nil)
	for _, target := range []string{
		"//admin/settings",
		"/admin/../admin/settings",
		"/notes/../admin/settings",
		"/%2e%2e/admin/settings",
		"/./admin/settings",
		"/ADMIN/settings",
		"/admin%2fsettings",
	} {
		w := serve(h, "GET", target, "bob", "editor")
		if w.Code == 200 || strings.Contains(w.Body.String(), "secret data") {
			t.Errorf("GET %s as editor: status = %d body %q, want a refusal or redirect", target, w.Code, w.Body)
		}
	}
}

// Roles come only from the verified identity (Options.Roles), never from request headers
// or the body (ASVS5 8.3.1).
func TestRolesNotFromRequest_ASVS5_8_3_1(t *testing.T) {
	h, _ := newMuxServer(t, rbac.Options{Policy: notesPolicy()}, nil)
	r := withWho(httptest.NewRequest("DELETE", "/admin/users/7?role=admin", strings.NewReader(`{"role":"admin"}`)), "bob", "viewer")
	r.Header.Set("X-Role", "admin")
	r.Header.Set("X-Roles", "admin")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusForbidden {
		t.Errorf("viewer with X-Role: admin: status = %d, want 403", w.Code)
	}
}

// authz_fail is logged for every refusal with subject, route and the deciding rule, and
// never the Authorization header or the query string (ASVS5 16.3.2, 16.2.1, 16.2.5,
// CS-Logging_Vocabulary).
func TestLogging_ASVS5_16_3_2(t *testing.T) {
	logs, logger := newLog()
	h, _ := newMuxServer(t, rbac.Options{Policy: notesPolicy(), Logger: logger, LogGranted: true}, nil)
	r := withWho(httptest.NewRequest("PUT", "/notes/1?token=s3cr3t-query", nil), "alice", "viewer")
	r.Header.Set("Authorization", "Bearer s3cr3t-token")
	h.ServeHTTP(httptest.NewRecorder(), r)
	serve(h, "GET", "/notes/1", "alice", "editor")

	fails := logs.records(t, "authz_fail")
	if len(fails) != 1 {
		t.Fatalf("authz_fail records = %d, want 1; log:\n%s", len(fails), logs)
	}
	msg, _ := fails[0]["error"].(string)
	for _, want := range []string{`subject "alice"`, `route "PUT /notes/{id}"`, `"notes:write"`, "no rule (deny by default)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("authz_fail error = %q, want it to contain %q", msg, want)
		}
	}
	if fails[0]["level"] != "WARN" || fails[0]["status"] != float64(403) {
		t.Errorf("authz_fail record = %v, want level WARN and status 403", fails[0])
	}
	grants := logs.records(t, "authz_granted")
	if len(grants) != 1 || grants[0]["subject"] != "alice" || grants[0]["permission"] != "notes:read" ||
		grants[0]["route"] != "GET /notes/{id}" || grants[0]["rule"] != "allow notes:read (role viewer)" {
		t.Errorf("authz_granted records = %v, want one for alice, notes:read, GET /notes/{id}, allow notes:read (role viewer)", grants)
	}
	if s := logs.String(); strings.Contains(s, "s3cr3t") {
		t.Errorf("log contains a secret: %s", s)
	}
}

// A subject with CR/LF stays one escaped field of one record (ASVS5 16.4.1).
func TestLogging_Injection_ASVS5_16_4_1(t *testing.T) {
	logs, logger := newLog()
	h, _ := newMuxServer(t, rbac.Options{Policy: notesPolicy(), Logger: logger}, nil)
	serve(h, "PUT", "/notes/1", "eve\n{\"msg\":\"authz_granted\"}", "viewer")
	if n := strings.Count(logs.String(), "\n"); n != 1 {
		t.Errorf("log has %d lines, want 1:\n%s", n, logs)
	}
	if len(logs.records(t, "authz_granted")) != 0 {
		t.Errorf("injected record parsed as authz_granted:\n%s", logs)
	}
}

func TestDryRun(t *testing.T) {
	logs, logger := newLog()
	h, _ := newMuxServer(t, rbac.Options{Policy: notesPolicy(), Logger: logger, DryRun: true}, nil)
	for _, tt := range []struct{ method, target, subject, role string }{
		{"PUT", "/notes/1", "alice", "viewer"},
		{"GET", "/unlisted", "alice", "viewer"},
		{"GET", "/notes/1", "", ""},
	} {
		if w := serve(h, tt.method, tt.target, tt.subject, tt.role); w.Code != 200 {
			t.Errorf("dry run %s %s: status = %d, want 200", tt.method, tt.target, w.Code)
		}
	}
	fails := logs.records(t, "authz_fail")
	if len(fails) != 3 {
		t.Fatalf("dry run authz_fail records = %d, want 3:\n%s", len(fails), logs)
	}
	for _, f := range fails {
		if f["dry_run"] != true {
			t.Errorf("dry-run record %v lacks dry_run=true", f)
		}
	}
}

// Require and RequireAny as per-route middleware; with the route table's deny by default,
// a route whose registered handler is Require counts as having a rule.
func TestRequire(t *testing.T) {
	final := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	h, _ := newMuxServer(t, rbac.Options{Policy: notesPolicy()}, func(mux *http.ServeMux) {
		mux.Handle("POST /notes/{id}/publish", rbac.Require("notes:write", "notes:read")(final))
		mux.Handle("POST /notes/{id}/flag", rbac.RequireAny("notes:moderate", "admin:notes")(final))
		mux.Handle("POST /notes/{id}/bad", rbac.Require("notes:*")(final))
		mux.Handle("POST /notes/{id}/none", rbac.Require()(final))
	})
	for _, tt := range []struct {
		target, role string
		want         int
	}{
		{"/notes/1/publish", "editor", 204},
		{"/notes/1/publish", "viewer", 403},
		{"/notes/1/flag", "moderator", 204},
		{"/notes/1/flag", "admin", 204},
		{"/notes/1/flag", "editor", 403},
		{"/notes/1/bad", "admin", 500},
		{"/notes/1/none", "admin", 500},
	} {
		w := serve(h, "POST", tt.target, "u", tt.role)
		if w.Code != tt.want {
			t.Errorf("POST %s as %s: status = %d, want %d", tt.target, tt.role, w.Code, tt.want)
		}
	}
	if w := serve(h, "POST", "/notes/1/publish", ""); w.Code != 401 {
		t.Errorf("Require without subject: status = %d, want 401", w.Code)
	}
}

// Require without the Authorizer in the chain fails closed.
func TestRequire_NoAuthorizer_FailsClosed(t *testing.T) {
	// Without an Authorizer there is no Logger option: the refusal goes to slog.Default.
	logs, logger := newLog()
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(logger)
	h := rbac.Require("notes:read")(ok)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, withWho(httptest.NewRequest("GET", "/notes/1", nil), "root", "admin"))
	if w.Code != http.StatusInternalServerError || strings.Contains(w.Body.String(), "secret") {
		t.Errorf("Require without Middleware: status = %d body %q, want a generic 500", w.Code, w.Body)
	}
	w = httptest.NewRecorder()
	if rbac.CheckAccess(w, withWho(httptest.NewRequest("GET", "/notes/1", nil), "root", "admin"), "root", "notes:read") || w.Code != 500 {
		t.Errorf("CheckAccess without Middleware: status = %d, want false and 500", w.Code)
	}
	if n := len(logs.records(t, "authz_fail")); n != 2 {
		t.Errorf("authz_fail records = %d, want 2:\n%s", n, logs)
	}
}

// Middleware wrapping single routes uses r.Pattern; wrapping the mux without Options.Mux
// has no pattern and refuses everything rather than guess from the path.
func TestMiddleware_PerRouteAndNoMux(t *testing.T) {
	a := mustAuthorizer(t, rbac.Options{Policy: notesPolicy()})
	mux := http.NewServeMux()
	mux.Handle("GET /notes/{id}", a.Middleware(ok))
	mux.Handle("GET /unlisted", a.Middleware(ok))
	if w := serve(mux, "GET", "/notes/1", "alice", "viewer"); w.Code != 200 {
		t.Errorf("per-route Middleware, listed route: status = %d, want 200", w.Code)
	}
	if w := serve(mux, "GET", "/unlisted", "alice", "admin"); w.Code != 403 {
		t.Errorf("per-route Middleware, unlisted route: status = %d, want 403", w.Code)
	}
	outer := a.Middleware(http.NewServeMux())
	if w := serve(outer, "GET", "/notes/1", "alice", "admin"); w.Code != 403 {
		t.Errorf("Middleware around a mux without Options.Mux: status = %d, want 403", w.Code)
	}
}

// Object-level authorization (OWASP API1:2023 BOLA, ASVS5 8.2.2): user A on user B's
// objects is refused for every method; owners and holders of ":any" pass.
func TestCheckAccess_BOLA_API1(t *testing.T) {
	owners := map[string]string{"1": "alice", "2": "bob"}
	handler := func(perm string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			owner, found := owners[r.PathValue("id")]
			if !found {
				http.NotFound(w, r)
				return
			}
			if !rbac.CheckAccess(w, r, owner, perm) {
				return
			}
			_, _ = w.Write([]byte("note of " + owner))
		}
	}
	h, _ := newMuxServer(t, rbac.Options{Policy: notesPolicy()}, func(mux *http.ServeMux) {
		mux.Handle("GET /items/{id}", rbac.Require("notes:read")(handler("notes:read")))
		mux.Handle("PUT /items/{id}", rbac.Require("notes:write")(handler("notes:write")))
		mux.Handle("DELETE /items/{id}", rbac.Require("notes:delete")(handler("notes:delete")))
	})
	for _, method := range []string{"GET", "PUT", "DELETE"} {
		for _, tt := range []struct {
			subject, role, id string
			want              int
		}{
			{"alice", "editor", "1", 200},    // own object
			{"alice", "editor", "2", 403},    // B's object
			{"bob", "editor", "1", 403},      // A's object
			{"mo", "moderator", "1", 200},    // notes:* covers notes:read:any
			{"alice", "suspended", "1", 403}, // own object, but suspended
		} {
			w := serve(h, method, "/items/"+tt.id, tt.subject, tt.role)
			if w.Code != tt.want {
				t.Errorf("%s /items/%s as %s (%s): status = %d, want %d", method, tt.id, tt.subject, tt.role, w.Code, tt.want)
			}
			if tt.want == 403 && strings.Contains(w.Body.String(), "note of") {
				t.Errorf("%s /items/%s as %s leaked %q", method, tt.id, tt.subject, w.Body)
			}
		}
	}
}

func TestCanAccess_API1(t *testing.T) {
	a := mustAuthorizer(t, rbac.Options{Policy: notesPolicy()})
	for _, tt := range []struct {
		name  string
		s     rbac.Subject
		owner string
		want  bool
	}{
		{"owner with permission", rbac.Subject{ID: "alice", Roles: []string{"viewer"}}, "alice", true},
		{"A on B's object", rbac.Subject{ID: "alice", Roles: []string{"editor"}}, "bob", false},
		{"B on A's object", rbac.Subject{ID: "bob", Roles: []string{"editor"}}, "alice", false},
		{"owner without permission", rbac.Subject{ID: "alice"}, "alice", false},
		{"any via wildcard", rbac.Subject{ID: "mo", Roles: []string{"moderator"}}, "alice", true},
		{"empty subject never owns", rbac.Subject{Roles: []string{"viewer"}}, "", false},
		{"object without owner", rbac.Subject{ID: "alice", Roles: []string{"viewer"}}, "", false},
		// Cross-tenant isolation (ASVS5 8.4.1): owners qualified by tenant never match
		// another tenant's subject of the same name.
		{"tenant A on tenant B", rbac.Subject{ID: "tenant-a/alice", Roles: []string{"editor"}}, "tenant-b/alice", false},
		{"same tenant owner", rbac.Subject{ID: "tenant-a/alice", Roles: []string{"editor"}}, "tenant-a/alice", true},
	} {
		if got := a.CanAccess(tt.s, tt.owner, "notes:read"); got != tt.want {
			t.Errorf("%s: CanAccess(%+v, %q, notes:read) = %v, want %v", tt.name, tt.s, tt.owner, got, tt.want)
		}
	}
}

func TestRouteReport_ASVS5_3_5_3(t *testing.T) {
	a := mustAuthorizer(t, rbac.Options{Policy: notesPolicy()})
	rep := a.RouteReport([]string{"GET /notes/{id}", "PUT /notes/{id}", "DELETE /notes/{id}", "GET /admin/", "GET /healthz", "/admin/delete", "POST /notes", "GET /notes/{id}"})
	want := rbac.RouteReport{
		Unlisted:     []string{"/admin/delete", "POST /notes"},
		Unregistered: []string{"DELETE /admin/users/{id}"},
		AnyMethod:    []string{"/admin/delete"},
	}
	if !slices.Equal(rep.Unlisted, want.Unlisted) || !slices.Equal(rep.Unregistered, want.Unregistered) || !slices.Equal(rep.AnyMethod, want.AnyMethod) || rep.OK() {
		t.Errorf("RouteReport = %+v, want %+v", rep, want)
	}
}

// Allowed makes no allocation, so authorization under attack costs no garbage.
func TestAllowed_ZeroAllocs(t *testing.T) {
	a := mustAuthorizer(t, rbac.Options{Policy: hierarchy50()})
	roles := []string{"viewer", "admin"}
	if n := testing.AllocsPerRun(100, func() { a.Allowed(roles, "res15:export") }); n != 0 {
		t.Errorf("Allowed allocations = %v, want 0", n)
	}
}
