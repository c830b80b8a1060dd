package encode_test

import (
	"crypto/tls"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/bulwark-go/bulwark/encode"
)

func ExampleHeaders() {
	headers, err := encode.Headers(encode.HeadersOptions{}) // the strict API profile
	if err != nil {
		fmt.Println(err)
		return
	}
	h := headers(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "upstream/1.0") // stripped before it reaches the client
		_ = encode.JSON(w, r, http.StatusOK, map[string]string{"status": "ok"})
	}))

	r := httptest.NewRequest("GET", "https://api.example.com/health", nil)
	r.TLS = &tls.ConnectionState{} // as if served by a TLS listener
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	for _, k := range []string{"Strict-Transport-Security", "Content-Security-Policy", "X-Content-Type-Options", "Cache-Control", "Server"} {
		fmt.Printf("%s: %q\n", k, w.Header().Get(k))
	}
	// Output:
	// Strict-Transport-Security: "max-age=63072000; includeSubDomains"
	// Content-Security-Policy: "default-src 'none'; frame-ancestors 'none'"
	// X-Content-Type-Options: "nosniff"
	// Cache-Control: "no-store"
	// Server: ""
}

var page = template.Must(template.New("page").Parse(
	`<script nonce="{{.Nonce}}" src="/app.js"></script><p>{{.Name}}</p>`))

func ExampleHeaders_document() {
	headers, err := encode.Headers(encode.HeadersOptions{Profile: encode.ProfileDocument})
	if err != nil {
		fmt.Println(err)
		return
	}
	h := headers(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nonce, _ := encode.NonceFromContext(r.Context())
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = page.Execute(w, struct{ Nonce, Name string }{nonce, "<b>Ann</b>"})
	}))

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	csp := w.Header().Get("Content-Security-Policy")
	nonce := strings.TrimPrefix(strings.Fields(csp)[3], "'nonce-")
	nonce = strings.TrimSuffix(nonce, "'")
	fmt.Println("policy:", strings.ReplaceAll(csp, nonce, "N"))
	fmt.Println("page:", strings.ReplaceAll(w.Body.String(), nonce, "N"))
	// Output:
	// policy: default-src 'self'; script-src 'nonce-N' 'strict-dynamic'; style-src 'self' 'nonce-N'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'
	// page: <script nonce="N" src="/app.js"></script><p>&lt;b&gt;Ann&lt;/b&gt;</p>
}

func ExampleRecover() {
	logger := slog.New(slog.DiscardHandler) // use your real logger: the panic and stack go there
	recoverer, err := encode.Recover(encode.RecoverOptions{Logger: logger})
	if err != nil {
		fmt.Println(err)
		return
	}
	h := recoverer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic("connection string postgres://admin:pw@db")
	}))

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	fmt.Println(w.Code, w.Header().Get("Content-Type"))
	fmt.Println(w.Body.String())
	// Output:
	// 500 application/problem+json
	// {"type":"about:blank","title":"Internal Server Error","status":500}
}

func ExampleRequestID() {
	requestID, err := encode.RequestID(encode.RequestIDOptions{}) // trust no incoming id
	if err != nil {
		fmt.Println(err)
		return
	}
	h := requestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		encode.WriteError(w, r, &encode.Error{Status: http.StatusNotFound})
	}))

	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-Request-Id", "forged-by-client")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	id := w.Header().Get("X-Request-Id")
	fmt.Println("kept the forged id:", id == "forged-by-client")
	fmt.Println("id in the problem body:", strings.Contains(w.Body.String(), `"request_id":"`+id+`"`))
	// Output:
	// kept the forged id: false
	// id in the problem body: true
}

func ExampleWriteError() {
	w := httptest.NewRecorder()
	encode.WriteError(w, httptest.NewRequest("POST", "/notes", nil), &encode.Error{
		Status: http.StatusBadRequest,
		Detail: "the request body is invalid",
		Errors: []encode.FieldError{{Pointer: "#/title", Detail: "is required"}},
		Err:    fmt.Errorf("validate: title missing (user 42)"), // logged, never sent
	})
	fmt.Println(w.Code, w.Header().Get("Content-Type"))
	fmt.Println(w.Body.String())
	// Output:
	// 400 application/problem+json
	// {"type":"about:blank","title":"Bad Request","status":400,"detail":"the request body is invalid","errors":[{"detail":"is required","pointer":"#/title"}]}
}

func ExampleErrorHandler() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // keep the example's output stable
			}
			return a
		},
	}))
	onError := encode.ErrorHandler(logger, "authz_fail")

	r := httptest.NewRequest("DELETE", "/notes/7?token=never-logged", nil)
	onError(httptest.NewRecorder(), r, &encode.Error{Status: http.StatusForbidden, Err: fmt.Errorf("rbac: missing notes:delete")})
	// Output:
	// level=WARN msg=authz_fail status=403 method=DELETE source_ip=192.0.2.1:1234 path=/notes/7 error="encode: 403 Forbidden: rbac: missing notes:delete"
}

func ExampleJSON() {
	w := httptest.NewRecorder()
	_ = encode.JSON(w, httptest.NewRequest("GET", "/", nil), http.StatusOK,
		map[string]string{"bio": "</script><script>alert(1)</script>"})
	fmt.Println(w.Header().Get("Content-Type"))
	fmt.Println(w.Body.String())
	// Output:
	// application/json; charset=utf-8
	// {"bio":"\u003c/script\u003e\u003cscript\u003ealert(1)\u003c/script\u003e"}
}

func ExampleNewUGCPolicy() {
	ugc := encode.NewUGCPolicy() // build once, share between goroutines
	fmt.Println(ugc.Sanitize(`<b>Hi</b> <a href="https://example.com" onclick="steal()">me</a><script>alert(1)</script>`))
	fmt.Println(ugc.Sanitize(`<a href="javascript:alert(1)">click</a><img src=x onerror=alert(1)>`))
	// Output:
	// <b>Hi</b> <a href="https://example.com" rel="nofollow noopener" target="_blank">me</a>
	// click<img src="x">
}

func ExampleNewStrictPolicy() {
	strict := encode.NewStrictPolicy()
	title, bio := `<h1>Ann</h1>`, `I <3 <i>Go</i>`
	strict.SanitizeFields(&title, &bio)
	fmt.Println(title)
	fmt.Println(bio)
	// Output:
	// Ann
	// I &lt;3 Go
}
