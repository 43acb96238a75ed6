package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/provisionhq/provision/batch"
)

// manifestKinds are the Kubernetes objects deploy/ may hold, by
// apiVersion and kind, each with the k8s.io/api type it decodes into. A
// manifest of any other kind fails the test: add its type here.
var manifestKinds = map[string]func() any{
	"v1/ConfigMap":                             func() any { return new(corev1.ConfigMap) },
	"v1/Namespace":                             func() any { return new(corev1.Namespace) },
	"v1/PersistentVolumeClaim":                 func() any { return new(corev1.PersistentVolumeClaim) },
	"v1/Secret":                                func() any { return new(corev1.Secret) },
	"v1/Service":                               func() any { return new(corev1.Service) },
	"v1/ServiceAccount":                        func() any { return new(corev1.ServiceAccount) },
	"apps/v1/Deployment":                       func() any { return new(appsv1.Deployment) },
	"apps/v1/StatefulSet":                      func() any { return new(appsv1.StatefulSet) },
	"batch/v1/CronJob":                         func() any { return new(batchv1.CronJob) },
	"batch/v1/Job":                             func() any { return new(batchv1.Job) },
	"networking.k8s.io/v1/Ingress":             func() any { return new(networkingv1.Ingress) },
	"networking.k8s.io/v1/NetworkPolicy":       func() any { return new(networkingv1.NetworkPolicy) },
	"policy/v1/PodDisruptionBudget":            func() any { return new(policyv1.PodDisruptionBudget) },
	"rbac.authorization.k8s.io/v1/Role":        func() any { return new(rbacv1.Role) },
	"rbac.authorization.k8s.io/v1/RoleBinding": func() any { return new(rbacv1.RoleBinding) },
}

// manifest is one YAML document of a file under deploy/.
type manifest struct {
	line int // where the document starts, 1-based
	yaml []byte
}

// documentSeparator is a line that starts a new YAML document: "---",
// optionally followed by a comment.
var documentSeparator = regexp.MustCompile(`^---[ \t]*(#.*)?$`)

// splitManifests splits a multi-document YAML file on its "---" lines.
// Documents holding nothing but comments are left out.
func splitManifests(data []byte) ([]manifest, error) {
	var docs []manifest
	cur := manifest{line: 1}
	flush := func() {
		if len(bytes.TrimSpace(stripComments(cur.yaml))) > 0 {
			docs = append(docs, cur)
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		if documentSeparator.MatchString(sc.Text()) {
			flush()
			cur = manifest{line: n + 1}
			continue
		}
		cur.yaml = append(cur.yaml, sc.Bytes()...)
		cur.yaml = append(cur.yaml, '\n')
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	flush()
	return docs, nil
}

// stripComments drops the lines that are only a comment.
func stripComments(doc []byte) []byte {
	var out []byte
	for line := range bytes.Lines(doc) {
		if !bytes.HasPrefix(bytes.TrimSpace(line), []byte("#")) {
			out = append(out, line...)
		}
	}
	return out
}

// decodeManifest decodes one document strictly into the k8s.io/api type
// of its apiVersion and kind, as the API server's strict field validation
// does: a duplicate key, a field the type does not have, or one written
// in another case ("restartpolicy") is an error. It returns the object's
// "apiVersion/kind".
func decodeManifest(doc []byte) (string, error) {
	// sigs.k8s.io/yaml reads YAML as kubectl does (YAML 1.1: 0440 is
	// octal) and refuses duplicate keys.
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return "", fmt.Errorf("read YAML: %w", err)
	}
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := json.Unmarshal(js, &head); err != nil {
		return "", fmt.Errorf("read apiVersion and kind: %w", err)
	}
	id := head.APIVersion + "/" + head.Kind
	if head.APIVersion == "" || head.Kind == "" {
		return id, errors.New("apiVersion or kind missing")
	}
	newObject, ok := manifestKinds[id]
	if !ok {
		return id, fmt.Errorf("kind %s of %s is not one this test knows: add its k8s.io/api type to manifestKinds", head.Kind, head.APIVersion)
	}
	// sigs.k8s.io/json matches field names by case, as Kubernetes does;
	// encoding/json would take "restartpolicy" for restartPolicy.
	strict, err := kjson.UnmarshalStrict(js, newObject(), kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return id, fmt.Errorf("decode %s: %w", head.Kind, err)
	}
	if len(strict) > 0 {
		return id, fmt.Errorf("decode %s: %w", head.Kind, errors.Join(strict...))
	}
	return id, nil
}

// TestDeployManifests decodes every manifest under deploy/ strictly into
// its Kubernetes type, so that a misspelt or misplaced field fails here
// rather than being dropped, silently, by the API server of a cluster
// that does not validate fields strictly.
func TestDeployManifests(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "deploy", "*.y*ml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no manifest under deploy/")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			docs, err := splitManifests(data)
			if err != nil {
				t.Fatal(err)
			}
			if len(docs) == 0 {
				t.Fatalf("%s holds no manifest", file)
			}
			for _, doc := range docs {
				id, err := decodeManifest(doc.yaml)
				if err != nil {
					t.Errorf("%s:%d: %s: %v", file, doc.line, id, err)
					continue
				}
				t.Logf("%s:%d: %s", file, doc.line, id)
				if id == "v1/ConfigMap" {
					checkConfigs(t, file, doc)
				}
				// The test must be able to fail on this very document.
				for _, mutant := range mutants(t, doc.yaml) {
					if _, err := decodeManifest(mutant.yaml); err == nil {
						t.Errorf("%s:%d: %s with %s decodes without an error", file, doc.line, id, mutant.change)
					}
				}
			}
		})
	}
}

// checkConfigs loads each provision config (a .yaml key) of a ConfigMap as
// provision does, strictly, and validates it: a misspelt setting such as
// leavers.maxcount fails here, not on the first night.
func checkConfigs(t *testing.T, file string, doc manifest) {
	t.Helper()
	var cm corev1.ConfigMap
	if err := yaml.Unmarshal(doc.yaml, &cm); err != nil {
		t.Fatal(err)
	}
	for key, content := range cm.Data {
		if !strings.HasSuffix(key, ".yaml") {
			continue
		}
		path := filepath.Join(t.TempDir(), key)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := batch.LoadConfig(path)
		if err == nil {
			err = cfg.WithDefaults().Validate()
		}
		if err != nil {
			t.Errorf("%s:%d: the config %s: %v", file, doc.line, key, err)
		}
	}
}

type mutant struct {
	change string
	yaml   []byte
}

// mutants returns copies of a valid document with one mistake each: its
// name's key misspelt, and the first field of its spec (or, without a
// spec, its first field) written with a capital.
func mutants(t *testing.T, doc []byte) []mutant {
	t.Helper()
	js, err := yaml.YAMLToJSON(doc)
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := json.Unmarshal(js, &obj); err != nil {
		t.Fatal(err)
	}
	var out []mutant
	add := func(change string, edit func(map[string]any)) {
		var copied map[string]any
		if err := json.Unmarshal(js, &copied); err != nil {
			t.Fatal(err)
		}
		edit(copied)
		b, err := json.Marshal(copied)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, mutant{change, b})
	}
	add("metadata.nmae", func(o map[string]any) {
		meta := o["metadata"].(map[string]any)
		meta["nmae"] = meta["name"]
		delete(meta, "name")
	})
	parent, where := obj, ""
	if spec, ok := obj["spec"].(map[string]any); ok {
		parent, where = spec, "spec."
	}
	for _, key := range slices.Sorted(maps.Keys(parent)) {
		if key == "apiVersion" || key == "kind" || key == "metadata" {
			continue
		}
		capital := strings.ToUpper(key[:1]) + key[1:]
		add(where+capital, func(o map[string]any) {
			p := o
			if where != "" {
				p = o["spec"].(map[string]any)
			}
			p[capital] = p[key]
			delete(p, key)
		})
		break
	}
	return out
}

// TestDecodeManifest shows what the strict decoding refuses.
func TestDecodeManifest(t *testing.T) {
	const job = `apiVersion: batch/v1
kind: Job
metadata:
  name: once
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: provision
          image: ghcr.io/provisionhq/provision:latest
`
	tests := []struct {
		name, doc, wantErr string
	}{
		{"valid", job, ""},
		{"misspelt field deep inside", strings.Replace(job, "image:", "imgae:", 1), `unknown field "spec.template.spec.containers[0].imgae"`},
		{"field in the wrong case", strings.Replace(job, "restartPolicy", "restartpolicy", 1), `unknown field "spec.template.spec.restartpolicy"`},
		{"field in the wrong place", strings.Replace(job, "      restartPolicy: Never\n", "      restartPolicy: Never\n      backoffLimit: 1\n", 1),
			`unknown field "spec.template.spec.backoffLimit"`},
		{"duplicate key", job + "  backoffLimit: 1\n  backoffLimit: 2\n", `"backoffLimit" already set`},
		{"wrong type", strings.Replace(job, "name: once", "name: once\n  labels: [a, b]", 1), "cannot unmarshal array"},
		{"unknown kind", strings.Replace(job, "kind: Job", "kind: Jobb", 1), "kind Jobb of batch/v1 is not one this test knows"},
		{"kind under another apiVersion", strings.Replace(job, "batch/v1", "apps/v1", 1), "kind Job of apps/v1 is not one this test knows"},
		{"no kind", strings.Replace(job, "kind: Job\n", "", 1), "apiVersion or kind missing"},
		{"not YAML", "apiVersion: v1\nkind: [", "read YAML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeManifest([]byte(tt.doc))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("decodeManifest = %v, want no error", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("decodeManifest = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestSplitManifests(t *testing.T) {
	data := "# a file comment\napiVersion: v1\nkind: A\n---\n# only a comment\n--- # B follows\napiVersion: v1\nkind: B\n  # x\n---\n\n"
	docs, err := splitManifests([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range docs {
		got = append(got, fmt.Sprintf("%d:%s", d.line, strings.TrimSpace(string(stripComments(d.yaml)))))
	}
	want := []string{"1:apiVersion: v1\nkind: A", "7:apiVersion: v1\nkind: B"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("splitManifests = %q, want %q", got, want)
	}
}
