package helm

import (
	"bytes"
	"cmp"
	"encoding/json"
	"maps"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"github.com/ocrinvoice/ocrinvoice/internal/config"
	"github.com/ocrinvoice/ocrinvoice/internal/tasks"
)

const (
	chartDir  = "ocrinvoice"
	release   = "rel"
	namespace = "invoices"
)

// valuesCases are the values the chart is rendered with: its defaults and every file in
// ci/ (TestEveryCIValuesFileIsRendered keeps the list complete).
var valuesCases = []struct {
	name   string
	values string // file below chartDir; "" for the chart's defaults
	trial  bool   // one `ocrinvoice all` Deployment on SQLite
}{
	{"default", "", true},
	{"trial", "ci/trial-values.yaml", true},
	{"production", "ci/production-values.yaml", false},
	{"existing-secret", "ci/existing-secret-values.yaml", false},
	{"secret-files", "ci/secret-files-values.yaml", false},
}

// subcommands maps the app.kubernetes.io/component of an ocrinvoice pod to the
// subcommand its container runs.
var subcommands = map[string]string{"api": config.CmdServe, "worker": config.CmdWorker, "all": config.CmdAll, "migrate": config.CmdMigrate}

// secretEnv are the variables that may reach a container only from a Secret.
var secretEnv = []string{"DATABASE_URL", "REDIS_URL", "OCRINVOICE_WEBHOOK_SECRET"}

var (
	helmOnce sync.Once
	helmPath string
	helmHome string
)

// helmBinary returns the helm binary: $HELM, bin/helm of the repository, or helm on PATH.
// Without one the test is skipped, unless CI is set.
func helmBinary(t *testing.T) string {
	t.Helper()
	helmOnce.Do(func() {
		if p := os.Getenv("HELM"); p != "" {
			helmPath = p
		} else if p, err := filepath.Abs(filepath.Join("..", "bin", "helm")); err == nil && isFile(p) {
			helmPath = p
		} else if p, err := exec.LookPath("helm"); err == nil {
			helmPath = p
		}
		// helm needs no cluster and no repositories for template: keep it away from the
		// user's kube config and caches.
		helmHome, _ = os.MkdirTemp("", "ocrinvoice-helm-test-")
	})
	if helmPath == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("helm not found (CI): set HELM or run `make helm-test`, which installs bin/helm")
		}
		t.Skip("helm not found: run `make helm-test` (installs bin/helm) or set HELM")
	}
	return helmPath
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// runHelm runs helm with args in this directory and returns its standard output and error.
func runHelm(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(helmBinary(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(helmHome, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(helmHome, "config"),
		"HELM_DATA_HOME="+filepath.Join(helmHome, "data"),
		"KUBECONFIG="+filepath.Join(helmHome, "no-kubeconfig"),
	)
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// helmTemplate renders the chart with the given values files (paths below chartDir).
func helmTemplate(t *testing.T, valuesFiles ...string) (string, string, error) {
	t.Helper()
	args := []string{"template", release, chartDir, "--namespace", namespace}
	for _, f := range valuesFiles {
		if !filepath.IsAbs(f) {
			f = filepath.Join(chartDir, f)
		}
		args = append(args, "--values", f)
	}
	return runHelm(t, args...)
}

// object is one rendered manifest, decoded strictly into its Go type.
type object struct {
	source string // template file, from helm's "# Source:" comment
	raw    string
	kind   string
	meta   metav1.Object
	obj    any
}

func (o object) String() string { return o.kind + " " + o.meta.GetName() + " (" + o.source + ")" }

// The custom resources the chart renders are not in k8s.io/api; these types mirror the
// fields of KEDA's keda.sh/v1alpha1 and the Prometheus Operator's monitoring.coreos.com/v1
// that the chart uses, so that strict decoding catches a misspelt or misplaced field.
type (
	scaledObject struct {
		metav1.TypeMeta   `json:",inline"`
		metav1.ObjectMeta `json:"metadata"`
		Spec              struct {
			ScaleTargetRef  crossRef       `json:"scaleTargetRef"`
			MinReplicaCount *int32         `json:"minReplicaCount,omitempty"`
			MaxReplicaCount *int32         `json:"maxReplicaCount,omitempty"`
			PollingInterval *int32         `json:"pollingInterval,omitempty"`
			CooldownPeriod  *int32         `json:"cooldownPeriod,omitempty"`
			Triggers        []scaleTrigger `json:"triggers"`
		} `json:"spec"`
	}
	crossRef struct {
		APIVersion string `json:"apiVersion,omitempty"`
		Kind       string `json:"kind,omitempty"`
		Name       string `json:"name"`
	}
	scaleTrigger struct {
		Type              string            `json:"type"`
		Name              string            `json:"name,omitempty"`
		MetricType        string            `json:"metricType,omitempty"`
		Metadata          map[string]string `json:"metadata"`
		AuthenticationRef *struct {
			Name string `json:"name"`
			Kind string `json:"kind,omitempty"`
		} `json:"authenticationRef,omitempty"`
	}
	triggerAuthentication struct {
		metav1.TypeMeta   `json:",inline"`
		metav1.ObjectMeta `json:"metadata"`
		Spec              struct {
			SecretTargetRef []struct {
				Parameter string `json:"parameter"`
				Name      string `json:"name"`
				Key       string `json:"key"`
			} `json:"secretTargetRef"`
		} `json:"spec"`
	}
	serviceMonitor struct {
		metav1.TypeMeta   `json:",inline"`
		metav1.ObjectMeta `json:"metadata"`
		Spec              struct {
			Selector  metav1.LabelSelector `json:"selector"`
			Endpoints []struct {
				Port          string `json:"port"`
				Path          string `json:"path,omitempty"`
				Interval      string `json:"interval,omitempty"`
				ScrapeTimeout string `json:"scrapeTimeout,omitempty"`
			} `json:"endpoints"`
		} `json:"spec"`
	}
)

// newObject returns a pointer to the Go type of apiVersion and kind.
func newObject(apiVersion, kind string) (any, bool) {
	switch apiVersion + " " + kind {
	case "v1 ConfigMap":
		return &corev1.ConfigMap{}, true
	case "v1 Secret":
		return &corev1.Secret{}, true
	case "v1 Service":
		return &corev1.Service{}, true
	case "v1 ServiceAccount":
		return &corev1.ServiceAccount{}, true
	case "v1 PersistentVolumeClaim":
		return &corev1.PersistentVolumeClaim{}, true
	case "v1 Pod":
		return &corev1.Pod{}, true
	case "apps/v1 Deployment":
		return &appsv1.Deployment{}, true
	case "apps/v1 StatefulSet":
		return &appsv1.StatefulSet{}, true
	case "batch/v1 Job":
		return &batchv1.Job{}, true
	case "autoscaling/v2 HorizontalPodAutoscaler":
		return &autoscalingv2.HorizontalPodAutoscaler{}, true
	case "policy/v1 PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, true
	case "networking.k8s.io/v1 Ingress":
		return &networkingv1.Ingress{}, true
	case "networking.k8s.io/v1 NetworkPolicy":
		return &networkingv1.NetworkPolicy{}, true
	case "keda.sh/v1alpha1 ScaledObject":
		return &scaledObject{}, true
	case "keda.sh/v1alpha1 TriggerAuthentication":
		return &triggerAuthentication{}, true
	case "monitoring.coreos.com/v1 ServiceMonitor":
		return &serviceMonitor{}, true
	}
	return nil, false
}

var (
	docSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)
	sourceLine   = regexp.MustCompile(`(?m)^# Source: (\S+)`)
)

// decode splits helm's output into documents and decodes each strictly: an unknown
// field, a duplicate key or a wrong type fails the test.
func decode(t *testing.T, out string) []object {
	t.Helper()
	var objs []object
	for _, doc := range docSeparator.Split(out, -1) {
		j, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			t.Fatalf("rendered YAML does not parse: %v\n%s", err, doc)
		}
		if string(j) == "null" {
			continue // only comments
		}
		o := object{raw: doc}
		if m := sourceLine.FindStringSubmatch(doc); m != nil {
			o.source = m[1]
		}
		var tm metav1.TypeMeta
		if err := json.Unmarshal(j, &tm); err != nil {
			t.Fatalf("%s: read apiVersion and kind: %v", o.source, err)
		}
		ptr, ok := newObject(tm.APIVersion, tm.Kind)
		if !ok {
			t.Fatalf("%s: no Go type for %s %s: add it to newObject", o.source, tm.APIVersion, tm.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), ptr); err != nil {
			t.Fatalf("%s: %s %s does not decode strictly: %v\n%s", o.source, tm.APIVersion, tm.Kind, err, doc)
		}
		o.kind, o.obj, o.meta = tm.Kind, ptr, ptr.(metav1.Object)
		objs = append(objs, o)
	}
	if len(objs) == 0 {
		t.Fatal("helm rendered nothing")
	}
	return objs
}

// manifests are the decoded objects of one rendering, with lookups.
type manifests struct {
	objs []object
}

func (m manifests) ofKind(kind string) []object {
	var out []object
	for _, o := range m.objs {
		if o.kind == kind {
			out = append(out, o)
		}
	}
	return out
}

func (m manifests) find(kind, name string) (object, bool) {
	for _, o := range m.objs {
		if o.kind == kind && o.meta.GetName() == name {
			return o, true
		}
	}
	return object{}, false
}

// workload is a pod template of a Deployment, StatefulSet or Job, or a bare Pod.
type workload struct {
	owner     object
	component string
	labels    map[string]string
	annots    map[string]string
	spec      *corev1.PodSpec
	claims    []string // volumeClaimTemplates of a StatefulSet
}

func (m manifests) workloads() []workload {
	var out []workload
	for _, o := range m.objs {
		w := workload{owner: o, component: o.meta.GetLabels()["app.kubernetes.io/component"]}
		switch v := o.obj.(type) {
		case *appsv1.Deployment:
			w.labels, w.annots, w.spec = v.Spec.Template.Labels, v.Spec.Template.Annotations, &v.Spec.Template.Spec
		case *appsv1.StatefulSet:
			w.labels, w.annots, w.spec = v.Spec.Template.Labels, v.Spec.Template.Annotations, &v.Spec.Template.Spec
			for _, c := range v.Spec.VolumeClaimTemplates {
				w.claims = append(w.claims, c.Name)
			}
		case *batchv1.Job:
			w.labels, w.annots, w.spec = v.Spec.Template.Labels, v.Spec.Template.Annotations, &v.Spec.Template.Spec
		case *corev1.Pod:
			w.labels, w.annots, w.spec = v.Labels, v.Annotations, &v.Spec
		default:
			continue
		}
		out = append(out, w)
	}
	return out
}

// selects reports whether a label selector given as a map matches the labels.
func selects(selector, lbls map[string]string) bool {
	return len(selector) > 0 && labels.SelectorFromSet(selector).Matches(labels.Set(lbls))
}

func labelSelectorMatches(t *testing.T, sel *metav1.LabelSelector, lbls map[string]string) bool {
	t.Helper()
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		t.Fatalf("label selector %v: %v", sel, err)
	}
	return !s.Empty() && s.Matches(labels.Set(lbls))
}

// valuesFile reads a values file of the chart into a generic map ({} for "").
func valuesFile(t *testing.T, name string) map[string]any {
	t.Helper()
	v := map[string]any{}
	if name == "" {
		return v
	}
	b, err := os.ReadFile(filepath.Join(chartDir, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

// dig returns the string at a dotted path of a values map, or "".
func dig(v map[string]any, path string) string {
	var cur any = v
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = m[k]
	}
	s, _ := cur.(string)
	return s
}

// digBool returns the boolean at a dotted path of a values map, or false.
func digBool(v map[string]any, path string) bool {
	var cur any = v
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		cur = m[k]
	}
	b, _ := cur.(bool)
	return b
}

// secretStrings are the secret values a values file gives, including the passwords
// inside URLs: none of them may appear in a rendered manifest other than a Secret (where
// they are base64-encoded).
func secretStrings(v map[string]any) []string {
	var out []string
	for _, p := range []string{"database.url", "redis.url", "redis.auth.password", "webhook.secret"} {
		s := dig(v, p)
		if s == "" {
			continue
		}
		out = append(out, s)
		if u, err := url.Parse(s); err == nil && u.User != nil {
			if pw, ok := u.User.Password(); ok && pw != "" {
				out = append(out, pw)
			}
		}
	}
	return out
}

func TestEveryCIValuesFileIsRendered(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(chartDir, "ci", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no values files in ci/")
	}
	for _, f := range files {
		rel, _ := filepath.Rel(chartDir, f)
		found := false
		for _, c := range valuesCases {
			found = found || c.values == rel
		}
		if !found {
			t.Errorf("%s is not in valuesCases: add it with its mode", rel)
		}
	}
}

// TestChart renders the chart for every values case and checks the manifests.
func TestChart(t *testing.T) {
	for _, tc := range valuesCases {
		t.Run(tc.name, func(t *testing.T) {
			var files []string
			if tc.values != "" {
				files = append(files, tc.values)
			}
			out, stderr, err := helmTemplate(t, files...)
			if err != nil {
				t.Fatalf("helm template: %v\n%s", err, stderr)
			}
			m := manifests{objs: decode(t, out)}
			vals := valuesFile(t, tc.values)

			t.Run("names and labels", func(t *testing.T) { checkNames(t, m) })
			t.Run("pod security and resources", func(t *testing.T) { checkPods(t, m) })
			t.Run("references", func(t *testing.T) { checkReferences(t, m, vals) })
			t.Run("deployments", func(t *testing.T) { checkDeployments(t, m, tc.trial) })
			t.Run("settings accepted by internal/config", func(t *testing.T) { checkSettings(t, m, tc.trial) })
			t.Run("secrets only in secrets", func(t *testing.T) { checkSecrets(t, m, secretStrings(vals), digBool(vals, "secrets.mountAsFiles")) })
			t.Run("hooks", func(t *testing.T) { checkHooks(t, m, tc.trial, vals) })
			t.Run("autoscaling and disruption budgets", func(t *testing.T) { checkScaling(t, m, tc.trial) })
		})
	}
}

func checkNames(t *testing.T, m manifests) {
	seen := map[string]bool{}
	for _, o := range m.objs {
		name := o.meta.GetName()
		key := o.kind + "/" + name
		if seen[key] {
			t.Errorf("%s rendered twice", key)
		}
		seen[key] = true
		errs := validation.IsDNS1123Subdomain(name)
		if o.kind == "Service" {
			errs = validation.IsDNS1035Label(name)
		}
		for _, e := range errs {
			t.Errorf("%v: name: %s", o, e)
		}
		lbls := o.meta.GetLabels()
		for k, v := range lbls {
			for _, e := range validation.IsQualifiedName(k) {
				t.Errorf("%v: label key %q: %s", o, k, e)
			}
			for _, e := range validation.IsValidLabelValue(v) {
				t.Errorf("%v: label %s=%q: %s", o, k, v, e)
			}
		}
		if lbls["app.kubernetes.io/instance"] != release || lbls["app.kubernetes.io/name"] == "" {
			t.Errorf("%v: missing app.kubernetes.io/name or instance labels: %v", o, lbls)
		}
	}
}

// checkPods: the chart's defaults are safe: no root, no privilege escalation, a read-only
// root filesystem with /tmp on an emptyDir, every capability dropped, RuntimeDefault
// seccomp, no service account token, resource requests and a memory limit, pinned images.
func checkPods(t *testing.T, m manifests) {
	ws := m.workloads()
	if len(ws) == 0 {
		t.Fatal("no pods rendered")
	}
	for _, w := range ws {
		o, spec := w.owner, w.spec
		if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
			t.Errorf("%v: automountServiceAccountToken is not false", o)
		}
		psc := spec.SecurityContext
		if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
			t.Errorf("%v: pod securityContext.runAsNonRoot is not true", o)
		}
		if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("%v: pod seccompProfile is not RuntimeDefault", o)
		}
		if psc != nil && psc.RunAsUser != nil && *psc.RunAsUser == 0 {
			t.Errorf("%v: runAsUser 0", o)
		}
		volumes := map[string]corev1.Volume{}
		for _, v := range spec.Volumes {
			volumes[v.Name] = v
		}
		if len(spec.InitContainers) > 0 {
			t.Errorf("%v: init containers are not expected", o)
		}
		for _, c := range spec.Containers {
			where := o.String() + " container " + c.Name
			sc := c.SecurityContext
			if sc == nil {
				t.Errorf("%s: no securityContext", where)
				continue
			}
			if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				t.Errorf("%s: allowPrivilegeEscalation is not false", where)
			}
			if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				t.Errorf("%s: readOnlyRootFilesystem is not true", where)
			}
			if sc.Privileged != nil && *sc.Privileged {
				t.Errorf("%s: privileged", where)
			}
			if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
				t.Errorf("%s: capabilities must drop ALL and add none: %+v", where, sc.Capabilities)
			}
			if sc.RunAsNonRoot != nil && !*sc.RunAsNonRoot {
				t.Errorf("%s: runAsNonRoot false", where)
			}
			if sc.RunAsUser != nil && *sc.RunAsUser == 0 {
				t.Errorf("%s: runAsUser 0", where)
			}
			req := c.Resources.Requests
			if req.Cpu().IsZero() || req.Memory().IsZero() {
				t.Errorf("%s: cpu and memory requests must be set: %v", where, req)
			}
			if c.Resources.Limits.Memory().IsZero() {
				t.Errorf("%s: no memory limit", where)
			}
			if c.Image == "" || !strings.Contains(c.Image[strings.LastIndex(c.Image, "/")+1:], ":") || strings.HasSuffix(c.Image, ":latest") {
				t.Errorf("%s: image %q is not pinned to a tag", where, c.Image)
			}
			tmp := false
			for _, vm := range c.VolumeMounts {
				v, ok := volumes[vm.Name]
				if !ok && !slices.Contains(w.claims, vm.Name) {
					t.Errorf("%s: mounts unknown volume %q", where, vm.Name)
				}
				if vm.MountPath == "/tmp" && ok && v.EmptyDir != nil {
					tmp = true
				}
			}
			if !tmp {
				t.Errorf("%s: /tmp is not an emptyDir (the root filesystem is read-only)", where)
			}
			ports := map[string]int32{}
			for _, p := range c.Ports {
				ports[p.Name] = p.ContainerPort
			}
			for name, p := range map[string]*corev1.Probe{"startup": c.StartupProbe, "liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
				if p == nil {
					continue
				}
				var port *intOrName
				switch {
				case p.HTTPGet != nil:
					port = &intOrName{p.HTTPGet.Port.String()}
				case p.TCPSocket != nil:
					port = &intOrName{p.TCPSocket.Port.String()}
				}
				if port != nil && !port.in(ports) {
					t.Errorf("%s: %s probe port %s is not a container port", where, name, port.s)
				}
			}
			if w.annots["prometheus.io/scrape"] == "true" {
				if !(&intOrName{w.annots["prometheus.io/port"]}).in(ports) {
					t.Errorf("%s: prometheus.io/port %q is not a container port", where, w.annots["prometheus.io/port"])
				}
			}
		}
	}
}

// intOrName is a port given as a number or a container port name.
type intOrName struct{ s string }

func (p *intOrName) in(ports map[string]int32) bool {
	if n, err := strconv.Atoi(p.s); err == nil {
		for _, v := range ports {
			if int(v) == n {
				return true
			}
		}
		return false
	}
	_, ok := ports[p.s]
	return ok
}

// checkReferences: what one object names exists (Secrets, ConfigMaps, claims, Services,
// scale targets), and selectors select something.
func checkReferences(t *testing.T, m manifests, vals map[string]any) {
	external := map[string]bool{} // Secrets that values say exist outside the chart
	for _, p := range []string{"secrets.existingSecret", "tests.apiKeySecret.name"} {
		if s := dig(vals, p); s != "" {
			external[s] = true
		}
	}
	ws := m.workloads()
	for _, w := range ws {
		for _, r := range secretVolumeRefs(w.spec) {
			s, ok := m.find("Secret", r.secret)
			switch {
			case ok:
				if _, has := s.obj.(*corev1.Secret).Data[r.key]; !has && !r.optional {
					t.Errorf("%v: volume %s: Secret %s has no key %s", w.owner, r.volume, r.secret, r.key)
				}
			case !external[r.secret]:
				t.Errorf("%v: volume %s names Secret %s, which is neither rendered nor secrets.existingSecret", w.owner, r.volume, r.secret)
			}
		}
		for _, c := range w.spec.Containers {
			where := w.owner.String() + " container " + c.Name
			for _, e := range c.Env {
				if e.ValueFrom == nil {
					continue
				}
				if r := e.ValueFrom.SecretKeyRef; r != nil {
					s, ok := m.find("Secret", r.Name)
					switch {
					case ok:
						sec := s.obj.(*corev1.Secret)
						if _, has := sec.Data[r.Key]; !has && (r.Optional == nil || !*r.Optional) {
							t.Errorf("%s: env %s: Secret %s has no key %s", where, e.Name, r.Name, r.Key)
						}
					case !external[r.Name]:
						t.Errorf("%s: env %s names Secret %s, which is neither rendered nor secrets.existingSecret", where, e.Name, r.Name)
					}
				}
				if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
					if _, ok := m.find("ConfigMap", r.Name); !ok {
						t.Errorf("%s: env %s names unknown ConfigMap %s", where, e.Name, r.Name)
					}
				}
			}
			for _, ef := range c.EnvFrom {
				if ef.ConfigMapRef != nil {
					if _, ok := m.find("ConfigMap", ef.ConfigMapRef.Name); !ok {
						t.Errorf("%s: envFrom names unknown ConfigMap %s", where, ef.ConfigMapRef.Name)
					}
				}
			}
		}
		for _, v := range w.spec.Volumes {
			if v.PersistentVolumeClaim == nil {
				continue
			}
			claim := v.PersistentVolumeClaim.ClaimName
			if _, ok := m.find("PersistentVolumeClaim", claim); !ok {
				if !slices.Contains([]string{dig(vals, "uploads.persistence.existingClaim"), dig(vals, "database.sqlite.persistence.existingClaim")}, claim) {
					t.Errorf("%v: claim %s is neither rendered nor an existingClaim of the values", w.owner, claim)
				}
			}
		}
		if sa := w.spec.ServiceAccountName; sa != "" && sa != "default" {
			if _, ok := m.find("ServiceAccount", sa); !ok && dig(vals, "serviceAccount.name") != sa {
				t.Errorf("%v: serviceAccountName %s is neither rendered nor named in the values", w.owner, sa)
			}
		}
	}
	// Pods of the workloads selected by a selector, and their container port names.
	podsFor := func(match func(map[string]string) bool) (n int, ports map[string]bool) {
		ports = map[string]bool{}
		for _, w := range ws {
			if w.owner.kind == "Pod" || w.owner.kind == "Job" || !match(w.labels) {
				continue
			}
			n++
			for _, c := range w.spec.Containers {
				for _, p := range c.Ports {
					ports[p.Name] = true
				}
			}
		}
		return n, ports
	}
	services := map[string]*corev1.Service{}
	for _, o := range m.ofKind("Service") {
		svc := o.obj.(*corev1.Service)
		services[svc.Name] = svc
		n, ports := podsFor(func(l map[string]string) bool { return selects(svc.Spec.Selector, l) })
		if n != 1 {
			t.Errorf("%v: selector %v matches %d workloads, want 1", o, svc.Spec.Selector, n)
		}
		for _, p := range svc.Spec.Ports {
			if !ports[p.TargetPort.String()] {
				t.Errorf("%v: targetPort %s is no port of the selected pods", o, p.TargetPort.String())
			}
		}
	}
	for _, o := range m.ofKind("Ingress") {
		ing := o.obj.(*networkingv1.Ingress)
		for _, r := range ing.Spec.Rules {
			for _, p := range r.HTTP.Paths {
				svc, ok := services[p.Backend.Service.Name]
				if !ok {
					t.Errorf("%v: backend Service %s is not rendered", o, p.Backend.Service.Name)
					continue
				}
				if !slices.ContainsFunc(svc.Spec.Ports, func(sp corev1.ServicePort) bool { return sp.Name == p.Backend.Service.Port.Name }) {
					t.Errorf("%v: backend port %q is not a port of Service %s", o, p.Backend.Service.Port.Name, svc.Name)
				}
			}
		}
	}
	for _, o := range m.ofKind("NetworkPolicy") {
		np := o.obj.(*networkingv1.NetworkPolicy)
		n, ports := podsFor(func(l map[string]string) bool { return labelSelectorMatches(t, &np.Spec.PodSelector, l) })
		if n == 0 {
			t.Errorf("%v: podSelector selects no workload", o)
		}
		for _, rule := range np.Spec.Ingress {
			for _, p := range rule.Ports {
				if p.Port != nil && !ports[p.Port.String()] {
					t.Errorf("%v: port %s is no port of the selected pods", o, p.Port.String())
				}
			}
		}
	}
	for _, o := range m.ofKind("ServiceMonitor") {
		sm := o.obj.(*serviceMonitor)
		matched := map[string]bool{}
		for _, svc := range services {
			if labelSelectorMatches(t, &sm.Spec.Selector, svc.Labels) {
				for _, p := range svc.Spec.Ports {
					matched[p.Name] = true
				}
			}
		}
		for _, ep := range sm.Spec.Endpoints {
			if !matched[ep.Port] {
				t.Errorf("%v: endpoint port %q is on no selected Service", o, ep.Port)
			}
		}
	}
}

// secretFile is one file of a Secret volume (or a Secret source of a projected volume).
type secretFile struct {
	volume, secret, key, path string // path relative to the volume's mount
	optional                  bool
}

// secretVolumeRefs lists the files of the Secret and projected volumes of a pod; a
// Secret volume without items lists its Secret with an empty key.
func secretVolumeRefs(spec *corev1.PodSpec) []secretFile {
	var out []secretFile
	add := func(vol, secret string, optional *bool, items []corev1.KeyToPath) {
		opt := optional != nil && *optional
		if len(items) == 0 {
			out = append(out, secretFile{volume: vol, secret: secret, optional: true})
		}
		for _, it := range items {
			out = append(out, secretFile{volume: vol, secret: secret, key: it.Key, path: it.Path, optional: opt})
		}
	}
	for _, v := range spec.Volumes {
		if s := v.Secret; s != nil {
			add(v.Name, s.SecretName, s.Optional, s.Items)
		}
		if p := v.Projected; p != nil {
			for _, src := range p.Sources {
				if s := src.Secret; s != nil {
					add(v.Name, s.Name, s.Optional, s.Items)
				}
			}
		}
	}
	return out
}

// mountedSecretFile returns the Secret file at an absolute path in a container.
func mountedSecretFile(spec *corev1.PodSpec, c corev1.Container, path string) (secretFile, bool) {
	refs := secretVolumeRefs(spec)
	for _, vm := range c.VolumeMounts {
		for _, r := range refs {
			if r.volume == vm.Name && r.key != "" && filepath.Join(vm.MountPath, r.path) == filepath.Clean(path) {
				return r, true
			}
		}
	}
	return secretFile{}, false
}

// ocrinvoiceContainer returns the one container of an ocrinvoice pod and its subcommand.
func ocrinvoiceContainer(t *testing.T, w workload) (corev1.Container, string) {
	t.Helper()
	if len(w.spec.Containers) != 1 {
		t.Fatalf("%v: %d containers, want 1", w.owner, len(w.spec.Containers))
	}
	c := w.spec.Containers[0]
	want := subcommands[w.component]
	if len(c.Command) != 0 || len(c.Args) != 1 || c.Args[0] != want {
		t.Errorf("%v: runs command %q args %q, want the image's entrypoint with [%s]", w.owner, c.Command, c.Args, want)
	}
	return c, want
}

// checkDeployments: which Deployments exist in each mode, what they run, their probes,
// grace periods and the shared data directory.
func checkDeployments(t *testing.T, m manifests, trial bool) {
	deps := map[string]workload{}
	for _, w := range m.workloads() {
		if w.owner.kind != "Deployment" {
			continue
		}
		d := w.owner.obj.(*appsv1.Deployment)
		if !labelSelectorMatches(t, d.Spec.Selector, w.labels) {
			t.Errorf("%v: selector does not match the pod template's labels", w.owner)
		}
		if _, dup := deps[w.component]; dup {
			t.Errorf("two Deployments of component %q", w.component)
		}
		deps[w.component] = w
	}
	var want []string
	if trial {
		want = []string{"all"}
	} else {
		want = []string{"api", "worker"}
	}
	got := make([]string, 0, len(deps))
	for c := range deps {
		got = append(got, c)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("Deployments of components %v, want %v (trial mode: %v)", got, want, trial)
	}
	if trial {
		d := deps["all"].owner.obj.(*appsv1.Deployment)
		if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
			t.Errorf("trial Deployment: replicas %v, want exactly 1", d.Spec.Replicas)
		}
		if d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
			t.Errorf("trial Deployment: strategy %q, want Recreate (SQLite on a ReadWriteOnce claim)", d.Spec.Strategy.Type)
		}
	}
	image := ""
	dataVolumes := map[string]string{}
	for comp, w := range deps {
		c, _ := ocrinvoiceContainer(t, w)
		if image != "" && c.Image != image {
			t.Errorf("%v: image %s, want the one image %s", w.owner, c.Image, image)
		}
		image = c.Image
		for name, p := range map[string]*corev1.Probe{"startup": c.StartupProbe, "liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
			wantPath := "/healthz"
			if name == "readiness" {
				wantPath = "/readyz"
			}
			if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != wantPath {
				t.Errorf("%v: %s probe is not GET %s: %+v", w.owner, name, wantPath, p)
			}
		}
		dataDir := configMapValue(t, m, c, "OCRINVOICE_DATA_DIR")
		for _, vm := range c.VolumeMounts {
			if vm.MountPath != dataDir {
				continue
			}
			for _, v := range w.spec.Volumes {
				if v.Name != vm.Name {
					continue
				}
				switch {
				case v.PersistentVolumeClaim != nil:
					dataVolumes[comp] = "claim " + v.PersistentVolumeClaim.ClaimName
				case v.EmptyDir != nil:
					dataVolumes[comp] = "emptyDir"
				}
			}
		}
		if dataVolumes[comp] == "" {
			t.Errorf("%v: nothing mounted at the data directory %q", w.owner, dataDir)
		}
	}
	if !trial && dataVolumes["api"] != dataVolumes["worker"] {
		t.Errorf("api and worker must share the data directory (uploads): api has %s, worker %s", dataVolumes["api"], dataVolumes["worker"])
	}
	for _, w := range m.workloads() {
		if w.owner.kind == "Job" && w.component == "migrate" {
			c, _ := ocrinvoiceContainer(t, w)
			if c.Image != image {
				t.Errorf("%v: image %s, want the Deployments' %s", w.owner, c.Image, image)
			}
		}
	}
}

// configMapValue returns the value of a variable a container gets through envFrom.
func configMapValue(t *testing.T, m manifests, c corev1.Container, name string) string {
	t.Helper()
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef == nil {
			continue
		}
		if o, ok := m.find("ConfigMap", ef.ConfigMapRef.Name); ok {
			if v, ok := o.obj.(*corev1.ConfigMap).Data[name]; ok {
				return v
			}
		}
	}
	for _, e := range c.Env {
		if e.Name == name && e.ValueFrom == nil {
			return e.Value
		}
	}
	return ""
}

// containerEnv resolves the environment of a container the way the kubelet would:
// ConfigMaps, then env (later wins). Secrets rendered by the chart are decoded; keys of
// an existing Secret get a plausible stand-in.
//
// A NAME_FILE variable must name a file of a mounted Secret volume: the file is written
// to a temporary directory with the Secret's value (or the stand-in) and the variable
// names that copy, so that internal/config reads what the pod would.
func containerEnv(t *testing.T, m manifests, w workload, c corev1.Container) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef != nil {
			if o, ok := m.find("ConfigMap", ef.ConfigMapRef.Name); ok {
				for k, v := range o.obj.(*corev1.ConfigMap).Data {
					env[k] = v
				}
			}
		}
	}
	standIn := map[string]string{
		"DATABASE_URL":              "postgres://ocrinvoice@postgres:5432/ocrinvoice?sslmode=disable",
		"REDIS_URL":                 "redis://redis:6379/0",
		"OCRINVOICE_WEBHOOK_SECRET": "stand-in",
	}
	secretValue := func(name, secret, key string) string {
		if o, ok := m.find("Secret", secret); ok {
			if v, ok := o.obj.(*corev1.Secret).Data[key]; ok {
				return string(v)
			}
		}
		return standIn[name]
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil && strings.HasSuffix(e.Name, "_FILE"):
			f, ok := mountedSecretFile(w.spec, c, e.Value)
			if !ok {
				t.Errorf("%v: env %s=%s is no file of a mounted Secret", w.owner, e.Name, e.Value)
				continue
			}
			copyPath := filepath.Join(t.TempDir(), filepath.Base(e.Value))
			if err := os.WriteFile(copyPath, []byte(secretValue(strings.TrimSuffix(e.Name, "_FILE"), f.secret, f.key)+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			env[e.Name] = copyPath
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.SecretKeyRef != nil:
			env[e.Name] = secretValue(e.Name, e.ValueFrom.SecretKeyRef.Name, e.ValueFrom.SecretKeyRef.Key)
		}
	}
	return env
}

// checkSettings loads every ocrinvoice container's environment with internal/config, as
// the process will: it must be accepted, name only known variables, never start a private
// redis-server (the image has none), and agree with the probes and the grace period.
func checkSettings(t *testing.T, m manifests, trial bool) {
	known := map[string]config.Setting{}
	for _, s := range config.Settings() {
		known[s.Env] = s
		if s.Secret {
			known[s.Env+"_FILE"] = s // the file variant of a secret, read by the same commands
		}
	}
	for _, o := range m.ofKind("ConfigMap") {
		for k := range o.obj.(*corev1.ConfigMap).Data {
			if _, ok := known[k]; !ok {
				t.Errorf("%v: %s is not a setting of internal/config", o, k)
			}
		}
	}
	checked := 0
	for _, w := range m.workloads() {
		cmd, ok := subcommands[w.component]
		if !ok || (w.owner.kind != "Deployment" && w.owner.kind != "Job") {
			continue
		}
		checked++
		c, _ := ocrinvoiceContainer(t, w)
		for _, e := range c.Env {
			s, ok := known[e.Name]
			if !ok {
				t.Errorf("%v: env %s is not a setting of internal/config", w.owner, e.Name)
			} else if !s.Applies(cmd) {
				t.Errorf("%v: env %s is not read by `ocrinvoice %s`", w.owner, e.Name, cmd)
			}
		}
		env := containerEnv(t, m, w, c)
		cfg, err := config.LoadCommand(cmd, nil, func(k string) string { return env[k] })
		if err != nil {
			t.Errorf("%v: `ocrinvoice %s` refuses its environment: %v", w.owner, cmd, err)
			continue
		}
		if len(cfg.Warnings) > 0 {
			t.Errorf("%v: configuration warnings: %v", w.owner, cfg.Warnings)
		}
		if cmd != config.CmdMigrate && cfg.RedisURL == "" {
			t.Errorf("%v: no REDIS_URL: the process would try to start a private redis-server", w.owner)
		}
		if _, sqlite := cfg.SQLitePath(); sqlite != trial {
			t.Errorf("%v: database %q: SQLite is %v, want %v (trial mode)", w.owner, cfg.DatabaseURL, sqlite, trial)
		}
		if cmd == config.CmdMigrate {
			continue
		}
		// The probes reach the listener the configuration opens.
		addr := cfg.Addr
		if cmd == config.CmdWorker {
			addr = cfg.HealthAddr
			if addr == "" {
				t.Errorf("%v: OCRINVOICE_HEALTH_ADDR is unset: the worker serves no probes", w.owner)
				continue
			}
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			t.Errorf("%v: listen address %q: %v", w.owner, addr, err)
			continue
		}
		if host != "" && host != "0.0.0.0" && host != "::" {
			t.Errorf("%v: listens on %q, which the kubelet cannot reach", w.owner, addr)
		}
		if c.LivenessProbe != nil && c.LivenessProbe.HTTPGet != nil {
			pp := c.LivenessProbe.HTTPGet.Port.String()
			var cp int32
			for _, p := range c.Ports {
				if p.Name == pp || strconv.Itoa(int(p.ContainerPort)) == pp {
					cp = p.ContainerPort
				}
			}
			if strconv.Itoa(int(cp)) != port {
				t.Errorf("%v: probes go to port %d, the process listens on %s", w.owner, cp, port)
			}
		}
		// SIGTERM -> (preStop sleep) -> shutdown timeout, all before the kubelet's SIGKILL.
		var preStop time.Duration
		if c.Lifecycle != nil && c.Lifecycle.PreStop != nil && c.Lifecycle.PreStop.Exec != nil {
			cmdline := c.Lifecycle.PreStop.Exec.Command
			if len(cmdline) == 2 && cmdline[0] == "sleep" {
				n, err := strconv.Atoi(cmdline[1])
				if err != nil {
					t.Errorf("%v: preStop %q", w.owner, cmdline)
				}
				preStop = time.Duration(n) * time.Second
			}
		}
		grace := w.spec.TerminationGracePeriodSeconds
		if grace == nil || time.Duration(*grace)*time.Second <= preStop+cfg.ShutdownTimeout {
			t.Errorf("%v: terminationGracePeriodSeconds %v is not longer than preStop %v + OCRINVOICE_SHUTDOWN_TIMEOUT %v", w.owner, grace, preStop, cfg.ShutdownTimeout)
		}
	}
	if checked == 0 {
		t.Fatal("no ocrinvoice container checked")
	}
}

// checkSecrets: DATABASE_URL, REDIS_URL and the webhook secret come only from Secrets,
// and no secret value from the values file appears outside a Secret. With files
// (secrets.mountAsFiles) they reach the ocrinvoice containers as NAME_FILE naming a
// file of a mounted Secret, never as variables, except an optional key (a webhook
// secret that secrets.existingSecret may lack: a NAME_FILE naming no file is an error).
func checkSecrets(t *testing.T, m manifests, secrets []string, files bool) {
	for _, o := range m.ofKind("ConfigMap") {
		for k := range o.obj.(*corev1.ConfigMap).Data {
			if slices.Contains(secretEnv, k) || slices.Contains(secretEnv, strings.TrimSuffix(k, "_FILE")) {
				t.Errorf("%v: holds the secret %s", o, k)
			}
		}
	}
	for _, w := range m.workloads() {
		for _, c := range w.spec.Containers {
			for _, e := range c.Env {
				if slices.Contains(secretEnv, e.Name) && (e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil) {
					t.Errorf("%v: env %s is not from a Secret", w.owner, e.Name)
				}
				if name := strings.TrimSuffix(e.Name, "_FILE"); name != e.Name && slices.Contains(secretEnv, name) {
					if !files {
						t.Errorf("%v: env %s without secrets.mountAsFiles", w.owner, e.Name)
					}
					if f, ok := mountedSecretFile(w.spec, c, e.Value); !ok || f.optional {
						t.Errorf("%v: env %s=%s is not a certain file of a mounted Secret", w.owner, e.Name, e.Value)
					}
				}
				if !files || !slices.Contains(secretEnv, e.Name) {
					continue
				}
				if r := e.ValueFrom.SecretKeyRef; r == nil || r.Optional == nil || !*r.Optional {
					t.Errorf("%v: env %s is a variable although secrets.mountAsFiles is on", w.owner, e.Name)
				}
			}
			if !files {
				continue
			}
			for _, vm := range c.VolumeMounts {
				for _, r := range secretVolumeRefs(w.spec) {
					if r.volume == vm.Name && !vm.ReadOnly {
						t.Errorf("%v: Secret volume %s is mounted writable", w.owner, vm.Name)
					}
				}
			}
		}
		if _, ok := subcommands[w.component]; ok && files && secretVolumeRefs(w.spec) == nil {
			t.Errorf("%v: secrets.mountAsFiles, but no Secret volume", w.owner)
		}
	}
	for _, o := range m.objs {
		if o.kind == "Secret" {
			continue
		}
		for _, s := range secrets {
			if strings.Contains(o.raw, s) {
				t.Errorf("%v: contains the secret value %q", o, s)
			}
		}
	}
}

func hookEvents(o object) []string {
	h := o.meta.GetAnnotations()["helm.sh/hook"]
	if h == "" {
		return nil
	}
	ev := strings.Split(h, ",")
	for i := range ev {
		ev[i] = strings.TrimSpace(ev[i])
	}
	slices.Sort(ev)
	return ev
}

// checkHooks: the migration Job runs before install and upgrade (production only), its
// Secret is a hook created before it, and the helm test pod checks /readyz and GraphQL:
// with authentication on, that an anonymous query is refused with 401 and, with
// tests.apiKeySecret, that the query with its key returns data.
func checkHooks(t *testing.T, m manifests, trial bool, vals map[string]any) {
	jobs := m.ofKind("Job")
	if trial && len(jobs) > 0 {
		t.Errorf("trial mode renders Jobs %v; the single pod migrates at start", jobs)
	}
	if !trial && len(jobs) != 1 {
		t.Fatalf("production mode renders %d Jobs, want the migration Job", len(jobs))
	}
	for _, o := range jobs {
		if got := hookEvents(o); !slices.Equal(got, []string{"pre-install", "pre-upgrade"}) {
			t.Errorf("%v: helm.sh/hook %v, want pre-install,pre-upgrade", o, got)
		}
		job := o.obj.(*batchv1.Job)
		if job.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
			t.Errorf("%v: restartPolicy %q", o, job.Spec.Template.Spec.RestartPolicy)
		}
		if job.Spec.ActiveDeadlineSeconds == nil {
			t.Errorf("%v: no activeDeadlineSeconds: a hung migration would hold the upgrade", o)
		}
		// Hooks run before the release's resources exist: what the Job uses must be a
		// hook of lower weight, or exist outside the chart.
		weight := func(o object) int {
			n, _ := strconv.Atoi(o.meta.GetAnnotations()["helm.sh/hook-weight"])
			return n
		}
		spec := job.Spec.Template.Spec
		if sa := spec.ServiceAccountName; sa != "" {
			if s, ok := m.find("ServiceAccount", sa); ok && hookEvents(s) == nil {
				t.Errorf("%v: uses ServiceAccount %s, which is created only after the hook", o, sa)
			}
		}
		for _, c := range spec.Containers {
			for _, e := range c.Env {
				if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
					continue
				}
				s, ok := m.find("Secret", e.ValueFrom.SecretKeyRef.Name)
				if ok && (hookEvents(s) == nil || weight(s) >= weight(o)) {
					t.Errorf("%v: env %s uses Secret %s, which does not exist yet when the hook runs", o, e.Name, s.meta.GetName())
				}
			}
		}
		for _, r := range secretVolumeRefs(&spec) {
			s, ok := m.find("Secret", r.secret)
			if ok && (hookEvents(s) == nil || weight(s) >= weight(o)) {
				t.Errorf("%v: volume %s uses Secret %s, which does not exist yet when the hook runs", o, r.volume, r.secret)
			}
		}
	}
	var tests []object
	for _, o := range m.objs {
		if slices.Contains(hookEvents(o), "test") {
			tests = append(tests, o)
		}
	}
	if len(tests) != 1 || tests[0].kind != "Pod" {
		t.Fatalf("helm test hooks %v, want one Pod", tests)
	}
	pod := tests[0].obj.(*corev1.Pod)
	script := strings.Join(append(append([]string{}, pod.Spec.Containers[0].Command...), pod.Spec.Containers[0].Args...), " ")
	for _, want := range []string{"/readyz", "/graphql", `{ ocrInvoiceJobs(first:1){ totalCount } }`, `"totalCount":`} {
		if !strings.Contains(script, want) {
			t.Errorf("helm test pod does not use %s", want)
		}
	}
	authOn := dig(vals, "config.OCRINVOICE_AUTH") != "none"
	keySecret := dig(vals, "tests.apiKeySecret.name")
	checkTestAuth(t, pod, authOn, keySecret, cmp.Or(dig(vals, "tests.apiKeySecret.key"), "key"))
	var base string
	for _, e := range pod.Spec.Containers[0].Env {
		if e.Name == "OCRINVOICE_URL" {
			base = e.Value
		}
	}
	u, err := url.Parse(base)
	if err != nil || u.Hostname() == "" {
		t.Fatalf("helm test pod: OCRINVOICE_URL %q", base)
	}
	so, ok := m.find("Service", u.Hostname())
	if !ok {
		t.Fatalf("helm test pod calls %s, which is no rendered Service", u.Hostname())
	}
	svc := so.obj.(*corev1.Service)
	if !slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return strconv.Itoa(int(p.Port)) == u.Port() }) {
		t.Errorf("helm test pod calls port %s, Service %s has %v", u.Port(), svc.Name, svc.Spec.Ports)
	}
}

// checkTestAuth: the helm test pod proves authentication is on (an anonymous query
// answered 401 fails otherwise), and with a key Secret reads the key from it and sends
// it as a bearer token; with authentication off it expects data from the anonymous query.
func checkTestAuth(t *testing.T, pod *corev1.Pod, authOn bool, keySecret, key string) {
	t.Helper()
	c := pod.Spec.Containers[0]
	script := strings.Join(c.Args, "\n")
	var keyEnv *corev1.EnvVar
	for i, e := range c.Env {
		if e.Name == "OCRINVOICE_API_KEY" {
			keyEnv = &c.Env[i]
		}
	}
	anonymous401 := strings.Contains(script, `-w '%{http_code}'`) && strings.Contains(script, `"$code" != 401`)
	bearer := strings.Contains(script, `Authorization: Bearer %s`) && strings.Contains(script, `"$OCRINVOICE_API_KEY"`)
	switch {
	case !authOn:
		if anonymous401 || bearer || keyEnv != nil {
			t.Errorf("helm test pod expects authentication, which OCRINVOICE_AUTH=none turns off:\n%s", script)
		}
	case !anonymous401:
		t.Errorf("helm test pod does not check that an anonymous GraphQL query is refused with 401:\n%s", script)
	case keySecret == "":
		if bearer || keyEnv != nil {
			t.Errorf("helm test pod sends a key although tests.apiKeySecret.name is empty")
		}
	default:
		if !bearer {
			t.Errorf("helm test pod does not send OCRINVOICE_API_KEY as a bearer token:\n%s", script)
		}
		if keyEnv == nil || keyEnv.ValueFrom == nil || keyEnv.ValueFrom.SecretKeyRef == nil ||
			keyEnv.ValueFrom.SecretKeyRef.Name != keySecret || keyEnv.ValueFrom.SecretKeyRef.Key != key {
			t.Errorf("helm test pod: OCRINVOICE_API_KEY %+v, want from Secret %s key %s", keyEnv, keySecret, key)
		}
		if strings.Contains(script, "Bearer $OCRINVOICE_API_KEY") {
			t.Errorf("helm test pod puts the key on curl's command line")
		}
	}
}

// checkScaling: HPAs and the KEDA ScaledObject scale rendered Deployments, never both
// the same one, and leave replicas to them; KEDA watches every asynq queue of
// internal/tasks; PodDisruptionBudgets select one Deployment each; trial mode has none.
func checkScaling(t *testing.T, m manifests, trial bool) {
	targets := map[string]string{} // Deployment name -> scaler
	target := func(o object, kind, name string) {
		if kind != "Deployment" {
			t.Errorf("%v: scales a %s", o, kind)
		}
		if _, ok := m.find("Deployment", name); !ok {
			t.Errorf("%v: scales Deployment %s, which is not rendered", o, name)
		}
		if prev, dup := targets[name]; dup {
			t.Errorf("Deployment %s is scaled by both %s and %v", name, prev, o)
		}
		targets[name] = o.String()
	}
	for _, o := range m.ofKind("HorizontalPodAutoscaler") {
		hpa := o.obj.(*autoscalingv2.HorizontalPodAutoscaler)
		target(o, hpa.Spec.ScaleTargetRef.Kind, hpa.Spec.ScaleTargetRef.Name)
		if hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas < 1 || hpa.Spec.MaxReplicas < *hpa.Spec.MinReplicas {
			t.Errorf("%v: replicas %v..%d", o, hpa.Spec.MinReplicas, hpa.Spec.MaxReplicas)
		}
	}
	for _, o := range m.ofKind("ScaledObject") {
		so := o.obj.(*scaledObject)
		target(o, so.Spec.ScaleTargetRef.Kind, so.Spec.ScaleTargetRef.Name)
		lists := map[string]bool{}
		for _, tr := range so.Spec.Triggers {
			if tr.Type != "redis" {
				continue
			}
			lists[tr.Metadata["listName"]] = true
			if tr.Metadata["address"] == "" || tr.Metadata["listLength"] == "" {
				t.Errorf("%v: trigger %s lacks address or listLength: %v", o, tr.Name, tr.Metadata)
			}
			if tr.AuthenticationRef != nil {
				if _, ok := m.find("TriggerAuthentication", tr.AuthenticationRef.Name); !ok {
					t.Errorf("%v: trigger %s names TriggerAuthentication %s, which is not rendered", o, tr.Name, tr.AuthenticationRef.Name)
				}
			}
		}
		for q := range tasks.QueuePriorities() {
			if key := "asynq:{" + q + "}:pending"; !lists[key] {
				t.Errorf("%v: no trigger on queue %s (%s)", o, q, key)
			}
		}
	}
	for name, by := range targets {
		d, _ := m.find("Deployment", name)
		if r := d.obj.(*appsv1.Deployment).Spec.Replicas; r != nil {
			t.Errorf("%v sets replicas %d although %s scales it (every upgrade would reset it)", d, *r, by)
		}
	}
	for _, o := range m.ofKind("PodDisruptionBudget") {
		pdb := o.obj.(*policyv1.PodDisruptionBudget)
		n := 0
		for _, d := range m.ofKind("Deployment") {
			if labelSelectorMatches(t, pdb.Spec.Selector, d.obj.(*appsv1.Deployment).Spec.Template.Labels) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%v: selects %d Deployments, want 1", o, n)
		}
	}
	if trial {
		for _, kind := range []string{"HorizontalPodAutoscaler", "ScaledObject", "PodDisruptionBudget"} {
			if got := m.ofKind(kind); len(got) > 0 {
				t.Errorf("trial mode renders %v", got)
			}
		}
	}
}

// TestValuesSchemaRejects: values.schema.json refuses wrong types, unknown keys at the
// top and inside components, and secrets or chart-owned variables in the settings maps.
func TestValuesSchemaRejects(t *testing.T) {
	cases := []struct {
		name, values, want string
	}{
		{"wrong type", "api:\n  replicas: two\n", "/api/replicas"},
		{"wrong type of a boolean", "redis:\n  enabled: \"yes\"\n", "/redis/enabled"},
		{"unknown top-level key", "replicaCount: 3\n", "replicaCount"},
		{"unknown key in a component", "worker:\n  replica: 3\n", "replica"},
		{"pull policy not in the enum", "image:\n  pullPolicy: Sometimes\n", "/image/pullPolicy"},
		{"secret in the ConfigMap settings", "config:\n  DATABASE_URL: postgres://u:p@db/x\n", "/config/DATABASE_URL"},
		{"chart-owned variable in settings", "api:\n  env:\n    OCRINVOICE_ADDR: \":9090\"\n", "/api/env/OCRINVOICE_ADDR"},
		{"lower-case variable name", "config:\n  log_level: debug\n", "log_level"},
		{"database URL not PostgreSQL", "database:\n  url: mysql://db/x\n", "/database/url"},
		{"no queues for KEDA", "worker:\n  autoscaling:\n    keda:\n      queues: []\n", "/worker/autoscaling/keda/queues"},
		{"negative replicas", "worker:\n  replicas: -1\n", "/worker/replicas"},
		{"anti-affinity mode", "api:\n  podAntiAffinity: always\n", "/api/podAntiAffinity"},
		{"OCRINVOICE_AUTH not apikey or none", "config:\n  OCRINVOICE_AUTH: basic\n", "/config/OCRINVOICE_AUTH"},
		{"OCRINVOICE_AUTH of one component", "api:\n  env:\n    OCRINVOICE_AUTH: \"off\"\n", "/api/env/OCRINVOICE_AUTH"},
		{"database URL file in the settings", "config:\n  DATABASE_URL_FILE: /run/db\n", "/config/DATABASE_URL_FILE"},
		{"Redis URL file in the settings", "config:\n  REDIS_URL_FILE: /run/redis\n", "/config/REDIS_URL_FILE"},
		{"webhook secret file in the settings", "worker:\n  env:\n    OCRINVOICE_WEBHOOK_SECRET_FILE: /run/wh\n", "/worker/env/OCRINVOICE_WEBHOOK_SECRET_FILE"},
		{"client API key in the settings", "config:\n  OCRINVOICE_API_KEY: oik_secret\n", "/config/OCRINVOICE_API_KEY"},
		{"mountAsFiles not a boolean", "secrets:\n  mountAsFiles: \"yes\"\n", "/secrets/mountAsFiles"},
		{"test key Secret with an empty key", "tests:\n  apiKeySecret:\n    name: k\n    key: \"\"\n", "/tests/apiKeySecret/key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "values.yaml")
			if err := os.WriteFile(f, []byte(tc.values), 0o644); err != nil {
				t.Fatal(err)
			}
			_, stderr, err := helmTemplate(t, f)
			if err == nil {
				t.Fatalf("helm template accepted:\n%s", tc.values)
			}
			if !strings.Contains(stderr, "schema") || !strings.Contains(stderr, tc.want) {
				t.Errorf("helm template failed, but not on the schema at %s:\n%s", tc.want, stderr)
			}
		})
	}
}

// TestTemplateRefuses: combinations the schema cannot see fail with a message that says
// what to change.
func TestTemplateRefuses(t *testing.T) {
	cases := []struct {
		name, values, want string
	}{
		{"no Redis at all", "redis:\n  enabled: false\n", "no Redis"},
		{"grace period not longer than the shutdown timeout",
			"database:\n  url: postgres://db/x\nworker:\n  shutdownTimeoutSeconds: 60\n  terminationGracePeriodSeconds: 60\n",
			"worker.terminationGracePeriodSeconds"},
		{"CPU HPA with zero workers",
			"database:\n  url: postgres://db/x\nworker:\n  autoscaling:\n    enabled: true\n    minReplicas: 0\n",
			"minReplicas"},
		{"KEDA without a Redis address",
			"database:\n  url: postgres://db/x\nredis:\n  enabled: false\n  url: redis://r:6379/0\nworker:\n  autoscaling:\n    enabled: true\n    keda:\n      enabled: true\n",
			"keda.redis.address"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "values.yaml")
			if err := os.WriteFile(f, []byte(tc.values), 0o644); err != nil {
				t.Fatal(err)
			}
			_, stderr, err := helmTemplate(t, f)
			if err == nil {
				t.Fatalf("helm template accepted:\n%s", tc.values)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("helm template failed without mentioning %q:\n%s", tc.want, stderr)
			}
		})
	}
}

// notesChart returns a copy of the chart with a template that wraps NOTES.txt in a
// ConfigMap: helm renders NOTES.txt only on install, which needs a cluster, but
// `helm template` shows that one.
func notesChart(t *testing.T) string {
	t.Helper()
	helmBinary(t)
	dir := filepath.Join(t.TempDir(), chartDir)
	if err := os.CopyFS(dir, os.DirFS(chartDir)); err != nil {
		t.Fatal(err)
	}
	notes, err := os.ReadFile(filepath.Join(chartDir, "templates", "NOTES.txt"))
	if err != nil {
		t.Fatal(err)
	}
	wrapper := "{{- define \"test.notes\" -}}\n" + string(notes) + "\n{{- end -}}\n" +
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  notes: {{ include \"test.notes\" . | quote }}\n"
	if err := os.WriteFile(filepath.Join(dir, "templates", "zz-notes-test.yaml"), []byte(wrapper), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// renderNotes renders the NOTES.txt of a notesChart with values files (absolute, or
// below chartDir).
func renderNotes(t *testing.T, dir string, valuesFiles ...string) string {
	t.Helper()
	args := []string{"template", release, dir, "--namespace", namespace, "--show-only", "templates/zz-notes-test.yaml"}
	for _, f := range valuesFiles {
		if !filepath.IsAbs(f) {
			f = filepath.Join(chartDir, f)
		}
		args = append(args, "--values", f)
	}
	out, stderr, err := runHelm(t, args...)
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, stderr)
	}
	var cm corev1.ConfigMap
	if err := yaml.UnmarshalStrict([]byte(out), &cm); err != nil {
		t.Fatalf("notes: %v\n%s", err, out)
	}
	return cm.Data["notes"]
}

// TestTrialNotes: NOTES.txt says that trial mode runs one `ocrinvoice all` pod, and shows
// no secret.
func TestTrialNotes(t *testing.T) {
	dir := notesChart(t)
	for _, tc := range valuesCases {
		t.Run(tc.name, func(t *testing.T) {
			var files []string
			if tc.values != "" {
				files = append(files, tc.values)
			}
			text := renderNotes(t, dir, files...)
			trial := strings.Contains(text, "TRIAL MODE") && strings.Contains(text, "ONE\n`ocrinvoice all` Deployment with ONE replica")
			if trial != tc.trial {
				t.Errorf("NOTES state trial mode: %v, want %v:\n%s", trial, tc.trial, text)
			}
			for _, s := range secretStrings(valuesFile(t, tc.values)) {
				if strings.Contains(text, s) {
					t.Errorf("NOTES show the secret %q", s)
				}
			}
		})
	}
}

// writeValues writes values YAML to a temporary file and returns its path.
func writeValues(t *testing.T, values string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(f, []byte(values), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestNotesAuth: NOTES.txt says whether authentication is on and, when it is, gives the
// exact command that creates the first admin key in the Deployment serving the API and
// shows how to send it; with OCRINVOICE_AUTH=none it warns instead.
func TestNotesAuth(t *testing.T) {
	dir := notesChart(t)
	create := func(deploy string) string {
		return "kubectl --namespace " + namespace + " exec deploy/" + deploy + " -- ocrinvoice apikey create --name admin --role admin"
	}
	cases := []struct {
		name, values string
		on           bool
		deploy       string
	}{
		{"trial defaults", "", true, release + "-ocrinvoice-all"},
		{"production", "database:\n  url: postgres://db/x\n", true, release + "-ocrinvoice-api"},
		{"auth none", "config:\n  OCRINVOICE_AUTH: none\n", false, ""},
		{"auth none for the api only", "database:\n  url: postgres://db/x\napi:\n  env:\n    OCRINVOICE_AUTH: none\n", false, ""},
		{"auth none for the worker only", "database:\n  url: postgres://db/x\nworker:\n  env:\n    OCRINVOICE_AUTH: none\n", true, release + "-ocrinvoice-api"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			text := renderNotes(t, dir, writeValues(t, tc.values))
			off := strings.Contains(text, "AUTHENTICATION IS OFF")
			if tc.on {
				for _, want := range []string{"Authentication is ON", create(tc.deploy), "Authorization: Bearer $KEY"} {
					if !strings.Contains(text, want) {
						t.Errorf("NOTES lack %q:\n%s", want, text)
					}
				}
				if off {
					t.Errorf("NOTES say authentication is off:\n%s", text)
				}
				return
			}
			if !off || !strings.Contains(text, "WARNING") || strings.Contains(text, "apikey create --name admin") {
				t.Errorf("NOTES do not warn that authentication is off (or still tell to create a key):\n%s", text)
			}
		})
	}
}

// TestAuthDefaults: the chart's defaults turn authentication on and GraphQL
// introspection off, explicitly in the ConfigMap, and the processes load them so.
func TestAuthDefaults(t *testing.T) {
	for _, tc := range []struct{ name, values string }{
		{"trial defaults", ""},
		{"production defaults", "database:\n  url: postgres://db/x\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, stderr, err := helmTemplate(t, writeValues(t, tc.values))
			if err != nil {
				t.Fatalf("helm template: %v\n%s", err, stderr)
			}
			m := manifests{objs: decode(t, out)}
			cms := m.ofKind("ConfigMap")
			if len(cms) != 1 {
				t.Fatalf("ConfigMaps %v, want 1", cms)
			}
			data := cms[0].obj.(*corev1.ConfigMap).Data
			if data["OCRINVOICE_AUTH"] != "apikey" || data["OCRINVOICE_GRAPHQL_INTROSPECTION"] != "false" {
				t.Errorf("ConfigMap: OCRINVOICE_AUTH=%q OCRINVOICE_GRAPHQL_INTROSPECTION=%q, want apikey and false",
					data["OCRINVOICE_AUTH"], data["OCRINVOICE_GRAPHQL_INTROSPECTION"])
			}
			n := 0
			for _, w := range m.workloads() {
				cmd, ok := subcommands[w.component]
				if !ok || cmd == config.CmdMigrate || w.owner.kind != "Deployment" {
					continue
				}
				n++
				c, _ := ocrinvoiceContainer(t, w)
				env := containerEnv(t, m, w, c)
				cfg, err := config.LoadCommand(cmd, nil, func(k string) string { return env[k] })
				if err != nil {
					t.Fatalf("%v: %v", w.owner, err)
				}
				if cfg.Auth != "apikey" || cfg.GraphQLIntrospection {
					t.Errorf("%v: `ocrinvoice %s` loads auth %q, introspection %v; want apikey, false", w.owner, cmd, cfg.Auth, cfg.GraphQLIntrospection)
				}
				// A pod's stdout is its log: `all` must not print a bootstrap key there.
				if cmd == config.CmdAll && cfg.BootstrapAdminKey {
					t.Errorf("%v: `ocrinvoice all` would print a bootstrap admin key to its log", w.owner)
				}
			}
			if n == 0 {
				t.Fatal("no Deployment checked")
			}
		})
	}
}

// TestSecretsAsFiles: with secrets.mountAsFiles every ocrinvoice container (api, worker,
// all, the migration Job) mounts its secrets read-only as files, one per variable, and
// names them with NAME_FILE instead of a secretKeyRef variable; the webhook secret of
// secrets.existingSecret, which may be missing, stays an optional variable. Without it,
// no file and no volume.
func TestSecretsAsFiles(t *testing.T) {
	const (
		dir   = "/var/run/secrets/ocrinvoice"
		own   = release + "-ocrinvoice"
		hook  = release + "-ocrinvoice-migrate"
		ext   = "creds"
		files = "secrets:\n  mountAsFiles: true\n"
	)
	type want struct {
		files map[string]string // NAME_FILE -> "SECRET/KEY" of the file it names
		refs  map[string]string // secretKeyRef variable -> "SECRET/KEY"
	}
	cases := []struct {
		name, values string
		trial        bool
		want         map[string]want // by component
	}{
		{"chart's Secret", files + "database:\n  url: postgres://u:pw@db/x\nredis:\n  enabled: false\n  url: redis://r:6379/0\nwebhook:\n  secret: wh\n", false,
			map[string]want{
				"api":     {files: map[string]string{"DATABASE_URL_FILE": own + "/DATABASE_URL", "REDIS_URL_FILE": own + "/REDIS_URL"}},
				"worker":  {files: map[string]string{"DATABASE_URL_FILE": own + "/DATABASE_URL", "REDIS_URL_FILE": own + "/REDIS_URL", "OCRINVOICE_WEBHOOK_SECRET_FILE": own + "/OCRINVOICE_WEBHOOK_SECRET"}},
				"migrate": {files: map[string]string{"DATABASE_URL_FILE": hook + "/DATABASE_URL"}},
			}},
		{"existing Secret", "secrets:\n  mountAsFiles: true\n  existingSecret: creds\n  existingSecretKeys:\n    databaseUrl: uri\nredis:\n  enabled: false\n", false,
			map[string]want{
				"api":     {files: map[string]string{"DATABASE_URL_FILE": ext + "/uri", "REDIS_URL_FILE": ext + "/REDIS_URL"}},
				"worker":  {files: map[string]string{"DATABASE_URL_FILE": ext + "/uri", "REDIS_URL_FILE": ext + "/REDIS_URL"}, refs: map[string]string{"OCRINVOICE_WEBHOOK_SECRET": ext + "/OCRINVOICE_WEBHOOK_SECRET"}},
				"migrate": {files: map[string]string{"DATABASE_URL_FILE": ext + "/uri"}},
			}},
		{"existing Secret with the chart's Redis and webhook secret", "secrets:\n  mountAsFiles: true\n  existingSecret: creds\nwebhook:\n  secret: wh\n", false,
			map[string]want{
				"api":     {files: map[string]string{"DATABASE_URL_FILE": ext + "/DATABASE_URL", "REDIS_URL_FILE": own + "/REDIS_URL"}},
				"worker":  {files: map[string]string{"DATABASE_URL_FILE": ext + "/DATABASE_URL", "REDIS_URL_FILE": own + "/REDIS_URL", "OCRINVOICE_WEBHOOK_SECRET_FILE": own + "/OCRINVOICE_WEBHOOK_SECRET"}},
				"migrate": {files: map[string]string{"DATABASE_URL_FILE": ext + "/DATABASE_URL"}},
			}},
		{"trial", files, true,
			map[string]want{"all": {files: map[string]string{"REDIS_URL_FILE": own + "/REDIS_URL"}}}},
		{"trial with a webhook secret", files + "webhook:\n  secret: wh\n", true,
			map[string]want{"all": {files: map[string]string{"REDIS_URL_FILE": own + "/REDIS_URL", "OCRINVOICE_WEBHOOK_SECRET_FILE": own + "/OCRINVOICE_WEBHOOK_SECRET"}}}},
		{"off", "database:\n  url: postgres://u:pw@db/x\nwebhook:\n  secret: wh\n", false,
			map[string]want{
				"api":     {refs: map[string]string{"DATABASE_URL": own + "/DATABASE_URL", "REDIS_URL": own + "/REDIS_URL"}},
				"worker":  {refs: map[string]string{"DATABASE_URL": own + "/DATABASE_URL", "REDIS_URL": own + "/REDIS_URL", "OCRINVOICE_WEBHOOK_SECRET": own + "/OCRINVOICE_WEBHOOK_SECRET"}},
				"migrate": {refs: map[string]string{"DATABASE_URL": hook + "/DATABASE_URL"}},
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, stderr, err := helmTemplate(t, writeValues(t, tc.values))
			if err != nil {
				t.Fatalf("helm template: %v\n%s", err, stderr)
			}
			m := manifests{objs: decode(t, out)}
			vals := map[string]any{}
			if err := yaml.Unmarshal([]byte(tc.values), &vals); err != nil {
				t.Fatal(err)
			}
			on := digBool(vals, "secrets.mountAsFiles")
			seen := map[string]bool{}
			for _, w := range m.workloads() {
				wt, ok := tc.want[w.component]
				if !ok {
					continue
				}
				seen[w.component] = true
				c, _ := ocrinvoiceContainer(t, w)
				gotFiles, gotRefs := map[string]string{}, map[string]string{}
				for _, e := range c.Env {
					switch {
					case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
						gotRefs[e.Name] = e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key
					case strings.HasSuffix(e.Name, "_FILE"):
						if want := dir + "/" + strings.TrimSuffix(e.Name, "_FILE"); e.Value != want {
							t.Errorf("%v: %s=%s, want %s", w.owner, e.Name, e.Value, want)
						}
						f, ok := mountedSecretFile(w.spec, c, e.Value)
						if !ok {
							t.Errorf("%v: %s=%s is no mounted Secret file", w.owner, e.Name, e.Value)
							continue
						}
						gotFiles[e.Name] = f.secret + "/" + f.key
					}
				}
				if !maps.Equal(gotFiles, wt.files) {
					t.Errorf("%v: files %v, want %v", w.owner, gotFiles, wt.files)
				}
				if !maps.Equal(gotRefs, wt.refs) {
					t.Errorf("%v: secretKeyRef variables %v, want %v", w.owner, gotRefs, wt.refs)
				}
				refs := secretVolumeRefs(w.spec)
				if !on && len(refs) > 0 {
					t.Errorf("%v: Secret volumes %v without secrets.mountAsFiles", w.owner, refs)
				}
				if on && len(refs) != len(wt.files) {
					t.Errorf("%v: Secret volume files %v, want exactly those of %v", w.owner, refs, wt.files)
				}
				for _, vm := range c.VolumeMounts {
					if slices.ContainsFunc(refs, func(r secretFile) bool { return r.volume == vm.Name }) && (!vm.ReadOnly || vm.MountPath != dir) {
						t.Errorf("%v: Secret volume mounted at %s, read-only %v; want %s read-only", w.owner, vm.MountPath, vm.ReadOnly, dir)
					}
				}
			}
			for comp := range tc.want {
				if !seen[comp] {
					t.Errorf("no %s workload rendered", comp)
				}
			}
			checkReferences(t, m, vals)
			checkSecrets(t, m, secretStrings(vals), on)
			checkSettings(t, m, tc.trial)
			checkHooks(t, m, tc.trial, vals)
		})
	}
}

// TestHelmTestPodAuth: the helm test pod checks for a 401 without a key when
// authentication is on, sends the key of tests.apiKeySecret (key "key" by default) when
// given, and with OCRINVOICE_AUTH=none expects data from the anonymous query.
func TestHelmTestPodAuth(t *testing.T) {
	cases := []struct {
		name, values string
		on           bool
		secret, key  string
	}{
		{"defaults", "", true, "", ""},
		{"with a key Secret", "tests:\n  apiKeySecret:\n    name: test-key\n", true, "test-key", "key"},
		{"with a key Secret and key", "tests:\n  apiKeySecret:\n    name: test-key\n    key: token\n", true, "test-key", "token"},
		{"auth none", "config:\n  OCRINVOICE_AUTH: none\ntests:\n  apiKeySecret:\n    name: test-key\n", false, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, stderr, err := runHelm(t, "template", release, chartDir, "--namespace", namespace,
				"--show-only", "templates/tests/test-api.yaml", "--values", writeValues(t, tc.values))
			if err != nil {
				t.Fatalf("helm template: %v\n%s", err, stderr)
			}
			var pod corev1.Pod
			if err := yaml.UnmarshalStrict([]byte(out), &pod); err != nil {
				t.Fatalf("test pod: %v\n%s", err, out)
			}
			checkTestAuth(t, &pod, tc.on, tc.secret, tc.key)
		})
	}
}
