package validate

import (
	"context"
	"encoding"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-playground/validator/v10"

	"github.com/bulwark-go/bulwark/encode"
)

// Query returns middleware that binds the query string and path parameters of a request to
// the fields of T tagged query:"name" or path:"name", checks T's validate tags, and passes
// the value to the handler through [Params]. T must be a struct type; fields without either
// tag are left zero. It reports invalid options and fields it cannot bind as an error and
// never panics on input.
//
// Field types: string, bool, integers, floats, [encoding.TextUnmarshaler] types, pointers
// to them (nil when the parameter is absent), and, for query parameters, slices of them.
// Fields of embedded structs are bound too.
//
// The query string is decoded once (ASVS5 1.1.1); a request is refused with 400 if it is
// malformed (a bad %-escape, a ';' separator, invalid UTF-8), names a parameter that no
// field declares (unless Options.AllowUnknownParameters), repeats a parameter whose field
// is not a slice (HTTP parameter pollution, ASVS5 15.3.7), holds a value that does not
// parse or fit (bool takes only "true" and "false"; numbers take no '+', NaN or Inf), or
// breaks a validate rule. Each refused parameter is named in the problem's errors; values
// never are. The middleware is safe for concurrent use.
func Query[T any](opts Options) (func(http.Handler) http.Handler, error) {
	b, err := newBinder[T](opts)
	if err != nil {
		return nil, err
	}
	return func(next http.Handler) http.Handler {
		if next == nil {
			panic("validate: Query wraps a nil handler")
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var v T
			if err := b.bind(r, reflect.ValueOf(&v).Elem()); err != nil {
				b.errorHandler(w, r, err)
				return
			}
			if err := b.validate(&v); err != nil {
				b.errorHandler(w, r, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(NewParamsContext(r.Context(), v)))
		})
	}, nil
}

type paramsKey[T any] struct{}

// NewParamsContext returns a copy of ctx that carries v as the parameters [Params] returns,
// for testing handlers without the middleware.
func NewParamsContext[T any](ctx context.Context, v T) context.Context {
	return context.WithValue(ctx, paramsKey[T]{}, v)
}

// Params returns the value [Query] bound and validated for r, and whether there was one.
func Params[T any](r *http.Request) (T, bool) {
	v, ok := r.Context().Value(paramsKey[T]{}).(T)
	return v, ok
}

type binder struct {
	*core
	fields       []param
	query        map[string]*param
	byNamespace  map[string]*param // Go namespace ("Page.Limit") to parameter
	allowUnknown bool
	pathValue    func(*http.Request, string) string
}

type param struct {
	name  string
	path  bool  // a path parameter rather than a query parameter
	index []int // Go field index path
	typ   reflect.Type
	slice bool // a slice: the parameter may repeat
	ptr   bool // a pointer: nil when absent
	elem  reflect.Type
}

func newBinder[T any](opts Options) (*binder, error) {
	t := reflect.TypeFor[T]()
	c, errs := newCore(opts, t)
	b := &binder{
		core:         c,
		query:        map[string]*param{},
		byNamespace:  map[string]*param{},
		allowUnknown: opts.AllowUnknownParameters,
		pathValue:    opts.PathValue,
	}
	if b.pathValue == nil {
		b.pathValue = func(r *http.Request, name string) string { return r.PathValue(name) }
	}
	if t.Kind() == reflect.Struct {
		errs = append(errs, b.collect(t, nil, "")...)
		errs = append(errs, c.checkTags([]reflect.Type{t})...)
		paths := map[string]bool{}
		for i := range b.fields {
			p := &b.fields[i]
			if p.path {
				if paths[p.name] {
					errs = append(errs, fmt.Errorf("validate: path parameter %q is bound twice", p.name))
				}
				paths[p.name] = true
				continue
			}
			if b.query[p.name] != nil {
				errs = append(errs, fmt.Errorf("validate: query parameter %q is bound twice", p.name))
			}
			b.query[p.name] = p
		}
		for i := range b.fields {
			b.byNamespace[namespaceOf(t, b.fields[i].index)] = &b.fields[i]
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return b, nil
}

// collect finds the tagged fields of t, descending into embedded structs.
func (b *binder) collect(t reflect.Type, index []int, where string) []error {
	var errs []error
	for i := range t.NumField() {
		sf := t.Field(i)
		idx := append(slices.Clone(index), i)
		fwhere := where + sf.Name
		q, hasQ := sf.Tag.Lookup("query")
		p, hasP := sf.Tag.Lookup("path")
		if !hasQ && !hasP {
			if sf.Anonymous && sf.Type.Kind() == reflect.Struct {
				errs = append(errs, b.collect(sf.Type, idx, fwhere+".")...)
			}
			continue
		}
		switch {
		case hasQ && hasP:
			errs = append(errs, fmt.Errorf("validate: field %s has both a query and a path tag", fwhere))
			continue
		case !sf.IsExported():
			errs = append(errs, fmt.Errorf("validate: field %s is not exported", fwhere))
			continue
		}
		name := q
		if hasP {
			name = p
		}
		if name == "" || name == "-" || !utf8.ValidString(name) {
			errs = append(errs, fmt.Errorf("validate: field %s: parameter name %q is not usable", fwhere, name))
			continue
		}
		f := param{name: name, path: hasP, index: idx, typ: sf.Type}
		et := sf.Type
		switch {
		case et.Kind() == reflect.Pointer:
			f.ptr, et = true, et.Elem()
		case et.Kind() == reflect.Slice && !scalar(et):
			f.slice, et = true, et.Elem()
		}
		f.elem = et
		if !scalar(et) {
			errs = append(errs, fmt.Errorf("validate: field %s: cannot bind a parameter to %s", fwhere, sf.Type))
			continue
		}
		if f.slice && f.path {
			errs = append(errs, fmt.Errorf("validate: field %s: a path parameter cannot be a slice", fwhere))
			continue
		}
		b.fields = append(b.fields, f)
	}
	return errs
}

// scalar reports whether a single parameter value can be parsed into t.
func scalar(t reflect.Type) bool {
	if reflect.PointerTo(t).Implements(textUnmarshalerType) {
		return true
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// namespaceOf returns validator's struct namespace of a field, without the root type.
func namespaceOf(t reflect.Type, index []int) string {
	names := make([]string, len(index))
	for i, n := range index {
		f := t.Field(n)
		names[i] = f.Name
		t = f.Type
	}
	return strings.Join(names, ".")
}

func (b *binder) bind(r *http.Request, v reflect.Value) error {
	var raw string
	if r.URL != nil { // nil only on a hand-built request
		raw = r.URL.RawQuery
	}
	values, err := url.ParseQuery(raw)
	if err != nil {
		return &encode.Error{Status: http.StatusBadRequest, Detail: "the query string is malformed",
			Err: fmt.Errorf("%w: query string: %w", ErrMalformed, err)}
	}
	var viols []Violation
	var kinds []error
	if !b.allowUnknown {
		var unknown []string
		for k := range values {
			if b.query[k] == nil {
				unknown = append(unknown, k)
			}
		}
		slices.Sort(unknown)
		for _, k := range unknown {
			if len(k) > maxTokenLen || !utf8.ValidString(k) {
				k = "" // named only if short and printable as text
			}
			viols = append(viols, Violation{Parameter: k, Rule: "unknown", Message: "is not a known parameter"})
		}
		if len(unknown) > 0 {
			kinds = append(kinds, ErrUnknownField)
		}
	}
	dup, bad := false, false
	for i := range b.fields {
		p := &b.fields[i]
		var vals []string
		if p.path {
			if s := b.pathValue(r, p.name); s != "" {
				vals = []string{s}
			}
		} else {
			vals = values[p.name]
		}
		if len(vals) == 0 {
			continue
		}
		if len(vals) > 1 && !p.slice {
			viols = append(viols, Violation{Parameter: p.name, Rule: "duplicate", Message: "must be given once"})
			dup = true
			continue
		}
		if msg := p.set(v.FieldByIndex(p.index), vals); msg != "" {
			viols = append(viols, Violation{Parameter: p.name, Rule: "type", Message: msg})
			bad = true
		}
	}
	if dup {
		kinds = append(kinds, ErrDuplicate)
	}
	if bad {
		kinds = append(kinds, ErrInvalid)
	}
	if len(viols) > 0 {
		return refuse(viols, kinds...)
	}
	return nil
}

// set parses vals into the field f, returning a client-safe message if they do not fit.
func (p *param) set(f reflect.Value, vals []string) string {
	switch {
	case p.slice:
		s := reflect.MakeSlice(p.typ, len(vals), len(vals))
		for i, val := range vals {
			if msg := parseInto(s.Index(i), val); msg != "" {
				return msg
			}
		}
		f.Set(s)
	case p.ptr:
		e := reflect.New(p.elem)
		if msg := parseInto(e.Elem(), vals[0]); msg != "" {
			return msg
		}
		f.Set(e)
	default:
		return parseInto(f, vals[0])
	}
	return ""
}

// parseInto parses one parameter value into v. It is stricter than strconv: the value
// must be valid UTF-8, booleans are "true" or "false", and numbers are plain decimal.
func parseInto(v reflect.Value, s string) string {
	if !utf8.ValidString(s) {
		return "must be valid UTF-8"
	}
	if u, ok := v.Addr().Interface().(encoding.TextUnmarshaler); ok {
		if u.UnmarshalText([]byte(s)) != nil {
			return "is not a valid value"
		}
		return ""
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		switch s {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			return "must be true or false"
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, v.Type().Bits())
		if err != nil || !plainNumber(s, false) {
			bits := v.Type().Bits()
			return "must be an integer from " + strconv.FormatInt(math.MinInt64>>(64-bits), 10) +
				" to " + strconv.FormatInt(math.MaxInt64>>(64-bits), 10)
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(s, 10, v.Type().Bits())
		if err != nil || !plainNumber(s, false) {
			return "must be an integer from 0 to " + strconv.FormatUint(math.MaxUint64>>(64-v.Type().Bits()), 10)
		}
		v.SetUint(n)
	case reflect.Float32, reflect.Float64:
		n, err := strconv.ParseFloat(s, v.Type().Bits())
		if err != nil || !plainNumber(s, true) || math.IsInf(n, 0) || math.IsNaN(n) {
			return "must be a decimal number"
		}
		v.SetFloat(n)
	}
	return ""
}

// plainNumber reports whether s is written with an optional '-', digits and, for floats,
// '.', 'e' and 'E' and a sign after the exponent: no '+' in front, no "0x", '_', "Inf" or
// "NaN".
func plainNumber(s string, float bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
		case c == '-' && (i == 0 || float && (s[i-1] == 'e' || s[i-1] == 'E')):
		case float && c == '+' && i > 0 && (s[i-1] == 'e' || s[i-1] == 'E'):
		case float && (c == '.' || c == 'e' || c == 'E'):
		default:
			return false
		}
	}
	return s != ""
}

func (b *binder) validate(v any) error {
	viols, err := b.check(v, func(ns string, fe validator.FieldError) Violation {
		if i := strings.IndexByte(ns, '['); i >= 0 {
			ns = ns[:i]
		}
		name := ""
		if p := b.byNamespace[ns]; p != nil {
			name = p.name
		}
		other := func(goName string) string {
			prefix := ""
			if i := strings.LastIndexByte(ns, '.'); i >= 0 {
				prefix = ns[:i+1]
			}
			if p := b.byNamespace[prefix+goName]; p != nil {
				return p.name
			}
			return ""
		}
		return Violation{Parameter: name, Rule: fe.Tag(), Message: b.message(fe, other)}
	})
	if err != nil {
		return err
	}
	if len(viols) > 0 {
		return refuse(viols, ErrInvalid)
	}
	return nil
}
