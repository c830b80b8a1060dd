package validate

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// kind is what JSON a schema node accepts. The scanner checks the body against it before
// encoding/json sees the body, so that every refusal carries an exact JSON pointer.
type kind uint8

const (
	kindRaw      kind = iota // json.Unmarshaler or json.RawMessage: any JSON, structure checked only
	kindAny                  // empty interface: any JSON; numbers must fit a float64
	kindNullOnly             // non-empty interface: encoding/json can only store null in it
	kindBool
	kindInt
	kindUint
	kindFloat
	kindString
	kindNumber // json.Number: a number, or a string holding one
	kindText   // encoding.TextUnmarshaler: a string
	kindStruct
	kindSlice
	kindArray
	kindMap
)

var (
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	numberType          = reflect.TypeFor[json.Number]()
)

// schema describes a Go type (pointers removed) as the JSON it may be decoded from.
// Nullability belongs to the place that holds the type (see ref), so that recursive types
// can share one node.
type schema struct {
	kind  kind
	typ   reflect.Type // the Go type, pointers removed
	bits  int          // size of int, uint and float kinds
	bytes bool         // []byte: also accepts a base64 string
	elem  ref          // slice, array and map elements
	size  int          // array length
	key   kind         // map key: kindString, kindInt, kindUint or kindText
	kbits int          // size of an integer map key

	// Structs only.
	fields    map[string]*member // decodable members by exact JSON name
	numFields int
	byIndex   map[string]*member // the same members by Go index path ("0.2")
}

// ref is a use of a schema: a field, an element, or the root.
type ref struct {
	s        *schema
	nullable bool // null is accepted: the Go type is a pointer, slice, map or interface
}

type member struct {
	name   string // JSON name
	index  []int  // Go field index path
	ord    int    // position, for the duplicate-key bit set
	quoted bool   // the ",string" option
	ref    ref
}

// schemaBuilder builds the schema of a type once, at construction. Problems with the type
// are collected, so that the constructor can report all of them.
type schemaBuilder struct {
	done map[reflect.Type]*schema
	errs []error
}

func buildSchema(t reflect.Type) (ref, []error) {
	b := &schemaBuilder{done: make(map[reflect.Type]*schema)}
	r := b.ref(t, t.String())
	return r, b.errs
}

func (b *schemaBuilder) fail(where, format string, args ...any) {
	b.errs = append(b.errs, fmt.Errorf("validate: %s: "+format, append([]any{where}, args...)...))
}

func (b *schemaBuilder) ref(t reflect.Type, where string) ref {
	nullable := false
	for t.Kind() == reflect.Pointer {
		nullable = true
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Map, reflect.Interface:
		nullable = true
	}
	return ref{s: b.schema(t, where), nullable: nullable}
}

func (b *schemaBuilder) schema(t reflect.Type, where string) *schema {
	if s, ok := b.done[t]; ok {
		return s
	}
	s := &schema{typ: t}
	b.done[t] = s // before filling it in, so that recursive types end
	switch {
	case reflect.PointerTo(t).Implements(jsonUnmarshalerType):
		s.kind = kindRaw
		return s
	case reflect.PointerTo(t).Implements(textUnmarshalerType):
		s.kind = kindText
		return s
	case t == numberType:
		s.kind = kindNumber
		return s
	}
	switch t.Kind() {
	case reflect.Bool:
		s.kind = kindBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		s.kind, s.bits = kindInt, t.Bits()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		s.kind, s.bits = kindUint, t.Bits()
	case reflect.Float32, reflect.Float64:
		s.kind, s.bits = kindFloat, t.Bits()
	case reflect.String:
		s.kind = kindString
	case reflect.Interface:
		s.kind = kindNullOnly
		if t.NumMethod() == 0 {
			s.kind = kindAny
		}
	case reflect.Slice:
		s.kind = kindSlice
		s.elem = b.ref(t.Elem(), where+"[]")
		s.bytes = t.Elem().Kind() == reflect.Uint8 && !reflect.PointerTo(t.Elem()).Implements(jsonUnmarshalerType) &&
			!reflect.PointerTo(t.Elem()).Implements(textUnmarshalerType)
	case reflect.Array:
		s.kind, s.size = kindArray, t.Len()
		s.elem = b.ref(t.Elem(), where+"[]")
	case reflect.Map:
		s.kind = kindMap
		b.mapKey(s, t.Key(), where)
		s.elem = b.ref(t.Elem(), where+"[]")
	case reflect.Struct:
		s.kind = kindStruct
		b.structFields(s, t, where)
	default:
		b.fail(where, "encoding/json cannot decode into %s", t)
	}
	return s
}

func (b *schemaBuilder) mapKey(s *schema, k reflect.Type, where string) {
	if reflect.PointerTo(k).Implements(textUnmarshalerType) {
		s.key = kindText
		return
	}
	switch k.Kind() {
	case reflect.String:
		s.key = kindString
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		s.key, s.kbits = kindInt, k.Bits()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		s.key, s.kbits = kindUint, k.Bits()
	default:
		b.fail(where, "encoding/json cannot decode map keys of type %s", k)
	}
}

// candidate is a struct field that may be visible as a JSON member.
type candidate struct {
	name   string
	tagged bool
	index  []int
	typ    reflect.Type
	quoted bool
	where  string
	badPtr bool // reached through an embedded pointer to an unexported struct
}

// structFields resolves which JSON member names a struct has, with the rules of
// encoding/json: embedded structs are flattened breadth first, a shallower field hides a
// deeper one, and at equal depth a tagged field beats an untagged one while two equals
// hide each other. Matching those rules exactly matters: a member encoding/json decodes
// but the scanner did not know would be refused, and the reverse is checked in tests.
func (b *schemaBuilder) structFields(s *schema, t reflect.Type, where string) {
	type embedded struct {
		typ    reflect.Type
		index  []int
		where  string
		badPtr bool
	}
	var found []candidate
	next := []embedded{{typ: t, where: where}}
	visited := map[reflect.Type]bool{}
	for len(next) > 0 {
		current := next
		next = nil
		count := map[reflect.Type]int{}
		for _, e := range current {
			count[e.typ]++
		}
		for _, e := range current {
			if visited[e.typ] {
				continue
			}
			visited[e.typ] = true
			for i := range e.typ.NumField() {
				sf := e.typ.Field(i)
				ft := sf.Type
				if sf.Anonymous {
					if ft.Kind() == reflect.Pointer {
						ft = ft.Elem()
					}
					if !sf.IsExported() && ft.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				if !validJSONName(name) {
					name = ""
				}
				index := append(slices.Clone(e.index), i)
				fwhere := e.where + "." + sf.Name
				ft = sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if name != "" || !sf.Anonymous || ft.Kind() != reflect.Struct {
					c := candidate{name: name, tagged: name != "", index: index, typ: sf.Type, where: fwhere, badPtr: e.badPtr}
					if c.name == "" {
						c.name = sf.Name
					}
					if hasOption(opts, "string") {
						switch ft.Kind() {
						case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
							reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
							reflect.Float32, reflect.Float64, reflect.String:
							c.quoted = true
						}
					}
					found = append(found, c)
					if count[e.typ] > 1 {
						found = append(found, c) // the same type twice at one depth: ambiguous
					}
					continue
				}
				bad := e.badPtr || !sf.IsExported() && sf.Type.Kind() == reflect.Pointer
				next = append(next, embedded{typ: ft, index: index, where: fwhere, badPtr: bad})
			}
		}
	}

	// Pick the dominant field for each name.
	slices.SortStableFunc(found, func(a, c candidate) int {
		if n := strings.Compare(a.name, c.name); n != 0 {
			return n
		}
		if n := len(a.index) - len(c.index); n != 0 {
			return n
		}
		if a.tagged != c.tagged {
			if a.tagged {
				return -1
			}
			return 1
		}
		return slices.Compare(a.index, c.index)
	})
	var kept []candidate
	for i := 0; i < len(found); {
		j := i + 1
		for j < len(found) && found[j].name == found[i].name {
			j++
		}
		group := found[i:j]
		if len(group) == 1 || len(group[0].index) != len(group[1].index) || group[0].tagged != group[1].tagged {
			kept = append(kept, group[0])
		}
		i = j
	}
	slices.SortFunc(kept, func(a, c candidate) int { return slices.Compare(a.index, c.index) })

	s.fields = make(map[string]*member, len(kept))
	s.byIndex = make(map[string]*member, len(kept))
	s.numFields = len(kept)
	for i, c := range kept {
		if c.badPtr {
			// encoding/json refuses to allocate an unexported embedded struct.
			b.fail(c.where, "reached through an embedded pointer to an unexported struct, which encoding/json cannot set")
		}
		m := &member{name: c.name, index: c.index, ord: i, quoted: c.quoted, ref: b.ref(c.typ, c.where)}
		s.fields[c.name] = m
		s.byIndex[indexKey(c.index)] = m
	}
}

func indexKey(index []int) string {
	var sb strings.Builder
	for i, n := range index {
		if i > 0 {
			sb.WriteByte('.')
		}
		sb.WriteString(strconv.Itoa(n))
	}
	return sb.String()
}

func hasOption(opts, want string) bool {
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == want {
			return true
		}
	}
	return false
}

// validJSONName reports whether encoding/json would use name from a struct tag.
func validJSONName(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range name {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}

// structTypes returns every struct type reachable from r, for checking validation tags at
// construction.
func structTypes(r ref) []reflect.Type {
	var out []reflect.Type
	seen := map[*schema]bool{}
	var walk func(s *schema)
	walk = func(s *schema) {
		if s == nil || seen[s] {
			return
		}
		seen[s] = true
		switch s.kind {
		case kindStruct:
			out = append(out, s.typ)
			for _, m := range s.fields {
				walk(m.ref.s)
			}
		case kindSlice, kindArray, kindMap:
			walk(s.elem.s)
		}
	}
	walk(r.s)
	return out
}
