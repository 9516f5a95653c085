package check

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	psapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
	"sigs.k8s.io/yaml"
)

// manifests are the files of deploy/kubernetes that hold Kubernetes objects.
var manifests = []string{"namespace.yaml", "otp.yaml", "redis.yaml", "secret.example.yaml"}

// objects is every object of the manifests, decoded strictly.
type objects struct {
	all          []runtime.Object
	deployments  []*appsv1.Deployment
	statefulSets []*appsv1.StatefulSet
	configMaps   []*corev1.ConfigMap
	hpas         []*autoscalingv2.HorizontalPodAutoscaler
	pdbs         []*policyv1.PodDisruptionBudget
	policies     []*networkingv1.NetworkPolicy
	accounts     []*corev1.ServiceAccount
	services     []*corev1.Service
}

// strictDecoder decodes YAML into the real API types and fails on an
// unknown or repeated field, as `kubectl apply --validate=strict` does.
func strictDecoder(tb testing.TB) runtime.Decoder {
	tb.Helper()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, autoscalingv2.AddToScheme,
		policyv1.AddToScheme, networkingv1.AddToScheme,
	} {
		if err := add(scheme); err != nil {
			tb.Fatal(err)
		}
	}
	return json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme, scheme, json.SerializerOptions{Yaml: true, Strict: true})
}

// decodeAll decodes every document of a YAML stream.
func decodeAll(dec runtime.Decoder, data []byte) ([]runtime.Object, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var out []runtime.Object
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		obj, _, err := dec.Decode(doc, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", len(out)+1, err)
		}
		out = append(out, obj)
	}
}

func MustObjects(tb testing.TB) objects {
	tb.Helper()
	dec := strictDecoder(tb)
	var o objects
	for _, name := range manifests {
		objs, err := decodeAll(dec, MustRead(tb, filepath.Join("deploy/kubernetes", name)))
		if err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
		for _, obj := range objs {
			o.all = append(o.all, obj)
			switch v := obj.(type) {
			case *appsv1.Deployment:
				o.deployments = append(o.deployments, v)
			case *appsv1.StatefulSet:
				o.statefulSets = append(o.statefulSets, v)
			case *corev1.ConfigMap:
				o.configMaps = append(o.configMaps, v)
			case *autoscalingv2.HorizontalPodAutoscaler:
				o.hpas = append(o.hpas, v)
			case *policyv1.PodDisruptionBudget:
				o.pdbs = append(o.pdbs, v)
			case *networkingv1.NetworkPolicy:
				o.policies = append(o.policies, v)
			case *corev1.ServiceAccount:
				o.accounts = append(o.accounts, v)
			case *corev1.Service:
				o.services = append(o.services, v)
			}
		}
	}
	return o
}

// The strict decoder refuses what kubectl would: an unknown field, a
// misspelt one, a repeated key.
func TestStrictDecoderRefusesMistakes(t *testing.T) {
	dec := strictDecoder(t)
	for name, doc := range map[string]string{
		"unknown field": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {A: b}\nbogus: 1\n",
		"repeated key":  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {A: b}\ndata: {A: c}\n",
		"misspelt":      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec: {replica: 2}\n",
	} {
		if _, err := decodeAll(dec, []byte(doc)); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

// Every object of deploy/kubernetes decodes strictly, with the objects the
// deployment needs.
func TestKubernetesObjects(t *testing.T) {
	o := MustObjects(t)
	var kinds []string
	for _, obj := range o.all {
		m, err := metaOf(obj)
		if err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, obj.GetObjectKind().GroupVersionKind().Kind+"/"+m.Name)
		if kind := obj.GetObjectKind().GroupVersionKind().Kind; kind != "Namespace" && m.Namespace != "otp" {
			t.Errorf("%s/%s: namespace %q, want otp", kind, m.Name, m.Namespace)
		}
	}
	want := []string{
		"Namespace/otp",
		"ServiceAccount/otp", "ConfigMap/otp-config", "Deployment/otp-serve", "Deployment/otp-work", "Service/otp",
		"HorizontalPodAutoscaler/otp-serve", "PodDisruptionBudget/otp-serve", "PodDisruptionBudget/otp-work",
		"NetworkPolicy/otp-serve", "NetworkPolicy/otp-work",
		"Service/redis", "StatefulSet/redis", "NetworkPolicy/redis",
		"Secret/otp-secrets",
	}
	if !slices.Equal(kinds, want) {
		t.Errorf("objects\n got %v\nwant %v", kinds, want)
	}
}

func metaOf(obj runtime.Object) (*metav1.ObjectMeta, error) {
	a, ok := obj.(metav1.ObjectMetaAccessor)
	if !ok {
		return nil, fmt.Errorf("%T has no metadata", obj)
	}
	return a.GetObjectMeta().(*metav1.ObjectMeta), nil
}

// podsOf are the pod templates of the Deployments and StatefulSets.
func podsOf(o objects) map[string]*corev1.PodTemplateSpec {
	out := map[string]*corev1.PodTemplateSpec{}
	for _, d := range o.deployments {
		out["Deployment/"+d.Name] = &d.Spec.Template
	}
	for _, s := range o.statefulSets {
		out["StatefulSet/"+s.Name] = &s.Spec.Template
	}
	return out
}

// restricted evaluates a pod against Pod Security "restricted", latest
// version, with the checks the API server's admission plugin runs.
func restricted(tb testing.TB, meta *metav1.ObjectMeta, spec *corev1.PodSpec) []string {
	tb.Helper()
	e, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		tb.Fatal(err)
	}
	var denied []string
	for _, r := range e.EvaluatePod(psapi.LevelVersion{Level: psapi.LevelRestricted, Version: psapi.LatestVersion()}, meta, spec) {
		if !r.Allowed {
			denied = append(denied, r.ForbiddenReason+": "+r.ForbiddenDetail)
		}
	}
	return denied
}

// Every pod the manifests create passes Pod Security "restricted"; a pod
// without a security context does not (the check can fail).
func TestPodSecurityRestricted(t *testing.T) {
	pods := podsOf(MustObjects(t))
	if len(pods) != 3 {
		t.Fatalf("%d pod templates, want otp-serve, otp-work and redis", len(pods))
	}
	for name, p := range pods {
		if denied := restricted(t, &p.ObjectMeta, &p.Spec); len(denied) > 0 {
			t.Errorf("%s: Pod Security restricted forbids it:\n  %s", name, strings.Join(denied, "\n  "))
		}
	}
	bare := &corev1.PodSpec{Containers: []corev1.Container{{Name: "otp", Image: "otp:1"}}}
	if denied := restricted(t, &metav1.ObjectMeta{}, bare); len(denied) < 3 {
		t.Errorf("a pod without securityContext: denied %v, want allowPrivilegeEscalation, capabilities, runAsNonRoot and seccompProfile", denied)
	}
}

// The namespace enforces "restricted" itself.
func TestNamespaceEnforcesRestricted(t *testing.T) {
	for _, obj := range MustObjects(t).all {
		if ns, ok := obj.(*corev1.Namespace); ok {
			if got := ns.Labels[psapi.EnforceLevelLabel]; got != string(psapi.LevelRestricted) {
				t.Errorf("namespace %s: %s=%q, want restricted", ns.Name, psapi.EnforceLevelLabel, got)
			}
			return
		}
	}
	t.Error("no Namespace")
}

// What operating OTP asks of the workloads: pinned images, resources,
// distinct probes, no API token, a read-only root, room to drain.
func TestWorkloads(t *testing.T) {
	o := MustObjects(t)
	cfg := o.configMaps[0].Data
	shutdown, err := time.ParseDuration(cfg["OTP_SHUTDOWN_TIMEOUT"])
	if err != nil {
		t.Fatalf("OTP_SHUTDOWN_TIMEOUT: %v", err)
	}
	drain, err := time.ParseDuration(cfg["OTP_DRAIN_DELAY"])
	if err != nil || drain < 3*time.Second {
		t.Errorf("OTP_DRAIN_DELAY %q (%v): want a few seconds, for the endpoints to drop a terminating pod", cfg["OTP_DRAIN_DELAY"], err)
	}
	for name, p := range podsOf(o) {
		spec := p.Spec
		if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
			t.Errorf("%s: automountServiceAccountToken not false", name)
		}
		for _, c := range spec.Containers {
			tag := c.Image[strings.LastIndex(c.Image, ":")+1:]
			if !strings.Contains(c.Image, ":") || tag == "latest" || strings.Contains(tag, "/") {
				t.Errorf("%s: image %q has no release tag (rollout undo would bring back the same image)", name, c.Image)
			}
			for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				if c.Resources.Requests.Name(r, "").IsZero() || c.Resources.Limits.Name(r, "").IsZero() {
					t.Errorf("%s: no %s request and limit", name, r)
				}
			}
			if sc := c.SecurityContext; sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				t.Errorf("%s: root filesystem not read-only", name)
			}
			if c.ReadinessProbe == nil || c.LivenessProbe == nil {
				t.Errorf("%s: no readiness or liveness probe", name)
			} else if c.ReadinessProbe.ProbeHandler.String() == c.LivenessProbe.ProbeHandler.String() {
				t.Errorf("%s: readiness probe is the liveness probe (%v)", name, c.ReadinessProbe.ProbeHandler)
			}
		}
		if strings.HasPrefix(name, "Deployment/otp-serve") {
			if grace := time.Duration(*spec.TerminationGracePeriodSeconds) * time.Second; grace <= drain+shutdown {
				t.Errorf("%s: terminationGracePeriodSeconds %v, want more than OTP_DRAIN_DELAY + OTP_SHUTDOWN_TIMEOUT (%v)", name, grace, drain+shutdown)
			}
			if len(spec.TopologySpreadConstraints) == 0 {
				t.Errorf("%s: no topology spread", name)
			}
		}
		if strings.HasPrefix(name, "Deployment/otp-work") {
			if grace := time.Duration(*spec.TerminationGracePeriodSeconds) * time.Second; grace <= shutdown {
				t.Errorf("%s: terminationGracePeriodSeconds %v, want more than OTP_SHUTDOWN_TIMEOUT", name, grace)
			}
		}
	}
	for _, a := range o.accounts {
		if a.AutomountServiceAccountToken == nil || *a.AutomountServiceAccountToken {
			t.Errorf("ServiceAccount %s: automountServiceAccountToken not false", a.Name)
		}
	}
}

// otp-serve scales on CPU from 3 replicas; every Deployment has a PDB and
// a NetworkPolicy that select its pods.
func TestAvailabilityAndPolicies(t *testing.T) {
	o := MustObjects(t)
	if len(o.hpas) != 1 {
		t.Fatalf("%d HorizontalPodAutoscalers, want 1", len(o.hpas))
	}
	h := o.hpas[0]
	if h.Spec.ScaleTargetRef.Kind != "Deployment" || h.Spec.ScaleTargetRef.Name != "otp-serve" || h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < 3 {
		t.Errorf("HPA targets %+v from %v replicas, want Deployment otp-serve from 3", h.Spec.ScaleTargetRef, h.Spec.MinReplicas)
	}
	if len(h.Spec.Metrics) != 1 || h.Spec.Metrics[0].Resource == nil || h.Spec.Metrics[0].Resource.Name != corev1.ResourceCPU {
		t.Errorf("HPA metrics %+v, want CPU", h.Spec.Metrics)
	}
	selects := func(sel *metav1.LabelSelector, pod map[string]string) bool {
		s, err := metav1.LabelSelectorAsSelector(sel)
		return err == nil && !s.Empty() && s.Matches(labels.Set(pod))
	}
	for name, p := range podsOf(o) {
		var pdb, np bool
		for _, b := range o.pdbs {
			pdb = pdb || selects(b.Spec.Selector, p.Labels)
		}
		for _, n := range o.policies {
			np = np || selects(&n.Spec.PodSelector, p.Labels)
		}
		if !pdb && !strings.HasPrefix(name, "StatefulSet/") {
			t.Errorf("%s: no PodDisruptionBudget selects its pods", name)
		}
		if !np {
			t.Errorf("%s: no NetworkPolicy selects its pods", name)
		}
	}
	for _, n := range o.policies {
		if !slices.Contains(n.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) || !slices.Contains(n.Spec.PolicyTypes, networkingv1.PolicyTypeEgress) {
			t.Errorf("NetworkPolicy %s: policyTypes %v, want Ingress and Egress", n.Name, n.Spec.PolicyTypes)
		}
	}
}

// Redis for small sites keeps its data: AOF on a PersistentVolumeClaim,
// and no eviction (an evicted key is a lost task).
func TestRedisStatefulSet(t *testing.T) {
	o := MustObjects(t)
	if len(o.statefulSets) != 1 {
		t.Fatalf("%d StatefulSets, want redis", len(o.statefulSets))
	}
	s := o.statefulSets[0]
	args := strings.Join(s.Spec.Template.Spec.Containers[0].Args, " ")
	for _, want := range []string{"--appendonly yes", "--maxmemory-policy noeviction", "--dir /data"} {
		if !strings.Contains(args, want) {
			t.Errorf("redis args %q lack %q", args, want)
		}
	}
	if len(s.Spec.VolumeClaimTemplates) != 1 || s.Spec.VolumeClaimTemplates[0].Name != "data" {
		t.Errorf("redis volumeClaimTemplates %+v, want one named data", s.Spec.VolumeClaimTemplates)
	}
	if !strings.Contains(o.configMaps[0].Data["REDIS_URL"], "redis."+s.Namespace+".svc:6379") {
		t.Errorf("REDIS_URL %q does not point at the redis Service", o.configMaps[0].Data["REDIS_URL"])
	}
}

// kustomization.yaml lists files that exist and tags the image the
// manifests use.
func TestKustomization(t *testing.T) {
	var k struct {
		APIVersion string   `json:"apiVersion"`
		Kind       string   `json:"kind"`
		Resources  []string `json:"resources"`
		Images     []struct {
			Name   string `json:"name"`
			NewTag string `json:"newTag"`
		} `json:"images"`
	}
	if err := yaml.UnmarshalStrict(MustRead(t, "deploy/kubernetes/kustomization.yaml"), &k); err != nil {
		t.Fatal(err)
	}
	for _, r := range k.Resources {
		if !slices.Contains(manifests, r) {
			t.Errorf("kustomization resource %s is not one of %v", r, manifests)
		}
	}
	if slices.Contains(k.Resources, "secret.example.yaml") {
		t.Error("kustomization applies secret.example.yaml: an apply would overwrite the real secrets")
	}
	if len(k.Images) != 1 || k.Images[0].NewTag == "" || k.Images[0].NewTag == "latest" {
		t.Fatalf("kustomization images %+v, want one with a release tag", k.Images)
	}
	for _, d := range MustObjects(t).deployments {
		if img := d.Spec.Template.Spec.Containers[0].Image; !strings.HasPrefix(img, k.Images[0].Name+":") {
			t.Errorf("%s: image %q is not %s, which kustomization tags", d.Name, img, k.Images[0].Name)
		}
	}
}
