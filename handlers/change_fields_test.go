package handlers

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"testing"
)

// parserReads finds, in the parsers' source, the literal keys each
// function reads from a form (f.Get("dst"), f["nh_via"]), the functions
// each calls, and the map entries ("route": {parseRouteForm, ...}, or a
// function literal) that declare a kind of change.
type parserReads struct {
	keys    map[string][]string // by function name, or kind for a literal
	calls   map[string][]string
	entries map[string]string // kind -> function name (or the kind)
}

func readParsers(t *testing.T, files ...string) parserReads {
	t.Helper()
	pr := parserReads{keys: map[string][]string{}, calls: map[string][]string{}, entries: map[string]string{}}
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		// scan records what a body reads and calls under owner.
		scan := func(owner string, body ast.Node) {
			ast.Inspect(body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Get" && len(n.Args) == 1 {
						if lit, ok := n.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							k, _ := strconv.Unquote(lit.Value)
							pr.keys[owner] = append(pr.keys[owner], k)
						}
					}
					if id, ok := n.Fun.(*ast.Ident); ok {
						pr.calls[owner] = append(pr.calls[owner], id.Name)
					}
				case *ast.IndexExpr:
					if lit, ok := n.Index.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						if id, ok := n.X.(*ast.Ident); ok && (id.Name == "f" || id.Name == "o") {
							k, _ := strconv.Unquote(lit.Value)
							pr.keys[owner] = append(pr.keys[owner], k)
						}
					}
				case *ast.Ident:
					// A function passed as a value (replaced's parse).
					pr.calls[owner] = append(pr.calls[owner], n.Name)
				}
				return true
			})
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			scan(fd.Name.Name, fd.Body)
			// Map entries "kind": {parser, fields}: the declarations.
			ast.Inspect(fd, func(n ast.Node) bool { return entry(n, scan, pr.entries) })
		}
		for _, d := range f.Decls {
			if gd, ok := d.(*ast.GenDecl); ok {
				ast.Inspect(gd, func(n ast.Node) bool { return entry(n, scan, pr.entries) })
			}
		}
	}
	return pr
}

// entry records a "kind": {parse, fields} element of a map literal.
func entry(n ast.Node, scan func(string, ast.Node), entries map[string]string) bool {
	kv, ok := n.(*ast.KeyValueExpr)
	if !ok {
		return true
	}
	key, ok := kv.Key.(*ast.BasicLit)
	cl, isComp := kv.Value.(*ast.CompositeLit)
	if !ok || key.Kind != token.STRING || !isComp || len(cl.Elts) != 2 {
		return true
	}
	kind, _ := strconv.Unquote(key.Value)
	switch p := cl.Elts[0].(type) {
	case *ast.Ident:
		entries[kind] = p.Name
	case *ast.FuncLit:
		entries[kind] = "kind " + kind
		scan("kind "+kind, p.Body)
	}
	return true
}

// reads are the keys fn reads, with those of the functions it calls.
func (pr parserReads) reads(fn string) []string {
	seen := map[string]bool{}
	var out []string
	var walk func(string)
	walk = func(f string) {
		if seen[f] {
			return
		}
		seen[f] = true
		out = append(out, pr.keys[f]...)
		for _, c := range pr.calls[f] {
			walk(c)
		}
	}
	walk(fn)
	return out
}

// Every key a kind's parser reads is one its declared fields accept, so
// the JSON API refuses only what no parser would read; a parser that
// learns a field without its kind's list fails here, not in production.
func TestChangeFieldsAreTheKeysTheParsersRead(t *testing.T) {
	pr := readParsers(t, "parsers.go", "nft_parsers.go")
	all := map[string]changeParser{}
	for k, p := range changeParsers {
		all[k] = p
	}
	for k, p := range nftParsers(nil, nil) {
		all[k] = p
	}
	for kind, p := range all {
		t.Run(kind, func(t *testing.T) {
			fn, ok := pr.entries[kind]
			if !ok {
				t.Fatalf("no declaration of %q found in the source: the test reads nothing", kind)
			}
			read := pr.reads(fn)
			if len(read) == 0 {
				t.Fatalf("%s reads no key: the test proves nothing", fn)
			}
			for _, k := range read {
				if !slices.Contains(p.fields, k) {
					t.Errorf("%s reads %q, which the %s change's fields (%v) refuse", fn, k, kind, p.fields)
				}
			}
		})
	}
}
