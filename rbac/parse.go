package rbac

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ParsePolicy reads a policy from YAML or JSON (JSON is read as YAML, which it is a subset
// of). name is only used in error messages, e.g. the file name. The format:
//
//	roles:
//	  viewer:
//	    allow: [notes:read]
//	  editor:
//	    inherits: [viewer]
//	    allow: [notes:write, notes:delete]
//	  suspended:
//	    deny: ["*"]
//	routes:
//	  "GET /notes/{id}": [notes:read]
//	  "DELETE /notes/{id}": [notes:delete]
//	  "GET /healthz": public
//
// Top-level keys are roles and routes; role keys are inherits, allow, deny and description
// (ignored). Every problem is reported, joined with [errors.Join], each a [*PolicyError] with
// the file name and line: unknown keys, malformed or duplicate roles and permissions, unknown
// roles inherited, cycles. YAML aliases are refused, and so are files over 4 MiB.
func ParsePolicy(name string, data []byte) (Policy, error) {
	p := Policy{src: &source{file: name, lines: make(map[string]int)}}
	fail := func(line int, sentinel error, format string, args ...any) error {
		return &PolicyError{File: name, Line: line, Detail: fmt.Sprintf(format, args...), Err: sentinel}
	}
	if len(data) > maxPolicyBytes {
		return Policy{}, fail(0, ErrSyntax, "policy is larger than %d bytes", maxPolicyBytes)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return Policy{}, fail(0, ErrSyntax, "policy is empty")
		}
		line, msg := yamlErrorLine(err)
		return Policy{}, fail(line, ErrSyntax, "%s", msg)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return Policy{}, fail(extra.Line, ErrSyntax, "policy has more than one document")
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}

	var errs []error
	add := func(err error) { errs = append(errs, err) }
	each := func(n *yaml.Node, what string, fn func(key, val *yaml.Node)) {
		if isNull(n) {
			return
		}
		if n.Kind != yaml.MappingNode {
			add(fail(n.Line, ErrSyntax, "%s must be a mapping", what))
			return
		}
		seen := make(map[string]bool, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				add(fail(k.Line, ErrSyntax, "%s: keys must be plain strings", what))
				continue
			}
			if seen[k.Value] {
				add(fail(k.Line, ErrDuplicate, "%s: %q is defined twice", what, k.Value))
				continue
			}
			seen[k.Value] = true
			fn(k, v)
		}
	}
	strs := func(n *yaml.Node, what string) []*yaml.Node {
		if isNull(n) {
			return nil
		}
		if n.Kind != yaml.SequenceNode {
			add(fail(n.Line, ErrSyntax, "%s must be a list", what))
			return nil
		}
		for _, item := range n.Content {
			if item.Kind != yaml.ScalarNode || isNull(item) {
				add(fail(item.Line, ErrSyntax, "%s: items must be strings", what))
				return nil
			}
		}
		return n.Content
	}

	if alias := findAlias(root); alias != nil {
		return Policy{}, fail(alias.Line, ErrSyntax, "YAML aliases are not allowed")
	}
	if root.Kind != yaml.MappingNode {
		return Policy{}, fail(root.Line, ErrSyntax, "policy must be a mapping with roles and routes")
	}
	each(root, "policy", func(k, v *yaml.Node) {
		switch k.Value {
		case "roles":
			each(v, "roles", func(rk, rv *yaml.Node) {
				role := Role{Name: rk.Value}
				p.src.set(rk.Line, "role", role.Name)
				each(rv, "role "+quote(role.Name), func(fk, fv *yaml.Node) {
					switch fk.Value {
					case "inherits":
						for _, s := range strs(fv, "role "+quote(role.Name)+" inherits") {
							p.src.set(s.Line, "inherits", role.Name, s.Value)
							role.Inherits = append(role.Inherits, s.Value)
						}
					case "allow", "deny":
						for _, s := range strs(fv, "role "+quote(role.Name)+" "+fk.Value) {
							if p.src.line(fk.Value, role.Name, s.Value) != 0 {
								add(fail(s.Line, ErrDuplicate, "role %q: %s %q is listed twice", role.Name, fk.Value, s.Value))
								continue
							}
							p.src.set(s.Line, fk.Value, role.Name, s.Value)
							if fk.Value == "allow" {
								role.Allow = append(role.Allow, s.Value)
							} else {
								role.Deny = append(role.Deny, s.Value)
							}
						}
					case "description":
					default:
						add(fail(fk.Line, ErrUnknownKey, "role %q: unknown key %q (want inherits, allow, deny or description)", role.Name, fk.Value))
					}
				})
				p.Roles = append(p.Roles, role)
			})
		case "routes":
			each(v, "routes", func(rk, rv *yaml.Node) {
				rt := Route{Pattern: rk.Value}
				p.src.set(rk.Line, "route", rt.Pattern)
				if rv.Kind == yaml.ScalarNode && rv.Value == "public" {
					rt.Public = true
					p.Routes = append(p.Routes, rt)
					return
				}
				if rv.Kind == yaml.ScalarNode && !isNull(rv) {
					add(fail(rv.Line, ErrBadRoute, "route %q: want a list of permissions or public", rt.Pattern))
					return
				}
				for _, s := range strs(rv, "route "+quote(rt.Pattern)) {
					p.src.set(s.Line, "require", rt.Pattern, s.Value)
					rt.Require = append(rt.Require, s.Value)
				}
				p.Routes = append(p.Routes, rt)
			})
		default:
			add(fail(k.Line, ErrUnknownKey, "unknown key %q (want roles or routes)", k.Value))
		}
	})
	if len(errs) > 0 {
		return Policy{}, errors.Join(errs...)
	}
	if err := p.Validate(); err != nil {
		return Policy{}, err
	}
	return p, nil
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// findAlias returns the first alias node under n. Aliases are refused rather than followed,
// so that a small file cannot expand into a huge policy.
func findAlias(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode {
		return n
	}
	for _, c := range n.Content {
		if a := findAlias(c); a != nil {
			return a
		}
	}
	return nil
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

// yamlErrorLine splits the "yaml: line N: msg" form of the parser's errors.
func yamlErrorLine(err error) (int, string) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	rest, ok := strings.CutPrefix(msg, "line ")
	if !ok {
		return 0, msg
	}
	num, text, ok := strings.Cut(rest, ": ")
	n, convErr := strconv.Atoi(num)
	if !ok || convErr != nil {
		return 0, msg
	}
	return n, text
}
