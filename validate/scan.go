package validate

import (
	"encoding"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/bulwark-go/bulwark/internal/jsonpointer"
)

// maxViolations caps the entries of one refusal, so that a body full of mistakes cannot make
// the response, or the log line, large.
const maxViolations = 20

// maxTokenLen caps a member name or map key quoted in a JSON pointer. A pointer that would
// need a longer one stops at the object that holds it.
const maxTokenLen = 128

// smallObject is how many keys of a map or free-form object are checked for duplicates by
// comparing with each other; larger objects use a set.
const smallObject = 16

// scanner checks a JSON body in one pass, without allocating on the accepted path, for what
// encoding/json lets through: duplicate keys (it keeps the last), members that match a
// field only case-insensitively, invalid UTF-8 and lone surrogates (it substitutes
// U+FFFD), nesting, trailing data, and values of the wrong JSON type, null for fields that
// cannot hold it, and numbers that do not fit the field (it reports those without the
// array index). Structural errors stop the scan; type, unknown-member and duplicate errors
// are collected with their JSON pointers, up to maxViolations.
type scanner struct {
	data     []byte
	pos      int
	depth    int
	maxDepth int
	diagnose bool // also run each Unmarshaler and TextUnmarshaler on its value

	path    []pathElem
	seen    []uint64 // stack of per-object member bit sets
	keys    [][]byte // stack of the keys of maps and free-form objects
	scratch []byte

	err    error // the first structural error
	errPos int
	viols  []Violation
	found  uint8 // which kinds of violation were found
}

const (
	foundType uint8 = 1 << iota
	foundUnknown
	foundDuplicate
)

type pathElem struct {
	name  string // struct member
	key   []byte // raw (still escaped) map key
	index int    // array index, when name == "" and key == nil
}

func (s *scanner) reset(data []byte, maxDepth int) {
	s.data, s.pos, s.depth, s.maxDepth = data, 0, 0, maxDepth
	s.diagnose = false
	clear(s.path[:cap(s.path)]) // drop references to the previous body
	clear(s.keys[:cap(s.keys)])
	s.path, s.seen, s.keys = s.path[:0], s.seen[:0], s.keys[:0]
	s.err, s.errPos, s.viols, s.found = nil, 0, nil, 0
}

// syntax errors. Their text is shown to clients, so it never contains input.
var (
	errEmpty      = errors.New("the body is empty")
	errEOF        = errors.New("the JSON value is truncated")
	errChar       = errors.New("unexpected character")
	errControl    = errors.New("control character in a string")
	errEscape     = errors.New("invalid escape in a string")
	errSurrogate  = errors.New("lone UTF-16 surrogate in a string")
	errUTF8       = errors.New("invalid UTF-8")
	errDepth      = errors.New("nesting is too deep")
	errTrailing   = errors.New("data after the JSON value")
	errNumber     = errors.New("invalid number")
	errLiteral    = errors.New("invalid literal")
	errMemberName = errors.New("expected a member name")
	errColon      = errors.New("expected ':' after a member name")
	errObjectEnd  = errors.New("expected ',' or '}' after a member")
	errArrayEnd   = errors.New("expected ',' or ']' after an element")
)

func (s *scanner) fail(err error) {
	if s.err == nil {
		s.err, s.errPos = err, s.pos
	}
}

func (s *scanner) violate(flag uint8, rule, msg string, extra *pathElem) {
	s.found |= flag
	if len(s.viols) >= maxViolations {
		return
	}
	s.viols = append(s.viols, Violation{Pointer: s.pointer(extra), Rule: rule, Message: msg})
}

// pointer builds the JSON pointer of the current path, plus extra if not nil.
func (s *scanner) pointer(extra *pathElem) string {
	var sb strings.Builder
	add := func(e pathElem) bool {
		var tok string
		switch {
		case e.name != "":
			tok = e.name
		case e.key != nil:
			tok = string(unescape(nil, e.key))
		default:
			tok = strconv.Itoa(e.index)
		}
		if len(tok) > maxTokenLen {
			return false
		}
		sb.WriteByte('/')
		jsonpointer.WriteToken(&sb, tok)
		return true
	}
	for _, e := range s.path {
		if !add(e) {
			return sb.String()
		}
	}
	if extra != nil {
		add(*extra)
	}
	return sb.String()
}

// document checks a whole body against root.
func (s *scanner) document(root ref) {
	s.space()
	if s.pos == len(s.data) {
		s.fail(errEmpty)
		return
	}
	s.value(root)
	if s.err != nil {
		return
	}
	s.space()
	if s.pos != len(s.data) {
		s.fail(errTrailing)
	}
}

func (s *scanner) space() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

func (s *scanner) enter() bool {
	s.depth++
	if s.depth > s.maxDepth {
		s.fail(errDepth)
		return false
	}
	return true
}

// value checks one value against r.
func (s *scanner) value(r ref) {
	s.space()
	if s.pos >= len(s.data) {
		s.fail(errEOF)
		return
	}
	sc := r.s
	start := s.pos
	switch c := s.data[s.pos]; {
	case c == '{':
		switch sc.kind {
		case kindStruct:
			s.object(sc)
		case kindMap:
			s.mapObject(sc)
		case kindAny, kindRaw:
			s.free(sc.kind == kindAny)
		default:
			s.typeError(sc, r.nullable)
			s.free(false)
		}
	case c == '[':
		switch {
		case sc.kind == kindSlice || sc.kind == kindArray:
			s.array(sc)
		case sc.kind == kindAny || sc.kind == kindRaw:
			s.free(sc.kind == kindAny)
		default:
			s.typeError(sc, r.nullable)
			s.free(false)
		}
	case c == '"':
		escaped := s.str()
		if s.err != nil {
			return
		}
		switch {
		case sc.kind == kindString, sc.kind == kindAny, sc.kind == kindRaw:
		case sc.kind == kindText:
			if s.diagnose {
				s.tryText(sc.typ, s.data[start+1:s.pos-1], escaped)
			}
		case sc.kind == kindNumber:
			if !isNumber(s.content(start, escaped)) {
				s.typeError(sc, r.nullable)
			}
		case sc.kind == kindSlice && sc.bytes:
			b := s.content(start, escaped)
			n := base64.StdEncoding.DecodedLen(len(b))
			s.scratch = grow(s.scratch, len(b)+n)
			if _, err := base64.StdEncoding.Decode(s.scratch[len(b):len(b)+n], b); err != nil {
				s.violate(foundType, "type", "must be base64 (standard encoding, padded)", nil)
			}
		default:
			s.typeError(sc, r.nullable)
		}
	case c == 't' || c == 'f':
		if c == 't' {
			s.literal("true")
		} else {
			s.literal("false")
		}
		if s.err == nil && sc.kind != kindBool && sc.kind != kindAny && sc.kind != kindRaw {
			s.typeError(sc, r.nullable)
		}
	case c == 'n':
		s.literal("null")
		if s.err == nil && !r.nullable {
			s.violate(foundType, "type", "must not be null", nil)
		}
	case c == '-' || c >= '0' && c <= '9':
		lit := s.number()
		if s.err != nil {
			return
		}
		if !s.numberFits(sc, lit) {
			s.typeError(sc, r.nullable)
		}
	default:
		s.fail(errChar)
		return
	}
	if s.diagnose && sc.kind == kindRaw && s.err == nil {
		v := reflect.New(sc.typ).Interface().(json.Unmarshaler)
		if v.UnmarshalJSON(s.data[start:s.pos]) != nil {
			s.violate(foundType, "type", "is not a valid value", nil)
		}
	}
}

// content returns a string token's content, unescaped into scratch if needed.
func (s *scanner) content(start int, escaped bool) []byte {
	raw := s.data[start+1 : s.pos-1]
	if !escaped {
		return raw
	}
	s.scratch = unescape(s.scratch[:0], raw)
	return s.scratch
}

func (s *scanner) tryText(t reflect.Type, raw []byte, escaped bool) {
	b := raw
	if escaped {
		b = unescape(nil, raw)
	}
	v := reflect.New(t).Interface().(encoding.TextUnmarshaler)
	if v.UnmarshalText(b) != nil {
		s.violate(foundType, "type", "is not a valid value", nil)
	}
}

func (s *scanner) typeError(sc *schema, nullable bool) {
	s.violate(foundType, "type", expected(sc, nullable), nil)
}

// expected says what JSON a schema node accepts, for clients.
func expected(sc *schema, nullable bool) string {
	var m string
	switch sc.kind {
	case kindBool:
		m = "must be a boolean"
	case kindInt:
		lo, hi := -(uint64(1) << (sc.bits - 1)), uint64(1)<<(sc.bits-1)-1
		m = "must be an integer from -" + strconv.FormatUint(-lo, 10) + " to " + strconv.FormatUint(hi, 10)
	case kindUint:
		m = "must be an integer from 0 to " + strconv.FormatUint(^uint64(0)>>(64-sc.bits), 10)
	case kindFloat:
		m = "must be a number that fits a " + strconv.Itoa(sc.bits) + "-bit float"
	case kindString, kindText:
		m = "must be a string"
	case kindNumber:
		m = "must be a number"
	case kindStruct, kindMap:
		m = "must be an object"
	case kindSlice:
		m = "must be an array"
		if sc.bytes {
			m = "must be a base64 string"
		}
	case kindArray:
		m = "must be an array"
	default:
		m = "must be null"
	}
	if nullable && sc.kind != kindNullOnly {
		m += " or null"
	}
	return m
}

// numberFits reports whether a number literal can be stored in sc the way encoding/json
// would store it.
func (s *scanner) numberFits(sc *schema, lit []byte) bool {
	switch sc.kind {
	case kindInt:
		n, ok := parseInt(lit)
		return ok && n >= -(1<<(sc.bits-1)) && n <= 1<<(sc.bits-1)-1
	case kindUint:
		n, ok := parseUint(lit)
		return ok && (sc.bits == 64 || n < 1<<sc.bits)
	case kindFloat:
		_, err := strconv.ParseFloat(string(lit), sc.bits)
		return err == nil
	case kindAny:
		_, err := strconv.ParseFloat(string(lit), 64)
		return err == nil
	case kindNumber, kindRaw:
		return true
	}
	return false
}

// parseInt parses a JSON integer (no fraction or exponent), as strconv.ParseInt would.
func parseInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	u, ok := parseUint(b)
	switch {
	case !ok:
		return 0, false
	case neg && u <= 1<<63:
		return int64(-u), true //nolint:gosec // -u is in range: u <= 1<<63
	case !neg && u < 1<<63:
		return int64(u), true
	}
	return 0, false
}

// parseUint parses a JSON integer without a sign, as strconv.ParseUint would.
func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (1<<64-1)/10 {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
		if n < uint64(c-'0') {
			return 0, false
		}
	}
	return n, true
}

// object checks a JSON object against a struct: every member must name a field exactly,
// once.
func (s *scanner) object(sc *schema) {
	s.pos++ // '{'
	if !s.enter() {
		return
	}
	base := len(s.seen)
	for range (sc.numFields + 63) / 64 {
		s.seen = append(s.seen, 0)
	}
	defer func() { s.seen = s.seen[:base] }()
	s.space()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		s.depth--
		return
	}
	for {
		s.space()
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			s.fail(errMemberName)
			return
		}
		kstart := s.pos
		escaped := s.str()
		if s.err != nil {
			return
		}
		key := s.data[kstart+1 : s.pos-1]
		var m *member
		if escaped {
			s.scratch = unescape(s.scratch[:0], key)
			m = sc.fields[string(s.scratch)]
		} else {
			m = sc.fields[string(key)]
		}
		s.space()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			s.fail(errColon)
			return
		}
		s.pos++
		if m == nil {
			s.violate(foundUnknown, "unknown", "is not a known field", &pathElem{key: key})
			s.free(false)
		} else {
			w, bit := base+m.ord/64, uint64(1)<<(m.ord%64)
			dup := s.seen[w]&bit != 0
			s.seen[w] |= bit
			s.path = append(s.path, pathElem{name: m.name})
			if dup {
				s.violate(foundDuplicate, "duplicate", "appears more than once", nil)
				s.free(false) // one entry for the member, not one per problem with the copy
			} else if m.quoted {
				s.quoted(m.ref)
			} else {
				s.value(m.ref)
			}
			s.path = s.path[:len(s.path)-1]
		}
		if s.err != nil {
			return
		}
		s.space()
		if s.pos >= len(s.data) {
			s.fail(errEOF)
			return
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			s.depth--
			return
		default:
			s.fail(errObjectEnd)
			return
		}
	}
}

// quoted checks a field with the ",string" option: a JSON string holding the JSON literal,
// or null.
func (s *scanner) quoted(r ref) {
	s.space()
	if s.pos < len(s.data) && s.data[s.pos] == 'n' {
		s.value(r)
		return
	}
	if s.pos >= len(s.data) || s.data[s.pos] != '"' {
		if s.pos < len(s.data) && strings.IndexByte("{[tf-0123456789", s.data[s.pos]) < 0 {
			s.fail(errChar)
			return
		}
		s.violate(foundType, "type", "must be a string holding a JSON value", nil)
		s.free(false)
		return
	}
	start := s.pos
	escaped := s.str()
	if s.err != nil {
		return
	}
	inner := append([]byte(nil), s.content(start, escaped)...)
	sub := scanner{data: inner, maxDepth: 1}
	sub.value(ref{s: r.s})
	if sub.err != nil || len(sub.viols) > 0 || sub.pos != len(inner) || len(inner) == 0 || inner[0] == 'n' ||
		inner[0] == ' ' || inner[0] == '\t' || inner[0] == '\n' || inner[0] == '\r' {
		s.violate(foundType, "type", "must be a string holding a JSON "+strings.TrimPrefix(expected(r.s, false), "must be "), nil)
	}
}

// mapObject checks a JSON object against a map: keys are free, but must be unique and must
// parse as the key type.
func (s *scanner) mapObject(sc *schema) {
	s.members(func(key []byte) {
		switch sc.key {
		case kindInt:
			if n, ok := parseInt(key); !ok || sc.kbits < 64 && (n < -(1<<(sc.kbits-1)) || n > 1<<(sc.kbits-1)-1) {
				s.violate(foundType, "type", "key must be an integer", nil)
			}
		case kindUint:
			if n, ok := parseUint(key); !ok || sc.kbits < 64 && n >= 1<<sc.kbits {
				s.violate(foundType, "type", "key must be a non-negative integer", nil)
			}
		case kindText:
			if s.diagnose {
				s.tryText(sc.typ.Key(), key, false)
			}
		}
		s.value(sc.elem)
	})
}

// free checks any JSON value: syntax, nesting and unique keys. If floats, numbers must fit a
// float64, because encoding/json stores them in an interface as float64.
func (s *scanner) free(floats bool) {
	s.space()
	if s.pos >= len(s.data) {
		s.fail(errEOF)
		return
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		s.members(func([]byte) { s.free(floats) })
	case c == '[':
		s.pos++
		if !s.enter() {
			return
		}
		s.elements(func() { s.free(floats) })
	case c == '"':
		s.str()
	case c == 't':
		s.literal("true")
	case c == 'f':
		s.literal("false")
	case c == 'n':
		s.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		lit := s.number()
		if s.err == nil && floats {
			if _, err := strconv.ParseFloat(string(lit), 64); err != nil {
				s.violate(foundType, "type", "must be a number that fits a 64-bit float", nil)
			}
		}
	default:
		s.fail(errChar)
	}
}

// members walks an object whose keys are free-form, refusing duplicates, and calls member
// for each value with the unescaped key, and the key on the path.
func (s *scanner) members(member func(key []byte)) {
	s.pos++ // '{'
	if !s.enter() {
		return
	}
	base := len(s.keys)
	defer func() {
		clear(s.keys[base:])
		s.keys = s.keys[:base]
	}()
	var set map[string]struct{}
	s.space()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		s.depth--
		return
	}
	for {
		s.space()
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			s.fail(errMemberName)
			return
		}
		kstart := s.pos
		escaped := s.str()
		if s.err != nil {
			return
		}
		raw := s.data[kstart+1 : s.pos-1]
		key := raw
		if escaped {
			key = unescape(nil, raw)
		}
		s.space()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			s.fail(errColon)
			return
		}
		s.pos++

		dup := false
		if set != nil {
			_, dup = set[string(key)]
			set[string(key)] = struct{}{}
		} else {
			for _, k := range s.keys[base:] {
				if string(k) == string(key) {
					dup = true
					break
				}
			}
			s.keys = append(s.keys, key)
			if len(s.keys)-base > smallObject {
				set = make(map[string]struct{}, 2*smallObject)
				for _, k := range s.keys[base:] {
					set[string(k)] = struct{}{}
				}
			}
		}
		s.path = append(s.path, pathElem{key: raw})
		if dup {
			s.violate(foundDuplicate, "duplicate", "appears more than once", nil)
		}
		member(key)
		s.path = s.path[:len(s.path)-1]
		if s.err != nil {
			return
		}
		s.space()
		if s.pos >= len(s.data) {
			s.fail(errEOF)
			return
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			s.depth--
			return
		default:
			s.fail(errObjectEnd)
			return
		}
	}
}

// array checks a JSON array against a slice or array type.
func (s *scanner) array(sc *schema) {
	s.pos++ // '['
	if !s.enter() {
		return
	}
	n := 0
	s.elements(func() {
		if sc.kind == kindArray && n == sc.size {
			// encoding/json would drop the extra elements silently.
			last := s.path[len(s.path)-1]
			s.path = s.path[:len(s.path)-1]
			s.violate(foundType, "max", "must have at most "+strconv.Itoa(sc.size)+" items", nil)
			s.path = append(s.path, last)
		}
		s.value(sc.elem)
		n++
	})
}

// elements walks the elements of an array whose '[' was consumed, with each index on the
// path.
func (s *scanner) elements(element func()) {
	s.space()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		s.depth--
		return
	}
	for i := 0; ; i++ {
		s.path = append(s.path, pathElem{index: i})
		element()
		s.path = s.path[:len(s.path)-1]
		if s.err != nil {
			return
		}
		s.space()
		if s.pos >= len(s.data) {
			s.fail(errEOF)
			return
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case ']':
			s.pos++
			s.depth--
			return
		default:
			s.fail(errArrayEnd)
			return
		}
	}
}

func (s *scanner) literal(want string) {
	if len(s.data)-s.pos < len(want) || string(s.data[s.pos:s.pos+len(want)]) != want {
		if len(s.data)-s.pos < len(want) && string(s.data[s.pos:]) == want[:len(s.data)-s.pos] {
			s.fail(errEOF)
			return
		}
		s.fail(errLiteral)
		return
	}
	s.pos += len(want)
}

// number scans a number with the JSON grammar (RFC 8259 §6) and returns it.
func (s *scanner) number() []byte {
	start := s.pos
	d := s.data
	i := s.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		s.pos = i
		s.failNumber()
		return nil
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			s.pos = i
			s.failNumber()
			return nil
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			s.pos = i
			s.failNumber()
			return nil
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	s.pos = i
	return d[start:i]
}

func (s *scanner) failNumber() {
	if s.pos >= len(s.data) {
		s.fail(errEOF)
		return
	}
	s.fail(errNumber)
}

// str scans a string token, checking escapes, surrogate pairs and UTF-8, and reports whether
// it holds escapes.
func (s *scanner) str() (escaped bool) {
	d := s.data
	i := s.pos + 1 // after '"'
	for i < len(d) {
		c := d[i]
		if c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '\\' {
			i++
			continue
		}
		switch {
		case c == '"':
			s.pos = i + 1
			return escaped
		case c == '\\':
			escaped = true
			n, err := escapeLen(d[i:])
			if err != nil {
				s.pos = i
				s.fail(err)
				return escaped
			}
			i += n
		case c < 0x20:
			s.pos = i
			s.fail(errControl)
			return escaped
		default:
			r, size := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && size == 1 {
				s.pos = i
				if !utf8.FullRune(d[i:]) {
					s.fail(errEOF)
				} else {
					s.fail(errUTF8)
				}
				return escaped
			}
			i += size
		}
	}
	s.pos = i
	s.fail(errEOF)
	return escaped
}

// escapeLen returns the length of the escape sequence at the start of b, including a
// following low surrogate if the escape is a high one.
func escapeLen(b []byte) (int, error) {
	if len(b) < 2 {
		return 0, errEOF
	}
	switch b[1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2, nil
	case 'u':
	default:
		return 0, errEscape
	}
	r, err := hex4(b[2:])
	if err != nil {
		return 0, err
	}
	switch {
	case r >= 0xDC00 && r < 0xE000:
		return 0, errSurrogate
	case r >= 0xD800 && r < 0xDC00:
		if len(b) < 12 || b[6] != '\\' || b[7] != 'u' {
			return 0, errSurrogate
		}
		r2, err := hex4(b[8:])
		if err != nil {
			return 0, err
		}
		if r2 < 0xDC00 || r2 >= 0xE000 {
			return 0, errSurrogate
		}
		return 12, nil
	}
	return 6, nil
}

func hex4(b []byte) (rune, error) {
	if len(b) < 4 {
		return 0, errEOF
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, errEscape
		}
		r = r<<4 | rune(c)
	}
	return r, nil
}

// unescape appends the content of a string token that the scanner accepted, with its
// escapes decoded, to dst.
func unescape(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		if i+1 >= len(raw) {
			return dst
		}
		switch raw[i+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, _ := hex4(raw[i+2:])
			i += 6
			if utf16.IsSurrogate(r) && i+6 <= len(raw) {
				r2, _ := hex4(raw[i+2:])
				r = utf16.DecodeRune(r, r2)
				i += 6
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // '"', '\\', '/'
			dst = append(dst, raw[i+1])
		}
		i += 2
	}
	return dst
}

// isNumber reports whether b is a JSON number, as json.Number requires.
func isNumber(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	s := scanner{data: b}
	s.number()
	return s.err == nil && s.pos == len(b)
}

func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}
