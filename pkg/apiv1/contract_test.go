package apiv1_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// shapePackages are the packages on the API's path: pkg/query computes
// the answers, pkg/api serves them, the plugin (pkg/datasource) reads
// them and its stand-in exporter (estatetest) serves them.
var shapePackages = []string{"../query", "../api", "../datasource", "../datasource/estatetest"}

// notAnswers are JSON shapes in those packages that are not answers of
// mailtrail's API, each with the reason.
var notAnswers = map[string]string{
	"datasource.Settings":          "the plugin's settings as Grafana stores them",
	"datasource.ExporterSetting":   "part of the plugin's settings",
	"datasource.DiscoverySettings": "part of the plugin's settings",
	"datasource.Query":             "the query model the frontend sends",
	"datasource.targetsResponse":   "Prometheus's targets API",
	"datasource.kv":                "Grafana's trace frame",
	"datasource.spanLog":           "Grafana's trace frame",
}

// TestOneContract fails when a package other than apiv1 declares an API
// answer. An answer shape is a struct type with json tags (at any depth:
// an anonymous struct field counts) declared in one of shapePackages'
// non-test files, or a map[string]any literal there (an answer written
// as a map). Aliases of apiv1's types are how those packages name them.
func TestOneContract(t *testing.T) {
	fset := token.NewFileSet()
	var found []string
	for _, dir := range shapePackages {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no Go files (%v)", dir, err)
		}
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.TypeSpec:
					if n.Assign.IsValid() {
						return false // an alias declares nothing
					}
					name := f.Name.Name + "." + n.Name.Name
					if _, ok := notAnswers[name]; ok {
						return false
					}
					if hasJSONTags(n.Type) {
						found = append(found, fset.Position(n.Pos()).String()+": "+name+" is a JSON shape")
					}
					return false
				case *ast.CompositeLit:
					if m, ok := n.Type.(*ast.MapType); ok && f.Name.Name != "datasource" && isAny(m.Value) {
						found = append(found, fset.Position(n.Pos()).String()+": a map[string]any literal (an answer written as a map?)")
					}
				}
				return true
			})
		}
	}
	sort.Strings(found)
	for _, s := range found {
		t.Errorf("%s; API answers are declared in pkg/apiv1 only", s)
	}
}

func hasJSONTags(e ast.Expr) bool {
	has := false
	ast.Inspect(e, func(n ast.Node) bool {
		if f, ok := n.(*ast.Field); ok && f.Tag != nil {
			if _, ok := reflect.StructTag(strings.Trim(f.Tag.Value, "`")).Lookup("json"); ok {
				has = true
			}
		}
		return !has
	})
	return has
}

func isAny(e ast.Expr) bool {
	switch v := e.(type) {
	case *ast.Ident:
		return v.Name == "any"
	case *ast.InterfaceType:
		return len(v.Methods.List) == 0
	}
	return false
}
