package handlers

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/invopop/jsonschema"
	"github.com/netpanel/netpanel/netops/iproute"
)

// schemas turns the Go types the API answers with into JSON Schema
// (2020-12, which OpenAPI 3.1 uses as is), from the same struct tags
// encoding/json reads: a field without omitempty is required, and an
// object has no properties but its fields. Named types become components
// the operations refer to.
type schemas struct {
	r          *jsonschema.Reflector
	components map[string]any
	err        error // the first clash of two types' names
}

func newSchemas() *schemas {
	return &schemas{
		components: map[string]any{},
		r: &jsonschema.Reflector{
			Anonymous: true, // no $id: the document is the base
			Mapper:    mapType,
			Namer:     componentName,
		},
	}
}

// componentName names a component after its type, prefixed with its
// package's name outside the packages that speak the API's own
// vocabulary (handlers, iproute): trace.Step is TraceStep, so two
// packages' Steps cannot overwrite each other's schema.
func componentName(t reflect.Type) string {
	pkg := t.PkgPath()[strings.LastIndex(t.PkgPath(), "/")+1:]
	if pkg == "" || pkg == "handlers" || pkg == "iproute" {
		return t.Name()
	}
	prefix := strings.ToUpper(pkg[:1]) + pkg[1:]
	if strings.HasPrefix(t.Name(), prefix) {
		return t.Name()
	}
	return prefix + t.Name()
}

var (
	presentType = reflect.TypeFor[iproute.Present]()
	objectType  = reflect.TypeFor[iproute.Object]()

	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
)

// mapType gives the schema of the types whose JSON their MarshalJSON
// decides: Present prints null when set (and is left out when not), an
// Object's keys depend on what the kernel sent.
func mapType(t reflect.Type) *jsonschema.Schema {
	switch t {
	case presentType:
		return &jsonschema.Schema{Type: "null", Description: "present (with a null value) when the flag is set, as ip -j prints it"}
	case objectType:
		return &jsonschema.Schema{Type: "object", Description: "keys as ip -j prints them for what the kernel sent"}
	}
	// encoding/json prints a TextMarshaler (netip.Addr, ...) as a string.
	if t.Implements(textMarshaler) && !t.Implements(jsonMarshaler) {
		return &jsonschema.Schema{Type: "string"}
	}
	return nil
}

// of returns the schema of v's type, adding the named types it uses to
// the components.
func (s *schemas) of(v any) any {
	root := s.r.Reflect(v)
	for name, def := range root.Definitions {
		d := toDoc(def)
		if old, ok := s.components[name]; ok && !reflect.DeepEqual(old, d) && s.err == nil {
			s.err = fmt.Errorf("two types are named %s in the document's components", name)
		}
		s.components[name] = d
	}
	root.Definitions, root.Version = nil, ""
	return toDoc(root)
}

// tree returns v as a schema: v itself when it is a schema tree already,
// else the schema of its type (of).
func (s *schemas) tree(v any) any {
	if t, ok := v.(map[string]any); ok {
		return t
	}
	return s.of(v)
}

// toDoc turns a reflected schema into the document's JSON tree, its
// references moved from the schema's own $defs to the document's
// components.
func toDoc(sc *jsonschema.Schema) any {
	b, err := json.Marshal(sc)
	if err != nil {
		panic(err) // a schema the reflector made always marshals
	}
	var tree any
	if err := json.Unmarshal(b, &tree); err != nil {
		panic(err)
	}
	return rebase(tree)
}

func rebase(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if ref, ok := x.(string); ok && k == "$ref" {
				v[k] = strings.Replace(ref, "#/$defs/", "#/components/schemas/", 1)
				continue
			}
			v[k] = rebase(x)
		}
	case []any:
		for i := range v {
			v[i] = rebase(v[i])
		}
	}
	return v
}

// ref refers to a component.
func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

// arrayOf is a list of a component.
func arrayOf(name string) map[string]any { return map[string]any{"type": "array", "items": ref(name)} }
