package indicator

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// codePattern is a reason code: a rule family and a name.
var codePattern = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9][a-z0-9-]*$`)

// sourceCodes returns the reason codes the package's source can return:
// the literal first arguments of fail and failf, and the codes Kind's
// own checks use.
func sourceCodes(t *testing.T) map[string]bool {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]bool{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") || strings.HasPrefix(name, "gen_") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				if id, ok := n.Fun.(*ast.Ident); ok && (id.Name == "fail" || id.Name == "failf") && len(n.Args) > 0 {
					lit, ok := n.Args[0].(*ast.BasicLit)
					if !ok {
						t.Errorf("%s: %s with a code that is not a literal", fset.Position(n.Pos()), id.Name)
						return true
					}
					code, _ := strconv.Unquote(lit.Value)
					codes[code] = true
				}
			case *ast.KeyValueExpr:
				if id, ok := n.Key.(*ast.Ident); ok && id.Name == "Code" {
					if lit, ok := n.Value.(*ast.BasicLit); ok {
						code, _ := strconv.Unquote(lit.Value)
						codes[code] = true
					}
				}
			}
			return true
		})
	}
	for c := range codes {
		if !codePattern.MatchString(c) {
			t.Errorf("reason code %q is not family.name in a-z, 0-9 and '-'", c)
		}
	}
	return codes
}

// kindDocs returns, for each built-in kind, the codes its documentation
// lists: the backquoted or plain codes after "Reason codes:" in the doc
// comment of the variable that registers it (or of its var block).
func kindDocs(t *testing.T) map[string][]string {
	t.Helper()
	fset := token.NewFileSet()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string][]string{}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") || strings.HasPrefix(name, "gen_") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for _, v := range vs.Values {
					call, ok := v.(*ast.CallExpr)
					if !ok {
						continue // a value that is not a call, such as a map literal
					}
					if id, isID := call.Fun.(*ast.Ident); !isID || id.Name != "register" {
						continue
					}
					name, _ := strconv.Unquote(call.Args[0].(*ast.BasicLit).Value)
					doc := vs.Doc
					if doc == nil {
						doc = gd.Doc
					}
					docs[name] = listedCodes(doc.Text())
				}
			}
		}
	}
	return docs
}

// listedCodes returns the codes in text after "Reason codes:", up to the
// end of that paragraph.
func listedCodes(text string) []string {
	_, after, ok := strings.Cut(text, "Reason codes:")
	if !ok {
		return nil
	}
	para, _, _ := strings.Cut(after, "\n\n")
	var codes []string
	for _, w := range strings.FieldsFunc(para, func(r rune) bool {
		return r == ' ' || r == '\n' || r == ',' || r == '`' || r == ';' || r == '(' || r == ')'
	}) {
		w = strings.TrimSuffix(w, ".")
		if codePattern.MatchString(w) {
			codes = append(codes, w)
		}
	}
	slices.Sort(codes)
	return slices.Compact(codes)
}

// specSections returns the reason codes PROTOCOL.md section 4 lists, by
// subsection: each "### " (or "#### ") heading's backquoted kind names,
// and the backquoted codes of the lines after "Reason codes" up to the
// next heading.
func specSections(t *testing.T) (byKind map[string][]string, all map[string]bool) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "PROTOCOL.md"))
	if err != nil {
		t.Fatal(err)
	}
	// Section 4, Canonical forms.
	_, sec4, ok := strings.Cut(string(data), "\n## 4. ")
	if !ok {
		t.Fatal("PROTOCOL.md has no section 4")
	}
	sec4, _, _ = strings.Cut(sec4, "\n## 5. ")
	byKind, all = map[string][]string{}, map[string]bool{}
	backquoted := regexp.MustCompile("`([^`]+)`")
	var kinds, codes []string
	inCodes := false
	flush := func() {
		slices.Sort(codes)
		codes = slices.Compact(codes)
		for _, k := range kinds {
			byKind[k] = codes
		}
		kinds, codes, inCodes = nil, nil, false
	}
	for _, line := range strings.Split(sec4, "\n") {
		if strings.HasPrefix(line, "### ") || strings.HasPrefix(line, "#### ") {
			flush()
			for _, m := range backquoted.FindAllStringSubmatch(line, -1) {
				kinds = append(kinds, m[1])
			}
			continue
		}
		if strings.Contains(line, "Reason codes") {
			inCodes = true
		}
		if !inCodes {
			continue
		}
		for _, m := range backquoted.FindAllStringSubmatch(line, -1) {
			if codePattern.MatchString(m[1]) {
				codes = append(codes, m[1])
				all[m[1]] = true
			}
		}
	}
	flush()
	return byKind, all
}

// Every reason code the source can return is in PROTOCOL.md section 4, which
// lists no other; and each kind's doc comment lists the codes its section
// of PROTOCOL.md section 4 does.
func TestReasonCodesDocumented(t *testing.T) {
	src := sourceCodes(t)
	spec, all := specSections(t)
	for c := range src {
		if !all[c] {
			t.Errorf("reason code %s is not in PROTOCOL.md section 4", c)
		}
	}
	for c := range all {
		if !src[c] {
			t.Errorf("PROTOCOL.md section 4 lists reason code %s, which the source never returns", c)
		}
	}
	docs := kindDocs(t)
	for _, k := range Kinds() {
		doc, sec := docs[k.Name()], spec[k.Name()]
		if len(sec) == 0 {
			t.Errorf("kind %s: no section with reason codes in PROTOCOL.md section 4", k.Name())
		}
		if !slices.Equal(doc, sec) {
			t.Errorf("kind %s: the doc comment lists reason codes %v, PROTOCOL.md section 4 %v", k.Name(), doc, sec)
		}
	}
}
