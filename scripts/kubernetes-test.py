#!/usr/bin/env python3
"""Renders deploy/kubernetes with `kubectl kustomize` and checks what makes the gateway run well there.

Usage: kubernetes-test.py [GATEWAY_BINARY]
With a gateway binary, the Deployment's GATEWAY_* variables are also handed to it: it must accept them (exit 0).
kubectl comes from the machine, or Debian's kubernetes-client, installed here when missing (as root). Only when no
kubectl can be had, the manifests are checked as files, saying so.
"""
import os
import re
import shutil
import subprocess
import sys

try:
    import yaml
except ImportError:  # the interpreter on PATH may lack PyYAML where Debian's has it (python3-yaml)
    if os.path.exists("/usr/bin/python3") and sys.executable != "/usr/bin/python3":
        os.execv("/usr/bin/python3", ["/usr/bin/python3", *sys.argv])
    raise

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
FOLDER = os.path.join(ROOT, "deploy", "kubernetes")
results = {"passed": 0, "failed": 0}


def check(name, condition, detail=""):
    if condition:
        results["passed"] += 1
        print(f"  ok    {name}")
    else:
        results["failed"] += 1
        print(f"  FAIL  {name}{': ' + detail if detail else ''}")


def kubectl():
    if shutil.which("kubectl") is None and os.geteuid() == 0 and shutil.which("apt-get"):
        print("==> installing kubernetes-client (kubectl)")
        subprocess.run("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kubernetes-client",
                       shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return shutil.which("kubectl")


def render():
    """The rendered documents, and how they were rendered."""
    tool = kubectl()
    if tool:
        rendered = subprocess.run([tool, "kustomize", FOLDER], capture_output=True, text=True, timeout=60, check=False)
        if rendered.returncode != 0:
            print(rendered.stderr)
            raise SystemExit("kubernetes: kubectl kustomize failed")
        return list(yaml.safe_load_all(rendered.stdout)), "kubectl kustomize"
    print("kubernetes: no kubectl on this machine and none installable: checking the manifests as files, with the "
          "kustomization's image applied by this script")
    with open(os.path.join(FOLDER, "kustomization.yaml"), encoding="utf-8") as f:
        kustomization = yaml.safe_load(f)
    documents = []
    for resource in kustomization["resources"]:
        with open(os.path.join(FOLDER, resource), encoding="utf-8") as f:
            documents.extend(yaml.safe_load_all(f))
    for image in kustomization.get("images", []):
        for document in documents:
            for container in document.get("spec", {}).get("template", {}).get("spec", {}).get("containers", []):
                if container["image"] == image["name"]:
                    container["image"] = f"{image['newName']}:{image['newTag']}"
    return documents, "the files"


def seconds(duration):
    """A Go duration's seconds (15s, 500ms, 1m30s), or '0'."""
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    parts = re.findall(r"([0-9.]+)(ms|s|m|h)", duration)
    return 0 if duration == "0" else sum(float(n) * units[u] for n, u in parts)


def main():
    documents, how = render()
    print(f"kubernetes: rendered with {how}")
    kinds = {d["kind"]: d for d in documents}
    check("one Deployment, Service, HorizontalPodAutoscaler and PodDisruptionBudget",
          sorted(d["kind"] for d in documents) == ["Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Service"],
          str(sorted(d["kind"] for d in documents)))
    deployment, service, hpa, pdb = (kinds[k] for k in ("Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"))

    pod = deployment["spec"]["template"]["spec"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    container = pod["containers"][0]
    env = {e["name"]: e["value"] for e in container.get("env", [])}
    port = next(p for p in container["ports"] if p["name"] == "http")

    check("the Deployment's selector selects its pods", deployment["spec"]["selector"]["matchLabels"].items() <= labels.items())
    check("the image is the kustomization's", container["image"] == "registry.example.com/gateway:1.0.0", container["image"])
    check("no replica count beside the autoscaler", "replicas" not in deployment["spec"])
    check("rolling update never below capacity", deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0)
    check("GATEWAY_PORT is the container port", env.get("GATEWAY_PORT") == str(port["containerPort"]), f"{env.get('GATEWAY_PORT')} / {port}")

    liveness, readiness = container["livenessProbe"]["httpGet"], container["readinessProbe"]["httpGet"]
    check("liveness probe: GET /__health on the http port", liveness == {"path": "/__health", "port": "http"}, str(liveness))
    check("readiness probe: GET /__ready on the http port", readiness == {"path": "/__ready", "port": "http"}, str(readiness))
    delay = seconds(env.get("GATEWAY_SHUTDOWN_DELAY", "0"))
    timeout = seconds(env.get("GATEWAY_SHUTDOWN_TIMEOUT", "15s"))
    grace = pod.get("terminationGracePeriodSeconds", 30)
    check(f"terminationGracePeriodSeconds ({grace}) above the drain delay + shutdown timeout ({delay:g} + {timeout:g} s)", grace > delay + timeout)
    period = container["readinessProbe"].get("periodSeconds", 10) * container["readinessProbe"].get("failureThreshold", 3)
    check(f"the readiness probe notices a drain ({period} s) within the drain delay ({delay:g} s)", 0 < period <= delay)

    secure = container["securityContext"]
    check("runAsNonRoot (pod and container)", pod["securityContext"].get("runAsNonRoot") is True and secure.get("runAsNonRoot") is True)
    check("runs as the image's user 65532", pod["securityContext"].get("runAsUser") == 65532)
    check("readOnlyRootFilesystem", secure.get("readOnlyRootFilesystem") is True)
    check("allowPrivilegeEscalation false", secure.get("allowPrivilegeEscalation") is False)
    check("capabilities: drop ALL", secure.get("capabilities", {}).get("drop") == ["ALL"])
    resources = container.get("resources", {})
    check("CPU and memory requests, a memory limit",
          {"cpu", "memory"} <= resources.get("requests", {}).keys() and "memory" in resources.get("limits", {}), str(resources))

    check("the Service selects the pods", service["spec"]["selector"].items() <= labels.items())
    check("the Service targets the named container port", [p["targetPort"] for p in service["spec"]["ports"]] == ["http"])

    check("HorizontalPodAutoscaler autoscaling/v2 on the Deployment",
          hpa["apiVersion"] == "autoscaling/v2" and hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment["metadata"]["name"]})
    cpu = [m for m in hpa["spec"]["metrics"] if m["type"] == "Resource" and m["resource"]["name"] == "cpu"]
    check("scales on CPU utilisation", len(cpu) == 1 and cpu[0]["resource"]["target"]["type"] == "Utilization")
    check("at least 2 replicas", 2 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"])

    check("PodDisruptionBudget policy/v1 selects the pods", pdb["apiVersion"] == "policy/v1" and pdb["spec"]["selector"]["matchLabels"].items() <= labels.items())
    allowed = pdb["spec"].get("maxUnavailable", hpa["spec"]["minReplicas"] - pdb["spec"].get("minAvailable", hpa["spec"]["minReplicas"]))
    check("the budget lets a drain proceed yet keeps a replica serving", 1 <= allowed < hpa["spec"]["minReplicas"], str(pdb["spec"]))

    if len(sys.argv) > 1:
        gateway_env = {k: v for k, v in env.items() if k.startswith(("GATEWAY_", "KRAKEND_"))}
        accepted = subprocess.run([sys.argv[1], "--help"], env=dict(os.environ, **gateway_env), capture_output=True, text=True, timeout=10, check=False)
        check(f"the gateway accepts the Deployment's variables {sorted(gateway_env)}", accepted.returncode == 0, accepted.stderr.strip())

    print(f"kubernetes: {results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


sys.exit(main())
