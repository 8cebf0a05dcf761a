package views

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// Every form names itself with data-form: forms.js places messages by
// it, and the browser test's table of forms (e2e/forms_test.go) is keyed
// by it and fails on a form it does not list.
func TestEveryFormHasADataFormID(t *testing.T) {
	files, err := filepath.Glob("*.templ")
	if err != nil || len(files) == 0 {
		t.Fatalf("no templates: %v", err)
	}
	formTag := regexp.MustCompile(`(?s)<form\b[^>]*>`)
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, tag := range formTag.FindAll(b, -1) {
			n++
			if !regexp.MustCompile(`\bdata-form=`).Match(tag) {
				t.Errorf("%s: %s has no data-form", f, tag)
			}
		}
	}
	if n < 10 {
		t.Fatalf("found %d forms; the pattern no longer matches the templates", n)
	}
}
