package validate

import (
	"reflect"
	"strings"

	"github.com/go-playground/validator/v10"
)

// message is the client-facing English for a failed rule. It is built from the rule and its
// parameter (which the code wrote), never from the value (which the client sent). other
// names the JSON member a cross-field rule compares with.
func (c *core) message(fe validator.FieldError, other func(goName string) string) string {
	tag, param := fe.Tag(), fe.Param()
	size := ""
	switch fe.Kind() {
	case reflect.String:
		size = " characters"
	case reflect.Slice, reflect.Array, reflect.Map:
		size = " items"
	}
	switch tag {
	case "required", "required_if", "required_unless", "required_with", "required_with_all",
		"required_without", "required_without_all":
		return "is required"
	case "excluded_if", "excluded_unless", "excluded_with", "excluded_with_all", "excluded_without",
		"excluded_without_all":
		return "must not be set"
	case "min", "gte":
		if param == "" {
			return "must not be in the past"
		}
		if size != "" {
			return "must have at least " + param + size
		}
		return "must be at least " + param
	case "max", "lte":
		if param == "" {
			return "must not be in the future"
		}
		if size != "" {
			return "must have at most " + param + size
		}
		return "must be at most " + param
	case "gt":
		if size != "" {
			return "must have more than " + param + size
		}
		return "must be greater than " + param
	case "lt":
		if size != "" {
			return "must have fewer than " + param + size
		}
		return "must be less than " + param
	case "len":
		if size != "" {
			return "must have exactly " + param + size
		}
		return "must be " + param
	case "eq":
		return "must be " + param
	case "ne":
		return "must not be " + param
	case "oneof":
		return "must be one of: " + strings.Join(strings.Fields(param), ", ")
	case "eqfield":
		return "must equal " + name(other(param))
	case "nefield":
		return "must differ from " + name(other(param))
	case "gtfield":
		return "must be greater than " + name(other(param))
	case "gtefield":
		return "must be at least " + name(other(param))
	case "ltfield":
		return "must be less than " + name(other(param))
	case "ltefield":
		return "must be at most " + name(other(param))
	case "email":
		return "must be an email address"
	case "url", "uri", "http_url", "https_url":
		return "must be a URL"
	case "safeurl":
		return "must be an absolute URL with scheme " + c.schemes
	case "uuid", "uuid3", "uuid4", "uuid5", "uuid_rfc4122", "uuid4_rfc4122":
		return "must be a UUID"
	case "datetime":
		return "must be a date or time in the layout " + param
	case "alpha":
		return "must contain only ASCII letters"
	case "alphanum":
		return "must contain only ASCII letters and digits"
	case "numeric", "number":
		return "must be numeric"
	case "ascii", "printascii":
		return "must contain only printable ASCII"
	case "unique":
		return "must not contain duplicates"
	case "ip", "ipv4", "ipv6":
		return "must be an IP address"
	case "e164":
		return "must be a phone number in E.164 format"
	}
	if c.patterns[tag] {
		return "must match the " + tag + " format"
	}
	return "must pass the " + tag + " rule"
}

func name(jsonName string) string {
	if jsonName == "" {
		return "the other field"
	}
	return jsonName
}
