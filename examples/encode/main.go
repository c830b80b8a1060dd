// Command encode is a small server that shows bulwark's encode package at work: request ids,
// panic recovery, strict security headers, problem+json errors, safe JSON and an HTML page
// whose scripts run only with the response's CSP nonce.
//
//	go run ./examples/encode -addr 127.0.0.1:8080
package main

import (
	"context"
	"flag"
	"html/template"
	"log/slog"
	"net/http"
	"os"

	"github.com/bulwark-go/bulwark/encode"
	"github.com/bulwark-go/bulwark/tlsutil"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	flag.Parse()
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))

	h, err := newHandler(logger)
	if err != nil {
		logger.Error("sys_startup_fail", slog.String("error", err.Error()))
		os.Exit(1)
	}
	// A hardened server: header, read, write and idle timeouts and a header size cap, so slow
	// clients cannot hold it; graceful shutdown on SIGINT or SIGTERM. PlainHTTP because this
	// example listens on loopback only; a real API serves TLS (see tlsutil).
	srv, err := tlsutil.NewServer(tlsutil.ServerOptions{Addr: *addr, Handler: h, PlainHTTP: true, Logger: logger})
	if err != nil {
		logger.Error("sys_startup_fail", slog.String("error", err.Error()))
		os.Exit(1)
	}
	logger.Info("sys_startup", slog.String("addr", *addr))
	if err := tlsutil.ListenAndServe(context.Background(), srv); err != nil {
		logger.Error("sys_crash", slog.String("error", err.Error()))
		os.Exit(1)
	}
	logger.Info("sys_shutdown")
}

// note is what the API returns: only the fields a client may see (API3:2023).
type note struct {
	ID    int    `json:"id"`
	Title string `json:"title"`
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bulwark encode example</title>
<style nonce="{{.Nonce}}">body { font-family: sans-serif; }</style></head>
<body>
<h1>Notes</h1>
<div id="comment">{{.Comment}}</div>
<p id="status">script did not run</p>
<script nonce="{{.Nonce}}">document.getElementById("status").textContent = "script ran with the nonce";</script>
</body></html>`))

// newHandler wires the example's routes behind RequestID, Recover and Headers.
func newHandler(logger *slog.Logger) (http.Handler, error) {
	requestID, err := encode.RequestID(encode.RequestIDOptions{})
	if err != nil {
		return nil, err
	}
	recoverer, err := encode.Recover(encode.RecoverOptions{Logger: logger})
	if err != nil {
		return nil, err
	}
	apiHeaders, err := encode.Headers(encode.HeadersOptions{})
	if err != nil {
		return nil, err
	}
	docHeaders, err := encode.Headers(encode.HeadersOptions{Profile: encode.ProfileDocument})
	if err != nil {
		return nil, err
	}
	ugc := encode.NewUGCPolicy()
	notFound := encode.ErrorHandler(logger, "input_validation_fail")

	api := http.NewServeMux()
	api.HandleFunc("GET /api/notes", func(w http.ResponseWriter, r *http.Request) {
		_ = encode.JSON(w, r, http.StatusOK, []note{{1, "</script><script>alert(1)</script>"}, {2, "plain"}})
	})
	api.HandleFunc("GET /api/notes/{id}", func(w http.ResponseWriter, r *http.Request) {
		notFound(w, r, &encode.Error{Status: http.StatusNotFound, Detail: "no such note"})
	})
	api.HandleFunc("GET /api/boom", func(w http.ResponseWriter, r *http.Request) {
		panic("example panic: the client never sees this text")
	})

	doc := http.NewServeMux()
	doc.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		nonce, _ := encode.NonceFromContext(r.Context())
		// A comment as a user might submit it: the sanitizer keeps the formatting and drops
		// the script; the page's CSP would block it even if it survived.
		comment := ugc.Sanitize(r.URL.Query().Get("comment"))
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := page.Execute(w, struct {
			Nonce   string
			Comment template.HTML
		}{nonce, template.HTML(comment)}); err != nil { // comment was sanitized just above
			logger.LogAttrs(r.Context(), slog.LevelError, "sys_crash", slog.String("error", err.Error()))
		}
	})

	mux := http.NewServeMux()
	mux.Handle("/api/", apiHeaders(api))
	mux.Handle("/", docHeaders(doc))
	return requestID(recoverer(mux)), nil
}
