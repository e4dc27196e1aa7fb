package deploy

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestKubernetesManifests parses deploy/k8s/chaind.yaml (the manifests were
// not applied to a cluster here) and checks how its parts fit: a headless
// Service named as the StatefulSet's serviceName, selecting its pods; a
// PersistentVolumeClaim template mounted at the image's /data; peers found
// through the headless Service's DNS name at the API port.
func TestKubernetesManifests(t *testing.T) {
	raw, err := os.ReadFile("k8s/chaind.yaml")
	if err != nil {
		t.Fatal(err)
	}
	type port struct {
		Name          string `yaml:"name"`
		Port          int    `yaml:"port"`
		ContainerPort int    `yaml:"containerPort"`
	}
	type doc struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Metadata   struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
		Spec struct {
			ClusterIP   string         `yaml:"clusterIP"`
			Selector    map[string]any `yaml:"selector"`
			Ports       []port         `yaml:"ports"`
			ServiceName string         `yaml:"serviceName"`
			Replicas    int            `yaml:"replicas"`
			Template    struct {
				Metadata struct {
					Labels map[string]string `yaml:"labels"`
				} `yaml:"metadata"`
				Spec struct {
					Containers []struct {
						Image string `yaml:"image"`
						Env   []struct {
							Name  string `yaml:"name"`
							Value string `yaml:"value"`
						} `yaml:"env"`
						Ports        []port `yaml:"ports"`
						VolumeMounts []struct {
							Name      string `yaml:"name"`
							MountPath string `yaml:"mountPath"`
						} `yaml:"volumeMounts"`
					} `yaml:"containers"`
				} `yaml:"spec"`
			} `yaml:"template"`
			VolumeClaimTemplates []struct {
				Metadata struct {
					Name string `yaml:"name"`
				} `yaml:"metadata"`
				Spec struct {
					AccessModes []string `yaml:"accessModes"`
				} `yaml:"spec"`
			} `yaml:"volumeClaimTemplates"`
		} `yaml:"spec"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	services := map[string]doc{}
	var sets []doc
	for {
		var d doc
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("k8s/chaind.yaml: %v", err)
		}
		if d.APIVersion == "" || d.Kind == "" || d.Metadata.Name == "" {
			t.Fatalf("a document without apiVersion, kind or name: %+v", d)
		}
		switch d.Kind {
		case "Service":
			services[d.Metadata.Name] = d
		case "StatefulSet":
			sets = append(sets, d)
		}
	}
	if len(sets) != 1 {
		t.Fatalf("%d StatefulSets, want 1", len(sets))
	}
	ss := sets[0]
	headless, ok := services[ss.Spec.ServiceName]
	if !ok || headless.Spec.ClusterIP != "None" {
		t.Fatalf("the StatefulSet's serviceName %q is not a headless Service", ss.Spec.ServiceName)
	}
	for k, v := range headless.Spec.Selector {
		if ss.Spec.Template.Metadata.Labels[k] != v {
			t.Fatalf("the headless Service selects %s=%v, which the pods do not carry", k, v)
		}
	}
	if len(ss.Spec.VolumeClaimTemplates) != 1 || len(ss.Spec.Template.Spec.Containers) != 1 {
		t.Fatal("want one volume claim template and one container")
	}
	c := ss.Spec.Template.Spec.Containers[0]
	claim := ss.Spec.VolumeClaimTemplates[0].Metadata.Name
	mounted := false
	for _, m := range c.VolumeMounts {
		mounted = mounted || m.Name == claim && m.MountPath == "/data"
	}
	if !mounted {
		t.Fatalf("the claim %q is not mounted at /data", claim)
	}
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	if want := ss.Spec.ServiceName + ":3001"; env["CHAIND_PEER_DNS"] != want {
		t.Fatalf("CHAIND_PEER_DNS = %q, want %q (the headless Service at the API port)", env["CHAIND_PEER_DNS"], want)
	}
	ports := map[int]bool{}
	for _, p := range c.Ports {
		ports[p.ContainerPort] = true
	}
	for _, p := range []int{3001, 6001, 6002} {
		if !ports[p] {
			t.Errorf("container port %d not declared", p)
		}
	}
	if !strings.Contains(string(raw), "NOT RUN") {
		t.Error("the manifests must say they were not run here")
	}
}
