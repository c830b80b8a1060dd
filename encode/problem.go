package encode

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"
)

// ProblemContentType is the media type of RFC 9457 problem details.
const ProblemContentType = "application/problem+json"

// Error is an error that knows how it should be shown to a client.
//
// Status, Type, Title, Detail, Instance, Errors and RetryAfter are sent to the client by
// [WriteError]; Err is for the operator only and never leaves the process. A zero Error
// is a 500 with a generic title.
type Error struct {
	// Status is the HTTP status code. If it is not in 400..599, 500 is sent.
	Status int
	// Type is a URI reference naming the problem type. If empty, "about:blank" is sent,
	// and Title is ignored in favour of the status text, as RFC 9457 §4.2.1 asks.
	Type string
	// Title is the short, constant summary of Type. Only used when Type is set.
	Title string
	// Detail is an occurrence-specific explanation that is safe to show the client.
	// If empty, none is sent. Never put err.Error(), input or internals here.
	Detail string
	// Instance is a URI reference for this occurrence. If empty, none is sent.
	Instance string
	// Errors lists per-field problems (the "errors" extension member).
	Errors []FieldError
	// RetryAfter, if positive, tells the client when to retry. WriteError sends it as the
	// Retry-After header (if not already set) and as the "retry_after" member, in whole
	// seconds rounded up.
	RetryAfter time.Duration
	// Err is the cause, for logs. It is never sent to the client.
	Err error
}

// FieldError is one entry of the "errors" extension member: what is wrong with one part of
// the request. Exactly one of Pointer, Parameter or Header usually names the part.
type FieldError struct {
	Detail    string // client-safe explanation, e.g. "must be at most 100"
	Rule      string // the rule that failed, e.g. "max"; if empty, not sent
	Pointer   string // JSON Pointer into the request body, e.g. "/items/0/name"
	Parameter string // query or path parameter name
	Header    string // request header name
}

// Error returns the operator-facing text of e: the status, the detail and the cause.
func (e *Error) Error() string {
	s := "encode: " + strconv.Itoa(e.status()) + " " + http.StatusText(e.status())
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause, so that [errors.Is] sees the sentinel errors of the package that
// refused the request.
func (e *Error) Unwrap() error { return e.Err }

func (e *Error) status() int {
	if e.Status < 400 || e.Status > 599 {
		return http.StatusInternalServerError
	}
	return e.Status
}

// WriteError writes err as an RFC 9457 application/problem+json response.
//
// If err is or wraps an [*Error], its client-facing fields are used; any other error becomes a
// generic 500 whose text is never sent. The response also carries X-Content-Type-Options:
// nosniff and Cache-Control: no-store, and the request id (see [RequestID]) as the "request_id"
// member, so a user can quote it to support. WriteError does not log; see [ErrorHandler].
// It is the default ErrorHandler of every bulwark middleware.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	e := &internalError
	if !errors.As(err, &e) || e == nil {
		e = &internalError
	}
	status := e.status()
	retry := retrySeconds(e.RetryAfter)

	var id string
	if r != nil {
		id, _ = RequestIDFromContext(r.Context())
	}
	body := appendProblem(make([]byte, 0, 256), e, status, retry, id)

	h := w.Header()
	for _, k := range staleHeaders {
		delete(h, k)
	}
	// One array holds every value; each header gets a capacity-capped slice of it, so that
	// appending to one header cannot overwrite another.
	vals := &[5]string{ProblemContentType, "nosniff", "no-store", strconv.Itoa(len(body))}
	h["Content-Type"] = vals[0:1:1]
	h["X-Content-Type-Options"] = vals[1:2:2]
	h["Cache-Control"] = vals[2:3:3]
	h["Content-Length"] = vals[3:4:4]
	if retry > 0 && h.Get("Retry-After") == "" {
		vals[4] = strconv.FormatInt(retry, 10)
		h["Retry-After"] = vals[4:5:5]
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// internalError is what any error that is not an [*Error] is shown as. It is never modified.
var internalError = Error{Status: http.StatusInternalServerError}

// staleHeaders are response headers a handler may have set that would mislabel a problem body.
var staleHeaders = [...]string{"Content-Length", "Content-Encoding", "Content-Disposition", "Content-Range", "Etag", "Last-Modified"}

func retrySeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	s := int64(d / time.Second)
	if d%time.Second != 0 {
		s++
	}
	return s
}

// appendProblem appends the JSON object for e. It is written by hand rather than with
// encoding/json because refusals are the hot path under attack (a flood of 401s or 429s).
func appendProblem(b []byte, e *Error, status int, retry int64, requestID string) []byte {
	typ, title := "about:blank", http.StatusText(status)
	if e.Type != "" {
		typ = e.Type
		if e.Title != "" {
			title = e.Title
		}
	}
	if title == "" {
		title = "Error"
	}
	b = append(b, `{"type":`...)
	b = appendString(b, typ)
	b = append(b, `,"title":`...)
	b = appendString(b, title)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	if e.Detail != "" {
		b = append(b, `,"detail":`...)
		b = appendString(b, e.Detail)
	}
	if e.Instance != "" {
		b = append(b, `,"instance":`...)
		b = appendString(b, e.Instance)
	}
	if len(e.Errors) > 0 {
		b = append(b, `,"errors":[`...)
		for i, fe := range e.Errors {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendFieldError(b, fe)
		}
		b = append(b, ']')
	}
	if retry > 0 {
		b = append(b, `,"retry_after":`...)
		b = strconv.AppendInt(b, retry, 10)
	}
	if requestID != "" {
		b = append(b, `,"request_id":`...)
		b = appendString(b, requestID)
	}
	return append(b, '}')
}

func appendFieldError(b []byte, fe FieldError) []byte {
	b = append(b, `{"detail":`...)
	b = appendString(b, fe.Detail)
	for _, m := range [...]struct{ key, val string }{
		{`,"rule":`, fe.Rule},
		{`,"pointer":`, fe.Pointer},
		{`,"parameter":`, fe.Parameter},
		{`,"header":`, fe.Header},
	} {
		if m.val != "" {
			b = append(b, m.key...)
			b = appendString(b, m.val)
		}
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string with the same escaping as encoding/json's default:
// control characters, '"' and '\\' escaped; '<', '>', '&', U+2028 and U+2029 as \u escapes so
// the output is safe inside HTML and JavaScript; invalid UTF-8 replaced by U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// ErrorHandler returns the default error handler of bulwark's middleware: it logs err with
// logger under the OWASP logging-vocabulary name event (at Warn, or Error for a 5xx), then
// writes it with [WriteError]. If logger is nil, [slog.Default] is used.
//
// The log record carries the status, method, path (never the query string), client address,
// request id and err's text; it never carries request headers, cookies or bodies.
func ErrorHandler(logger *slog.Logger, event string) func(http.ResponseWriter, *http.Request, error) {
	if logger == nil {
		logger = slog.Default()
	}
	return func(w http.ResponseWriter, r *http.Request, err error) {
		LogRefusal(logger, r, event, err)
		WriteError(w, r, err)
	}
}

// LogRefusal logs err the way [ErrorHandler] does, for packages that pick the event name per
// error. A nil r or err is allowed.
func LogRefusal(logger *slog.Logger, r *http.Request, event string, err error) {
	status := http.StatusInternalServerError
	var e *Error
	if errors.As(err, &e) && e != nil {
		status = e.status()
	}
	level := slog.LevelWarn
	if status >= 500 {
		level = slog.LevelError
	}
	attrs := make([]slog.Attr, 0, 6)
	attrs = append(attrs, slog.Int("status", status))
	ctx := contextOf(r)
	if r != nil {
		attrs = append(attrs, slog.String("method", r.Method), slog.String("source_ip", r.RemoteAddr))
		if r.URL != nil {
			attrs = append(attrs, slog.String("path", r.URL.EscapedPath()))
		}
		if id, ok := RequestIDFromContext(ctx); ok {
			attrs = append(attrs, slog.String("request_id", id))
		}
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	logger.LogAttrs(ctx, level, event, attrs...)
}
