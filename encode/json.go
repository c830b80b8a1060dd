package encode

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// JSONContentType is the Content-Type that [JSON] sends.
const JSONContentType = "application/json; charset=utf-8"

// JSON writes v as the JSON body of a response with the given status.
//
// The output is safe to embed in HTML and JavaScript: '<', '>', '&', U+2028 and U+2029 are
// escaped inside strings (encoding/json does this by default; JSON never turns it off). The
// body is encoded in full before anything is written, so if v cannot be encoded (a channel, a
// NaN, a failing MarshalJSON) the client gets a generic 500 problem and no partial data, and
// JSON returns the encoding error for the caller to log.
func JSON(w http.ResponseWriter, r *http.Request, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		err = fmt.Errorf("encode: JSON: %w", err)
		WriteError(w, r, &Error{Status: http.StatusInternalServerError, Err: err})
		return err
	}
	h := w.Header()
	h["Content-Type"] = []string{JSONContentType}
	h["X-Content-Type-Options"] = []string{"nosniff"}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	_, err = w.Write(body)
	return err
}
