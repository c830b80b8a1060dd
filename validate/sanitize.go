package validate

import (
	"fmt"
	"reflect"
	"strings"

	"golang.org/x/text/unicode/norm"

	"github.com/bulwark-go/bulwark/encode"
)

// Sanitizing steps of the sanitize struct tag. They always run in this order, whatever the
// order in the tag: NFC first, so that the HTML sanitizer sees the text it will output
// (normalizing after sanitizing could compose a '>' the sanitizer wrote with a combining
// mark after it, such as U+0338, into another character and reopen the tag); trim last.
type sanitizeOps uint8

const (
	opNFC       sanitizeOps = 1 << iota // Unicode Normalization Form C
	opHTML                              // encode.NewUGCPolicy: safe formatting kept
	opStripHTML                         // encode.NewStrictPolicy: all markup removed
	opTrim                              // strings.TrimSpace
)

func parseSanitize(tag string) (sanitizeOps, error) {
	var ops sanitizeOps
	for _, s := range strings.Split(tag, ",") {
		switch strings.TrimSpace(s) {
		case "nfc":
			ops |= opNFC
		case "html":
			ops |= opHTML
		case "striphtml":
			ops |= opStripHTML
		case "trim":
			ops |= opTrim
		default:
			return 0, fmt.Errorf("unknown sanitize step %q (want trim, nfc, html or striphtml)", s)
		}
	}
	if ops&opHTML != 0 && ops&opStripHTML != 0 {
		return 0, fmt.Errorf("sanitize steps html and striphtml exclude each other")
	}
	return ops, nil
}

// sanitizer applies the sanitize tags of one type to a decoded value. It is built once per
// constructor and read-only afterwards.
type sanitizer struct {
	root        *sanNode
	ugc, strict *encode.Policy
}

// sanNode says what to sanitize in a value of one Go type.
type sanNode struct {
	kind   reflect.Kind
	ops    sanitizeOps // for strings
	elem   *sanNode    // pointer, slice, array and map elements
	fields []sanField  // struct fields holding something to sanitize
}

type sanField struct {
	index int
	node  *sanNode
}

type sanBuilder struct {
	structs map[reflect.Type]*sanNode
	used    sanitizeOps
	errs    []error
}

// newSanitizer returns nil if t has no sanitize tags.
func newSanitizer(t reflect.Type) (*sanitizer, []error) {
	b := &sanBuilder{structs: map[reflect.Type]*sanNode{}}
	root := b.node(t, 0, t.String())
	if len(b.errs) > 0 || b.used == 0 {
		return nil, b.errs
	}
	s := &sanitizer{root: root}
	if b.used&opHTML != 0 {
		s.ugc = encode.NewUGCPolicy()
	}
	if b.used&opStripHTML != 0 {
		s.strict = encode.NewStrictPolicy()
	}
	return s, nil
}

// node returns what to do for a value of type t carrying ops from its field's tag, or nil
// if nothing.
func (b *sanBuilder) node(t reflect.Type, ops sanitizeOps, where string) *sanNode {
	switch t.Kind() {
	case reflect.String:
		if ops == 0 {
			return nil
		}
		b.used |= ops
		return &sanNode{kind: reflect.String, ops: ops}
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		e := b.node(t.Elem(), ops, where)
		if e == nil {
			return nil
		}
		return &sanNode{kind: t.Kind(), elem: e}
	case reflect.Struct:
		if ops != 0 {
			b.errs = append(b.errs, fmt.Errorf("validate: %s: sanitize applies to strings, not to the struct %s", where, t))
			return nil
		}
		if n, ok := b.structs[t]; ok {
			return n // also ends recursive types; an empty node is a no-op
		}
		n := &sanNode{kind: reflect.Struct}
		b.structs[t] = n
		for i := range t.NumField() {
			sf := t.Field(i)
			tag, tagged := sf.Tag.Lookup("sanitize")
			var fops sanitizeOps
			if tagged {
				var err error
				if fops, err = parseSanitize(tag); err != nil {
					b.errs = append(b.errs, fmt.Errorf("validate: %s.%s: %w", where, sf.Name, err))
					continue
				}
				if !sf.IsExported() {
					b.errs = append(b.errs, fmt.Errorf("validate: %s.%s: sanitize on an unexported field", where, sf.Name))
					continue
				}
			}
			if !sf.IsExported() {
				continue
			}
			if fn := b.node(sf.Type, fops, where+"."+sf.Name); fn != nil {
				n.fields = append(n.fields, sanField{index: i, node: fn})
			} else if tagged {
				b.errs = append(b.errs, fmt.Errorf("validate: %s.%s: sanitize applies to strings, not to %s", where, sf.Name, sf.Type))
			}
		}
		if len(n.fields) == 0 {
			return nil
		}
		return n
	}
	if ops != 0 {
		b.errs = append(b.errs, fmt.Errorf("validate: %s: sanitize applies to strings, not to %s", where, t))
	}
	return nil
}

func (s *sanitizer) apply(v reflect.Value, n *sanNode) {
	if n == nil {
		return
	}
	switch n.kind {
	case reflect.String:
		v.SetString(s.clean(v.String(), n.ops))
	case reflect.Pointer:
		if !v.IsNil() {
			s.apply(v.Elem(), n.elem)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			s.apply(v.Index(i), n.elem)
		}
	case reflect.Map:
		// Map values cannot be set in place: copy, clean, store.
		it := v.MapRange()
		for it.Next() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(it.Value())
			s.apply(e, n.elem)
			v.SetMapIndex(it.Key(), e)
		}
	case reflect.Struct:
		for _, f := range n.fields {
			s.apply(v.Field(f.index), f.node)
		}
	}
}

func (s *sanitizer) clean(str string, ops sanitizeOps) string {
	if ops&opNFC != 0 {
		str = norm.NFC.String(str)
	}
	switch {
	case ops&opHTML != 0:
		str = s.ugc.Sanitize(str)
	case ops&opStripHTML != 0:
		str = s.strict.Sanitize(str)
	}
	if ops&opTrim != 0 {
		str = strings.TrimSpace(str)
	}
	return str
}
