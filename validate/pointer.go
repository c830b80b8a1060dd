package validate

import (
	"reflect"
	"strconv"
	"strings"

	"github.com/bulwark-go/bulwark/internal/jsonpointer"
)

// bodyPointer turns a validator struct namespace (Go field names, without the root type,
// such as "Items[2].Email" or "Labels[a.b]") into a JSON pointer built from JSON member
// names ("/items/2/email"), walking the schema and the decoded value v side by side. The
// value resolves map keys, which validator writes unescaped between brackets, so a key
// holding "]" or "." is still found.
//
// It also returns the Go struct holding the last field and that field's JSON name for
// any Go field name, so that cross-field rules name the other field by its JSON name.
// When a step cannot be named (a field encoding/json does not decode, a map key too long
// to quote) the pointer stops at the enclosing object.
func bodyPointer(root ref, v reflect.Value, ns string) (ptr string, sibling func(goName string) string) {
	var sb strings.Builder
	sc := root.s
	t := sc.typ
	var idx []int // Go index path from sc.typ to t, through embedded structs
	v = derefValue(v)
	sibling = func(string) string { return "" }
	for ns != "" {
		end := strings.IndexAny(ns, ".[")
		if end < 0 {
			end = len(ns)
		}
		name := ns[:end]
		ns = ns[end:]
		if sc.kind != kindStruct || t.Kind() != reflect.Struct {
			return sb.String(), sibling
		}
		sf, ok := directField(t, name)
		if !ok {
			return sb.String(), sibling
		}
		parentSchema, parentType, parentIdx := sc, t, idx
		sibling = func(goName string) string {
			f, ok := parentType.FieldByName(goName)
			if !ok {
				return ""
			}
			if m := parentSchema.byIndex[indexKey(append(append([]int(nil), parentIdx...), f.Index...))]; m != nil {
				return m.name
			}
			return ""
		}
		idx = append(idx, sf.Index[0])
		if v.IsValid() {
			v = derefValue(v.Field(sf.Index[0]))
		}
		if m := sc.byIndex[indexKey(idx)]; m != nil {
			if len(m.name) > maxTokenLen {
				return sb.String(), sibling
			}
			sb.WriteByte('/')
			jsonpointer.WriteToken(&sb, m.name)
			sc, t, idx = m.ref.s, m.ref.s.typ, nil
		} else if ft := derefType(sf.Type); sf.Anonymous && ft.Kind() == reflect.Struct {
			t = ft // flattened into the same JSON object
		} else {
			return sb.String(), sibling
		}

		for strings.HasPrefix(ns, "[") {
			switch sc.kind {
			case kindSlice, kindArray:
				j := strings.IndexByte(ns, ']')
				if j < 0 {
					return sb.String(), sibling
				}
				i, err := strconv.Atoi(ns[1:j])
				if err != nil {
					return sb.String(), sibling
				}
				sb.WriteByte('/')
				sb.WriteString(ns[1:j])
				ns = ns[j+1:]
				if v.IsValid() && i < v.Len() {
					v = derefValue(v.Index(i))
				} else {
					v = reflect.Value{}
				}
			case kindMap:
				key, val, rest, ok := mapStep(sc, v, ns)
				if !ok || len(key) > maxTokenLen {
					return sb.String(), sibling
				}
				sb.WriteByte('/')
				jsonpointer.WriteToken(&sb, key)
				ns, v = rest, derefValue(val)
			default:
				return sb.String(), sibling
			}
			sc, t = sc.elem.s, sc.elem.s.typ
		}
		ns = strings.TrimPrefix(ns, ".")
	}
	return sb.String(), sibling
}

// mapStep reads the bracketed map key at the start of ns ("[key]..."), finding its end by
// looking the candidate keys up in the map m.
func mapStep(sc *schema, m reflect.Value, ns string) (key string, val reflect.Value, rest string, ok bool) {
	if !m.IsValid() || m.Kind() != reflect.Map {
		return "", reflect.Value{}, "", false
	}
	kt := m.Type().Key()
	for j := 1; j < len(ns); j++ {
		if ns[j] != ']' {
			continue
		}
		rest = ns[j+1:]
		if rest != "" && rest[0] != '.' && rest[0] != '[' {
			continue
		}
		key = ns[1:j]
		var kv reflect.Value
		switch sc.key {
		case kindString:
			kv = reflect.ValueOf(key).Convert(kt)
		case kindInt:
			n, err := strconv.ParseInt(key, 10, 64)
			if err != nil {
				continue
			}
			kv = reflect.New(kt).Elem()
			kv.SetInt(n)
		case kindUint:
			n, err := strconv.ParseUint(key, 10, 64)
			if err != nil {
				continue
			}
			kv = reflect.New(kt).Elem()
			kv.SetUint(n)
		default:
			return "", reflect.Value{}, "", false
		}
		if val = m.MapIndex(kv); val.IsValid() {
			return key, val, rest, true
		}
	}
	return "", reflect.Value{}, "", false
}

func directField(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		if f := t.Field(i); f.Name == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func derefType(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

func derefValue(v reflect.Value) reflect.Value {
	for v.IsValid() && (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) {
		if v.IsNil() {
			return reflect.Value{}
		}
		v = v.Elem()
	}
	return v
}
