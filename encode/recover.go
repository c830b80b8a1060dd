package encode

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
)

// ErrPanic is the cause [Recover] logs when the wrapped handler panicked.
var ErrPanic = errors.New("encode: handler panicked")

// unfinishedHeaders are dropped from the response to a request whose handler panicked.
var unfinishedHeaders = [...]string{"Set-Cookie", "Location", "Refresh", "Clear-Site-Data"}

// RecoverOptions configures [Recover]. The zero value is valid: panics are logged with
// slog.Default and answered with a generic 500 problem.
type RecoverOptions struct {
	// ErrorHandler writes the response after a panic. It receives an [*Error] with status
	// 500 that wraps ErrPanic. If nil, [WriteError].
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	// Logger receives the panic value and the stack at Error level under the event name
	// "sys_crash". If nil, slog.Default().
	Logger *slog.Logger
}

// Recover returns middleware that turns a panic in the wrapped handler into a generic 500
// problem+json response and one log record with the panic value, the stack and the request
// id. Clients never see the panic value or the stack.
//
// Headers the handler set before panicking stay, except Set-Cookie, Location, Refresh and
// Clear-Site-Data: a request that crashed half way must not still set a session cookie.
// A panic with [http.ErrAbortHandler] is passed on, as net/http expects. If the handler had
// already started the response, no second header is written: the panic is logged and the
// connection is aborted with http.ErrAbortHandler, so the client sees a truncated response
// rather than one that looks complete. It reports invalid options as an error and never panics.
func Recover(opts RecoverOptions) (func(http.Handler) http.Handler, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	errorHandler := opts.ErrorHandler
	if errorHandler == nil {
		errorHandler = WriteError
	}
	return func(next http.Handler) http.Handler {
		if next == nil {
			panic("encode: Recover wraps a nil handler")
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rw := &startedWriter{ResponseWriter: w}
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if v == http.ErrAbortHandler { // compared as net/http does, not with errors.Is
					panic(v)
				}
				attrs := []slog.Attr{
					slog.String("panic", fmt.Sprint(v)),
					slog.String("method", r.Method),
					slog.String("path", r.URL.EscapedPath()),
					slog.Bool("response_started", rw.started),
					slog.String("stack", string(debug.Stack())),
				}
				if id, ok := RequestIDFromContext(r.Context()); ok {
					attrs = append(attrs, slog.String("request_id", id))
				}
				logger.LogAttrs(r.Context(), slog.LevelError, "sys_crash", attrs...)
				if rw.started {
					panic(http.ErrAbortHandler)
				}
				// The handler may have set these before it failed; a crashed request must not
				// still log a user in, or send them somewhere.
				h := w.Header()
				for _, k := range unfinishedHeaders {
					delete(h, k)
				}
				errorHandler(w, r, &Error{Status: http.StatusInternalServerError, Err: ErrPanic})
			}()
			next.ServeHTTP(rw, r)
		})
	}, nil
}

// startedWriter records whether the response header has gone out.
type startedWriter struct {
	http.ResponseWriter
	started bool
}

func (w *startedWriter) WriteHeader(code int) {
	if code >= 200 {
		w.started = true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *startedWriter) Write(p []byte) (int, error) {
	w.started = true
	return w.ResponseWriter.Write(p)
}

// Flush sends buffered data to the client, as [http.Flusher].
func (w *startedWriter) Flush() {
	w.started = true
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack lets the handler take over the connection, as [http.Hijacker]. After it, a panic
// cannot be answered with a response.
func (w *startedWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.started = true
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap returns the wrapped writer, for [http.ResponseController].
func (w *startedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
