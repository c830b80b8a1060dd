package validate

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/go-playground/validator/v10"

	"github.com/bulwark-go/bulwark/encode"
)

// Sentinel errors passed to ErrorHandler inside an [*encode.Error]; match them with
// [errors.Is]. One refusal may match several (a body with an unknown member and a
// duplicate key matches [ErrUnknownField] and [ErrDuplicate]).
var (
	// ErrContentType means the request's Content-Type is not an accepted JSON media type:
	// 415, with Accept-Post or Accept-Patch naming the accepted types.
	ErrContentType = errors.New("validate: unsupported content type")
	// ErrContentEncoding means the body has a Content-Encoding that is not accepted (any
	// but gzip, and gzip unless Options.GzipMaxBytes is set): 415 with Accept-Encoding.
	ErrContentEncoding = errors.New("validate: unsupported content encoding")
	// ErrTooLarge means the body, or its gzip-decompressed form, is over the cap: 413.
	ErrTooLarge = errors.New("validate: request body too large")
	// ErrMalformed means the body is not exactly one well-formed JSON value (truncated,
	// trailing data, invalid UTF-8 or lone surrogates, nesting over Options.MaxDepth,
	// empty), or the query string is not well formed: 400.
	ErrMalformed = errors.New("validate: malformed input")
	// ErrUnknownField means the body has a member, or the query string a parameter, that
	// the target struct does not declare, including one that differs from a declared name
	// only in case: 400 (mass assignment, ASVS5 15.3.3).
	ErrUnknownField = errors.New("validate: unknown field")
	// ErrDuplicate means a JSON object repeats a key, or the query string repeats a
	// parameter bound to a field that is not a slice: 400 (ASVS5 1.5.3, 15.3.7).
	ErrDuplicate = errors.New("validate: duplicate key or parameter")
	// ErrInvalid means a value has the wrong type, does not fit its field, or breaks a
	// validation rule: 400 with one entry per field.
	ErrInvalid = errors.New("validate: invalid value")
)

// Event is the OWASP logging-vocabulary name the default ErrorHandler logs refusals under.
const Event = "input_validation_fail"

// Default limits.
const (
	DefaultMaxBytes = 1 << 20 // body cap if Options.MaxBytes is zero
	DefaultMaxDepth = 32      // nesting cap if Options.MaxDepth is zero
	MaxDepthLimit   = 1000    // the largest Options.MaxDepth accepted
)

// Options configures [JSON] and [Query]. The zero value is valid and strict: JSON bodies of
// at most 1 MiB, nested at most 32 deep, with Content-Type application/json and no
// Content-Encoding; unknown members and parameters refused; the safeurl rule allows https
// only.
type Options struct {
	// MaxBytes caps the request body (JSON only). If zero, 1 MiB. Beyond it: 413, and the
	// rest of the body is not read.
	MaxBytes int64
	// MaxDepth caps how deeply objects and arrays nest (JSON only). If zero, 32; at most
	// 1000.
	MaxDepth int
	// ContentTypes lists the accepted media types, without parameters, such as
	// "application/merge-patch+json" (JSON only). If empty, "application/json". The only
	// parameter accepted is charset=utf-8.
	ContentTypes []string
	// GzipMaxBytes, if positive, accepts Content-Encoding: gzip and caps the decompressed
	// body at this many bytes (413 beyond), besides MaxBytes on the compressed body. If
	// zero, a body with any Content-Encoding is refused with 415, so a small request
	// cannot expand into a large one (a "zip bomb").
	GzipMaxBytes int64

	// AllowUnknownParameters lets [Query] ignore query parameters that no field declares.
	// If false, they are refused with 400.
	AllowUnknownParameters bool
	// PathValue returns the named path parameter of r (Query only). If nil,
	// [http.Request.PathValue], which [http.ServeMux] fills in.
	PathValue func(r *http.Request, name string) string

	// URLSchemes are the schemes the "safeurl" rule allows, lower case. If empty, "https".
	URLSchemes []string
	// Patterns are rules backed by a regular expression, by rule name: a field tagged
	// validate:"sku" must match Patterns["sku"] in full. Expressions are RE2 (linear time,
	// ASVS5 1.3.12) and compiled once, at construction.
	Patterns map[string]string
	// Rules are custom validator rules by name, registered once at construction. A name
	// may not shadow a built-in rule, "safeurl", or a Patterns name.
	Rules map[string]validator.Func

	// ErrorHandler writes the response when a request is refused; err is an
	// [*encode.Error] wrapping the sentinels above. If nil, refusals are logged under
	// [Event] and written as application/problem+json by [encode.ErrorHandler].
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	// Logger receives the default ErrorHandler's records. If nil, [slog.Default].
	Logger *slog.Logger
}

// Violation is one thing wrong with a request: which part, which rule, and a message for
// the client. It never holds the offending value.
type Violation struct {
	// Pointer is a JSON Pointer (RFC 6901) into the body built from JSON member names,
	// such as "/items/2/email"; "" means the whole body. Empty for parameters.
	Pointer string
	// Parameter is the query or path parameter's name. Empty for body fields.
	Parameter string
	// Rule is the rule that failed: a validator tag ("required", "max", "email", a
	// custom rule's name), or "type" (wrong JSON type, a number that does not fit, or
	// null for a field that cannot hold it), "unknown", "duplicate", or "max" for a Go
	// array given more elements than it holds.
	Rule string
	// Message is a short English explanation safe to show the client, such as
	// "must be at most 100".
	Message string
}

// InvalidError is the cause ([encode.Error].Err) of a refusal that names fields: it lists
// every violation, up to 20. It matches [ErrInvalid], [ErrUnknownField] and [ErrDuplicate]
// as its violations do. Its text holds pointers and rule names, never values.
type InvalidError struct {
	Violations []Violation
	kinds      []error
}

// Error returns the violations as "validate: invalid request: /age: type; /email: email".
func (e *InvalidError) Error() string {
	var sb strings.Builder
	sb.WriteString("validate: invalid request")
	for i, v := range e.Violations {
		if i == 0 {
			sb.WriteString(": ")
		} else {
			sb.WriteString("; ")
		}
		switch {
		case v.Parameter != "":
			sb.WriteString("parameter " + v.Parameter)
		case v.Pointer == "":
			sb.WriteString("body")
		default:
			sb.WriteString(v.Pointer)
		}
		sb.WriteString(": " + v.Rule)
	}
	return sb.String()
}

// Unwrap returns the sentinels the violations match.
func (e *InvalidError) Unwrap() []error { return e.kinds }

// refuse builds the 400 for a list of violations.
func refuse(viols []Violation, kinds ...error) *encode.Error {
	if len(viols) > maxViolations {
		viols = viols[:maxViolations]
	}
	fe := make([]encode.FieldError, len(viols))
	for i, v := range viols {
		fe[i] = encode.FieldError{Detail: v.Message, Rule: v.Rule, Pointer: v.Pointer, Parameter: v.Parameter}
	}
	return &encode.Error{
		Status: http.StatusBadRequest,
		Detail: "the request has invalid fields",
		Errors: fe,
		Err:    &InvalidError{Violations: viols, kinds: kinds},
	}
}

// core is what JSON and Query share: the validator, rules and error handling.
type core struct {
	v            *validator.Validate
	errorHandler func(http.ResponseWriter, *http.Request, error)
	patterns     map[string]bool // names of Patterns rules, for messages
	schemes      string          // URLSchemes, for messages
	typeName     string          // the target type's name, as validator prefixes it
}

func newCore(opts Options, t reflect.Type) (*core, []error) {
	var errs []error
	if t.Kind() != reflect.Struct {
		errs = append(errs, fmt.Errorf("validate: %s is not a struct type", t))
	}
	c := &core{
		v:            validator.New(validator.WithRequiredStructEnabled()),
		errorHandler: opts.ErrorHandler,
		patterns:     make(map[string]bool, len(opts.Patterns)),
		typeName:     t.Name(),
	}
	if c.errorHandler == nil {
		c.errorHandler = encode.ErrorHandler(opts.Logger, Event)
	}

	schemes := slices.Clone(opts.URLSchemes)
	if len(schemes) == 0 {
		schemes = []string{"https"}
	}
	for _, s := range schemes {
		if !validScheme(s) {
			errs = append(errs, fmt.Errorf("validate: URLSchemes: %q is not a lower-case URL scheme", s))
		}
	}
	c.schemes = strings.Join(schemes, ", ")
	errs = append(errs, c.register("safeurl", safeURL(schemes))...)

	for _, name := range slices.Sorted(mapKeys(opts.Patterns)) {
		re, err := regexp.Compile(`^(?:` + opts.Patterns[name] + `)$`)
		if err != nil {
			errs = append(errs, fmt.Errorf("validate: Patterns[%q]: %w", name, err))
			continue
		}
		c.patterns[name] = true
		errs = append(errs, c.register(name, func(fl validator.FieldLevel) bool {
			f := fl.Field()
			return f.Kind() == reflect.String && re.MatchString(f.String())
		})...)
	}
	for _, name := range slices.Sorted(mapKeys(opts.Rules)) {
		if c.patterns[name] {
			errs = append(errs, fmt.Errorf("validate: Rules[%q]: also named in Patterns", name))
			continue
		}
		if opts.Rules[name] == nil {
			errs = append(errs, fmt.Errorf("validate: Rules[%q]: nil function", name))
			continue
		}
		errs = append(errs, c.register(name, opts.Rules[name])...)
	}
	return c, errs
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// register adds a rule, refusing names that would shadow a built-in rule or are not plain
// identifiers (validator panics on those).
func (c *core) register(name string, fn validator.Func) (errs []error) {
	defer func() {
		if p := recover(); p != nil { // validator panics on its reserved tags
			errs = []error{fmt.Errorf("validate: rule name %q is reserved", name)}
		}
	}()
	if !validRuleName(name) {
		return []error{fmt.Errorf("validate: rule name %q must be letters, digits and '_'", name)}
	}
	if c.defined(name) {
		return []error{fmt.Errorf("validate: rule name %q is already defined", name)}
	}
	if err := c.v.RegisterValidation(name, fn); err != nil {
		return []error{fmt.Errorf("validate: rule %q: %w", name, err)}
	}
	return nil
}

// defined reports whether name is already a rule. validator has no lookup, but panics
// with "Undefined validation function" when a tag names no rule.
func (c *core) defined(name string) (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			msg, _ := p.(string)
			ok = !strings.Contains(msg, "Undefined validation function")
		}
	}()
	_ = c.v.Var("", name)
	return true
}

func validRuleName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c != '_' && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func validScheme(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// safeURL is the "safeurl" rule: an absolute URL with an allowed scheme, a host, and no
// user information (which phishing links use to hide the real host).
func safeURL(schemes []string) validator.Func {
	return func(fl validator.FieldLevel) bool {
		f := fl.Field()
		if f.Kind() != reflect.String {
			return false
		}
		s := f.String()
		if strings.ContainsAny(s, " \t\r\n\\") {
			return false
		}
		u, err := url.Parse(s)
		if err != nil || u.Opaque != "" || u.Host == "" || u.User != nil {
			return false
		}
		return slices.Contains(schemes, u.Scheme) // url.Parse lower-cases the scheme
	}
}

// checkTags validates a zero value of every struct type reachable from the target, so
// that a malformed or unknown validate tag fails at construction instead of panicking
// inside validator on the first request.
func (c *core) checkTags(types []reflect.Type) (errs []error) {
	for _, t := range types {
		func() {
			defer func() {
				if p := recover(); p != nil {
					errs = append(errs, fmt.Errorf("validate: validate tags of %s: %v", t, p))
				}
			}()
			_ = c.v.Struct(reflect.New(t).Interface())
		}()
	}
	return errs
}

// errPanic is the cause of a 500 when a rule panics on a request: a tag applied to a type
// it does not support, or a custom rule's bug. It never carries the panic value, which may
// hold input.
var errPanic = errors.New("validate: a validation rule panicked; check the validate tags and custom rules")

// check runs validator on v, a pointer to the target struct, and returns the violations
// with their pointers (names returns them for one namespace).
func (c *core) check(v any, names func(ns string, fe validator.FieldError) Violation) (viols []Violation, err error) {
	defer func() {
		if p := recover(); p != nil {
			viols, err = nil, &encode.Error{Status: http.StatusInternalServerError, Err: errPanic}
		}
	}()
	verr := c.v.Struct(v)
	if verr == nil {
		return nil, nil
	}
	var ves validator.ValidationErrors
	if !errors.As(verr, &ves) {
		return nil, &encode.Error{Status: http.StatusInternalServerError, Err: fmt.Errorf("validate: %w", verr)}
	}
	for _, fe := range ves {
		if len(viols) == maxViolations {
			break
		}
		ns := fe.StructNamespace()
		if c.typeName != "" {
			ns = strings.TrimPrefix(ns, c.typeName+".")
		}
		viols = append(viols, names(ns, fe))
	}
	return viols, nil
}
