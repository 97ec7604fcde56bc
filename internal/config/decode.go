package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// positions maps a field path (projects[0].jobs[1].schedule) to the line
// of its value in the file.
type positions map[string]int

// locate is "file:line" for path, or for the nearest enclosing field that
// has a line (a missing field is reported at its parent), else "file".
func (p positions) locate(name, path string) string {
	for path != "" {
		if line, ok := p[path]; ok {
			return name + ":" + strconv.Itoa(line)
		}
		path = parentPath(path)
	}
	return name
}

func parentPath(path string) string {
	cut := strings.LastIndexAny(path, ".[")
	if cut < 0 {
		return ""
	}
	return path[:cut]
}

var plainKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// keyPath joins a mapping key to its parent's path: pii.columns, or
// pii.columns["submissions.email"] for a key that is not a plain word.
func keyPath(parent, key string) string {
	switch {
	case !plainKey.MatchString(key):
		return parent + "[" + strconv.Quote(key) + "]"
	case parent == "":
		return key
	}
	return parent + "." + key
}

// decode parses data, expands variables in its string values and decodes
// it strictly into f. It returns the line of every field.
func decode(name string, data []byte, getenv func(string) string, f *file) (positions, error) {
	parsed, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, yamlError(name, err)
	}
	var body ast.Node
	for _, doc := range parsed.Docs {
		if doc.Body == nil {
			continue
		}
		if body != nil {
			return nil, fmt.Errorf("%s: more than one YAML document: keep the whole configuration in one", name)
		}
		body = doc.Body
	}
	if body == nil {
		return nil, fmt.Errorf("%s: the file is empty: it needs at least a projects list", name)
	}
	w := &walker{name: name, getenv: getenv, pos: positions{}}
	w.walk(body, "", false)
	if err := errors.Join(w.errs...); err != nil {
		return nil, err
	}
	if err := yaml.NodeToValue(body, f, yaml.Strict()); err != nil {
		return nil, w.pos.typeError(name, err)
	}
	return w.pos, nil
}

// walker records positions and expands variables, in place, in the string
// values of the tree.
type walker struct {
	name   string
	getenv func(string) string
	pos    positions
	errs   []error
	depth  int
}

// maxDepth stops a pathological file (deeply nested flow collections)
// from exhausting the stack.
const maxDepth = 64

func (w *walker) walk(n ast.Node, path string, namesVariable bool) {
	if n == nil {
		return
	}
	if w.depth++; w.depth > maxDepth {
		w.errs = append(w.errs, fmt.Errorf("%s: %s: nested too deeply", w.pos.locate(w.name, path), path))
		return
	}
	defer func() { w.depth-- }()
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		if _, ok := w.pos[path]; !ok {
			w.pos[path] = tk.Position.Line
		}
	}
	switch n := n.(type) {
	case *ast.MappingNode:
		for _, mv := range n.Values {
			w.walk(mv, path, false)
		}
	case *ast.MappingValueNode:
		key := ""
		if n.Key != nil {
			key = n.Key.GetToken().Value
		}
		kp := keyPath(path, key)
		if tk := n.Key.GetToken(); tk != nil && tk.Position != nil {
			w.pos[kp] = tk.Position.Line
		}
		w.walk(n.Value, kp, strings.HasSuffix(key, "_env"))
	case *ast.SequenceNode:
		for i, e := range n.Values {
			w.walk(e, path+"["+strconv.Itoa(i)+"]", false)
		}
	case *ast.AnchorNode:
		w.walk(n.Value, path, namesVariable)
	case *ast.TagNode:
		w.walk(n.Value, path, namesVariable)
	case *ast.LiteralNode:
		w.walk(n.Value, path, namesVariable)
	case *ast.StringNode:
		if !namesVariable {
			n.Value = w.expand(path, n.Value)
		}
	}
}

// expand replaces $VAR and ${VAR} with their values, $$ with $. A variable
// that is unset or empty is an error naming it.
func (w *walker) expand(path, s string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	if !wellFormed(s) {
		w.errs = append(w.errs, fmt.Errorf("%s: %s: bad variable reference in %q: write ${NAME} or $NAME, and $$ for a literal $", w.pos.locate(w.name, path), path, s))
		return s
	}
	return os.Expand(s, func(v string) string {
		if v == "$" {
			return "$"
		}
		val := w.getenv(v)
		if val == "" {
			w.errs = append(w.errs, fmt.Errorf("%s: %s: environment variable %s is not set", w.pos.locate(w.name, path), path, v))
		}
		return val
	})
}

// wellFormed says whether every $ in s starts $$, $NAME or ${NAME}:
// os.Expand silently drops what it cannot read, such as "${" or "$1".
func wellFormed(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			continue
		}
		rest := s[i+1:]
		switch {
		case strings.HasPrefix(rest, "$"):
			i++
		case strings.HasPrefix(rest, "{"):
			end := strings.IndexByte(rest, '}')
			if end < 0 || !envName.MatchString(rest[1:end]) {
				return false
			}
			i += end + 1
		default:
			if !envName.MatchString(leadingName(rest)) {
				return false
			}
		}
	}
	return true
}

// leadingName is the longest prefix of s made of name characters.
func leadingName(s string) string {
	n := strings.IndexFunc(s, func(r rune) bool {
		return !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	})
	if n < 0 {
		return s
	}
	return s[:n]
}

// typeError locates a decoding error and, for a value of the wrong type,
// names the field: go-yaml names only the Go struct.
func (p positions) typeError(name string, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) || te.Token == nil || te.Token.Position == nil || te.DstType == nil {
		return yamlError(name, err)
	}
	line, field := te.Token.Position.Line, ""
	for path, l := range p {
		if l == line && len(path) > len(field) {
			field = path
		}
	}
	if field == "" {
		return yamlError(name, err)
	}
	return fmt.Errorf("%s: %s: %q is not a %s", at(name, te.Token), field, te.Token.Value, typeName(te.DstType.Kind()))
}

func typeName(k reflect.Kind) string {
	switch k {
	case reflect.Int, reflect.Int64:
		return "whole number"
	case reflect.Float64:
		return "number"
	case reflect.String:
		return "string"
	case reflect.Slice:
		return "list"
	case reflect.Map, reflect.Struct:
		return "mapping"
	}
	return k.String()
}

// hints answer the likeliest unknown keys: a secret written into the file.
var hints = map[string]string{
	"api_key":    "the API key stays in the environment: set api_key_env to the NAME of the variable that holds it",
	"secret_key": "the secret key stays in the environment: set secret_key_env to the NAME of the variable that holds it",
	"key":        "the PII key stays in the environment: set key_env to the NAME of the variable that holds it",
}

// yamlError turns a go-yaml error into "file:line:column: message".
func yamlError(name string, err error) error {
	var ye yaml.Error
	if !errors.As(err, &ye) {
		return fmt.Errorf("%s: %w", name, err)
	}
	msg := ye.GetMessage()
	var unknown *yaml.UnknownFieldError
	if errors.As(err, &unknown) && unknown.Token != nil {
		if h, ok := hints[unknown.Token.Value]; ok {
			msg += " (" + h + ")"
		}
	}
	return fmt.Errorf("%s: %s", at(name, ye.GetToken()), msg)
}

func at(name string, tk *token.Token) string {
	if tk == nil || tk.Position == nil {
		return name
	}
	return fmt.Sprintf("%s:%d:%d", name, tk.Position.Line, tk.Position.Column)
}
