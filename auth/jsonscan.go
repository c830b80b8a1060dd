package auth

import (
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"
)

// This file holds a small, strict JSON reader for token headers and claims sets. It reads the
// members of one object without building a map, so the verification path allocates little,
// and it is stricter than encoding/json where a token is concerned: member names match
// exactly (encoding/json folds case, so "ISS" would fill an "iss" field), a repeated member
// is an error (encoding/json keeps the last one, other parsers the first; RFC 7515 §4 and
// RFC 7519 §4 ask for rejection or last-wins, and rejection leaves nothing to disagree
// about), and input must be valid UTF-8 (RFC 8725 §3.7).

var errJSON = errors.New("auth: malformed JSON")

// maxDepth bounds nesting so that a deeply nested claims set costs no deep recursion.
const maxDepth = 64

// eachMember calls fn for each member of the JSON object in b, with the member name
// unescaped and the raw value. It fails on anything but exactly one well-formed object,
// and on a name that appears twice.
func eachMember(b []byte, fn func(name string, value []byte) error) error {
	if !utf8.Valid(b) {
		return errJSON
	}
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return errJSON
	}
	var small [16]string // claims sets usually have a handful of members
	seen := small[:0]
	var many map[string]bool // past 16 members, so that a big object costs no quadratic time
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		if skipSpace(b, i+1) != len(b) {
			return errJSON
		}
		return nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return errJSON
		}
		end, err := skipString(b, i)
		if err != nil {
			return err
		}
		name, err := unquote(b[i:end])
		if err != nil {
			return err
		}
		if many == nil {
			for _, s := range seen {
				if s == name {
					return errJSON
				}
			}
			if len(seen) < len(small) {
				seen = append(seen, name)
			} else {
				many = make(map[string]bool, 2*len(small))
				for _, s := range seen {
					many[s] = true
				}
			}
		}
		if many != nil {
			if many[name] {
				return errJSON
			}
			many[name] = true
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return errJSON
		}
		i = skipSpace(b, i+1)
		vend, err := skipValue(b, i, 1)
		if err != nil {
			return err
		}
		if err := fn(name, b[i:vend]); err != nil {
			return err
		}
		i = skipSpace(b, vend)
		if i >= len(b) {
			return errJSON
		}
		if b[i] == '}' {
			if skipSpace(b, i+1) != len(b) {
				return errJSON
			}
			return nil
		}
		if b[i] != ',' {
			return errJSON
		}
		i = skipSpace(b, i+1)
	}
}

// eachElement calls fn for each element of the JSON array in b.
func eachElement(b []byte, fn func(value []byte) error) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return errJSON
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return nil
	}
	for {
		end, err := skipValue(b, i, 1)
		if err != nil {
			return err
		}
		if err := fn(b[i:end]); err != nil {
			return err
		}
		i = skipSpace(b, end)
		if i >= len(b) {
			return errJSON
		}
		if b[i] == ']' {
			return nil
		}
		if b[i] != ',' {
			return errJSON
		}
		i = skipSpace(b, i+1)
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the index just past the JSON value that starts at b[i].
func skipValue(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return 0, errJSON
	}
	switch c := b[i]; {
	case c == '"':
		return skipString(b, i)
	case c == '{' || c == '[':
		if depth > maxDepth {
			return 0, errJSON
		}
		return skipComposite(b, i, depth)
	case c == '-' || (c >= '0' && c <= '9'):
		return skipNumber(b, i)
	case c == 't':
		return skipLiteral(b, i, "true")
	case c == 'f':
		return skipLiteral(b, i, "false")
	case c == 'n':
		return skipLiteral(b, i, "null")
	}
	return 0, errJSON
}

func skipComposite(b []byte, i, depth int) (int, error) {
	object := b[i] == '{'
	closer := byte(']')
	if object {
		closer = '}'
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == closer {
		return i + 1, nil
	}
	for {
		if object {
			if i >= len(b) || b[i] != '"' {
				return 0, errJSON
			}
			end, err := skipString(b, i)
			if err != nil {
				return 0, err
			}
			i = skipSpace(b, end)
			if i >= len(b) || b[i] != ':' {
				return 0, errJSON
			}
			i = skipSpace(b, i+1)
		}
		end, err := skipValue(b, i, depth+1)
		if err != nil {
			return 0, err
		}
		i = skipSpace(b, end)
		if i >= len(b) {
			return 0, errJSON
		}
		if b[i] == closer {
			return i + 1, nil
		}
		if b[i] != ',' {
			return 0, errJSON
		}
		i = skipSpace(b, i+1)
	}
}

// skipString returns the index just past the string starting at b[i] (a '"').
func skipString(b []byte, i int) (int, error) {
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1, nil
		case c < 0x20:
			return 0, errJSON
		case c == '\\':
			i++
			if i >= len(b) {
				return 0, errJSON
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) {
					return 0, errJSON
				}
				for _, h := range b[i+1 : i+5] {
					if !isHex(h) {
						return 0, errJSON
					}
				}
				i += 4
			default:
				return 0, errJSON
			}
		}
	}
	return 0, errJSON
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func skipNumber(b []byte, i int) (int, error) {
	start := i
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return 0, errJSON
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return 0, errJSON
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return 0, errJSON
		}
	}
	if i == start {
		return 0, errJSON
	}
	return i, nil
}

func skipLiteral(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return 0, errJSON
	}
	return i + len(lit), nil
}

// unquote returns the string value of the JSON string literal b (quotes included).
func unquote(b []byte) (string, error) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return "", errJSON
	}
	inner := b[1 : len(b)-1]
	plain := true
	for _, c := range inner {
		if c == '\\' || c == '"' || c < 0x20 {
			plain = false
			break
		}
	}
	if plain {
		return string(inner), nil
	}
	// Escapes are rare in tokens; let encoding/json decode them.
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return "", errJSON
	}
	return s, nil
}

// jsonString returns the value of b if it is a JSON string.
func jsonString(b []byte) (string, bool) {
	if len(b) == 0 || b[0] != '"' {
		return "", false
	}
	s, err := unquote(b)
	return s, err == nil
}

// jsonStrings returns the value of b if it is a JSON array of strings.
func jsonStrings(b []byte) ([]string, bool) {
	if len(b) == 0 || b[0] != '[' {
		return nil, false
	}
	var out []string
	err := eachElement(b, func(v []byte) error {
		s, ok := jsonString(v)
		if !ok {
			return errJSON
		}
		out = append(out, s)
		return nil
	})
	return out, err == nil
}

// jsonNumber returns the value of b if it is a JSON number.
func jsonNumber(b []byte) (float64, bool) {
	if len(b) == 0 || (b[0] != '-' && (b[0] < '0' || b[0] > '9')) {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(b), 64)
	return f, err == nil
}
