package validate

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/go-playground/validator/v10"

	"github.com/bulwark-go/bulwark/encode"
)

// maxPooledBuffer is the largest body buffer kept for reuse; bigger ones are left to the
// garbage collector, so that one large request does not pin memory.
const maxPooledBuffer = 64 << 10

// JSON returns middleware that accepts a request only if its body is exactly one strict
// JSON value that decodes into T and passes T's validate tags; the handler then reads the
// value with [Body]. T must be a struct type. It reports invalid options, and struct tags
// that cannot work, as an error and never panics on input.
//
// In order, a request is refused with:
//   - 415 if Content-Type is not application/json (or one of Options.ContentTypes) with at
//     most charset=utf-8, or if the body has a Content-Encoding (gzip only if enabled);
//   - 413 if the body is over Options.MaxBytes (or the decompressed body over
//     Options.GzipMaxBytes); the body is read only up to the cap, also when chunked;
//   - 400 if the body is empty, truncated, has data after the value, invalid UTF-8 or a
//     lone surrogate escape, or nests deeper than Options.MaxDepth;
//   - 400 listing each member that T does not declare (exact spelling: "EMAIL" does not
//     match "email"), each repeated key, each value of the wrong JSON type or that does
//     not fit its field (300 for an int8, 1.5 or "12" for an int), and each null for a
//     field that is not a pointer, slice, map or interface;
//   - 400 listing each field that breaks a validate rule, with a JSON pointer
//     ("/items/2/email"), the rule and a message, never the value.
//
// Then fields tagged sanitize are cleaned, and the rules are checked again on the cleaned
// value (see the package documentation). The middleware is safe for concurrent use.
func JSON[T any](opts Options) (func(http.Handler) http.Handler, error) {
	d, err := newBodyDecoder[T](opts)
	if err != nil {
		return nil, err
	}
	return func(next http.Handler) http.Handler {
		if next == nil {
			panic("validate: JSON wraps a nil handler")
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var v T
			if err := d.decode(w, r, &v); err != nil {
				d.refused(w, r, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(NewBodyContext(r.Context(), v)))
		})
	}, nil
}

type bodyKey[T any] struct{}

// NewBodyContext returns a copy of ctx that carries v as the body [Body] returns, for
// testing handlers without the middleware.
func NewBodyContext[T any](ctx context.Context, v T) context.Context {
	return context.WithValue(ctx, bodyKey[T]{}, v)
}

// Body returns the value [JSON] decoded and validated for r, and whether there was one.
// Treat it as read-only: slices and maps in it are shared with other readers of r.
func Body[T any](r *http.Request) (T, bool) {
	v, ok := r.Context().Value(bodyKey[T]{}).(T)
	return v, ok
}

type bodyDecoder struct {
	*core
	root         ref
	san          *sanitizer
	maxBytes     int64
	maxDepth     int
	gzipMax      int64
	contentTypes []string
	exactTypes   []string // Content-Type values accepted without parsing
	acceptTypes  string   // for Accept-Post and Accept-Patch
	pool         sync.Pool
}

type bodyState struct {
	buf []byte
	sc  scanner
}

func newBodyDecoder[T any](opts Options) (*bodyDecoder, error) {
	t := reflect.TypeFor[T]()
	c, errs := newCore(opts, t)
	d := &bodyDecoder{
		core:     c,
		maxBytes: opts.MaxBytes,
		maxDepth: opts.MaxDepth,
		gzipMax:  opts.GzipMaxBytes,
	}
	switch {
	case d.maxBytes == 0:
		d.maxBytes = DefaultMaxBytes
	case d.maxBytes < 0:
		errs = append(errs, fmt.Errorf("validate: MaxBytes %d is negative", opts.MaxBytes))
	}
	switch {
	case d.maxDepth == 0:
		d.maxDepth = DefaultMaxDepth
	case d.maxDepth < 0 || d.maxDepth > MaxDepthLimit:
		errs = append(errs, fmt.Errorf("validate: MaxDepth %d is not in 1..%d", opts.MaxDepth, MaxDepthLimit))
	}
	if d.gzipMax < 0 {
		errs = append(errs, fmt.Errorf("validate: GzipMaxBytes %d is negative", opts.GzipMaxBytes))
	}
	d.contentTypes = []string{"application/json"}
	if len(opts.ContentTypes) > 0 {
		d.contentTypes = d.contentTypes[:0]
		for _, ct := range opts.ContentTypes {
			mt, params, err := mime.ParseMediaType(ct)
			if err != nil || len(params) > 0 || mt != strings.ToLower(strings.TrimSpace(ct)) || strings.HasSuffix(mt, "/*") {
				errs = append(errs, fmt.Errorf("validate: ContentTypes: %q is not a media type without parameters", ct))
				continue
			}
			d.contentTypes = append(d.contentTypes, mt)
		}
	}
	d.acceptTypes = strings.Join(d.contentTypes, ", ")
	for _, ct := range d.contentTypes {
		d.exactTypes = append(d.exactTypes, ct, ct+"; charset=utf-8", ct+";charset=utf-8")
	}

	if t.Kind() == reflect.Struct {
		var serrs []error
		d.root, serrs = buildSchema(t)
		errs = append(errs, serrs...)
		errs = append(errs, c.checkTags(structTypes(d.root))...)
		var sanErrs []error
		d.san, sanErrs = newSanitizer(t)
		errs = append(errs, sanErrs...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	d.pool.New = func() any { return new(bodyState) }
	return d, nil
}

// refused sets the headers a refusal's status calls for, then hands it to ErrorHandler.
func (d *bodyDecoder) refused(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, ErrContentEncoding):
		if d.gzipMax > 0 {
			w.Header().Set("Accept-Encoding", "gzip")
		} else {
			w.Header().Set("Accept-Encoding", "identity")
		}
	case errors.Is(err, ErrContentType):
		switch r.Method {
		case http.MethodPost:
			w.Header().Set("Accept-Post", d.acceptTypes)
		case http.MethodPatch:
			w.Header().Set("Accept-Patch", d.acceptTypes)
		}
	}
	d.errorHandler(w, r, err)
}

// decode runs every step of JSON on r's body, storing the result in v.
func (d *bodyDecoder) decode(w http.ResponseWriter, r *http.Request, v any) error {
	if !d.contentTypeOK(r.Header.Values("Content-Type")) {
		return &encode.Error{Status: http.StatusUnsupportedMediaType,
			Detail: "Content-Type must be " + d.acceptTypes, Err: ErrContentType}
	}
	gz, err := d.gzipped(r.Header.Values("Content-Encoding"))
	if err != nil {
		return err
	}
	if r.ContentLength > d.maxBytes {
		return d.tooLarge(false)
	}

	st := d.pool.Get().(*bodyState)
	defer func() {
		if cap(st.buf) > maxPooledBuffer {
			st.buf = nil
		}
		if cap(st.sc.scratch) > maxPooledBuffer {
			st.sc.scratch = nil
		}
		st.sc.reset(nil, 0)
		d.pool.Put(st)
	}()

	rc := r.Body
	if rc == nil { // only a hand-built request; servers always set a Body
		rc = http.NoBody
	}
	var body io.Reader = http.MaxBytesReader(w, rc, d.maxBytes)
	limit := d.maxBytes
	if gz {
		zr, err := gzip.NewReader(body)
		if err != nil {
			return readError(err, d, true)
		}
		body, limit = zr, d.gzipMax
	}
	st.buf, err = readAll(body, st.buf[:0], limit, r.ContentLength)
	if err != nil {
		return readError(err, d, gz)
	}

	sc := &st.sc
	sc.reset(st.buf, d.maxDepth)
	sc.document(d.root)
	if err := scanError(sc); err != nil {
		return err
	}
	if err := json.Unmarshal(st.buf, v); err != nil {
		// The scan accepted the body, so an Unmarshaler or TextUnmarshaler refused its
		// value. Scan again, running them, to find which.
		sc.reset(st.buf, d.maxDepth)
		sc.diagnose = true
		sc.document(d.root)
		if err := scanError(sc); err != nil {
			return err
		}
		return &encode.Error{Status: http.StatusBadRequest, Detail: "the request body does not match the expected shape",
			Err: fmt.Errorf("%w: encoding/json refused a body the scan accepted (%T)", ErrInvalid, err)}
	}
	if err := d.validate(v); err != nil {
		return err
	}
	if d.san != nil {
		d.san.apply(reflect.ValueOf(v).Elem(), d.san.root)
		// Sanitizing changes lengths (trimming shortens, HTML escaping lengthens) and
		// can empty a required field: check every rule again on what the handler gets.
		if err := d.validate(v); err != nil {
			return err
		}
	}
	return nil
}

func (d *bodyDecoder) validate(v any) error {
	val := reflect.ValueOf(v)
	viols, err := d.check(v, func(ns string, fe validator.FieldError) Violation {
		ptr, sibling := bodyPointer(d.root, val, ns)
		return Violation{Pointer: ptr, Rule: fe.Tag(), Message: d.message(fe, sibling)}
	})
	if err != nil {
		return err
	}
	if len(viols) > 0 {
		return refuse(viols, ErrInvalid)
	}
	return nil
}

func scanError(sc *scanner) error {
	if sc.err != nil {
		detail := "the request body is not valid JSON: " + sc.err.Error() + " at byte " + strconv.Itoa(sc.errPos)
		if sc.err == errDepth {
			detail = "the request body nests deeper than " + strconv.Itoa(sc.maxDepth) + " levels"
		}
		return &encode.Error{Status: http.StatusBadRequest, Detail: detail,
			Err: fmt.Errorf("%w: %w at byte %d", ErrMalformed, sc.err, sc.errPos)}
	}
	if len(sc.viols) == 0 {
		return nil
	}
	var kinds []error
	if sc.found&foundType != 0 {
		kinds = append(kinds, ErrInvalid)
	}
	if sc.found&foundUnknown != 0 {
		kinds = append(kinds, ErrUnknownField)
	}
	if sc.found&foundDuplicate != 0 {
		kinds = append(kinds, ErrDuplicate)
	}
	return refuse(slices.Clone(sc.viols), kinds...)
}

// contentTypeOK accepts exactly one Content-Type that is an accepted media type, with no
// parameter but charset=utf-8. Anything else is refused rather than guessed at: a body
// labelled text/plain is how a browser form sends JSON cross-site without a preflight.
func (d *bodyDecoder) contentTypeOK(values []string) bool {
	if len(values) != 1 {
		return false
	}
	ct := values[0]
	for _, want := range d.exactTypes {
		if strings.EqualFold(ct, want) {
			return true
		}
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || !slices.Contains(d.contentTypes, mt) {
		return false
	}
	for k, v := range params {
		if k != "charset" || !strings.EqualFold(v, "utf-8") {
			return false
		}
	}
	return true
}

// gzipped reports whether the body is gzip-compressed, refusing any other coding and gzip
// unless it is enabled.
func (d *bodyDecoder) gzipped(values []string) (bool, error) {
	var coding string
	switch len(values) {
	case 0:
		return false, nil
	case 1:
		coding = strings.ToLower(strings.TrimSpace(values[0]))
	}
	switch {
	case coding == "identity":
		return false, nil
	case (coding == "gzip" || coding == "x-gzip") && d.gzipMax > 0:
		return true, nil
	}
	return false, &encode.Error{Status: http.StatusUnsupportedMediaType,
		Detail: "the request body must not be compressed", Err: ErrContentEncoding}
}

func (d *bodyDecoder) tooLarge(decompressed bool) error {
	if decompressed {
		return &encode.Error{Status: http.StatusRequestEntityTooLarge,
			Detail: "the decompressed request body is larger than " + strconv.FormatInt(d.gzipMax, 10) + " bytes",
			Err:    fmt.Errorf("%w: over GzipMaxBytes after decompression", ErrTooLarge)}
	}
	return &encode.Error{Status: http.StatusRequestEntityTooLarge,
		Detail: "the request body is larger than " + strconv.FormatInt(d.maxBytes, 10) + " bytes",
		Err:    ErrTooLarge}
}

// errOverLimit is readAll's own cap, for the decompressed body.
var errOverLimit = errors.New("validate: over the limit")

func readError(err error, d *bodyDecoder, gz bool) error {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return d.tooLarge(false)
	case errors.Is(err, errOverLimit):
		return d.tooLarge(gz)
	case gz && (errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum) || errors.Is(err, io.ErrUnexpectedEOF)):
		return &encode.Error{Status: http.StatusBadRequest, Detail: "the request body is not valid gzip",
			Err: fmt.Errorf("%w: gzip: %w", ErrMalformed, err)}
	}
	// The client went away or sent a broken chunked encoding.
	return &encode.Error{Status: http.StatusBadRequest, Detail: "the request body could not be read",
		Err: fmt.Errorf("%w: reading the body: %w", ErrMalformed, err)}
}

// readAll appends r to buf until EOF, failing with errOverLimit as soon as more than limit
// bytes arrive, so that it never reads more than limit+1 bytes. size, if known, sizes the
// buffer.
func readAll(r io.Reader, buf []byte, limit, size int64) ([]byte, error) {
	if size > 0 && size <= limit && int64(cap(buf)) < size+1 {
		buf = make([]byte, 0, size+1) // +1 to see EOF without growing
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		room := buf[len(buf):cap(buf)]
		if over := int64(len(buf)) + int64(len(room)) - (limit + 1); over > 0 {
			room = room[:int64(len(room))-over]
		}
		n, err := r.Read(room)
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return buf, errOverLimit
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}
